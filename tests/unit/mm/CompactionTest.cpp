// Compaction of whole zones: a zone fragmented by freeing every other page has no free pageblock
// until compaction migrates the survivors together; direct compaction, compact_memory, kcompactd
// and proactive compaction each do it and count it; pinned pages stay where they are; a zone out
// of memory rather than fragmented is skipped.
#include <set>

#include "CompactionWorld.h"
#include "hw/Clock.h"
#include "mm/compaction/Fragmentation.h"

namespace kioku {
namespace {

using test::CompactionWorld;
using test::MAP_BASE;

// Touches `pages` pages (each with its own pattern), then drops every other one (MADV_DONTNEED),
// so that each pageblock the region spans keeps pages in use. Returns the addresses still mapped.
// The page tables are made first, so that they sit together as Linux's unmovable allocations
// would, rather than one in each pageblock.
std::vector<u64> fragment(CompactionWorld& w, AddressSpace& space, u64 pages = 0)
{
    // All of free memory but a margin for page tables and the watermarks, by default.
    if (pages == 0)
        pages = w.dma32().free_pages() - w.dma32().watermarks().high - 64;
    w.map_anon(space, MAP_BASE, pages * PAGE_SIZE);
    for (u64 i = 0; i < pages; i += 512)
        EXPECT_TRUE(space.page_table().slot(VirtAddr(MAP_BASE + i * PAGE_SIZE), true));
    for (u64 i = 0; i < pages; ++i)
        w.fill(space, MAP_BASE + i * PAGE_SIZE, static_cast<u32>(i));
    std::vector<u64> kept;
    for (u64 i = 0; i < pages; ++i) {
        u64 va = MAP_BASE + i * PAGE_SIZE;
        if (i % 2 == 0)
            kept.push_back(va);
        else
            EXPECT_FALSE(space.madvise(va, PAGE_SIZE, abi::MADV_DONTNEED_).is_error());
    }
    return kept;
}

void expect_intact(CompactionWorld& w, AddressSpace& space, const std::vector<u64>& kept)
{
    for (u64 va : kept)
        ASSERT_TRUE(w.holds(space, va, static_cast<u32>((va - MAP_BASE) / PAGE_SIZE))) << std::hex << va;
}

TEST(Compaction, FragmentedZoneHasNoFreePageblockUntilDirectCompactionMakesOne)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);
    ASSERT_EQ(w.huge_free_blocks(), 0u);
    ASSERT_FALSE(w.mm.allocator().can_allocate(9));
    ASSERT_GT(fragmentation_index(w.dma32(), 9), 500) << "the failure is for fragmentation";

    EXPECT_TRUE(w.mm.compactor().compact_for_allocation(9));

    EXPECT_GT(w.huge_free_blocks(), 0u);
    EXPECT_TRUE(w.mm.allocator().can_allocate(9));
    EXPECT_EQ(w.stat(VmItem::CompactStall), 1u);
    EXPECT_EQ(w.stat(VmItem::CompactSuccess), 1u);
    EXPECT_EQ(w.stat(VmItem::CompactFail), 0u);
    EXPECT_GT(w.stat(VmItem::CompactMigrateScanned), 0u);
    EXPECT_GT(w.stat(VmItem::CompactFreeScanned), 0u);
    EXPECT_GT(w.stat(VmItem::CompactIsolated), 0u);
    EXPECT_GT(w.stat(VmItem::PgmigrateSuccess), 0u);
    EXPECT_EQ(w.stat(VmItem::PgmigrateFail), 0u);
    EXPECT_EQ(w.invariants(), "");
    expect_intact(w, *space, kept);
}

TEST(Compaction, CompactMemoryPacksTheUsedPagesTogether)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);
    u64 free_before = w.dma32().free_pages();

    w.mm.compactor().compact_memory();

    // Nearly all free memory is now in free pageblocks: only the pageblocks the scanners met in,
    // and those holding kernel pages, keep small free blocks.
    u64 in_pageblocks = (w.dma32().free_blocks(9) << 9) + (w.dma32().free_blocks(10) << 10);
    EXPECT_GT(in_pageblocks, free_before * 3 / 4);
    EXPECT_EQ(w.dma32().free_pages(), free_before) << "migration moves pages, it does not use more";
    EXPECT_LT(unusable_free_index(w.dma32(), 9), 250);
    EXPECT_EQ(w.stat(VmItem::CompactStall), 0u) << "compact_memory is not an allocation stall";
    EXPECT_GT(w.stat(VmItem::PgmigrateSuccess), 1000u);
    EXPECT_EQ(w.invariants(), "");
    expect_intact(w, *space, kept);
}

TEST(Compaction, PinnedPagesStayWhereTheyAre)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);
    std::vector<Pfn> pinned;
    for (size_t i = 0; i < kept.size(); i += 100) {
        pinned.push_back(w.pte_frame(*space, kept[i]));
        w.mm.get_page(pinned.back());
    }

    w.mm.compactor().compact_memory();

    for (size_t i = 0, p = 0; i < kept.size(); i += 100, ++p)
        EXPECT_EQ(w.pte_frame(*space, kept[i]), pinned[p]);
    for (Pfn pfn : pinned)
        w.mm.put_page(pfn);
    EXPECT_EQ(w.invariants(), "");
    expect_intact(w, *space, kept);
}

