#include <gtest/gtest.h>

#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using isa::AccessType;

namespace {

constexpr u64 V = isa::PTE_V, R = isa::PTE_R, W = isa::PTE_W, X = isa::PTE_X, U = isa::PTE_U, A = isa::PTE_A,
              D = isa::PTE_D;
constexpr u64 CODE_VA = 0x10000;
constexpr u64 DATA_VA = 0x40000;
constexpr u64 CODE_FRAME0 = 0x8020'0000; // the two code pages are not adjacent in physical memory
constexpr u64 CODE_FRAME1 = 0x8020'5000;
constexpr u64 DATA_FRAME = 0x8030'0000;
constexpr u64 OTHER_FRAME = 0x8030'8000;

// An Sv48 address space whose page tables are written by hand into the first frames of memory.
class PagedWorld : public test::HartWorld {
  public:
    explicit PagedWorld(TlbConfig tlb_config = {})
        : HartWorld(tlb_config)
    {
        satp.mode = isa::SatpMode::Sv48;
        satp.asid = 1;
        satp.root = alloc_table();
        hart.set_satp(satp);
        map(CODE_VA, CODE_FRAME0, R | X | U);
        map(CODE_VA + PAGE_SIZE, CODE_FRAME1, R | X | U);
        hart.state().pc = CODE_VA;
    }

    Pfn alloc_table()
    {
        Pfn table = pfn_of(PhysAddr(CODE)) + m_tables++;
        memory.zero_frame(table);
        return table;
    }

    // Writes the leaf PTE for va, creating the tables above it. Returns the PTE's address.
    u64 map(u64 va, u64 pa, u64 bits)
    {
        u64 slot = leaf_slot(va);
        memory.write_u64(PhysAddr(slot), isa::make_pte(pa >> PAGE_SHIFT, bits | V));
        return slot;
    }
    void unmap(u64 va) { memory.write_u64(PhysAddr(leaf_slot(va)), 0); }
    u64 pte(u64 va) { return memory.read_u64(PhysAddr(leaf_slot(va))); }

    u64 leaf_slot(u64 va)
    {
        Pfn table = satp.root;
        for (unsigned level = 3; level > 0; --level) {
            PhysAddr slot = addr_of(table) + isa::vpn_index(va, level) * 8;
            u64 entry = memory.read_u64(slot);
            if (!isa::pte_valid(entry)) {
                entry = isa::make_pte(alloc_table().value(), V);
                memory.write_u64(slot, entry);
            }
            table = Pfn(isa::pte_ppn(entry));
        }
        return (addr_of(table) + isa::vpn_index(va, 0) * 8).value();
    }

    // Writes code at a virtual address of the mapped code pages.
    void code_at(u64 va) { set_end(code_pa(va)); }
    static u64 code_pa(u64 va)
    {
        return (va < CODE_VA + PAGE_SIZE ? CODE_FRAME0 : CODE_FRAME1) + (va & (PAGE_SIZE - 1));
    }

    Satp satp;

  private:
    u64 m_tables = 0;
};

// Writes a 32-bit instruction that starts 2 bytes before the second code page.
void emit_straddling(PagedWorld& w, u32 insn)
{
    w.poke<u16>(CODE_FRAME0 + PAGE_SIZE - 2, static_cast<u16>(insn));
    w.poke<u16>(CODE_FRAME1, static_cast<u16>(insn >> 16));
}

} // namespace

TEST(HartPaging, FetchesAnInstructionAcrossAPageBoundary)
{
    PagedWorld w;
    w.code_at(CODE_VA + PAGE_SIZE - 8);
    w.emit(addi(A0, ZERO, 1)).emit16(c_li(A1, 2));
    emit_straddling(w, addi(A2, ZERO, 3));
    w.code_at(CODE_VA + PAGE_SIZE + 2);
    w.emit(ecall());
    w.hart.state().pc = CODE_VA + PAGE_SIZE - 8;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 1u);
    EXPECT_EQ(w.x(A1), 2u);
    EXPECT_EQ(w.x(A2), 3u);
    EXPECT_EQ(w.pc(), CODE_VA + PAGE_SIZE + 2);
}

