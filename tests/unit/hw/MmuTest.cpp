#include <gtest/gtest.h>

#include "hw/Clock.h"
#include "hw/Mmu.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"

using namespace kioku;
using isa::AccessType;
using isa::SatpMode;

namespace {

constexpr u64 MIB = u64{1} << 20;
constexpr u64 V = isa::PTE_V, R = isa::PTE_R, W = isa::PTE_W, X = isa::PTE_X, U = isa::PTE_U, G = isa::PTE_G,
              A = isa::PTE_A, D = isa::PTE_D;
constexpr u64 BASE_PPN = PhysicalMemory::DEFAULT_BASE >> PAGE_SHIFT; // 0x80000, 1 GiB aligned
constexpr u64 MEGA_PPN = BASE_PPN + 512;                             // 2 MiB into memory

// A small machine: 4 MiB of RAM at 0x8000_0000, whose first frames hold page tables written by
// hand. Data frames are picked from the second MiB, away from the tables.
class World {
  public:
    explicit World(SatpMode mode = SatpMode::Sv48, TlbConfig tlb_config = {})
        : tlb(tlb_config)
        , mmu(memory, tlb, clock)
    {
        satp = address_space(mode, 1);
    }

    Satp address_space(SatpMode mode, Asid asid)
    {
        Satp s;
        s.mode = mode;
        s.asid = asid;
        s.root = alloc_table();
        return s;
    }

    Pfn alloc_table()
    {
        Pfn table = m_next_table;
        ++m_next_table;
        VERIFY(table.value() < BASE_PPN + 256);
        memory.zero_frame(table);
        return table;
    }

    // Writes a leaf for va at `level` in the tables under s, creating tables on the way.
    // Returns the leaf PTE's physical address.
    PhysAddr map(const Satp& s, u64 va, u64 ppn, u64 bits, unsigned level = 0)
    {
        PhysAddr slot = slot_for(s, va, level);
        memory.write_u64(slot, isa::make_pte(ppn, bits));
        return slot;
    }

    // The PTE slot for va at `level`, with every table above it present.
    PhysAddr slot_for(const Satp& s, u64 va, unsigned level)
    {
        Pfn table = s.root;
        for (unsigned l = isa::levels_of(s.mode) - 1; l > level; --l) {
            PhysAddr slot = addr_of(table) + isa::vpn_index(va, l) * 8;
            u64 pte = memory.read_u64(slot);
            if (!isa::pte_valid(pte)) {
                pte = isa::make_pte(alloc_table().value(), V);
                memory.write_u64(slot, pte);
            }
            table = Pfn(isa::pte_ppn(pte));
        }
        return addr_of(table) + isa::vpn_index(va, level) * 8;
    }

    Translation translate(u64 va, AccessType access = AccessType::Read)
    {
        return mmu.translate(satp, VirtAddr(va), access);
    }

    u64 pte(PhysAddr slot) { return memory.read_u64(slot); }

    PhysicalMemory memory{4 * MIB};
    Clock clock;
    Tlb tlb;
    Mmu mmu;
    Satp satp;

  private:
    Pfn m_next_table{BASE_PPN};
};

constexpr u64 DATA_PPN = BASE_PPN + 256;
constexpr u64 VA = 0x1234'5000;

void expect_pa(const Translation& t, u64 pa)
{
    ASSERT_FALSE(t.faulted) << "unexpected fault at " << std::hex << t.fault.addr.value();
    EXPECT_EQ(t.pa.value(), pa);
}

void expect_fault(const Translation& t, u64 va, isa::TrapCause cause)
{
    ASSERT_TRUE(t.faulted);
    EXPECT_EQ(t.fault.addr.value(), va);
    EXPECT_EQ(t.fault.cause(), cause);
}

} // namespace

TEST(Satp, EncodesFieldsWhereThePrivilegedSpecPutsThem)
{
    Satp satp;
    satp.mode = SatpMode::Sv48;
    satp.asid = 0x1234;
    satp.root = Pfn(0x80001);
    u64 raw = satp.encode();
    EXPECT_EQ(raw, (u64{9} << 60) | (u64{0x1234} << 44) | 0x80001);
    Satp back = Satp::decode(raw);
    EXPECT_EQ(back.mode, SatpMode::Sv48);
    EXPECT_EQ(back.asid, 0x1234);
    EXPECT_EQ(back.root, Pfn(0x80001));
    EXPECT_EQ(Satp::decode(u64{8} << 60).mode, SatpMode::Sv39);
}

