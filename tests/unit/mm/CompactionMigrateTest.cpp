// Migration of single pages: every kind of movable page keeps its bytes, its mappings (with their
// bits), its index entries and its LRU list, and the invariant checker stays green; what may not
// move (pinned, kernel, unevictable when not allowed) stays put.
#include <unistd.h>

#include <vector>

#include "CompactionWorld.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/swap/SwapManager.h"

namespace kioku {
namespace {

using test::CompactionWorld;
using test::MAP_BASE;

TEST(Migrate, AnonymousPageKeepsItsBytesAndItsMapping)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, 4 * PAGE_SIZE);
    for (u32 i = 0; i < 4; ++i)
        w.fill(*space, MAP_BASE + i * PAGE_SIZE, i);
    Pfn old = w.pte_frame(*space, MAP_BASE + PAGE_SIZE);
    u64 rss = space->rss().anon;

    auto moved = Migrator(w.mm).migrate(old);

    ASSERT_TRUE(moved);
    EXPECT_NE(*moved, old);
    EXPECT_EQ(w.pte_frame(*space, MAP_BASE + PAGE_SIZE), *moved);
    EXPECT_TRUE(w.dma32().is_free(old)) << "the old frame goes back to the allocator";
    for (u32 i = 0; i < 4; ++i)
        EXPECT_TRUE(w.holds(*space, MAP_BASE + i * PAGE_SIZE, i)) << i;
    EXPECT_EQ(space->rss().anon, rss);
    EXPECT_EQ(w.stat(VmItem::PgmigrateSuccess), 1u);
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, PteKeepsItsPermissionAccessedDirtyAndSoftDirtyBits)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 7);
    PageSlot slot = space->page_table().slot(VirtAddr(MAP_BASE), false);
    ASSERT_TRUE(slot);
    slot.upgrade(isa::PTE_A | isa::PTE_D | PTE_SOFT_DIRTY); // as the MMU and the fault path leave them
    u64 before = *slot;

    auto moved = Migrator(w.mm).migrate(pte_pfn(before));

    ASSERT_TRUE(moved);
    EXPECT_EQ(*slot & ~isa::PTE_PPN_MASK, before & ~isa::PTE_PPN_MASK);
    EXPECT_EQ(pte_pfn(*slot), *moved);
}

TEST(Migrate, PageSharedAfterForkMovesInBothAddressSpaces)
{
    CompactionWorld w;
    auto parent = w.space();
    w.map_anon(*parent, MAP_BASE, 2 * PAGE_SIZE);
    w.fill(*parent, MAP_BASE, 1);
    w.fill(*parent, MAP_BASE + PAGE_SIZE, 2);
    auto child = parent->fork(w.mm.allocate_asid()).release_value();
    Pfn old = w.pte_frame(*parent, MAP_BASE);
    ASSERT_EQ(w.pte_frame(*child, MAP_BASE), old);
    ASSERT_EQ(w.mm.frames()[old].mapcount, 2);

    auto moved = Migrator(w.mm).migrate(old);

    ASSERT_TRUE(moved);
    EXPECT_EQ(w.pte_frame(*parent, MAP_BASE), *moved);
    EXPECT_EQ(w.pte_frame(*child, MAP_BASE), *moved);
    EXPECT_EQ(w.mm.frames()[*moved].mapcount, 2);
    EXPECT_EQ(w.invariants(), "");
    // Copy-on-write still works from the new frame: the child's store leaves the parent's data.
    w.fill(*child, MAP_BASE, 9);
    EXPECT_TRUE(w.holds(*parent, MAP_BASE, 1));
    EXPECT_TRUE(w.holds(*child, MAP_BASE, 9));
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, PageCachePageMovesItsInodeEntryAndWritesBackFromTheNewFrame)
{
    CompactionWorld w;
    auto space = w.space();
    auto inode = w.host_file(2);
    w.map_file(*space, MAP_BASE, 2 * PAGE_SIZE, inode);
    w.fill(*space, MAP_BASE + PAGE_SIZE, 5);
    Pfn old = w.pte_frame(*space, MAP_BASE + PAGE_SIZE);

    auto moved = Migrator(w.mm).migrate(old);

    ASSERT_TRUE(moved);
    EXPECT_EQ(inode->pages().find(1)->second, *moved);
    EXPECT_TRUE(w.mm.frames()[*moved].has(FF_DIRTY)) << "the dirty flag moves with the page";
    EXPECT_EQ(w.invariants(), "");
    ASSERT_FALSE(w.mm.page_cache().writeback(*inode).is_error());
    std::vector<u8> disk(PAGE_SIZE);
    ASSERT_EQ(::pread(inode->host_fd(), disk.data(), PAGE_SIZE, PAGE_SIZE), static_cast<ssize_t>(PAGE_SIZE));
    EXPECT_EQ(std::memcmp(disk.data(), w.mm.memory().frame(*moved), PAGE_SIZE), 0);
    EXPECT_TRUE(w.holds(*space, MAP_BASE + PAGE_SIZE, 5));
}