TEST(HartPaging, StraddlingFetchFaultsOnTheSecondPageThenRestarts)
{
    PagedWorld w;
    emit_straddling(w, addi(A2, ZERO, 3));
    w.code_at(CODE_VA + PAGE_SIZE + 2);
    w.emit(ecall());
    w.unmap(CODE_VA + PAGE_SIZE);
    w.hart.state().pc = CODE_VA + PAGE_SIZE - 2;
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::PageFault);
    EXPECT_EQ(stop.fault.access, AccessType::Execute);
    EXPECT_EQ(stop.fault.addr.value(), CODE_VA + PAGE_SIZE);
    EXPECT_EQ(w.pc(), CODE_VA + PAGE_SIZE - 2);
    EXPECT_EQ(w.x(A2), 0u);

    w.map(CODE_VA + PAGE_SIZE, CODE_FRAME1, R | X | U); // what the fault handler would do
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A2), 3u);
}

TEST(HartPaging, LoadPageFaultHasNoEffectAndRestartsAfterMapping)
{
    PagedWorld w;
    w.code_at(CODE_VA);
    w.emit(addi(A1, ZERO, 5)).emit(ld(A0, A5, 8)).emit(ecall());
    w.x(A5) = DATA_VA;
    w.x(A0) = 17;
    w.poke<u64>(DATA_FRAME + 8, 0xabcdef);
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::PageFault);
    EXPECT_EQ(stop.fault.access, AccessType::Read);
    EXPECT_EQ(stop.fault.addr.value(), DATA_VA + 8);
    EXPECT_EQ(stop.fault.cause(), isa::TrapCause::LoadPageFault);
    EXPECT_EQ(w.pc(), CODE_VA + 4);
    EXPECT_EQ(w.x(A0), 17u);
    EXPECT_EQ(w.x(A1), 5u);
    EXPECT_EQ(w.hart.stats().instret, 1u);

    w.map(DATA_VA, DATA_FRAME, R | W | U);
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xabcdefu);
}

TEST(HartPaging, StoresAmosAndScFaultAsWritesOnReadOnlyPages)
{
    const u32 programs[] = {sd(A1, A5, 0), amoadd_w(A0, A5, A1), sc_d(A0, A5, A1)};
    for (u32 insn : programs) {
        PagedWorld w;
        w.map(DATA_VA, DATA_FRAME, R | U);
        w.code_at(CODE_VA);
        w.emit(insn).emit(ecall());
        w.x(A5) = DATA_VA;
        w.x(A1) = 9;
        w.poke<u64>(DATA_FRAME, 4);
        StopInfo stop = w.run();
        ASSERT_EQ(stop.reason, StopReason::PageFault) << std::hex << insn;
        EXPECT_EQ(stop.fault.access, AccessType::Write);
        EXPECT_EQ(w.peek<u64>(DATA_FRAME), 4u);
        EXPECT_EQ(w.pc(), CODE_VA);
    }
}

TEST(HartPaging, AccessCrossingIntoAnUnmappedPageWritesNothing)
{
    PagedWorld w;
    w.map(DATA_VA, DATA_FRAME, R | W | U);
    w.code_at(CODE_VA);
    w.emit(sd(A1, A5, 0)).emit(ecall());
    w.x(A5) = DATA_VA + PAGE_SIZE - 4;
    w.x(A1) = ~u64{0};
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::PageFault);
    EXPECT_EQ(stop.fault.access, AccessType::Write);
    EXPECT_EQ(stop.fault.addr.value(), DATA_VA + PAGE_SIZE);
    EXPECT_EQ(w.peek<u32>(DATA_FRAME + PAGE_SIZE - 4), 0u);

    w.map(DATA_VA + PAGE_SIZE, OTHER_FRAME, R | W | U);
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.peek<u32>(DATA_FRAME + PAGE_SIZE - 4), ~u32{0});
    EXPECT_EQ(w.peek<u32>(OTHER_FRAME), ~u32{0});
}

