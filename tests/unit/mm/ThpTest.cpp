// Transparent huge pages in a small world: a 64 MiB machine, one memory manager, address spaces
// touched through the MMU as a program would (fault, retry). Every test ends with the invariant
// checker, which proves the compound-page counts against the page tables.
#include <gtest/gtest.h>

#include <cstring>

#include "hw/Machine.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/core/Lru.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Userfault.h"

namespace kioku::test {

namespace {

using isa::AccessType;

MachineShape small_machine()
{
    MachineShape shape;
    shape.mem_bytes = u64{64} << 20;
    return shape;
}

class ThpTest : public ::testing::Test {
  protected:
    ThpTest()
        : machine(small_machine())
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
    {
        space = mm.create_address_space().release_value();
    }

    void TearDown() override { EXPECT_EQ(InvariantChecker(mm).report(), ""); }

    // An anonymous private mapping of `len` bytes whose start is 2 MiB aligned.
    u64 map_aligned(AddressSpace& s, u64 len)
    {
        u64 raw = s.mmap(0, len + HPAGE_PMD_SIZE, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_,
                         nullptr, 0, {})
                      .release_value();
        u64 base = (raw + HPAGE_PMD_SIZE - 1) & ~(HPAGE_PMD_SIZE - 1);
        // Trim to exactly [base, base + len) so no neighbouring part of the mapping is left.
        if (base > raw) {
            EXPECT_FALSE(s.munmap(raw, base - raw).is_error());
        }
        u64 end = raw + len + HPAGE_PMD_SIZE;
        if (end > base + len) {
            EXPECT_FALSE(s.munmap(base + len, end - base - len).is_error());
        }
        return base;
    }

    PhysAddr translate(AddressSpace& s, u64 va, AccessType access)
    {
        for (int attempt = 0; attempt < 4; ++attempt) {
            Translation t = machine.mmu().translate(s.satp(), VirtAddr(va), access);
            if (!t.faulted)
                return t.pa;
            FaultOutcome o = mm.fault_handler().handle(s, VirtAddr(va), access);
            EXPECT_TRUE(fault_resolved(o)) << fault_outcome_name(o);
        }
        ADD_FAILURE() << "the access kept faulting";
        return PhysAddr(0);
    }

    void store(AddressSpace& s, u64 va, u8 value)
    {
        *machine.memory().ptr(translate(s, va, AccessType::Write)) = value;
    }
    u8 load(AddressSpace& s, u64 va) { return *machine.memory().ptr(translate(s, va, AccessType::Read)); }

    u64 stat(VmItem item) const { return mm.vmstat()[item]; }
    std::optional<PageTable::HugeLeaf> leaf(AddressSpace& s, u64 va)
    {
        return s.page_table().huge_leaf(VirtAddr(va));
    }

    Machine machine;
    MemoryManager mm;
    std::unique_ptr<AddressSpace> space;
};

} // namespace

TEST_F(ThpTest, MadvisedRegionFaultsInOneHugePage)
{
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    ASSERT_FALSE(space->madvise(base, HPAGE_PMD_SIZE, abi::MADV_HUGEPAGE_).is_error());
    u64 tables_before = space->page_table().table_pages();
    store(*space, base + 12345, 7);
    EXPECT_EQ(stat(VmItem::ThpFaultAlloc), 1u);
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_EQ(leaf(*space, base)->level, 1u);
    EXPECT_EQ(space->rss().anon, static_cast<i64>(HPAGE_PMD_NR));
    EXPECT_EQ(stat(VmItem::NrAnonTransparentHugepages), HPAGE_PMD_NR);
    EXPECT_EQ(stat(VmItem::NrAnonPages), HPAGE_PMD_NR);
    // The MMU walks no PTE table under the PMD leaf, but one is deposited with it.
    EXPECT_LE(space->page_table().reachable_table_pages(), tables_before + 2);
    EXPECT_EQ(space->page_table().deposits().size(), 1u);
    EXPECT_LE(space->page_table().table_pages(), tables_before + 3);
    EXPECT_EQ(load(*space, base + 12345), 7);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE - 1), 0);
}

TEST_F(ThpTest, MadviseModeLeavesUnadvisedMemoryAtFourKilobytes)
{
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpFaultAlloc), 0u);
    EXPECT_EQ(space->rss().anon, 1);
}

