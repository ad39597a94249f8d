// PageTable and PageSlot in a small world: 1 MiB of physical memory whose frames a counting
// TableAllocator hands out, a TLB port that records every flush, and the hardware MMU and TLB to
// prove that the tables are the ones it walks and that a downgrade reaches the TLB.
#include <gtest/gtest.h>

#include <vector>

#include "hw/Clock.h"
#include "hw/Mmu.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/pgtable/PageSlot.h"
#include "mm/pgtable/PageTable.h"

namespace kioku::test {

namespace {

using namespace isa;

constexpr u64 MIB = u64{1} << 20;
constexpr u64 TWO_MIB = u64{2} << 20;
constexpr u64 GIB = u64{1} << 30;

// Table pages from a fixed pool of frames, with a count of those in use and an optional limit.
class PoolAllocator final : public TableAllocator {
  public:
    explicit PoolAllocator(PhysicalMemory& memory)
        : m_memory(memory)
    {
        for (Pfn pfn = memory.first_pfn(); pfn < memory.end_pfn(); ++pfn)
            m_free.push_back(pfn);
    }

    std::optional<Pfn> allocate_table() override
    {
        if (m_free.empty() || in_use == limit)
            return std::nullopt;
        Pfn pfn = m_free.back();
        m_free.pop_back();
        m_memory.zero_frame(pfn);
        ++in_use;
        return pfn;
    }

    void free_table(Pfn pfn) override
    {
        ASSERT_GT(in_use, 0u);
        --in_use;
        m_free.push_back(pfn);
    }

    u64 in_use = 0;
    u64 limit = ~u64{0};

  private:
    PhysicalMemory& m_memory;
    std::vector<Pfn> m_free;
};

// Every flush asked for, in order: a page as its address, the whole ASID as ASID_FLUSH.
class RecordingPort final : public TlbFlushPort {
  public:
    static constexpr u64 ASID_FLUSH = ~u64{0};
    void flush_page(Asid asid, VirtAddr va) override
    {
        EXPECT_EQ(asid, ASID);
        flushes.push_back(va.value());
    }
    void flush_asid(Asid asid) override
    {
        EXPECT_EQ(asid, ASID);
        flushes.push_back(ASID_FLUSH);
    }
    void flush_all() override { ADD_FAILURE() << "a page table never flushes every ASID"; }

    static constexpr Asid ASID = 7;
    std::vector<u64> flushes;
};

class PageTableTest : public ::testing::Test {
  protected:
    std::unique_ptr<PageTable> make(SatpMode mode = SatpMode::Sv48)
    {
        auto t = PageTable::create(memory, tables, mode, port, RecordingPort::ASID);
        EXPECT_FALSE(t.is_error());
        return t.release_value();
    }

    // A user read-write leaf for the page at `frame_index` of memory.
    u64 leaf(u64 frame_index) const
    {
        return make_pte((memory.first_pfn() + frame_index).value(), PTE_V | PTE_R | PTE_W | PTE_U);
    }

    void map(PageTable& t, u64 va, u64 pte)
    {
        PageSlot s = t.slot(VirtAddr(va), true);
        ASSERT_TRUE(s);
        s.set(pte);
    }

    std::vector<u64> visited(PageTable& t, u64 start, u64 end)
    {
        std::vector<u64> out;
        t.for_each(VirtAddr(start), VirtAddr(end), [&](VirtAddr va, PageSlot) { out.push_back(va.value()); });
        return out;
    }