TEST(Mmu, BareModeMapsAddressesToThemselves)
{
    World w;
    w.satp.mode = SatpMode::Bare;
    expect_pa(w.translate(0x8000'1234), 0x8000'1234);
    EXPECT_EQ(w.tlb.stats().walks, 0u);
}

TEST(Mmu, TranslatesFourKibPageSv48)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_pa(w.translate(VA + 0x678), (DATA_PPN << 12) + 0x678);
    expect_pa(w.translate(VA + 0x8, AccessType::Write), (DATA_PPN << 12) + 0x8);
}

TEST(Mmu, TranslatesFourKibPageSv39)
{
    World w(SatpMode::Sv39);
    u64 va = 0x3f'ffff'f000; // the highest user page of Sv39
    w.map(w.satp, va, DATA_PPN, V | R | X | U);
    expect_pa(w.translate(va + 0xabc, AccessType::Execute), (DATA_PPN << 12) + 0xabc);
    EXPECT_EQ(w.tlb.stats().walk_steps, 3u);
}

TEST(Mmu, TranslatesUpperHalfCanonicalAddress)
{
    World w;
    u64 va = 0xffff'ffff'ffff'f000;
    w.map(w.satp, va, DATA_PPN, V | R | U);
    expect_pa(w.translate(va + 0x10), (DATA_PPN << 12) + 0x10);
}

TEST(Mmu, TranslatesMegapage)
{
    for (SatpMode mode : {SatpMode::Sv48, SatpMode::Sv39}) {
        World w(mode);
        u64 va = 0x4020'0000;
        w.map(w.satp, va, MEGA_PPN, V | R | W | U, 1);
        expect_pa(w.translate(va + 0x1f'f123), (MEGA_PPN << 12) + 0x1f'f123);
        expect_pa(w.translate(va + 0x5000), (MEGA_PPN << 12) + 0x5000);
        EXPECT_EQ(w.tlb.stats().walks, 1u) << "one megapage entry serves the whole 2 MiB";
        EXPECT_EQ(w.tlb.stats().walk_steps, isa::levels_of(mode) - 1);
    }
}

TEST(Mmu, TranslatesGigapage)
{
    for (SatpMode mode : {SatpMode::Sv48, SatpMode::Sv39}) {
        World w(mode);
        u64 va = 0x1'8000'0000; // 6 GiB, gigapage-aligned
        w.map(w.satp, va, BASE_PPN, V | R | U, 2);
        expect_pa(w.translate(va + 0x30'0040), PhysicalMemory::DEFAULT_BASE + 0x30'0040);
        expect_pa(w.translate(va + 0x3fff'f000), PhysicalMemory::DEFAULT_BASE + 0x3fff'f000);
        EXPECT_EQ(w.tlb.stats().walks, 1u);
    }
}

TEST(Mmu, ReadSetsAccessedAndWriteSetsDirtyInMemory)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    EXPECT_EQ(w.pte(leaf) & (A | D), A);
    w.tlb.flush_all();
    expect_pa(w.translate(VA, AccessType::Write), DATA_PPN << 12);
    EXPECT_EQ(w.pte(leaf) & (A | D), A | D);
    EXPECT_EQ(isa::pte_ppn(w.pte(leaf)), DATA_PPN);
}

TEST(Mmu, WriteHitOnCleanEntrySetsDirtyWithoutAWalk)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    ASSERT_EQ(w.pte(leaf) & D, 0u);
    expect_pa(w.translate(VA + 8, AccessType::Write), (DATA_PPN << 12) + 8);
    EXPECT_EQ(w.pte(leaf) & D, D);
    EXPECT_EQ(w.tlb.stats().walks, 1u);
    EXPECT_EQ(w.tlb.stats().hits, 1u);
    EXPECT_TRUE(w.tlb.lookup(1, VirtAddr(VA))->perms & D);
}

TEST(Mmu, WriteHitWhosePteWasDowngradedFaultsInsteadOfSettingDirty)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    w.memory.write_u64(leaf, isa::make_pte(DATA_PPN, V | R | U | A)); // no flush yet
    expect_fault(w.translate(VA, AccessType::Write), VA, isa::TrapCause::StorePageFault);
    EXPECT_EQ(w.pte(leaf) & D, 0u);
    EXPECT_EQ(w.tlb.stats().walks, 2u);
}