TEST_F(ThpTest, AlwaysModeNeedsNoAdviceButHonoursNohugepage)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 a = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, a, 1);
    EXPECT_TRUE(leaf(*space, a));
    u64 b = map_aligned(*space, HPAGE_PMD_SIZE);
    ASSERT_FALSE(space->madvise(b, HPAGE_PMD_SIZE, abi::MADV_NOHUGEPAGE_).is_error());
    store(*space, b, 1);
    EXPECT_FALSE(leaf(*space, b));
}

TEST_F(ThpTest, PrSetThpDisableStopsHugeFaults)
{
    mm.thp().settings().enabled = ThpMode::Always;
    space->set_thp_disabled(true);
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    EXPECT_FALSE(leaf(*space, base));
    auto child = space->fork(mm.allocate_asid()).release_value();
    EXPECT_TRUE(child->thp_disabled());
}

TEST_F(ThpTest, RangeSmallerThanTwoMegabytesFallsBack)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE - PAGE_SIZE);
    store(*space, base, 1);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpFaultAlloc), 0u);
}

TEST_F(ThpTest, ReadMapsTheHugeZeroPageAndAWriteSplitsItToFourKilobytes)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    EXPECT_EQ(load(*space, base + 100), 0);
    EXPECT_EQ(stat(VmItem::ThpZeroPageAlloc), 1u);
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_TRUE(mm.thp().is_huge_zero(pte_pfn(*leaf(*space, base)->entry)));
    EXPECT_EQ(space->rss().anon, 0);
    // do_huge_pmd_wp_page on the huge zero page: split the PMD, copy one 4 KiB page.
    store(*space, base + 100, 9);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpSplitPmd), 1u);
    EXPECT_EQ(stat(VmItem::ThpFaultAlloc), 0u);
    EXPECT_EQ(space->rss().anon, 1);
    EXPECT_EQ(load(*space, base + 100), 9);
    EXPECT_EQ(load(*space, base + PAGE_SIZE), 0);
}

TEST_F(ThpTest, UseZeroPageOffMakesReadsAllocate)
{
    mm.thp().settings().enabled = ThpMode::Always;
    mm.thp().settings().use_zero_page = false;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    EXPECT_EQ(load(*space, base), 0);
    EXPECT_EQ(stat(VmItem::ThpFaultAlloc), 1u);
    EXPECT_EQ(stat(VmItem::ThpZeroPageAlloc), 0u);
}

TEST_F(ThpTest, ForkSharesTheLeafAndAWriteSplitsForCopyOnWrite)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base + PAGE_SIZE * 3, 42);
    auto child = space->fork(mm.allocate_asid()).release_value();
    ASSERT_TRUE(leaf(*child, base));
    Pfn head = pte_pfn(*leaf(*child, base)->entry);
    EXPECT_EQ(mm.frames()[head].mapcount, 2);
    EXPECT_EQ(child->rss().anon, static_cast<i64>(HPAGE_PMD_NR));
    EXPECT_EQ(InvariantChecker(mm).report(), "");
    store(*child, base + PAGE_SIZE * 3, 43);
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(stat(VmItem::ThpSplitPmd), 2u); // one PMD in each address space
    EXPECT_EQ(load(*space, base + PAGE_SIZE * 3), 42);
    EXPECT_EQ(load(*child, base + PAGE_SIZE * 3), 43);
    EXPECT_EQ(stat(VmItem::NrAnonTransparentHugepages), 0u);
    EXPECT_EQ(InvariantChecker(mm).report(), "");
}

TEST_F(ThpTest, AnExclusiveReadOnlyLeafIsReusedOnWrite)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    auto child = space->fork(mm.allocate_asid()).release_value();
    child.reset(); // the child exits: the parent's leaf stays read-only but is no longer shared
    store(*space, base, 2);
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 0u);
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_TRUE(*leaf(*space, base)->entry & isa::PTE_W);
}

TEST_F(ThpTest, PartialMunmapSplitsAndKeepsTheRest)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    for (u64 i = 0; i < HPAGE_PMD_NR; i += 64)
        store(*space, base + i * PAGE_SIZE, static_cast<u8>(i / 64 + 1));
    ASSERT_FALSE(space->munmap(base + PAGE_SIZE * 64, PAGE_SIZE).is_error());
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(space->rss().anon, static_cast<i64>(HPAGE_PMD_NR - 1));
    EXPECT_EQ(load(*space, base), 1);
    EXPECT_EQ(load(*space, base + PAGE_SIZE * 128), 3);
}

