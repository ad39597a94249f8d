// The buddy allocator of a single zone: boot release, splitting, merging, take_specific,
// watermark tests and the invariant checker.
#include <gtest/gtest.h>

#include <vector>

#include "PhysWorld.h"

namespace kioku {
namespace {

using test::RAM_START;
using test::reserved_frames;

struct ZoneWorld {
    explicit ZoneWorld(u64 count, Pfn first = RAM_START)
        : frames(reserved_frames(first, count))
        , zone("DMA32", ZONE_DMA32, frames, first, count)
    {
    }
    ZoneWorld(const ZoneWorld&) = delete;

    ZoneWorld& release_all()
    {
        zone.release_boot_range(frames.first_pfn(), frames.size());
        return *this;
    }

    std::vector<u64> counts() const
    {
        std::vector<u64> out;
        for (Order order = 0; order <= MAX_ORDER; ++order)
            out.push_back(zone.free_blocks(order));
        return out;
    }

    bool ok()
    {
        std::string why;
        bool good = zone.check(&why);
        EXPECT_TRUE(good) << why;
        return good;
    }

    FrameTable frames;
    Zone zone;
};

TEST(FrameTable, FreshFramesAreBlank)
{
    FrameTable frames(RAM_START, 4096);
    for (Pfn pfn : {RAM_START, RAM_START + 1, RAM_START + 4095}) {
        const Frame& f = frames[pfn];
        EXPECT_EQ(f.flags, 0u);
        EXPECT_EQ(f.refcount, 0);
        EXPECT_EQ(f.mapcount, 0);
        EXPECT_EQ(f.order, 0);
        EXPECT_EQ(f.free_type, 0);
        EXPECT_FALSE(f.links.linked());
        EXPECT_EQ(f.links.prev(), IndexLinks::NIL);
        EXPECT_EQ(f.links.next(), IndexLinks::NIL);
        EXPECT_FALSE(f.has_owner());
        EXPECT_EQ(f.index, 0u);
        EXPECT_EQ(f.private_data, 0u);
    }
    // A descriptor reset to Frame{} reads as a fresh one does, field by field.
    frames[RAM_START].flags = FF_ANON;
    frames[RAM_START].refcount = 3;
    frames[RAM_START] = Frame{};
    EXPECT_EQ(frames[RAM_START].flags, 0u);
    EXPECT_EQ(frames[RAM_START].refcount, 0);
    EXPECT_FALSE(frames[RAM_START].links.linked());
}

TEST(Zone, FreshReleaseGivesWhatBootReleaseGives)
{
    // An unaligned range, so the blocks are of many orders.
    ZoneWorld boot(4096);
    boot.zone.release_boot_range(RAM_START + 3, 4000);
    FrameTable fresh_frames(RAM_START, 4096);
    Zone fresh("DMA32", ZONE_DMA32, fresh_frames, RAM_START, 4096);
    fresh.release_fresh_range(RAM_START + 3, 4000);
    EXPECT_EQ(fresh.managed_pages(), 4000u);
    EXPECT_EQ(fresh.free_pages(), 4000u);
    for (Order order = 0; order <= MAX_ORDER; ++order)
        EXPECT_EQ(fresh.free_blocks(order), boot.zone.free_blocks(order)) << order;
    std::string why;
    EXPECT_TRUE(fresh.check(&why)) << why;
    boot.ok();
}

TEST(Zone, BootReleaseOfAlignedMemoryGivesMaxOrderBlocks)
{
    ZoneWorld w(4096);
    w.release_all();
    EXPECT_EQ(w.zone.managed_pages(), 4096u);
    EXPECT_EQ(w.zone.free_pages(), 4096u);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 4u);
    for (Order order = 0; order < MAX_ORDER; ++order)
        EXPECT_EQ(w.zone.free_blocks(order), 0u) << order;
    w.ok();
}

TEST(Zone, BootReleaseOfUnalignedRangeUsesLargestAlignedBlocks)
{
    ZoneWorld w(64);
    // PFNs 1..6 of an aligned base: {1} {2,3} {4,5} {6}; 2-3 and 4-5 are not buddies.
    w.zone.release_boot_range(RAM_START + 1, 6);
    std::vector<u64> expected(MAX_ORDER + 1, 0);
    expected[0] = 2;
    expected[1] = 2;
    EXPECT_EQ(w.counts(), expected);
    EXPECT_EQ(w.zone.managed_pages(), 6u);
    EXPECT_TRUE(w.frames[RAM_START].has(FF_RESERVED));
    EXPECT_TRUE(w.frames[RAM_START + 7].has(FF_RESERVED));
    w.ok();
}

TEST(Zone, BootReleaseMergesWithEarlierReleases)
{
    ZoneWorld w(1024);
    w.zone.release_boot_range(RAM_START + 512, 512);
    w.zone.release_boot_range(RAM_START + 1, 511);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 0u);
    w.zone.release_boot_range(RAM_START, 1);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 1u);
    EXPECT_EQ(w.zone.free_pages(), 1024u);
    w.ok();
}