TEST(Mmu, SecondAccessHitsTheTlb)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    expect_pa(w.translate(VA + 0x100), (DATA_PPN << 12) + 0x100);
    const TlbStats& s = w.tlb.stats();
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.walks, 1u);
    EXPECT_EQ(s.walk_steps, 4u);
    EXPECT_EQ(w.clock.now_ns(), 4 * w.clock.costs().walk_step_ns);
}

TEST(Mmu, StaleEntryStaysInUseUntilFlushPage)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    w.memory.write_u64(leaf, isa::make_pte(DATA_PPN + 1, V | R | U));
    expect_pa(w.translate(VA), DATA_PPN << 12);
    w.tlb.flush_page(w.satp.asid, VirtAddr(VA));
    expect_pa(w.translate(VA), (DATA_PPN + 1) << 12);
}

TEST(Mmu, AddressSpacesAreIsolatedByAsid)
{
    World w;
    Satp other = w.address_space(SatpMode::Sv48, 2);
    w.map(w.satp, VA, DATA_PPN, V | R | U);
    w.map(other, VA, DATA_PPN + 1, V | R | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    expect_pa(w.mmu.translate(other, VirtAddr(VA), AccessType::Read), (DATA_PPN + 1) << 12);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    EXPECT_EQ(w.tlb.stats().walks, 2u);

    w.tlb.flush_asid(2);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    EXPECT_EQ(w.tlb.stats().walks, 2u) << "flushing asid 2 must keep asid 1's entry";
    expect_pa(w.mmu.translate(other, VirtAddr(VA), AccessType::Read), (DATA_PPN + 1) << 12);
    EXPECT_EQ(w.tlb.stats().walks, 3u);
}

TEST(Mmu, GlobalEntryServesEveryAsidUntilFlushAll)
{
    World w;
    Satp other = w.address_space(SatpMode::Sv48, 2); // maps nothing
    w.map(w.satp, VA, DATA_PPN, V | R | U | G);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    expect_pa(w.mmu.translate(other, VirtAddr(VA), AccessType::Read), DATA_PPN << 12);
    w.tlb.flush_asid(2);
    w.tlb.flush_asid(1);
    expect_pa(w.mmu.translate(other, VirtAddr(VA), AccessType::Read), DATA_PPN << 12);
    w.tlb.flush_all();
    expect_fault(w.mmu.translate(other, VirtAddr(VA), AccessType::Read), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, SmallTlbEvictsAndRewalks)
{
    World w(SatpMode::Sv48, TlbConfig{2, 2});
    for (u64 i = 0; i < 3; ++i)
        w.map(w.satp, VA + i * PAGE_SIZE, DATA_PPN + i, V | R | U);
    for (u64 i = 0; i < 3; ++i)
        expect_pa(w.translate(VA + i * PAGE_SIZE), (DATA_PPN + i) << 12);
    EXPECT_EQ(w.tlb.stats().evictions, 1u);
    expect_pa(w.translate(VA), DATA_PPN << 12); // the first page was the one evicted
    EXPECT_EQ(w.tlb.stats().walks, 4u);
}

TEST(Mmu, InvalidPteFaults)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, R | U);
    expect_fault(w.translate(VA + 4), VA + 4, isa::TrapCause::LoadPageFault);
    expect_fault(w.translate(0x7000'0000), 0x7000'0000, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, PageWithoutUserBitFaults)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | W | X);
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
    expect_fault(w.translate(VA, AccessType::Execute), VA, isa::TrapCause::InstructionPageFault);
}

TEST(Mmu, WriteToReadOnlyPageFaultsAsStore)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_fault(w.translate(VA, AccessType::Write), VA, isa::TrapCause::StorePageFault);
    EXPECT_EQ(w.pte(leaf) & (A | D), 0u) << "a faulting walk sets no bits";
}

TEST(Mmu, WriteToReadOnlyPageFaultsOnATlbHitToo)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_pa(w.translate(VA), DATA_PPN << 12);
    expect_fault(w.translate(VA, AccessType::Write), VA, isa::TrapCause::StorePageFault);
    EXPECT_EQ(w.tlb.stats().hits, 1u);
}