TEST_F(ThpTest, WholeMunmapFreesTheHugePageAtOnce)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 free_before = mm.allocator().free_pages();
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    EXPECT_LE(mm.allocator().free_pages() + HPAGE_PMD_NR, free_before);
    ASSERT_FALSE(space->munmap(base, HPAGE_PMD_SIZE).is_error());
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 0u);
    EXPECT_EQ(space->rss().anon, 0);
    EXPECT_EQ(stat(VmItem::NrAnonTransparentHugepages), 0u);
    EXPECT_GE(mm.allocator().free_pages() + 4, free_before); // only table pages may stay
}

TEST_F(ThpTest, DontneedOverTheWholeRangeZapsWithoutSplitting)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 5);
    ASSERT_FALSE(space->madvise(base, HPAGE_PMD_SIZE, abi::MADV_DONTNEED_).is_error());
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 0u);
    EXPECT_EQ(load(*space, base), 0);
}

TEST_F(ThpTest, MprotectOfTheWholeRangeKeepsTheLeafAndOfPartSplits)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, 2 * HPAGE_PMD_SIZE);
    store(*space, base, 1);
    store(*space, base + HPAGE_PMD_SIZE, 2);
    ASSERT_FALSE(space->mprotect(base, HPAGE_PMD_SIZE, PROT_READ_).is_error());
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_FALSE(*leaf(*space, base)->entry & isa::PTE_W);
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 0u);
    ASSERT_FALSE(space->mprotect(base + HPAGE_PMD_SIZE, PAGE_SIZE, PROT_READ_).is_error());
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_FALSE(leaf(*space, base + HPAGE_PMD_SIZE));
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE), 2);
    // Writable again: the exclusive THP becomes writable without a fault.
    ASSERT_FALSE(space->mprotect(base, HPAGE_PMD_SIZE, PROT_READ_ | PROT_WRITE_).is_error());
    EXPECT_TRUE(*leaf(*space, base)->entry & isa::PTE_W);
}

TEST_F(ThpTest, MremapMovesTheDataThroughASplit)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base + 777, 77);
    u64 moved = space->mremap(base, HPAGE_PMD_SIZE, HPAGE_PMD_SIZE + PAGE_SIZE, abi::MREMAP_MAYMOVE_, 0)
                    .release_value();
    EXPECT_EQ(load(*space, moved + 777), 77);
    EXPECT_EQ(space->rss().anon, static_cast<i64>(HPAGE_PMD_NR));
}

TEST_F(ThpTest, MlockKeepsLockedMemoryAtFourKilobytes)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    ASSERT_FALSE(space->mlock(base, HPAGE_PMD_SIZE, 0).is_error());
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(stat(VmItem::NrMlock), HPAGE_PMD_NR);
}

TEST_F(ThpTest, OneSuperpageTlbEntryServesTheWholeRange)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    machine.tlb().flush_all();
    u64 misses = machine.tlb().stats().misses;
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i)
        (void)load(*space, base + i * PAGE_SIZE);
    EXPECT_EQ(machine.tlb().stats().misses - misses, 1u);
}

TEST_F(ThpTest, KhugepagedCollapsesAPopulatedRangeAndDepositsItsTable)
{
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i)
        store(*space, base + i * PAGE_SIZE, static_cast<u8>(i));
    ASSERT_FALSE(leaf(*space, base));
    u64 tables = space->page_table().table_pages();
    PageSlot pmd = space->page_table().entry_at(VirtAddr(base), 1, false);
    ASSERT_TRUE(pmd);
    Pfn old_table = pte_pfn(*pmd);
    ASSERT_FALSE(space->madvise(base, HPAGE_PMD_SIZE, abi::MADV_HUGEPAGE_).is_error());
    mm.thp().khugepaged_scan(mm.thp().settings().pages_to_scan);
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_EQ(mm.thp().pages_collapsed(), 1u);
    EXPECT_EQ(stat(VmItem::ThpCollapseAlloc), 1u);
    // The old PTE table is kept as the leaf's deposit: VmPTE does not change.
    EXPECT_EQ(space->page_table().table_pages(), tables);
    EXPECT_EQ(space->page_table().reachable_table_pages(), tables - 1);
    ASSERT_EQ(space->page_table().deposits().count(base), 1u);
    EXPECT_EQ(space->page_table().deposits().at(base), old_table);
    for (u64 i = 0; i < HPAGE_PMD_NR; i += 37)
        EXPECT_EQ(load(*space, base + i * PAGE_SIZE), static_cast<u8>(i));
    EXPECT_EQ(space->rss().anon, static_cast<i64>(HPAGE_PMD_NR));
}