    PhysicalMemory memory{MIB};
    PoolAllocator tables{memory};
    RecordingPort port;
};

} // namespace

TEST_F(PageTableTest, UserLimitIsTheLowerHalfOfTheMode)
{
    EXPECT_EQ(make(SatpMode::Sv48)->user_limit(), u64{1} << 47);
    EXPECT_EQ(make(SatpMode::Sv39)->user_limit(), u64{1} << 38);
    EXPECT_EQ(make(SatpMode::Sv39)->levels(), 3u);
}

TEST_F(PageTableTest, LookupWithoutCreateAllocatesNothing)
{
    auto t = make();
    EXPECT_EQ(tables.in_use, 1u); // the root
    EXPECT_FALSE(t->slot(VirtAddr(0x1234000), false));
    EXPECT_EQ(t->read(VirtAddr(0x1234000)), 0u);
    EXPECT_EQ(t->table_pages(), 0u);
    EXPECT_EQ(tables.in_use, 1u);
}

TEST_F(PageTableTest, CreatingASlotBuildsOneTablePerLevel)
{
    auto t = make();
    map(*t, 0x1000, leaf(10));
    EXPECT_EQ(t->table_pages(), 3u); // Sv48: PUD, PMD and PTE tables below the root
    map(*t, 0x1ff000, leaf(11));     // same 2 MiB: same PTE table
    EXPECT_EQ(t->table_pages(), 3u);
    map(*t, TWO_MIB, leaf(12)); // next 2 MiB: one more PTE table
    EXPECT_EQ(t->table_pages(), 4u);
    map(*t, GIB, leaf(13)); // next 1 GiB: a PMD and a PTE table
    EXPECT_EQ(t->table_pages(), 6u);
    EXPECT_EQ(tables.in_use, 7u);
    EXPECT_EQ(t->read(VirtAddr(0x1000)), leaf(10));
    EXPECT_EQ(t->read(VirtAddr(0x1ff000)), leaf(11));
    EXPECT_EQ(t->read(VirtAddr(0x2000)), 0u);
}

TEST_F(PageTableTest, Sv39HasOneLevelLess)
{
    auto t = make(SatpMode::Sv39);
    map(*t, 0x1000, leaf(10));
    EXPECT_EQ(t->table_pages(), 2u);
}

TEST_F(PageTableTest, TheMmuWalksTheTablesItBuilds)
{
    auto t = make();
    map(*t, 0x7654'3000, leaf(20));
    Tlb tlb;
    Clock clock;
    Mmu mmu(memory, tlb, clock);
    Satp satp{SatpMode::Sv48, 1, t->root()};
    Translation tr = mmu.probe(satp, VirtAddr(0x7654'3abc), AccessType::Write);
    ASSERT_FALSE(tr.faulted);
    EXPECT_EQ(tr.pa.value(), addr_of(memory.first_pfn() + 20).value() + 0xabc);
    EXPECT_TRUE(mmu.probe(satp, VirtAddr(0x7654'4000), AccessType::Read).faulted);
}

TEST_F(PageTableTest, ForEachVisitsNonEmptySlotsInOrderWithinTheRange)
{
    auto t = make();
    map(*t, 0x5000, leaf(1));
    map(*t, 0x3000, leaf(2));
    map(*t, TWO_MIB + 0x1000, leaf(3));
    map(*t, GIB, leaf(4));
    map(*t, 0x7000, make_swap_pte({1, 42}));      // a swap entry is not empty
    ASSERT_TRUE(t->slot(VirtAddr(0x9000), true)); // an empty slot in an existing table is skipped
    EXPECT_EQ(visited(*t, 0, t->user_limit()),
              (std::vector<u64>{0x3000, 0x5000, 0x7000, TWO_MIB + 0x1000, GIB}));
    EXPECT_EQ(visited(*t, 0x4000, TWO_MIB + 0x1000), (std::vector<u64>{0x5000, 0x7000}));
    EXPECT_EQ(visited(*t, 0x5000, 0x5001), (std::vector<u64>{0x5000}));
    EXPECT_TRUE(visited(*t, 0x8000, 0x8000).empty());
}

TEST_F(PageTableTest, ForEachCanRewriteEntries)
{
    auto t = make();
    map(*t, 0x3000, leaf(2));
    map(*t, 0x4000, leaf(3));
    t->for_each(VirtAddr(0), VirtAddr(0x10000), [](VirtAddr, PageSlot slot) { slot.wrprotect_flush(); });
    EXPECT_EQ(t->read(VirtAddr(0x3000)), leaf(2) & ~PTE_W);
    EXPECT_EQ(t->read(VirtAddr(0x4000)), leaf(3) & ~PTE_W);
    EXPECT_EQ(port.flushes, (std::vector<u64>{0x3000, 0x4000}));
}

TEST_F(PageTableTest, FreeTablesFreesOnlyEmptyTablesWhollyInsideTheRange)
{
    auto t = make();
    map(*t, 0x1000, leaf(1));           // PTE table A: [0, 2 MiB)
    map(*t, TWO_MIB + 0x1000, leaf(2)); // PTE table B: [2 MiB, 4 MiB)
    map(*t, GIB + 0x1000, leaf(3));     // PMD and PTE table C under the second GiB
    ASSERT_EQ(t->table_pages(), 6u);
    // Tables with entries survive whatever the range.
    EXPECT_EQ(t->free_tables(VirtAddr(0), VirtAddr(t->user_limit())), 0u);
    t->slot(VirtAddr(TWO_MIB + 0x1000), false).clear_flush();
    // B is empty, but a range that covers only part of it must keep it.
    EXPECT_EQ(t->free_tables(VirtAddr(TWO_MIB + 0x1000), VirtAddr(2 * TWO_MIB)), 0u);
    EXPECT_EQ(t->free_tables(VirtAddr(TWO_MIB), VirtAddr(2 * TWO_MIB)), 1u);
    EXPECT_EQ(t->table_pages(), 5u);
    EXPECT_FALSE(t->slot(VirtAddr(TWO_MIB + 0x1000), false));
    EXPECT_EQ(t->read(VirtAddr(0x1000)), leaf(1));
    // Emptying C frees its PTE table and then its PMD table, which held nothing else.
    t->slot(VirtAddr(GIB + 0x1000), false).clear_flush();
    EXPECT_EQ(t->free_tables(VirtAddr(GIB), VirtAddr(2 * GIB)), 2u);
    EXPECT_EQ(t->table_pages(), 3u);
    EXPECT_EQ(tables.in_use, 4u);
}

TEST_F(PageTableTest, OutOfTableMemoryGivesNoSlot)
{
    auto t = make();
    tables.limit = 2; // the root and one more
    EXPECT_FALSE(t->slot(VirtAddr(0x1000), true));
    EXPECT_EQ(tables.in_use, 2u);
    EXPECT_EQ(t->table_pages(), 1u);
    tables.limit = ~u64{0};
    EXPECT_TRUE(t->slot(VirtAddr(0x1000), true));
    EXPECT_EQ(t->table_pages(), 3u);
}

TEST_F(PageTableTest, DestructionReturnsEveryTable)
{
    {
        auto t = make();
        map(*t, 0x1000, leaf(1));
        map(*t, GIB, leaf(2));
        t->slot(VirtAddr(0x1000), false).clear_flush();
        t->slot(VirtAddr(GIB), false).clear_flush();
        EXPECT_GT(tables.in_use, 1u);
    }
    EXPECT_EQ(tables.in_use, 0u);
}

// ==== PageSlot: every write that takes something away flushes ====

TEST_F(PageTableTest, FillsAndUpgradesNeedNoFlush)
{
    auto t = make();
    PageSlot s = t->slot(VirtAddr(0x3000), true);
    ASSERT_TRUE(s);
    EXPECT_EQ(s.va().value(), 0x3000u);
    s.set(leaf(2) & ~PTE_W);
    s.upgrade(PTE_W | PTE_A | PTE_D);
    EXPECT_EQ(*s, leaf(2) | PTE_A | PTE_D);
    PageSlot swap = t->slot(VirtAddr(0x4000), true);
    swap.set(make_swap_pte({1, 9}));
    EXPECT_EQ(swap.clear(), make_swap_pte({1, 9})); // never in the TLB: no flush
    EXPECT_TRUE(port.flushes.empty());
}

TEST_F(PageTableTest, SettingOverAMappedEntryIsABug)
{
    auto t = make();
    map(*t, 0x3000, leaf(2));
    EXPECT_DEATH(t->slot(VirtAddr(0x3000), false).set(leaf(3)), "needs a flush");
    EXPECT_DEATH(t->slot(VirtAddr(0x3000), false).clear(), "without a flush");
}

TEST_F(PageTableTest, ClearFlushFlushesOnlyWhatTheTlbCanHold)
{
    auto t = make();
    map(*t, 0x3000, leaf(2));
    map(*t, 0x4000, make_swap_pte({1, 5}));
    map(*t, 0x5000, make_pte((memory.first_pfn() + 4).value(), PTE_PROT_NONE)); // protnone maps a frame
    EXPECT_EQ(t->slot(VirtAddr(0x3000), false).clear_flush(), leaf(2));
    EXPECT_EQ(t->slot(VirtAddr(0x4000), false).clear_flush(), make_swap_pte({1, 5}));
    t->slot(VirtAddr(0x5000), false).clear_flush();
    EXPECT_EQ(port.flushes, (std::vector<u64>{0x3000, 0x5000}));
    EXPECT_EQ(t->read(VirtAddr(0x3000)), 0u);
    EXPECT_EQ(t->read(VirtAddr(0x4000)), 0u);
}

TEST_F(PageTableTest, ClearingBitsFlushesOnlyWhenABitWasSet)
{
    auto t = make();
    map(*t, 0x3000, leaf(2) | PTE_A);
    PageSlot s = t->slot(VirtAddr(0x3000), false);
    EXPECT_TRUE(s.mkold_flush());  // was young
    EXPECT_FALSE(s.mkold_flush()); // already old: nothing to flush
    EXPECT_TRUE(s.wrprotect_flush());
    EXPECT_FALSE(s.wrprotect_flush());
    EXPECT_EQ(*s, leaf(2) & ~PTE_W);
    EXPECT_EQ(port.flushes, (std::vector<u64>{0x3000, 0x3000}));
}

TEST_F(PageTableTest, ModifyFlushFlushesAChangeOnly)
{
    auto t = make();
    map(*t, 0x3000, leaf(2));
    PageSlot s = t->slot(VirtAddr(0x3000), false);
    s.modify_flush(leaf(2)); // the same entry
    EXPECT_TRUE(port.flushes.empty());
    s.modify_flush(pte_with_pfn(leaf(2), memory.first_pfn() + 3)); // another frame (migration)
    EXPECT_EQ(pte_pfn(*s), memory.first_pfn() + 3);
    s.set_access_flags(PTE_A); // a spurious fault's flush of the stale, weaker entry
    EXPECT_EQ(port.flushes, (std::vector<u64>{0x3000, 0x3000}));
}

TEST_F(PageTableTest, AGatherFlushesPagesThenTheWholeAsidPastItsLimit)
{
    auto t = make();
    constexpr u64 pages = TlbGather::DEFAULT_PAGE_LIMIT + 8;
    for (u64 i = 0; i < pages; ++i)
        map(*t, 0x10000 + i * PAGE_SIZE, leaf(2));
    {
        TlbGather tlb(*t);
        t->for_each(VirtAddr(0), VirtAddr(0x100000), [&](VirtAddr, PageSlot s) { s.clear_flush(tlb); });
        EXPECT_EQ(port.flushes.size(), TlbGather::DEFAULT_PAGE_LIMIT); // one by one so far
    }
    ASSERT_EQ(port.flushes.size(), TlbGather::DEFAULT_PAGE_LIMIT + 1);
    EXPECT_EQ(port.flushes.front(), 0x10000u);
    EXPECT_EQ(port.flushes.back(), RecordingPort::ASID_FLUSH); // the rest, at the end
    port.flushes.clear();
    for (u64 i = 0; i < pages; ++i)
        map(*t, 0x10000 + i * PAGE_SIZE, leaf(2));
    {
        TlbGather tlb(*t, TlbGather::WHOLE_ASID);
        t->for_each(VirtAddr(0), VirtAddr(0x100000), [&](VirtAddr, PageSlot s) { s.wrprotect_flush(tlb); });
        EXPECT_EQ(tlb.pages(), pages);
    }
    EXPECT_EQ(port.flushes, (std::vector<u64>{RecordingPort::ASID_FLUSH}));
}

TEST_F(PageTableTest, ADowngradeReachesTheHardwareTlb)
{
    // The real TLB keeps a translation until it is flushed: a write-protected page must fault on
    // the next store, not be written through the stale writable entry.
    Tlb tlb;
    Clock clock;
    Mmu mmu(memory, tlb, clock);
    auto made = PageTable::create(memory, tables, SatpMode::Sv48, tlb, 3);
    ASSERT_FALSE(made.is_error());
    auto t = made.release_value();
    PageSlot s = t->slot(VirtAddr(0x5000), true);
    s.set(leaf(6) | PTE_A | PTE_D);
    Satp satp{SatpMode::Sv48, 3, t->root()};
    ASSERT_FALSE(mmu.translate(satp, VirtAddr(0x5000), AccessType::Write).faulted); // now in the TLB
    s.wrprotect_flush();
    EXPECT_TRUE(mmu.translate(satp, VirtAddr(0x5000), AccessType::Write).faulted);
    EXPECT_FALSE(mmu.translate(satp, VirtAddr(0x5000), AccessType::Read).faulted);
    s.clear_flush();
    EXPECT_TRUE(mmu.translate(satp, VirtAddr(0x5000), AccessType::Read).faulted);
}

TEST_F(PageTableTest, SplittingAHugeLeafFlushesItAndCanMapOneFrameEverywhere)
{
    auto t = make();
    PageSlot pmd = t->entry_at(VirtAddr(TWO_MIB), 1, true);
    ASSERT_TRUE(pmd);
    pmd.set(make_pte(0x80400, PTE_V | PTE_R | PTE_U | PTE_A)); // a read-only megapage
    ASSERT_TRUE(t->split_leaf(VirtAddr(TWO_MIB + 0x3000), Pfn(0x80010)));
    EXPECT_EQ(port.flushes, (std::vector<u64>{TWO_MIB}));
    EXPECT_FALSE(t->huge_leaf(VirtAddr(TWO_MIB)));
    EXPECT_EQ(t->read(VirtAddr(TWO_MIB + 0x3000)), make_pte(0x80010, PTE_V | PTE_R | PTE_U | PTE_A));
    EXPECT_EQ(t->read(VirtAddr(TWO_MIB + 0x1ff000)), make_pte(0x80010, PTE_V | PTE_R | PTE_U | PTE_A));
}

TEST_F(PageTableTest, DetachingATableFlushesTheAsidAndEmptiesIt)
{
    auto t = make();
    map(*t, TWO_MIB + 0x1000, leaf(2));
    u64 pages = t->table_pages();
    auto table = t->detach_table(VirtAddr(TWO_MIB));
    ASSERT_TRUE(table);
    EXPECT_EQ(port.flushes, (std::vector<u64>{RecordingPort::ASID_FLUSH}));
    EXPECT_EQ(t->read(VirtAddr(TWO_MIB + 0x1000)), 0u);
    EXPECT_EQ(t->table_pages(), pages); // still counted: the caller's to deposit or release
    t->release_table(*table);
    EXPECT_FALSE(t->detach_table(VirtAddr(TWO_MIB)));
}

TEST_F(PageTableTest, AHugeSlotFreesAnEmptyTableInItsWay)
{
    auto t = make();
    map(*t, TWO_MIB + 0x1000, leaf(2));
    EXPECT_FALSE(t->huge_slot(VirtAddr(TWO_MIB), 1)); // the table there still maps a page
    u64 pages = t->table_pages();
    t->slot(VirtAddr(TWO_MIB + 0x1000), false).clear_flush();
    PageSlot pmd = t->huge_slot(VirtAddr(TWO_MIB), 1);
    ASSERT_TRUE(pmd);
    EXPECT_EQ(*pmd, 0u);
    EXPECT_EQ(t->table_pages(), pages - 1);
}

} // namespace kioku::test
