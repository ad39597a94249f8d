// The swap allocator and swap cache bookkeeping alone: priorities, round-robin among equals,
// the readahead window arithmetic of swapin_nr_pages, shadows, and /proc/swaps.
#include <gtest/gtest.h>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "mm/swap/SwapManager.h"

namespace kioku::test {

namespace {

class SwapManagerTest : public ::testing::Test {
  protected:
    u32 add(u64 pages, int priority, std::string name, SwapArea::Kind kind = SwapArea::Kind::Partition)
    {
        auto device = BlockDevice::create_memory(pages, clock);
        return swap.add_area(std::make_unique<SwapArea>(std::move(device), priority, std::move(name), kind));
    }

    Clock clock;
    SwapManager swap;
};

} // namespace

TEST_F(SwapManagerTest, HigherPriorityAreaIsUsedFirst)
{
    u32 low = add(16, 5, "/dev/low");
    u32 high = add(16, 10, "/dev/high");
    for (int i = 0; i < 15; ++i)
        EXPECT_EQ(swap.allocate_cached(Pfn(100 + i))->type, high);
    // The high area is full (15 usable slots): the next slots come from the low one.
    EXPECT_EQ(swap.allocate_cached(Pfn(200))->type, low);
    EXPECT_EQ(swap.area(high)->used(), 15u);
    EXPECT_EQ(swap.area(low)->used(), 1u);
}

TEST_F(SwapManagerTest, EqualPrioritiesTakeTurnsPageByPage)
{
    u32 a = add(64, 0, "/dev/a");
    u32 b = add(64, 0, "/dev/b");
    u32 c = add(64, -5, "/dev/c");
    std::vector<u32> types;
    for (int i = 0; i < 6; ++i)
        types.push_back(swap.allocate_cached(Pfn(100 + i))->type);
    EXPECT_EQ(types, (std::vector<u32>{a, b, a, b, a, b}));
    EXPECT_EQ(swap.area(c)->used(), 0u);
}

TEST_F(SwapManagerTest, DefaultPrioritiesDescendFromMinusTwo)
{
    EXPECT_EQ(swap.next_default_priority(), -2);
    EXPECT_EQ(swap.next_default_priority(), -3);
}

TEST_F(SwapManagerTest, AnAreaBeingSwappedOffHandsOutNothingAndLeavesTheTotals)
{
    u32 a = add(16, 0, "/dev/a");
    u32 b = add(16, -1, "/dev/b");
    swap.area(a)->set_writable(false);
    EXPECT_EQ(swap.total_pages(), 15u);
    EXPECT_EQ(swap.allocate_cached(Pfn(1))->type, b);
}

TEST_F(SwapManagerTest, ReadaheadWindowGrowsWithHitsAsLinuxDoes)
{
    add(64, 0, "/dev/a");
    auto& ra = swap.readahead();
    // A lone miss far from the last one reads one page; the next adjacent one reads two.
    EXPECT_EQ(swap.readahead_window(40, 3), 1u);
    EXPECT_EQ(swap.readahead_window(41, 3), 2u);
    // One hit: hits + 2 = 3, rounded up to 4; three hits: 5 -> 8, capped by page_cluster.
    ra.hits = 1;
    EXPECT_EQ(swap.readahead_window(10, 3), 4u);
    ra.hits = 3;
    EXPECT_EQ(swap.readahead_window(20, 3), 8u);
    ra.hits = 3;
    EXPECT_EQ(swap.readahead_window(20, 2), 4u);
    // No hits and not adjacent: the window halves rather than collapsing (4 -> 2).
    EXPECT_EQ(swap.readahead_window(50, 3), 2u);
    EXPECT_EQ(swap.readahead_window(50, 0), 1u);
}

TEST_F(SwapManagerTest, ShadowLeavesWithTheSlot)
{
    add(16, 0, "/dev/a");
    SwapEntry e = *swap.allocate_cached(Pfn(7));
    swap.duplicate(e); // a PTE
    swap.set_shadow(e, 42);
    swap.cache_remove(e);
    EXPECT_EQ(swap.count(e), 1u);
    swap.release(e); // the slot is free: its shadow goes with it
    EXPECT_EQ(swap.take_shadow(e), std::nullopt);
    EXPECT_EQ(swap.area(0)->used(), 0u);
}

// A page swapped out before many forks: its slot's count goes past the byte Linux keeps per slot
// (SWAP_MAP_MAX) into the continuation, and comes back down to a free slot.
TEST_F(SwapManagerTest, CountsPastSwapMapMaxAreContinued)
{
    add(16, 0, "/dev/a");
    SwapEntry e = *swap.allocate_cached(Pfn(7));
    constexpr u64 REFS = 1000;
    for (u64 i = 0; i < REFS; ++i)
        swap.duplicate(e);
    EXPECT_EQ(swap.count(e), REFS);
    swap.cache_remove(e);
    for (u64 i = REFS; i > 1; --i)
        EXPECT_EQ(swap.release(e), i - 1);
    EXPECT_EQ(swap.area(0)->used(), 1u);
    EXPECT_EQ(swap.release(e), 0u);
    EXPECT_EQ(swap.area(0)->used(), 0u);
}

TEST_F(SwapManagerTest, ProcSwapsUsesLinuxColumns)
{
    add(2049, -2, "/dev/swap0");
    add(257, 5, "/tmp/swap file", SwapArea::Kind::File);
    SwapEntry e = *swap.allocate_cached(Pfn(9));
    (void)e;
    std::string expected = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                           "/dev/swap0                              partition\t8192\t\t0\t\t-2\n"
                           "/tmp/swap\\040file                       file\t\t1024\t\t4\t\t5\n";
    EXPECT_EQ(swap.proc_swaps(), expected);
}

} // namespace kioku::test
