// PageTable in a small world: 1 MiB of physical memory whose frames a counting TableAllocator
// hands out, and the hardware MMU to prove that the tables are the ones it walks.
#include <gtest/gtest.h>

#include <vector>

#include "hw/Clock.h"
#include "hw/Mmu.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/vm/PageTable.h"

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

class PageTableTest : public ::testing::Test {
  protected:
    std::unique_ptr<PageTable> make(SatpMode mode = SatpMode::Sv48)
    {
        auto t = PageTable::create(memory, tables, mode);
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
        u64* s = t.slot(VirtAddr(va), true);
        ASSERT_NE(s, nullptr);
        *s = pte;
    }

    std::vector<u64> visited(PageTable& t, u64 start, u64 end)
    {
        std::vector<u64> out;
        t.for_each(VirtAddr(start), VirtAddr(end), [&](VirtAddr va, u64&) { out.push_back(va.value()); });
        return out;
    }

    PhysicalMemory memory{MIB};
    PoolAllocator tables{memory};
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
    EXPECT_EQ(t->slot(VirtAddr(0x1234000), false), nullptr);
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
    map(*t, 0x7000, make_swap_pte({1, 42})); // a swap entry is not empty
    *t->slot(VirtAddr(0x9000), true) = 0;    // an empty slot in an existing table is skipped
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
    t->for_each(VirtAddr(0), VirtAddr(0x10000), [](VirtAddr, u64& pte) { pte &= ~PTE_W; });
    EXPECT_EQ(t->read(VirtAddr(0x3000)), leaf(2) & ~PTE_W);
    EXPECT_EQ(t->read(VirtAddr(0x4000)), leaf(3) & ~PTE_W);
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
    *t->slot(VirtAddr(TWO_MIB + 0x1000), false) = 0;
    // B is empty, but a range that covers only part of it must keep it.
    EXPECT_EQ(t->free_tables(VirtAddr(TWO_MIB + 0x1000), VirtAddr(2 * TWO_MIB)), 0u);
    EXPECT_EQ(t->free_tables(VirtAddr(TWO_MIB), VirtAddr(2 * TWO_MIB)), 1u);
    EXPECT_EQ(t->table_pages(), 5u);
    EXPECT_EQ(t->slot(VirtAddr(TWO_MIB + 0x1000), false), nullptr);
    EXPECT_EQ(t->read(VirtAddr(0x1000)), leaf(1));
    // Emptying C frees its PTE table and then its PMD table, which held nothing else.
    *t->slot(VirtAddr(GIB + 0x1000), false) = 0;
    EXPECT_EQ(t->free_tables(VirtAddr(GIB), VirtAddr(2 * GIB)), 2u);
    EXPECT_EQ(t->table_pages(), 3u);
    EXPECT_EQ(tables.in_use, 4u);
}

TEST_F(PageTableTest, OutOfTableMemoryGivesNoSlot)
{
    auto t = make();
    tables.limit = 2; // the root and one more
    EXPECT_EQ(t->slot(VirtAddr(0x1000), true), nullptr);
    EXPECT_EQ(tables.in_use, 2u);
    EXPECT_EQ(t->table_pages(), 1u);
    tables.limit = ~u64{0};
    EXPECT_NE(t->slot(VirtAddr(0x1000), true), nullptr);
    EXPECT_EQ(t->table_pages(), 3u);
}

TEST_F(PageTableTest, DestructionReturnsEveryTable)
{
    {
        auto t = make();
        map(*t, 0x1000, leaf(1));
        map(*t, GIB, leaf(2));
        *t->slot(VirtAddr(0x1000), false) = 0;
        *t->slot(VirtAddr(GIB), false) = 0;
        EXPECT_GT(tables.in_use, 1u);
    }
    EXPECT_EQ(tables.in_use, 0u);
}

} // namespace kioku::test
