#include "hw/Mmu.h"

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"

namespace kioku {

using isa::AccessType;
using isa::SatpMode;

namespace {

// Bits 63:54 hold N and PBMT (Svnapot, Svpbmt), which this machine does not implement, and
// reserved bits; a PTE with any of them set is malformed.
constexpr u64 PTE_HIGH_RESERVED = ~((u64{1} << 54) - 1);
// In a pointer to the next table, A, D and U are reserved and must be zero.
constexpr u64 NON_LEAF_RESERVED = isa::PTE_A | isa::PTE_D | isa::PTE_U;
// The bits that decide what a leaf allows; a cached entry is only trusted while they still match.
constexpr u64 PTE_GRANT_BITS = isa::PTE_R | isa::PTE_W | isa::PTE_X | isa::PTE_U | isa::PTE_G;
constexpr u64 PTE_BYTES = 8;

// What the walk found: the leaf PTE and where it lives, or a fault. `steps` counts PTE reads.
struct LeafWalk {
    bool faulted = true;
    u64 pte = 0;
    PhysAddr pte_addr;
    unsigned level = 0;
    unsigned steps = 0;
};

// A user-mode access: U is required, and without MXR an execute-only page is not readable.
bool permits(u64 pte, AccessType access)
{
    if (!(pte & isa::PTE_U))
        return false;
    switch (access) {
    case AccessType::Read: return pte & isa::PTE_R;
    case AccessType::Write: return pte & isa::PTE_W;
    case AccessType::Execute: return pte & isa::PTE_X;
    }
    return false;
}

bool malformed(u64 pte)
{
    bool write_only = !(pte & isa::PTE_R) && (pte & isa::PTE_W);
    return !isa::pte_valid(pte) || write_only || (pte & PTE_HIGH_RESERVED);
}

// A superpage's PPN must be aligned to its size: its low 9 * level bits must be zero.
bool misaligned_superpage(u64 pte, unsigned level)
{
    u64 low_mask = (u64{1} << (isa::VPN_BITS * level)) - 1;
    return isa::pte_ppn(pte) & low_mask;
}

PhysAddr pa_of(u64 ppn, unsigned level, VirtAddr va)
{
    return PhysAddr((ppn << PAGE_SHIFT) + (va.value() & (isa::level_page_size(level) - 1)));
}

// The privileged spec's "Virtual Address Translation Process", steps 2 to 6, for user mode. It
// reads memory but changes nothing, so both translate() and probe() can use it.
LeafWalk find_leaf(PhysicalMemory& memory, const Satp& satp, VirtAddr va, AccessType access)
{
    LeafWalk walk;
    PhysAddr table = addr_of(satp.root);
    for (int level = static_cast<int>(isa::levels_of(satp.mode)) - 1; level >= 0; --level) {
        PhysAddr addr = table + isa::vpn_index(va.value(), level) * PTE_BYTES;
        if (!memory.contains(addr, PTE_BYTES))
            return walk;
        u64 pte = memory.read_u64(addr);
        ++walk.steps;
        if (malformed(pte))
            return walk;
        if (!isa::pte_is_leaf(pte)) {
            if (pte & NON_LEAF_RESERVED)
                return walk;
            table = PhysAddr(isa::pte_ppn(pte) << PAGE_SHIFT);
            continue;
        }
        if (!permits(pte, access) || misaligned_superpage(pte, level))
            return walk;
        walk.faulted = false;
        walk.pte = pte;
        walk.pte_addr = addr;
        walk.level = static_cast<unsigned>(level);
        return walk;
    }
    return walk; // a pointer at the last level is not a translation
}

Translation success(PhysAddr pa)
{
    Translation t;
    t.pa = pa;
    return t;
}

Translation failure(VirtAddr va, AccessType access)
{
    Translation t;
    t.faulted = true;
    t.fault = PageFault{va, access};
    return t;
}

} // namespace

u64 Satp::encode() const
{
    return (u64{static_cast<u8>(mode)} << isa::SATP_MODE_SHIFT) |
           ((u64{asid} & isa::SATP_ASID_MASK) << isa::SATP_ASID_SHIFT) | (root.value() & isa::SATP_PPN_MASK);
}

Satp Satp::decode(u64 raw)
{
    auto mode = static_cast<SatpMode>(raw >> isa::SATP_MODE_SHIFT);
    VERIFY((mode == SatpMode::Bare || mode == SatpMode::Sv39 || mode == SatpMode::Sv48) &&
           "satp holds a translation mode this machine does not implement");
    Satp satp;
    satp.mode = mode;
    satp.asid = static_cast<Asid>((raw >> isa::SATP_ASID_SHIFT) & isa::SATP_ASID_MASK);
    satp.root = Pfn(raw & isa::SATP_PPN_MASK);
    return satp;
}

Mmu::Mmu(PhysicalMemory& memory, Tlb& tlb, Clock& clock)
    : m_memory(memory)
    , m_tlb(tlb)
    , m_clock(clock)
{
}

Translation Mmu::translate(const Satp& satp, VirtAddr va, AccessType access)
{
    if (satp.mode == SatpMode::Bare)
        return success(PhysAddr(va.value()));
    if (!isa::va_is_canonical(va.value(), satp.mode))
        return failure(va, access);
    TlbEntry* entry = m_tlb.lookup(satp.asid, va);
    if (!entry)
        return walk(satp, va, access);
    m_clock.advance(m_clock.costs().tlb_hit_ns);
    if (!permits(entry->perms, access))
        return failure(va, access);
    if (access == AccessType::Write && !(entry->perms & isa::PTE_D) && !mark_dirty(*entry)) {
        // The PTE behind the entry changed: drop the entry and translate from the tables.
        entry->valid = false;
        return walk(satp, va, access);
    }
    return success(pa_of(entry->ppn, entry->level, va));
}

Translation Mmu::probe(const Satp& satp, VirtAddr va, AccessType access) const
{
    if (satp.mode == SatpMode::Bare)
        return success(PhysAddr(va.value()));
    if (!isa::va_is_canonical(va.value(), satp.mode))
        return failure(va, access);
    LeafWalk leaf = find_leaf(m_memory, satp, va, access);
    if (leaf.faulted)
        return failure(va, access);
    return success(pa_of(isa::pte_ppn(leaf.pte), leaf.level, va));
}

// A full walk after a TLB miss. The walk costs its PTE reads whether or not it faults; a
// successful one sets A (and D for a store) in the leaf and caches it. A fault caches nothing.
Translation Mmu::walk(const Satp& satp, VirtAddr va, AccessType access)
{
    LeafWalk leaf = find_leaf(m_memory, satp, va, access);
    TlbStats& stats = m_tlb.stats();
    ++stats.walks;
    stats.walk_steps += leaf.steps;
    m_clock.advance(leaf.steps * m_clock.costs().walk_step_ns);
    if (leaf.faulted)
        return failure(va, access);

    u64 pte = leaf.pte | isa::PTE_A | (access == AccessType::Write ? isa::PTE_D : 0);
    if (pte != leaf.pte)
        m_memory.write_u64(leaf.pte_addr, pte);
    u64 ppn = isa::pte_ppn(pte);
    if (leaf.level <= Tlb::MAX_LEVEL) {
        TlbEntry entry;
        u64 level_pages_mask = (u64{1} << (isa::VPN_BITS * leaf.level)) - 1;
        entry.vpn = vpn_of(va).value() & ~level_pages_mask;
        entry.ppn = ppn;
        entry.pte_addr = leaf.pte_addr.value();
        entry.asid = satp.asid;
        entry.level = static_cast<u8>(leaf.level);
        entry.perms = static_cast<u8>(pte);
        m_tlb.insert(entry);
    }
    return success(pa_of(ppn, leaf.level, va));
}

// A store through a cached entry whose page is not yet dirty: as hardware with Svadu does, set D
// in the leaf PTE, but only if that PTE still says what the entry says, since the memory manager
// may have changed it without a flush yet. Returns false when it no longer matches.
bool Mmu::mark_dirty(TlbEntry& entry)
{
    PhysAddr addr(entry.pte_addr);
    if (!m_memory.contains(addr, PTE_BYTES))
        return false;
    u64 pte = m_memory.read_u64(addr);
    m_clock.advance(m_clock.costs().walk_step_ns);
    bool same = !malformed(pte) && isa::pte_is_leaf(pte) && isa::pte_ppn(pte) == entry.ppn &&
                (pte & PTE_GRANT_BITS) == (entry.perms & PTE_GRANT_BITS);
    if (!same)
        return false;
    pte |= isa::PTE_A | isa::PTE_D;
    m_memory.write_u64(addr, pte);
    entry.perms = static_cast<u8>(pte);
    return true;
}

} // namespace kioku