TEST(HartPaging, CachedAccessesCountAsTlbHits)
{
    PagedWorld w;
    w.map(DATA_VA, DATA_FRAME, R | W | U);
    w.code_at(CODE_VA);
    // 100 iterations of: ld; addi; bne -> 300 fetches and 100 loads.
    w.emit(addi(A1, ZERO, 100))
        .emit(ld(A0, A5, 0))
        .emit(addi(A1, A1, -1))
        .emit(bne(A1, ZERO, -8))
        .emit(ecall());
    w.x(A5) = DATA_VA;
    TlbStats before = w.tlb.stats();
    ASSERT_TRUE(w.run_to_ecall());
    const TlbStats& after = w.tlb.stats();
    EXPECT_EQ(after.misses - before.misses, 2u); // the code page and the data page, once each
    EXPECT_EQ(after.walks - before.walks, 2u);
    // 301 instructions fetched plus the ecall, 100 loads; two of those accesses missed.
    EXPECT_EQ(after.hits - before.hits, 302u + 100u - 2u);
}

TEST(HartPaging, TlbFlushEmptiesTheTranslationCache)
{
    PagedWorld w;
    w.map(DATA_VA, DATA_FRAME, R | W | U);
    w.poke<u64>(DATA_FRAME, 1);
    w.poke<u64>(OTHER_FRAME, 2);
    w.code_at(CODE_VA);
    w.emit(ld(A0, A5, 0)).emit(ecall());
    w.x(A5) = DATA_VA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 1u);

    // Remapping without a flush may keep using the old translation, as hardware may; after
    // sfence.vma the new one must be seen.
    w.map(DATA_VA, OTHER_FRAME, R | W | U);
    w.tlb.flush_page(w.satp.asid, VirtAddr(DATA_VA));
    w.hart.state().pc = CODE_VA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 2u);
}

TEST(HartPaging, FirstStoreAfterALoadSetsTheDirtyBit)
{
    PagedWorld w;
    u64 slot = w.map(DATA_VA, DATA_FRAME, R | W | U);
    w.code_at(CODE_VA);
    w.emit(ld(A0, A5, 0)).emit(sd(A1, A5, 0)).emit(ecall());
    w.x(A5) = DATA_VA;
    w.x(A1) = 3;
    ASSERT_TRUE(w.run_to_ecall());
    u64 pte = w.memory.read_u64(PhysAddr(slot));
    EXPECT_TRUE(pte & A);
    EXPECT_TRUE(pte & D);
    EXPECT_EQ(w.peek<u64>(DATA_FRAME), 3u);
}

TEST(HartPaging, SwitchingSatpSwitchesTranslations)
{
    PagedWorld w;
    w.map(DATA_VA, DATA_FRAME, R | U);
    w.poke<u64>(DATA_FRAME, 1);
    w.poke<u64>(OTHER_FRAME, 2);
    w.code_at(CODE_VA);
    w.emit(ld(A0, A5, 0)).emit(ecall());
    w.x(A5) = DATA_VA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 1u);

    // A second address space sharing the code tables' leaves but mapping DATA_VA elsewhere.
    Satp first = w.satp;
    w.satp.asid = 2;
    w.satp.root = w.alloc_table();
    w.map(CODE_VA, CODE_FRAME0, R | X | U);
    w.map(DATA_VA, OTHER_FRAME, R | U);
    w.hart.set_satp(w.satp);
    w.hart.state().pc = CODE_VA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 2u);

    w.hart.set_satp(first);
    w.hart.state().pc = CODE_VA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 1u);
}

TEST(HartPaging, TlbEvictionsAreNotHiddenByTheTranslationCache)
{
    // Five data pages taken in turn cycle through four fully associative LRU entries, so every
    // load misses, in the second pass too, although the hart's translation cache could hold
    // them all. (Straight-line code keeps fetching from the page it entered.)
    PagedWorld w(TlbConfig{4, 4});
    const u32 bases[] = {S0, S1, A1, A2, A3};
    for (u64 page = 0; page < 5; ++page) {
        w.map(DATA_VA + page * PAGE_SIZE, DATA_FRAME + page * PAGE_SIZE, R | W | U);
        w.x(bases[page]) = DATA_VA + page * PAGE_SIZE;
    }
    w.code_at(CODE_VA);
    for (int pass = 0; pass < 2; ++pass) {
        for (u32 base : bases)
            w.emit(ld(A0, base, 0));
    }
    w.emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.tlb.stats().misses, 1u + 10u); // the code page once, every load
}