TEST(Mmu, ExecuteOnNonExecutablePageFaults)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_fault(w.translate(VA, AccessType::Execute), VA, isa::TrapCause::InstructionPageFault);
}

TEST(Mmu, ExecuteOnlyPageIsNotReadable)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | X | U);
    expect_pa(w.translate(VA, AccessType::Execute), DATA_PPN << 12);
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, WriteWithoutReadIsReserved)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | W | U);
    expect_fault(w.translate(VA, AccessType::Write), VA, isa::TrapCause::StorePageFault);
}

TEST(Mmu, ReservedHighBitsFault)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | U);
    w.memory.write_u64(leaf, w.pte(leaf) | (u64{1} << 63));
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, NonCanonicalAddressFaults)
{
    World w48;
    expect_fault(w48.translate(0x0000'8000'0000'0000), 0x0000'8000'0000'0000, isa::TrapCause::LoadPageFault);
    World w39(SatpMode::Sv39);
    expect_fault(w39.translate(0x40'0000'0000, AccessType::Write), 0x40'0000'0000,
                 isa::TrapCause::StorePageFault);
    EXPECT_EQ(w39.tlb.stats().walks, 0u);
}

TEST(Mmu, TablePointerOutsideMemoryFaults)
{
    World w;
    PhysAddr slot = w.slot_for(w.satp, VA, 1);
    w.memory.write_u64(slot, isa::make_pte(0x1000, V)); // a table at 16 MiB: no RAM there
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
    w.satp.root = Pfn(BASE_PPN + 4 * MIB / PAGE_SIZE); // just past the end of RAM
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, PointerAtTheLastLevelFaults)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V); // a non-leaf where a leaf must be
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, MisalignedSuperpageFaults)
{
    World w;
    w.map(w.satp, 0x4000'0000, MEGA_PPN + 1, V | R | U, 1);
    expect_fault(w.translate(0x4000'0000), 0x4000'0000, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, FaultDoesNotFillTheTlb)
{
    World w;
    w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_fault(w.translate(VA, AccessType::Write), VA, isa::TrapCause::StorePageFault);
    EXPECT_EQ(w.tlb.valid_entries(), 0u);
    EXPECT_EQ(w.tlb.stats().walks, 1u);
    EXPECT_EQ(w.tlb.stats().walk_steps, 4u);
}

TEST(Mmu, ProbeChangesNothing)
{
    World w;
    PhysAddr leaf = w.map(w.satp, VA, DATA_PPN, V | R | W | U);
    expect_pa(w.mmu.probe(w.satp, VirtAddr(VA + 3), AccessType::Write), (DATA_PPN << 12) + 3);
    expect_fault(w.mmu.probe(w.satp, VirtAddr(VA), AccessType::Execute), VA,
                 isa::TrapCause::InstructionPageFault);
    EXPECT_EQ(w.pte(leaf) & (A | D), 0u);
    EXPECT_EQ(w.tlb.valid_entries(), 0u);
    EXPECT_EQ(w.tlb.stats().walks + w.tlb.stats().misses + w.tlb.stats().walk_steps, 0u);
    EXPECT_EQ(w.clock.now_ns(), 0u);
}

TEST(Mmu, PointerWithLeafOnlyBitsFaults)
{
    World w;
    PhysAddr slot = w.slot_for(w.satp, VA, 1);
    w.map(w.satp, VA, DATA_PPN, V | R | U);
    expect_pa(w.mmu.probe(w.satp, VirtAddr(VA), AccessType::Read), DATA_PPN << 12);
    w.memory.write_u64(slot, w.pte(slot) | U); // A, D and U are reserved in a non-leaf PTE
    expect_fault(w.translate(VA), VA, isa::TrapCause::LoadPageFault);
}

TEST(Mmu, Sv48TerapageTranslatesButIsWalkedEveryTime)
{
    World w;
    w.map(w.satp, 0, 0, V | R | U, 3); // 512 GiB at physical 0
    expect_pa(w.translate(0x12'3456'7890), 0x12'3456'7890);
    expect_pa(w.translate(0x12'3456'7890), 0x12'3456'7890);
    EXPECT_EQ(w.tlb.stats().walks, 2u);
    EXPECT_EQ(w.tlb.valid_entries(), 0u);
}
