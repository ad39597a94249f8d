// Grouping pages by mobility in the buddy allocator: pageblocks tagged with migrate types,
// per-type free lists, Linux's fallback order and pageblock stealing, and the fragmentation
// indices computed from the free lists.
#include <gtest/gtest.h>

#include <set>

#include "mm/compaction/Fragmentation.h"
#include "unit/mm/phys/PhysWorld.h"

namespace kioku {
namespace {

using test::PhysWorld;
using test::RAM_START;

// Four pageblocks (two order-10 blocks) of DMA32.
struct Blocks : PhysWorld {
    Blocks()
        : PhysWorld(RAM_START, 4 * PAGEBLOCK_NR_PAGES)
    {
        boot();
    }
    Zone& zone() { return dma32(); }
    bool ok()
    {
        std::string why;
        bool good = allocator.check(&why);
        EXPECT_TRUE(good) << why;
        return good;
    }
};

Pfn block_of(Pfn pfn)
{
    return Pfn(pfn.value() & ~(PAGEBLOCK_NR_PAGES - 1));
}

TEST(MigrateTypes, BootTagsEveryPageblockMovable)
{
    Blocks w;
    EXPECT_EQ(w.zone().pageblocks_of(MigrateType::Movable), 4u);
    EXPECT_EQ(w.zone().pageblocks_of(MigrateType::Unmovable), 0u);
    EXPECT_EQ(w.zone().free_blocks(MAX_ORDER, MigrateType::Movable), 2u);
}

TEST(MigrateTypes, UnmovableRequestStealsTheLargestBlockWithItsPageblocks)
{
    Blocks w;
    auto pfn = w.zone().allocate(0, MigrateType::Unmovable);
    ASSERT_TRUE(pfn);
    // An order-10 block was taken over whole: both of its pageblocks now hold unmovable pages,
    // and the rest of the block waits on the unmovable lists.
    EXPECT_EQ(w.zone().pageblock_type(*pfn), MigrateType::Unmovable);
    EXPECT_EQ(w.zone().pageblocks_of(MigrateType::Unmovable), 2u);
    EXPECT_EQ(w.zone().free_blocks(9, MigrateType::Unmovable), 1u);
    EXPECT_EQ(w.zone().free_blocks(MAX_ORDER, MigrateType::Movable), 1u);
    EXPECT_TRUE(w.ok());
}

TEST(MigrateTypes, UnmovableAllocationsClusterInTheirPageblocks)
{
    Blocks w;
    std::set<u64> blocks;
    for (int i = 0; i < 100; ++i) {
        auto pfn = w.zone().allocate(0, MigrateType::Unmovable);
        ASSERT_TRUE(pfn);
        blocks.insert(block_of(*pfn).value());
        auto movable = w.zone().allocate(0, MigrateType::Movable);
        ASSERT_TRUE(movable);
        EXPECT_EQ(w.zone().pageblock_type(*movable), MigrateType::Movable);
    }
    EXPECT_EQ(blocks.size(), 1u) << "interleaved requests still keep unmovable pages together";
    EXPECT_TRUE(w.ok());
}

TEST(MigrateTypes, MovableRequestTakesTheSmallestForeignBlockWithoutRetagging)
{
    Blocks w;
    // Make every free block unmovable: take two pageblocks' worth for unmovable use, freeing all
    // but one page of them back onto the unmovable lists; then take the movable rest.
    std::vector<Pfn> unmovable;
    while (auto pfn = w.zone().allocate(0, MigrateType::Unmovable)) {
        unmovable.push_back(*pfn);
        if (unmovable.size() == 2 * PAGEBLOCK_NR_PAGES)
            break;
    }
    while (w.zone().allocate(MAX_ORDER, MigrateType::Movable)) {
    }
    for (size_t i = 1; i < unmovable.size(); i += 2)
        w.zone().free(unmovable[i], 0);
    ASSERT_EQ(w.zone().free_blocks(0, MigrateType::Unmovable), PAGEBLOCK_NR_PAGES);

    auto pfn = w.zone().allocate(0, MigrateType::Movable);

    ASSERT_TRUE(pfn);
    // An order-0 movable request cannot claim the pageblock: the page is lent, the tag stays.
    EXPECT_EQ(w.zone().pageblock_type(*pfn), MigrateType::Unmovable);
    EXPECT_EQ(w.zone().free_blocks(0, MigrateType::Unmovable), PAGEBLOCK_NR_PAGES - 1);
    EXPECT_TRUE(w.ok());
}

TEST(MigrateTypes, FreedPageGoesToItsPageblocksList)
{
    Blocks w;
    auto unmovable = w.zone().allocate(0, MigrateType::Unmovable);
    auto movable = w.zone().allocate(0, MigrateType::Movable);
    ASSERT_TRUE(unmovable && movable);
    w.zone().set_pageblock_type(*movable, MigrateType::Reclaimable);
    w.zone().free(*movable, 0);
    // It merged with its free buddies (types do not matter below a pageblock, and Movable and
    // Reclaimable pageblocks merge too) and the whole block went to the freed page's list.
    EXPECT_EQ(w.zone().free_blocks(MAX_ORDER, MigrateType::Reclaimable), 1u);
    EXPECT_TRUE(w.ok());
}

TEST(MigrateTypes, IsolatedPageblockNeitherMergesWithOthersNorIsAllocatedFrom)
{
    Blocks w;
    std::vector<Pfn> blocks;
    while (auto pfn = w.zone().allocate(PAGEBLOCK_ORDER, MigrateType::Movable))
        blocks.push_back(*pfn);
    ASSERT_EQ(blocks.size(), 4u);
    w.zone().set_pageblock_type(RAM_START + PAGEBLOCK_NR_PAGES, MigrateType::Isolate);
    for (Pfn pfn : blocks)
        w.zone().free(pfn, PAGEBLOCK_ORDER);

    // Pageblocks 0 and 1 stay apart; 2 and 3 merge into one movable order-10 block.
    EXPECT_EQ(w.zone().free_blocks(PAGEBLOCK_ORDER, MigrateType::Isolate), 1u);
    EXPECT_EQ(w.zone().free_blocks(PAGEBLOCK_ORDER, MigrateType::Movable), 1u);
    EXPECT_EQ(w.zone().free_blocks(MAX_ORDER, MigrateType::Movable), 1u);
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE(w.zone().allocate(MAX_ORDER, MigrateType::Movable));
    EXPECT_TRUE(w.zone().allocate(PAGEBLOCK_ORDER, MigrateType::Movable));
    EXPECT_FALSE(w.zone().allocate(0, MigrateType::Movable)) << "no type falls back to Isolate";
    EXPECT_FALSE(w.zone().allocate(0, MigrateType::Unmovable));
}

TEST(Fragmentation, IndicesFollowLinuxsFormulas)
{
    Blocks w;
    Zone& zone = w.zone();
    // Whole blocks: order 9 is satisfiable, nothing is unusable.
    EXPECT_EQ(fragmentation_index(zone, 9), -1000);
    EXPECT_EQ(unusable_free_index(zone, 9), 0);
    // Take everything, then give back every other page of the first pageblock: 256 free order-0
    // blocks. An order-9 request would fail for fragmentation.
    std::vector<Pfn> pages;
    while (auto pfn = zone.allocate(0))
        pages.push_back(*pfn);
    for (Pfn pfn : pages)
        if (pfn < RAM_START + PAGEBLOCK_NR_PAGES && pfn.value() % 2 == 0)
            zone.free(pfn, 0);
    ASSERT_EQ(zone.free_pages(), 256u);
    // 1000 - (1000 + 256 * 1000 / 512) / 256 = 1000 - 1500 / 256 = 995.
    EXPECT_EQ(fragmentation_index(zone, 9), 995);
    EXPECT_EQ(unusable_free_index(zone, 9), 1000);
    EXPECT_EQ(unusable_free_index(zone, 0), 0);
    EXPECT_EQ(extfrag_for_order(zone, 9), 100u);
    EXPECT_EQ(fragmentation_index(zone, 0), -1000);
}

} // namespace
} // namespace kioku