TEST_F(ThpTest, KhugepagedLeavesARangeWithTooManyEmptyPtes)
{
    mm.thp().settings().enabled = ThpMode::Always;
    mm.thp().settings().max_ptes_none = 0;
    space->set_thp_disabled(true);
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    for (u64 i = 1; i < HPAGE_PMD_NR; ++i)
        store(*space, base + i * PAGE_SIZE, 1);
    space->set_thp_disabled(false);
    mm.thp().khugepaged_scan(HPAGE_PMD_NR);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpScanExceedNonePte), 1u);
}

TEST_F(ThpTest, KhugepagedLeavesTheHolesOfAUserfaultfdRangeForUserSpace)
{
    // Default max_ptes_none (511) would collapse over one hole; a range registered for missing
    // faults is left alone, so the hole still reaches user space.
    mm.thp().settings().enabled = ThpMode::Always;
    space->set_thp_disabled(true);
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    for (u64 i = 1; i < HPAGE_PMD_NR; ++i)
        store(*space, base + i * PAGE_SIZE, 1);
    space->set_thp_disabled(false);
    UserfaultContext ctx(*space);
    ctx.initialize(0);
    ASSERT_FALSE(space->userfault_register(ctx, base, base + HPAGE_PMD_SIZE).is_error());
    mm.thp().khugepaged_scan(HPAGE_PMD_NR);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpScanExceedNonePte), 1u);
    ASSERT_FALSE(space->userfault_unregister(base, base + HPAGE_PMD_SIZE).is_error());
    for (int pass = 0; pass < 4 && !leaf(*space, base); ++pass) // until the scan comes round again
        mm.thp().khugepaged_scan(HPAGE_PMD_NR);
    EXPECT_TRUE(leaf(*space, base)); // once unregistered, the same range collapses
}

TEST_F(ThpTest, KhugepagedRunsOnTheSimulatedClock)
{
    mm.thp().settings().enabled = ThpMode::Always;
    space->set_thp_disabled(true);
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    space->set_thp_disabled(false);
    mm.background_work(); // starts the timer
    mm.background_work();
    EXPECT_EQ(mm.thp().full_scans() + mm.thp().pages_collapsed(), 0u);
    machine.clock().advance(mm.thp().settings().scan_sleep_millisecs * 1'000'000);
    mm.background_work();
    EXPECT_EQ(mm.thp().pages_collapsed(), 1u);
}

TEST_F(ThpTest, ReclaimSplitsAHugePageBeforeSwappingIt)
{
    mm.thp().settings().enabled = ThpMode::Always;
    ASSERT_FALSE(mm.swapon(u64{8} << 20, std::nullopt).is_error());
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 11);
    store(*space, base + PAGE_SIZE, 12);
    Pfn head = pte_pfn(*leaf(*space, base)->entry);
    EXPECT_TRUE(mm.reclaimer().evict(head));
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(stat(VmItem::ThpSwpoutFallback), 1u);
    EXPECT_EQ(space->rss().swapents, 1);
    EXPECT_EQ(load(*space, base), 11);
    EXPECT_EQ(load(*space, base + PAGE_SIZE), 12);
}

TEST_F(ThpTest, ScanningAHugePageCountsItsPages)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    ASSERT_EQ(mm.lru().size(LruList::InactiveAnon) + mm.lru().size(LruList::ActiveAnon), 512u);
    // The only evictable memory is the huge page: reclaim scans it whole, then splits it.
    ASSERT_FALSE(mm.swapon(u64{8} << 20, std::nullopt).is_error());
    mm.reclaimer().reclaim(1, ReclaimMode::Direct);
    EXPECT_GE(stat(VmItem::PgscanDirect), 512u);
    EXPECT_EQ(stat(VmItem::PgscanDirect), stat(VmItem::PgscanAnon) + stat(VmItem::PgscanFile));
    EXPECT_EQ(stat(VmItem::PgscanDirect) % 512, 0u);
}