TEST(Zone, BlocksNeverMergeAcrossZones)
{
    // Two zones meet at an odd frame, so the first frame of each is the other's order-0 buddy.
    FrameTable frames = reserved_frames(RAM_START, 64);
    Zone low("DMA32", ZONE_DMA32, frames, RAM_START, 1);
    Zone high("Normal", ZONE_NORMAL, frames, RAM_START + 1, 63);
    low.release_boot_range(RAM_START, 1);
    high.release_boot_range(RAM_START + 1, 63);
    EXPECT_EQ(low.free_blocks(0), 1u);
    EXPECT_EQ(high.free_blocks(0), 1u);
    EXPECT_EQ(high.free_pages(), 63u);
    EXPECT_TRUE(low.check(nullptr));
    EXPECT_TRUE(high.check(nullptr));
}

TEST(Zone, AllocationSplitsUpperHalvesOntoLowerLists)
{
    ZoneWorld w(1024);
    w.release_all();
    auto pfn = w.zone.allocate(0);
    ASSERT_TRUE(pfn);
    EXPECT_EQ(*pfn, RAM_START); // the lower half is kept at every split
    for (Order order = 0; order < MAX_ORDER; ++order)
        EXPECT_EQ(w.zone.free_blocks(order), 1u) << order;
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 0u);
    EXPECT_EQ(w.zone.free_pages(), 1023u);
    EXPECT_TRUE(w.frames[RAM_START + 512].has(FF_BUDDY));
    EXPECT_EQ(w.frames[RAM_START + 512].order, 9u);
    w.ok();
}

TEST(Zone, AllocatedBlockIsBlankExceptOrderAndZone)
{
    ZoneWorld w(1024);
    w.release_all();
    auto pfn = w.zone.allocate(3);
    ASSERT_TRUE(pfn);
    const Frame& head = w.frames[*pfn];
    EXPECT_EQ(head.flags, 0u);
    EXPECT_EQ(head.refcount, 0);
    EXPECT_EQ(head.mapcount, 0);
    EXPECT_FALSE(head.has_owner());
    EXPECT_EQ(head.index, 0u);
    EXPECT_EQ(head.private_data, 0u);
    EXPECT_EQ(head.order, 3u);
    for (Pfn tail = *pfn + 1; tail < *pfn + 8; ++tail) {
        EXPECT_EQ(w.frames[tail].flags, 0u);
        EXPECT_EQ(w.frames[tail].order, 0u);
    }
}

TEST(Zone, SplittingToSinglePagesThenFreeingAllMergesBackToMaxOrder)
{
    ZoneWorld w(1024);
    w.release_all();
    std::vector<Pfn> taken;
    for (int i = 0; i < 1024; ++i) {
        auto pfn = w.zone.allocate(0);
        ASSERT_TRUE(pfn);
        taken.push_back(*pfn);
    }
    EXPECT_EQ(w.zone.free_pages(), 0u);
    // Free in an order that leaves buddies apart as long as possible: even frames first.
    for (size_t i = 0; i < taken.size(); i += 2)
        w.zone.free(taken[i], 0);
    EXPECT_EQ(w.zone.free_blocks(0), 512u);
    for (size_t i = 1; i < taken.size(); i += 2)
        w.zone.free(taken[i], 0);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 1u);
    EXPECT_EQ(w.zone.free_pages(), 1024u);
    w.ok();
}