TEST(Compaction, ZoneShortOfMemoryRatherThanFragmentedIsSkipped)
{
    CompactionWorld w;
    auto space = w.space();
    // Use almost everything: what is left is too little for compaction to work with.
    u64 pages = w.dma32().free_pages() - w.dma32().watermarks().low - 64;
    w.map_anon(*space, MAP_BASE, pages * PAGE_SIZE);
    for (u64 i = 0; i < pages; ++i)
        w.frame_of(*space, MAP_BASE + i * PAGE_SIZE, isa::AccessType::Write);
    ASSERT_FALSE(w.mm.allocator().can_allocate(9));

    EXPECT_FALSE(w.mm.compactor().compact_for_allocation(9));

    EXPECT_EQ(w.mm.compactor().suitable(w.dma32(), 9), CompactResult::Skipped);
    EXPECT_EQ(w.stat(VmItem::CompactStall), 0u) << "a skipped compaction is no stall";
    EXPECT_EQ(w.stat(VmItem::CompactMigrateScanned), 0u);
    EXPECT_EQ(w.invariants(), "");
}

TEST(Compaction, ZoneThatFailedIsDeferredForLaterAttempts)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);
    // Pin one page in every pageblock: no pageblock can be emptied.
    for (size_t i = 0; i < kept.size(); i += 64)
        w.mm.get_page(w.pte_frame(*space, kept[i]));

    EXPECT_FALSE(w.mm.compactor().compact_for_allocation(9));
    u64 scanned = w.stat(VmItem::CompactMigrateScanned);
    EXPECT_FALSE(w.mm.compactor().compact_for_allocation(9));

    EXPECT_EQ(w.stat(VmItem::CompactStall), 2u);
    EXPECT_EQ(w.stat(VmItem::CompactFail), 2u);
    EXPECT_EQ(w.stat(VmItem::CompactMigrateScanned), scanned) << "the second attempt was deferred";
    for (size_t i = 0; i < kept.size(); i += 64)
        w.mm.put_page(w.pte_frame(*space, kept[i]));
}

TEST(Compaction, KcompactdWokenForAnOrderCompactsAtItsNextTurn)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);

    w.mm.compactor().wakeup_kcompactd(9);
    EXPECT_EQ(w.stat(VmItem::CompactDaemonWake), 0u) << "kcompactd runs at its turn, not in the caller";
    w.mm.compactor().background_work();

    EXPECT_EQ(w.stat(VmItem::CompactDaemonWake), 1u);
    EXPECT_GT(w.stat(VmItem::CompactDaemonMigrateScanned), 0u);
    EXPECT_GT(w.stat(VmItem::CompactDaemonFreeScanned), 0u);
    EXPECT_EQ(w.stat(VmItem::CompactDaemonMigrateScanned), w.stat(VmItem::CompactMigrateScanned));
    EXPECT_TRUE(w.mm.allocator().can_allocate(9));
    EXPECT_EQ(w.stat(VmItem::CompactStall), 0u);
    EXPECT_EQ(w.invariants(), "");
    expect_intact(w, *space, kept);
}

TEST(Compaction, ProactiveCompactionRunsEveryHalfSecondWhileTheScoreIsHigh)
{
    CompactionWorld w;
    auto space = w.space();
    auto kept = fragment(w, *space);
    Compactor& compactor = w.mm.compactor();
    w.mm.sysctl().compaction_proactiveness = 90; // marks 10 and 20
    unsigned before = compactor.fragmentation_score();
    ASSERT_GT(before, compactor.proactive_high_mark());

    compactor.background_work();
    EXPECT_EQ(w.stat(VmItem::CompactDaemonMigrateScanned), 0u) << "not yet 500 ms";
    w.machine.clock().advance(u64{500} * 1'000'000);
    compactor.background_work();

    EXPECT_GT(w.stat(VmItem::CompactDaemonMigrateScanned), 0u);
    // It works towards the low mark; what the zone's kernel pages pin stays fragmented.
    EXPECT_LT(compactor.fragmentation_score(), before / 2);
    EXPECT_EQ(w.stat(VmItem::CompactDaemonWake), 0u) << "a timed proactive pass is not a wake-up";
    EXPECT_EQ(w.invariants(), "");
    expect_intact(w, *space, kept);
}

TEST(Compaction, ProactivenessZeroLeavesAFragmentedNodeAlone)
{
    CompactionWorld w;
    auto space = w.space();
    fragment(w, *space);
    w.mm.sysctl().compaction_proactiveness = 0;
    w.machine.clock().advance(u64{5} * 1'000'000'000);
    w.mm.compactor().background_work();
    EXPECT_EQ(w.stat(VmItem::CompactMigrateScanned), 0u);
}

} // namespace
} // namespace kioku