TEST_F(ThpTest, ShmemEnabledOffersOnlyTheChoicesWithoutHugePages)
{
    Thp& thp = mm.thp();
    EXPECT_EQ(thp.sysfs_read("shmem_enabled").value(), "always within_size advise [never] deny force\n");
    EXPECT_FALSE(thp.sysfs_write("shmem_enabled", "deny\n").is_error());
    EXPECT_EQ(thp.sysfs_read("shmem_enabled").value(), "always within_size advise never [deny] force\n");
    EXPECT_EQ(thp.sysfs_write("shmem_enabled", "always").error().code, EINVAL);
    EXPECT_EQ(thp.sysfs_write("shmem_enabled", "bogus").error().code, EINVAL);
    EXPECT_FALSE(thp.sysfs_write("shmem_enabled", "never").is_error());
}

TEST_F(ThpTest, SysfsFilesReadAndWriteLinuxText)
{
    Thp& thp = mm.thp();
    EXPECT_EQ(thp.sysfs_read("enabled").value(), "always [madvise] never\n");
    EXPECT_EQ(thp.sysfs_read("defrag").value(), "always defer defer+madvise [madvise] never\n");
    EXPECT_EQ(thp.sysfs_read("hpage_pmd_size").value(), "2097152\n");
    EXPECT_EQ(thp.sysfs_read("use_zero_page").value(), "1\n");
    EXPECT_EQ(thp.sysfs_read("khugepaged/pages_to_scan").value(), "4096\n");
    EXPECT_EQ(thp.sysfs_read("khugepaged/max_ptes_none").value(), "511\n");
    EXPECT_EQ(thp.sysfs_read("khugepaged/max_ptes_swap").value(), "64\n");
    EXPECT_EQ(thp.sysfs_read("khugepaged/max_ptes_shared").value(), "256\n");
    EXPECT_EQ(thp.sysfs_read("khugepaged/scan_sleep_millisecs").value(), "10000\n");
    EXPECT_FALSE(thp.sysfs_write("enabled", "always\n").is_error());
    EXPECT_EQ(thp.sysfs_read("enabled").value(), "[always] madvise never\n");
    EXPECT_EQ(thp.sysfs_write("enabled", "sometimes").error().code, EINVAL);
    EXPECT_EQ(thp.sysfs_write("khugepaged/max_ptes_none", "512").error().code, EINVAL);
    EXPECT_EQ(thp.sysfs_write("nonsense", "1").error().code, ENOENT);
    EXPECT_FALSE(thp.sysfs_write("defrag", "defer+madvise").is_error());
    EXPECT_EQ(thp.settings().defrag, ThpDefrag::DeferMadvise);
}

TEST_F(ThpTest, FallsBackWhenNoOrderNineBlockIsFree)
{
    mm.thp().settings().enabled = ThpMode::Always;
    mm.thp().settings().defrag = ThpDefrag::Never;
    // Take every block of order 9 or more, then give back every other page of four of them:
    // plenty of free memory, none of it in a 2 MiB block.
    std::vector<Pfn> taken;
    while (auto pfn = mm.allocator().allocate(HPAGE_PMD_ORDER))
        taken.push_back(*pfn);
    ASSERT_GE(taken.size(), 4u);
    for (size_t b = 0; b < 4; ++b)
        for (u64 i = 1; i < HPAGE_PMD_NR; i += 2)
            mm.allocator().free(taken[b] + i, 0);
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_EQ(stat(VmItem::ThpFaultFallback), 1u);
    space.reset();
    for (size_t b = 0; b < taken.size(); ++b) {
        if (b >= 4) {
            mm.allocator().free(taken[b], HPAGE_PMD_ORDER);
            continue;
        }
        for (u64 i = 0; i < HPAGE_PMD_NR; i += 2)
            mm.allocator().free(taken[b] + i, 0);
    }
}

// ==== LRU accounting: a THP head is one entry and HPAGE_PMD_NR pages ====

