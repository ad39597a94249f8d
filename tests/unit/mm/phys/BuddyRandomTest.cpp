// A seeded random mix of allocations and frees over two zones with a reserved hole, checking every
// invariant after every step and that freeing everything restores the boot free lists.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "PhysWorld.h"

namespace kioku {
namespace {

using test::FOUR_GIB;
using test::PhysWorld;

struct Block {
    Pfn pfn;
    Order order;
};

constexpr Order ORDERS[] = {0, 0, 0, 0, 1, 1, 2, 3, 4, 6, 10};

TEST(BuddyRandom, RandomAllocFreeKeepsInvariantsAndRestoresFreeLists)
{
    PhysWorld w(FOUR_GIB - 2048, 3000);
    // Leave a reserved hole in DMA32, as a kernel image would.
    w.allocator.release_boot_range(w.frames.first_pfn(), 1500);
    w.allocator.release_boot_range(w.frames.first_pfn() + 1600, 1400);
    w.allocator.setup_watermarks();
    const std::string boot = w.allocator.buddyinfo();

    std::mt19937_64 rng(20240601);
    std::vector<Block> held;
    std::string why;
    for (int step = 0; step < 3000; ++step) {
        if (held.empty() || rng() % 100 < 55) {
            Order order = ORDERS[rng() % std::size(ORDERS)];
            AllocFlags flags = rng() % 4 == 0 ? AllocFlags::Atomic : AllocFlags::Normal;
            if (auto pfn = w.allocator.allocate(order, flags)) {
                ASSERT_EQ(pfn->value() & ((u64{1} << order) - 1), 0u) << "step " << step;
                Zone& zone = w.allocator.zone_of(*pfn);
                ASSERT_TRUE(zone.contains(*pfn + ((u64{1} << order) - 1)));
                // Mark the frames in use so that a block handed out twice shows.
                for (Pfn p = *pfn; p < *pfn + (u64{1} << order); ++p) {
                    ASSERT_EQ(w.frames[p].flags, 0u) << "step " << step;
                    w.frames[p].set(FF_KERNEL);
                }
                held.push_back({*pfn, order});
            }
        } else {
            size_t i = rng() % held.size();
            w.allocator.free(held[i].pfn, held[i].order);
            held[i] = held.back();
            held.pop_back();
        }
        ASSERT_TRUE(w.allocator.check(&why)) << "step " << step << ": " << why;
    }
    // The mix must have run memory down to the watermarks, or it tested only the easy path.
    EXPECT_GT(w.allocator.alloc_failures(), 0u);
    for (const Block& b : held)
        w.allocator.free(b.pfn, b.order);
    EXPECT_EQ(w.allocator.buddyinfo(), boot);
    EXPECT_EQ(w.allocator.free_pages(), 2900u);
    EXPECT_EQ(w.allocator.pgfree() - 2900u,
              w.allocator.pgalloc(ZONE_DMA32) + w.allocator.pgalloc(ZONE_NORMAL));
    EXPECT_TRUE(w.allocator.check(&why)) << why;
}

} // namespace
} // namespace kioku