TEST(Migrate, ShmemPageSharedByTwoProcessesMovesForBoth)
{
    CompactionWorld w;
    auto a = w.space();
    w.map_anon(*a, MAP_BASE, PAGE_SIZE, MAP_SHARED_);
    w.fill(*a, MAP_BASE, 3);
    auto b = a->fork(w.mm.allocate_asid()).release_value();
    Pfn old = w.frame_of(*b, MAP_BASE);
    ASSERT_TRUE(w.mm.frames()[old].has(FF_SHMEM));

    auto moved = Migrator(w.mm).migrate(old);

    ASSERT_TRUE(moved);
    EXPECT_EQ(w.pte_frame(*a, MAP_BASE), *moved);
    EXPECT_EQ(w.pte_frame(*b, MAP_BASE), *moved);
    w.fill(*b, MAP_BASE, 4);
    EXPECT_TRUE(w.holds(*a, MAP_BASE, 4)) << "still one shared page";
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, SwapCachePageMovesItsSwapCacheEntry)
{
    CompactionWorld w;
    ASSERT_FALSE(w.mm.swapon(u64{4} << 20, std::nullopt).is_error());
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 6);
    ASSERT_TRUE(w.mm.reclaimer().evict(w.pte_frame(*space, MAP_BASE)));
    ASSERT_TRUE(pte_is_swap(space->page_table().read(VirtAddr(MAP_BASE))));
    // A read fault brings the page back and leaves it in the swap cache.
    Pfn old = w.frame_of(*space, MAP_BASE);
    ASSERT_TRUE(w.mm.frames()[old].has(FF_SWAPCACHE));
    SwapEntry entry = swap_entry_of(w.mm.frames()[old].private_data);

    auto moved = Migrator(w.mm).migrate(old);

    ASSERT_TRUE(moved);
    EXPECT_EQ(w.mm.swap().lookup(entry), *moved);
    EXPECT_TRUE(w.mm.frames()[*moved].has(FF_SWAPCACHE));
    EXPECT_TRUE(w.holds(*space, MAP_BASE, 6));
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, PinnedPageIsNotMovedAndCountsAFailure)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 1);
    Pfn pfn = w.pte_frame(*space, MAP_BASE);
    w.mm.get_page(pfn); // get_user_pages

    Migrator migrator(w.mm);
    EXPECT_EQ(migrator.movability(pfn), Movability::Pinned);
    EXPECT_FALSE(migrator.migrate(pfn));
    EXPECT_EQ(w.pte_frame(*space, MAP_BASE), pfn);
    EXPECT_EQ(w.stat(VmItem::PgmigrateFail), 1u);
    w.mm.put_page(pfn);
    EXPECT_EQ(migrator.movability(pfn), Movability::Movable);
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, KernelAndFreeFramesAreNotMovable)
{
    CompactionWorld w;
    auto space = w.space();
    Migrator migrator(w.mm);
    EXPECT_EQ(migrator.movability(space->page_table().root()), Movability::Kernel);
    EXPECT_EQ(migrator.movability(w.mm.zero_pfn()), Movability::Kernel);
    auto free = w.mm.allocator().allocate(0);
    ASSERT_TRUE(free);
    w.mm.allocator().free(*free, 0);
    EXPECT_EQ(migrator.movability(*free), Movability::Free);
}

TEST(Migrate, MlockedPageMovesOnlyWhenCompactUnevictableAllowed)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 2);
    ASSERT_FALSE(space->mlock(MAP_BASE, PAGE_SIZE, 0).is_error());
    Pfn pfn = w.pte_frame(*space, MAP_BASE);
    ASSERT_TRUE(w.mm.frames()[pfn].has(FF_MLOCKED));

    w.mm.sysctl().compact_unevictable_allowed = 0;
    EXPECT_EQ(Migrator(w.mm).movability(pfn), Movability::Unevictable);
    w.mm.sysctl().compact_unevictable_allowed = 1;
    auto moved = Migrator(w.mm).migrate(pfn);

    ASSERT_TRUE(moved);
    const Frame& frame = w.mm.frames()[*moved];
    EXPECT_TRUE(frame.has(FF_MLOCKED) && frame.has(FF_UNEVICTABLE));
    EXPECT_EQ(Lru::list_of(frame), LruList::Unevictable);
    EXPECT_EQ(w.mm.lru().size(LruList::Unevictable), 1u);
    EXPECT_EQ(w.stat(VmItem::NrMlock), 1u);
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, ActivePageStaysOnTheActiveList)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 2);
    Pfn pfn = w.pte_frame(*space, MAP_BASE);
    w.mm.lru().move(pfn, LruList::ActiveAnon);

    auto moved = Migrator(w.mm).migrate(pfn);

    ASSERT_TRUE(moved);
    EXPECT_EQ(Lru::list_of(w.mm.frames()[*moved]), LruList::ActiveAnon);
    EXPECT_EQ(w.mm.lru().size(LruList::ActiveAnon), 1u);
    EXPECT_EQ(w.invariants(), "");
}

TEST(Migrate, NoFrameForTheCopyFailsCleanly)
{
    CompactionWorld w;
    auto space = w.space();
    w.map_anon(*space, MAP_BASE, PAGE_SIZE);
    w.fill(*space, MAP_BASE, 8);
    Pfn pfn = w.pte_frame(*space, MAP_BASE);
    std::vector<Pfn> held;
    while (auto frame = w.mm.allocator().allocate(0, AllocFlags::Atomic))
        held.push_back(*frame);

    EXPECT_FALSE(Migrator(w.mm).migrate(pfn));
    EXPECT_EQ(w.pte_frame(*space, MAP_BASE), pfn);
    EXPECT_EQ(w.stat(VmItem::PgmigrateFail), 1u);
    for (Pfn frame : held)
        w.mm.allocator().free(frame, 0);
    EXPECT_TRUE(w.holds(*space, MAP_BASE, 8));
    EXPECT_EQ(w.invariants(), "");
}

} // namespace
} // namespace kioku