namespace {

u64 anon_lru_pages(const MemoryManager& m)
{
    return m.lru().size(LruList::InactiveAnon) + m.lru().size(LruList::ActiveAnon);
}

} // namespace

TEST_F(ThpTest, HugePageCountsAllItsPagesOnTheLruList)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    ASSERT_TRUE(leaf(*space, base));
    EXPECT_EQ(mm.lru().entries(LruList::InactiveAnon), 1u);
    EXPECT_EQ(mm.lru().size(LruList::InactiveAnon), HPAGE_PMD_NR);
    // Active(anon) + Inactive(anon) now agree with AnonPages, as in Linux's meminfo.
    EXPECT_EQ(anon_lru_pages(mm), stat(VmItem::NrAnonPages));
}

TEST_F(ThpTest, SplittingKeepsTheLruPageCountAndMakesAnEntryPerPage)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    ASSERT_FALSE(space->munmap(base + PAGE_SIZE * 3, PAGE_SIZE).is_error());
    ASSERT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(mm.lru().entries(LruList::InactiveAnon), HPAGE_PMD_NR - 1);
    EXPECT_EQ(mm.lru().size(LruList::InactiveAnon), HPAGE_PMD_NR - 1);
    EXPECT_EQ(anon_lru_pages(mm), stat(VmItem::NrAnonPages));
}

TEST_F(ThpTest, FreeingAHugePageTakesAllItsPagesOffTheLru)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    ASSERT_FALSE(space->munmap(base, HPAGE_PMD_SIZE).is_error());
    EXPECT_EQ(anon_lru_pages(mm), 0u);
    EXPECT_EQ(mm.lru().entries(LruList::InactiveAnon), 0u);
}

// A scan that sees every page unreferenced and may swap, so the policy's choices are its own.
class ColdScan final : public ReclaimScan {
  public:
    explicit ColdScan(VmStat& stat)
        : m_stat(stat)
    {
    }
    References test_and_clear_referenced(Pfn) override { return {}; }
    bool may_swap() const override { return true; }
    void scanned(Pfn) override {}
    VmStat& vmstat() override { return m_stat; }

  private:
    VmStat& m_stat;
};

TEST_F(ThpTest, DeactivatingAHugePageMovesAndCountsAllItsPages)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    Pfn head = pte_pfn(*leaf(*space, base)->entry);
    mm.lru().move(head, LruList::ActiveAnon);
    EXPECT_EQ(mm.lru().size(LruList::ActiveAnon), HPAGE_PMD_NR);
    u64 deactivated_before = stat(VmItem::Pgdeactivate);
    ColdScan scan(mm.vmstat());
    std::vector<Pfn> victims;
    // The inactive list is short of the active one, so the policy refills it first: the THP
    // moves whole and pgdeactivate counts its 512 pages, as Linux counts folio_nr_pages.
    mm.reclaimer().policy().select(1, scan, victims);
    EXPECT_EQ(stat(VmItem::Pgdeactivate) - deactivated_before, HPAGE_PMD_NR);
    EXPECT_EQ(mm.lru().size(LruList::ActiveAnon), 0u);
    EXPECT_EQ(mm.lru().size(LruList::InactiveAnon), HPAGE_PMD_NR);
    ASSERT_EQ(victims.size(), 1u);
    EXPECT_EQ(victims[0], head);
    mm.reclaimer().policy().keep(head);
}

} // namespace kioku::test

// ==== Deposited page tables: every anonymous PMD leaf carries a spare PTE table ====

namespace kioku::test {

namespace {

// Takes every order-0 page an ordinary allocation may have, and gives them back when it ends,
// so the checker in TearDown sees all memory accounted for again.
class MemoryHog {
  public:
    explicit MemoryHog(MemoryManager& m)
        : m_mm(m)
    {
        while (auto pfn = m_mm.allocator().allocate(0))
            m_pages.push_back(*pfn);
    }
    ~MemoryHog()
    {
        for (Pfn pfn : m_pages)
            m_mm.allocator().free(pfn, 0);
    }
    MemoryHog(const MemoryHog&) = delete;
    MemoryHog& operator=(const MemoryHog&) = delete;