TEST(Zone, FreeingBothBuddiesMergesThem)
{
    ZoneWorld w(1024);
    w.release_all();
    auto a = w.zone.allocate(2);
    auto b = w.zone.allocate(2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(b->value(), a->value() ^ 4); // two halves of one order-3 block
    w.zone.free(*a, 2);
    EXPECT_EQ(w.zone.free_blocks(2), 1u);
    w.zone.free(*b, 2);
    EXPECT_EQ(w.zone.free_blocks(2), 0u);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 1u);
    w.ok();
}

TEST(Zone, EveryReturnedBlockIsAlignedToItsOrder)
{
    ZoneWorld w(4096, RAM_START + 1024); // an odd base, still 1024-aligned
    w.release_all();
    for (int round = 0; round < 40; ++round) {
        Order order = static_cast<Order>(round % (MAX_ORDER + 1));
        auto pfn = w.zone.allocate(order);
        if (!pfn)
            break;
        EXPECT_EQ(pfn->value() & ((u64{1} << order) - 1), 0u) << "order " << order;
        EXPECT_TRUE(w.zone.contains(*pfn + ((u64{1} << order) - 1)));
    }
    w.ok();
}

TEST(Zone, ExhaustedZoneReturnsNullopt)
{
    ZoneWorld w(16);
    w.release_all();
    EXPECT_FALSE(w.zone.allocate(5)); // larger than the zone
    for (int i = 0; i < 4; ++i)
        EXPECT_TRUE(w.zone.allocate(2));
    EXPECT_FALSE(w.zone.allocate(0));
    EXPECT_EQ(w.zone.free_pages(), 0u);
    w.ok();
}

TEST(Zone, AllocateFreeRoundTripRestoresFreeListsExactly)
{
    ZoneWorld w(4096);
    w.zone.release_boot_range(RAM_START + 3, 3000);
    auto before = w.counts();
    std::vector<std::pair<Pfn, Order>> taken;
    for (Order order : {0u, 3u, 1u, 7u, 0u, 10u, 2u, 5u}) {
        auto pfn = w.zone.allocate(order);
        ASSERT_TRUE(pfn);
        taken.emplace_back(*pfn, order);
    }
    EXPECT_NE(w.counts(), before);
    for (auto [pfn, order] : taken)
        w.zone.free(pfn, order);
    EXPECT_EQ(w.counts(), before);
    w.ok();
}

TEST(Zone, TakeSpecificRemovesExactlyThatFrame)
{
    ZoneWorld w(1024);
    w.release_all();
    Pfn target = RAM_START + 5;
    EXPECT_TRUE(w.zone.is_free(target));
    EXPECT_TRUE(w.zone.take_specific(target));
    EXPECT_FALSE(w.zone.is_free(target));
    EXPECT_EQ(w.zone.free_pages(), 1023u);
    for (u64 i = 0; i < 1024; ++i) {
        EXPECT_EQ(w.zone.is_free(RAM_START + i), RAM_START + i != target) << i;
    }
    EXPECT_EQ(w.frames[target].flags, 0u);
    EXPECT_FALSE(w.zone.take_specific(target));
    w.ok();
    w.zone.free(target, 0);
    EXPECT_EQ(w.zone.free_blocks(MAX_ORDER), 1u);
    w.ok();
}

TEST(Zone, TakeSpecificOfAnAllocatedFrameFails)
{
    ZoneWorld w(64);
    w.release_all();
    auto pfn = w.zone.allocate(0);
    ASSERT_TRUE(pfn);
    EXPECT_FALSE(w.zone.take_specific(*pfn));
    EXPECT_EQ(w.zone.free_pages(), 63u);
}

TEST(Zone, ReservedFramesAreNotFree)
{
    ZoneWorld w(64);
    w.zone.release_boot_range(RAM_START, 32);
    EXPECT_FALSE(w.zone.is_free(RAM_START + 40));
    EXPECT_FALSE(w.zone.take_specific(RAM_START + 40));
    EXPECT_TRUE(w.zone.take_specific(RAM_START + 31));
}

TEST(Zone, AboveCountsAllButTheFirstPageOfTheRequest)
{
    ZoneWorld w(64);
    w.release_all();
    // 64 free: an order-0 request is above 63 but not above 64.
    EXPECT_TRUE(w.zone.above(63, 0));
    EXPECT_FALSE(w.zone.above(64, 0));
    // order 2: 64 - 3 = 61 usable pages.
    EXPECT_TRUE(w.zone.above(60, 2));
    EXPECT_FALSE(w.zone.above(61, 2));
}

