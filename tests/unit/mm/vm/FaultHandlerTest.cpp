// The fault handler on a small memory-manager world (a machine and a MemoryManager, no kernel):
// each branch of handle_pte_fault, what it leaves in the page slot, the counters Linux keeps, the
// TLB flushes a downgrade needs, and the invariant checker's verdict after each.
#include <gtest/gtest.h>

#include <cstring>

#include "hw/Machine.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {
namespace {

using isa::AccessType;

constexpr u64 BASE = u64{1} << 32;

class FaultHandlerTest : public ::testing::Test {
  protected:
    FaultHandlerTest()
        : machine(MachineShape{u64{64} << 20, {}, {}})
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
        , space(mm.create_address_space().release_value())
    {
        space->set_fault_counters(&counters);
    }

    void TearDown() override { EXPECT_EQ(InvariantChecker(mm).report(), ""); }

    u64 map(u64 len, int prot, int flags = MAP_PRIVATE_ | MAP_ANONYMOUS_)
    {
        auto r = space->mmap(BASE, len, prot, flags | MAP_FIXED_, nullptr, 0, {});
        EXPECT_FALSE(r.is_error());
        return BASE;
    }
    FaultOutcome fault(AddressSpace& s, u64 va, AccessType access)
    {
        return mm.fault_handler().handle(s, VirtAddr(va), access);
    }
    FaultOutcome fault(u64 va, AccessType access) { return fault(*space, va, access); }
    u64 pte(AddressSpace& s, u64 va) { return s.page_table().read(VirtAddr(va)); }
    u64 pte(u64 va) { return pte(*space, va); }
    u64 stat(VmItem item) const { return mm.vmstat()[item]; }
    u64 flushes() { return machine.tlb().stats().flushes; }

    Machine machine;
    MemoryManager mm;
    std::unique_ptr<AddressSpace> space;
    FaultCounters counters;
};

TEST_F(FaultHandlerTest, AReadOfNewAnonymousMemorySharesTheZeroPage)
{
    u64 va = map(PAGE_SIZE, PROT_READ_ | PROT_WRITE_);
    EXPECT_EQ(fault(va, AccessType::Read), FaultOutcome::Minor);
    u64 e = pte(va);
    EXPECT_TRUE(mm.is_zero_pfn(pte_pfn(e)));
    EXPECT_FALSE(e & isa::PTE_W); // read-only, so the first write faults
    EXPECT_TRUE(e & isa::PTE_A);
    EXPECT_EQ(counters.min_flt, 1u);
    EXPECT_EQ(stat(VmItem::Pgfault), 1u);
    EXPECT_EQ(space->rss().anon, 0);
}

TEST_F(FaultHandlerTest, AWriteAfterTheZeroPageGetsAZeroedFrameAndFlushesTheOldEntry)
{
    u64 va = map(PAGE_SIZE, PROT_READ_ | PROT_WRITE_);
    ASSERT_EQ(fault(va, AccessType::Read), FaultOutcome::Minor);
    u64 before = flushes();
    EXPECT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor); // do_wp_page on the zero page
    u64 e = pte(va);
    EXPECT_FALSE(mm.is_zero_pfn(pte_pfn(e)));
    EXPECT_EQ(e & (isa::PTE_W | isa::PTE_D), isa::PTE_W | isa::PTE_D);
    EXPECT_EQ(flushes() - before, 1u); // the zero page's translation went
    const u8* bytes = mm.memory().frame(pte_pfn(e));
    EXPECT_EQ(std::memcmp(bytes, std::vector<u8>(PAGE_SIZE).data(), PAGE_SIZE), 0);
    EXPECT_EQ(space->rss().anon, 1);
}

TEST_F(FaultHandlerTest, AccessOutsideAnyVmaOrAgainstItsProtectionIsASegfault)
{
    u64 va = map(PAGE_SIZE, PROT_READ_);
    EXPECT_EQ(fault(va + PAGE_SIZE, AccessType::Read), FaultOutcome::SegvMapErr);
    EXPECT_EQ(fault(va, AccessType::Write), FaultOutcome::SegvAccErr);
    EXPECT_EQ(fault(va, AccessType::Execute), FaultOutcome::SegvAccErr);
    EXPECT_EQ(pte(va), 0u);
    EXPECT_EQ(counters.min_flt, 0u); // only resolved faults count for the task
}