  private:
    MemoryManager& m_mm;
    std::vector<Pfn> m_pages;
};

} // namespace

TEST_F(ThpTest, VmPteIsTheSameWithHugePagesAsWithFourKilobytePages)
{
    // Linux counts a THP's deposited table in mm_pgtables_bytes, so touching the same range costs
    // the same VmPTE either way; only the tables the MMU walks differ.
    constexpr u64 LEN = 4 * HPAGE_PMD_SIZE;
    auto small = mm.create_address_space().release_value();
    u64 huge_base = map_aligned(*space, LEN);
    u64 small_base = map_aligned(*small, LEN);
    ASSERT_FALSE(space->madvise(huge_base, LEN, abi::MADV_HUGEPAGE_).is_error());
    ASSERT_FALSE(small->madvise(small_base, LEN, abi::MADV_NOHUGEPAGE_).is_error());
    u64 huge_before = space->page_table().table_pages();
    u64 small_before = small->page_table().table_pages();
    u64 counted_before = mm.page_table_pages();
    for (u64 off = 0; off < LEN; off += PAGE_SIZE) {
        store(*space, huge_base + off, 1);
        store(*small, small_base + off, 1);
    }
    u64 huge_added = space->page_table().table_pages() - huge_before;
    u64 small_added = small->page_table().table_pages() - small_before;
    EXPECT_EQ(space->page_table().deposits().size(), LEN / HPAGE_PMD_SIZE);
    // Both add one PTE table per 2 MiB, give or take the upper-level tables they had to create.
    EXPECT_GE(huge_added + 2, small_added);
    EXPECT_LE(huge_added, small_added + 2);
    EXPECT_GE(huge_added, LEN / HPAGE_PMD_SIZE);
    // The megapage leaves still spare the walk those four tables.
    EXPECT_EQ(space->page_table().reachable_table_pages() + LEN / HPAGE_PMD_SIZE,
              space->page_table().table_pages());
    // meminfo's PageTables counts every one of them.
    EXPECT_EQ(mm.page_table_pages() - counted_before, huge_added + small_added);
    EXPECT_EQ(InvariantChecker(mm).report(), "");
}

TEST_F(ThpTest, SplittingNeedsNoMemoryBecauseItUsesTheDeposit)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, 2 * HPAGE_PMD_SIZE);
    store(*space, base + 5, 55);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE), 0); // the huge zero page
    Pfn head = pte_pfn(*leaf(*space, base)->entry);
    Pfn deposited = space->page_table().deposits().at(base);
    u64 tables = space->page_table().table_pages();
    {
        MemoryHog hog(mm);
        ASSERT_FALSE(space->page_table().allocate_table());
        EXPECT_TRUE(mm.thp().split_huge_page(head));
        mm.thp().split_range(*space, VirtAddr(base + HPAGE_PMD_SIZE), VirtAddr(base + 2 * HPAGE_PMD_SIZE));
    }
    EXPECT_FALSE(leaf(*space, base));
    EXPECT_FALSE(leaf(*space, base + HPAGE_PMD_SIZE));
    EXPECT_EQ(stat(VmItem::ThpSplitPage), 1u);
    EXPECT_EQ(stat(VmItem::ThpSplitPmd), 2u);
    EXPECT_EQ(stat(VmItem::ThpSplitPageFailed), 0u);
    // The deposited tables are now the PTE tables: the count is unchanged, and all are walked.
    EXPECT_TRUE(space->page_table().deposits().empty());
    EXPECT_EQ(space->page_table().table_pages(), tables);
    EXPECT_EQ(space->page_table().reachable_table_pages(), tables);
    PageSlot pmd = space->page_table().entry_at(VirtAddr(base), 1, false);
    ASSERT_TRUE(pmd);
    EXPECT_EQ(pte_pfn(*pmd), deposited);
    EXPECT_EQ(load(*space, base + 5), 55);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE + 5), 0);
    EXPECT_TRUE(mm.is_zero_pfn(pte_pfn(space->page_table().read(VirtAddr(base + HPAGE_PMD_SIZE)))));
}