TEST(Zone, AboveNeedsABlockOfTheRequestedOrder)
{
    ZoneWorld w(64);
    w.release_all();
    // Taking every even frame leaves only single pages free.
    for (u64 i = 0; i < 64; i += 2)
        ASSERT_TRUE(w.zone.take_specific(RAM_START + i));
    EXPECT_EQ(w.zone.free_pages(), 32u);
    EXPECT_TRUE(w.zone.above(0, 0));
    EXPECT_FALSE(w.zone.above(0, 1)); // enough pages, but no order-1 block
    w.ok();
}

TEST(Zone, LowmemReserveRaisesTheMarkForHigherClassZones)
{
    ZoneWorld w(64);
    w.release_all();
    w.zone.set_lowmem_reserve(ZONE_NORMAL, 10);
    // 64 free pages: above 54 alone, but not above 54 + 10.
    EXPECT_TRUE(w.zone.above(54, 0, ZONE_DMA32));
    EXPECT_FALSE(w.zone.above(54, 0, ZONE_NORMAL));
    EXPECT_TRUE(w.zone.above(54, 0)); // the zone's own class: no reserve
}

TEST(Zone, CheckCatchesAKindFlagInsideAFreeBlock)
{
    ZoneWorld w(1024);
    w.release_all();
    ASSERT_TRUE(w.ok());
    w.frames[RAM_START + 77].set(FF_ANON);
    std::string why;
    EXPECT_FALSE(w.zone.check(&why));
    EXPECT_NE(why.find("free block"), std::string::npos) << why;
}

TEST(Zone, CheckCatchesAHeadWithoutBuddyFlag)
{
    ZoneWorld w(1024);
    w.release_all();
    ASSERT_TRUE(w.zone.allocate(0));
    w.frames[RAM_START + 512].clear(FF_BUDDY);
    std::string why;
    EXPECT_FALSE(w.zone.check(&why));
    EXPECT_NE(why.find("FF_BUDDY"), std::string::npos) << why;
}

TEST(Zone, CheckCatchesAWrongOrderOnAHead)
{
    ZoneWorld w(1024);
    w.release_all();
    ASSERT_TRUE(w.zone.allocate(0));
    w.frames[RAM_START + 256].order = 7; // really an order-8 head
    EXPECT_FALSE(w.zone.check(nullptr));
}

TEST(Zone, CheckCatchesAStrayBuddyFlag)
{
    ZoneWorld w(64);
    w.release_all();
    auto pfn = w.zone.allocate(0);
    ASSERT_TRUE(pfn);
    w.frames[*pfn].set(FF_BUDDY); // looks free, but is on no list
    std::string why;
    EXPECT_FALSE(w.zone.check(&why));
    EXPECT_NE(why.find("no free list"), std::string::npos) << why;
}

TEST(ZoneDeath, FreeingAMisalignedBlockIsAnInvariantFailure)
{
    ZoneWorld w(64);
    w.release_all();
    auto pfn = w.zone.allocate(1);
    ASSERT_TRUE(pfn);
    EXPECT_DEATH(w.zone.free(*pfn + 1, 1), "not aligned");
}

TEST(ZoneDeath, DoubleFreeIsAnInvariantFailure)
{
    ZoneWorld w(64);
    w.release_all();
    auto pfn = w.zone.allocate(0);
    ASSERT_TRUE(pfn);
    w.zone.free(*pfn, 0);
    // The page merged back into the head of a free block. Debug builds name the double free;
    // release builds skip that search on the hot path and stop at the overlap check.
    EXPECT_DEATH(w.zone.free(*pfn, 0), "double free|overlaps a free block");
}

TEST(ZoneDeath, FreeingOutsideTheZoneIsAnInvariantFailure)
{
    FrameTable frames = reserved_frames(RAM_START, 64);
    Zone zone("DMA32", ZONE_DMA32, frames, RAM_START, 32);
    zone.release_boot_range(RAM_START, 32);
    EXPECT_DEATH(zone.free(RAM_START + 32, 0), "outside the zone");
}

} // namespace
} // namespace kioku