TEST_F(FaultHandlerTest, ForkSharesPagesCopyOnWriteAndTheLastUserReusesItsPage)
{
    u64 va = map(PAGE_SIZE, PROT_READ_ | PROT_WRITE_);
    ASSERT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor);
    std::memset(mm.memory().frame(pte_pfn(pte(va))), 0x5a, PAGE_SIZE);
    auto child = space->fork(2).release_value();
    Pfn shared = pte_pfn(pte(va));
    EXPECT_EQ(pte_pfn(pte(*child, va)), shared);
    EXPECT_FALSE(pte(va) & isa::PTE_W); // both sides write-protected
    EXPECT_FALSE(pte(*child, va) & isa::PTE_W);
    EXPECT_EQ(mm.frames()[shared].mapcount, 2);

    EXPECT_EQ(fault(*child, va, AccessType::Write), FaultOutcome::Minor); // the child copies
    Pfn copy = pte_pfn(pte(*child, va));
    EXPECT_NE(copy, shared);
    EXPECT_EQ(mm.memory().frame(copy)[100], 0x5a);
    EXPECT_EQ(mm.frames()[shared].mapcount, 1);

    u64 reuse = stat(VmItem::Pgreuse);
    EXPECT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor); // the parent, alone now, keeps it
    EXPECT_EQ(pte_pfn(pte(va)), shared);
    EXPECT_TRUE(pte(va) & isa::PTE_W);
    EXPECT_EQ(stat(VmItem::Pgreuse), reuse + 1);
    child.reset();
}

TEST_F(FaultHandlerTest, ASwappedOutPageComesBackWithItsBytesAsAMajorFault)
{
    ASSERT_FALSE(mm.swapon(u64{4} << 20, std::nullopt).is_error());
    u64 va = map(PAGE_SIZE, PROT_READ_ | PROT_WRITE_);
    ASSERT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor);
    Pfn pfn = pte_pfn(pte(va));
    std::memset(mm.memory().frame(pfn), 0xc3, PAGE_SIZE);
    ASSERT_TRUE(mm.reclaimer().evict(pfn));
    EXPECT_TRUE(pte_is_swap(pte(va)));
    EXPECT_EQ(space->rss().swapents, 1);
    EXPECT_EQ(space->rss().anon, 0);

    EXPECT_EQ(fault(va, AccessType::Read), FaultOutcome::Major);
    u64 e = pte(va);
    ASSERT_TRUE(pte_present(e));
    EXPECT_EQ(mm.memory().frame(pte_pfn(e))[4095], 0xc3);
    EXPECT_FALSE(e & isa::PTE_W); // a read maps it read-only while the swap slot is kept
    EXPECT_EQ(space->rss().swapents, 0);
    EXPECT_EQ(counters.maj_flt, 1u);
    EXPECT_EQ(stat(VmItem::Pgmajfault), 1u);
}

TEST_F(FaultHandlerTest, ASpuriousFaultFlushesTheStaleTranslation)
{
    u64 va = map(PAGE_SIZE, PROT_READ_ | PROT_WRITE_);
    ASSERT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor);
    u64 before = flushes();
    // The PTE already allows the write: only a stale TLB entry could have faulted.
    EXPECT_EQ(fault(va, AccessType::Write), FaultOutcome::Minor);
    EXPECT_EQ(flushes() - before, 1u);
}

TEST_F(FaultHandlerTest, TheStackGrowsDownToAFaultBelowIt)
{
    ASSERT_FALSE(space->setup_stack(BASE + (u64{16} << 20), PAGE_SIZE).is_error());
    Vma* stack = space->vma_containing(VirtAddr(BASE + (u64{16} << 20) - PAGE_SIZE));
    ASSERT_NE(stack, nullptr);
    u64 below = stack->start.value() - 4 * PAGE_SIZE;
    EXPECT_EQ(fault(below, AccessType::Write), FaultOutcome::Minor);
    EXPECT_EQ(space->vma_containing(VirtAddr(below)), stack);
    EXPECT_EQ(stack->start.value(), below);
}

} // namespace
} // namespace kioku