TEST_F(ThpTest, AHugeFaultWithoutATableToDepositIsOutOfMemory)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, 2 * HPAGE_PMD_SIZE);
    EXPECT_EQ(load(*space, base), 0); // the tables above the PMD exist from here on
    u64 tables = space->page_table().table_pages();
    {
        MemoryHog hog(mm);
        // do_huge_pmd_anonymous_page: pte_alloc_one failing is VM_FAULT_OOM.
        FaultOutcome o = mm.fault_handler().handle(*space, VirtAddr(base + HPAGE_PMD_SIZE), AccessType::Read);
        EXPECT_EQ(o, FaultOutcome::Oom);
    }
    EXPECT_FALSE(leaf(*space, base + HPAGE_PMD_SIZE));
    EXPECT_EQ(space->page_table().deposits().size(), 1u);
    EXPECT_EQ(space->page_table().table_pages(), tables);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE), 0); // with memory back, the fault succeeds
    EXPECT_EQ(space->page_table().deposits().size(), 2u);
}

TEST_F(ThpTest, ForkDepositsATableForEachOfTheChildsLeaves)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, 2 * HPAGE_PMD_SIZE);
    store(*space, base, 3);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE), 0); // the huge zero page is copied too
    u64 counted = mm.page_table_pages();
    auto child = space->fork(mm.allocate_asid()).release_value();
    EXPECT_EQ(child->page_table().deposits().size(), 2u);
    EXPECT_EQ(child->page_table().deposits().count(base), 1u);
    EXPECT_EQ(child->page_table().deposits().count(base + HPAGE_PMD_SIZE), 1u);
    EXPECT_EQ(child->page_table().table_pages(), space->page_table().table_pages());
    EXPECT_EQ(mm.page_table_pages(), counted + 1 + child->page_table().table_pages()); // + the root
    EXPECT_EQ(InvariantChecker(mm).report(), "");
    // Copy-on-write splits the leaf in both address spaces, each into its own deposit.
    store(*child, base, 4);
    EXPECT_TRUE(space->page_table().deposits().count(base) == 0);
    EXPECT_TRUE(child->page_table().deposits().count(base) == 0);
    EXPECT_EQ(load(*space, base), 3);
    EXPECT_EQ(load(*child, base), 4);
    EXPECT_EQ(InvariantChecker(mm).report(), "");
}

TEST_F(ThpTest, CopyHugePmdWithoutATableForTheChildChangesNothing)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, HPAGE_PMD_SIZE);
    store(*space, base, 1);
    auto child = mm.create_address_space().release_value();
    auto parent_leaf = leaf(*space, base);
    ASSERT_TRUE(parent_leaf);
    Pfn head = pte_pfn(*parent_leaf->entry);
    {
        MemoryHog hog(mm);
        // Linux's copy_huge_pmd: no pgtable for the child is -ENOMEM, and dup_mmap fails.
        EXPECT_EQ(mm.thp().copy_huge_pmd(*child, VirtAddr(base), parent_leaf->entry, true),
                  Thp::CopyHuge::Failed);
    }
    EXPECT_TRUE(*parent_leaf->entry & isa::PTE_W);
    EXPECT_EQ(mm.frames()[head].mapcount, 1);
    EXPECT_EQ(mm.frames()[head].refcount, 1);
    EXPECT_FALSE(leaf(*child, base));
    EXPECT_TRUE(child->page_table().deposits().empty());
    EXPECT_EQ(child->page_table().table_pages(), 0u);
}

TEST_F(ThpTest, ZappingAHugeLeafFreesItsDeposit)
{
    mm.thp().settings().enabled = ThpMode::Always;
    u64 base = map_aligned(*space, 2 * HPAGE_PMD_SIZE);
    store(*space, base, 1);
    EXPECT_EQ(load(*space, base + HPAGE_PMD_SIZE), 0);
    u64 tables = space->page_table().table_pages();
    u64 counted = mm.page_table_pages();
    // MADV_DONTNEED zaps both leaves but frees no table of the tree.
    ASSERT_FALSE(space->madvise(base, 2 * HPAGE_PMD_SIZE, abi::MADV_DONTNEED_).is_error());
    EXPECT_TRUE(space->page_table().deposits().empty());
    EXPECT_EQ(space->page_table().table_pages(), tables - 2);
    EXPECT_EQ(mm.page_table_pages(), counted - 2);
    EXPECT_EQ(InvariantChecker(mm).report(), "");
    store(*space, base, 2); // faulting again deposits again
    EXPECT_EQ(space->page_table().deposits().size(), 1u);
    space.reset(); // exit zaps the rest: every table goes back
    EXPECT_EQ(mm.page_table_pages(), counted - tables - 1);
}

} // namespace kioku::test
