// The memory-management unit: translates a virtual address for a user-mode access by the RISC-V
// Sv48 or Sv39 rules, first in the TLB, then by walking the page tables that live in physical
// memory. It checks the V, R, W, X and U bits, sets A (and D on a store) in the leaf PTE as
// hardware with Svadu does, and reports a failed translation as a PageFault value, never by
// throwing. The memory manager handles the fault and the access is retried.
#pragma once

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

class Clock;
class PhysicalMemory;
class Tlb;
struct TlbEntry;

// The satp register: translation mode, address-space id and the root table's frame.
struct Satp {
    isa::SatpMode mode = isa::SatpMode::Sv48;
    Asid asid = 0;
    Pfn root;

    u64 encode() const;
    static Satp decode(u64 raw);
};

struct PageFault {
    VirtAddr addr;
    isa::AccessType access = isa::AccessType::Read;
    isa::TrapCause cause() const { return isa::page_fault_cause(access); }
};

struct Translation {
    PhysAddr pa; // valid when !faulted
    bool faulted = false;
    PageFault fault; // valid when faulted
};

class Mmu {
  public:
    Mmu(PhysicalMemory& memory, Tlb& tlb, Clock& clock);

    // Translates one access of up to 8 bytes that does not cross a page boundary.
    Translation translate(const Satp& satp, VirtAddr va, isa::AccessType access);

    // A walk that neither uses nor fills the TLB and sets no bits: for debuggers and tests.
    Translation probe(const Satp& satp, VirtAddr va, isa::AccessType access) const;

    PhysicalMemory& memory() { return m_memory; }
    Tlb& tlb() { return m_tlb; }

  private:
    Translation walk(const Satp& satp, VirtAddr va, isa::AccessType access);
    bool mark_dirty(TlbEntry& entry);

    PhysicalMemory& m_memory;
    Tlb& m_tlb;
    Clock& m_clock;
};

} // namespace kioku
