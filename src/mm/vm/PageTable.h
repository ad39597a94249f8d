// One address space's RISC-V page table (Linux: the pgd and the tables below it, plus the
// arch/riscv pgtable helpers). The tables are real: frames of guest physical memory holding
// 512 eight-byte entries each, walked by the hardware MMU. This class is the memory manager's
// single way to write them: map, unmap, protect, query, test-and-clear-accessed. It never flushes
// the TLB itself; callers flush through the TlbFlushPort after a change that needs it.
//
// A leaf slot (the PTE for one 4 KiB page) is in exactly one of these states:
//   empty      0
//   present    V set; the frame is mapped (possibly the shared zero page)
//   protnone   V clear, PTE_PROT_NONE set: a frame is still mapped but the VMA is PROT_NONE
//   swap       V clear, PTE_PROT_NONE clear, non-zero: a swap entry (type, offset)
// Table pages are taken from the page allocator through a TableAllocator; a table is freed when
// free_tables() finds it empty in a range no longer mapped.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "base/Result.h"
#include "base/Types.h"
#include "hw/Mmu.h"
#include "isa/Paging.h"

namespace kioku {

class PhysicalMemory;

// Software meaning of non-present PTEs, laid out as Linux's riscv swap PTEs are.
inline constexpr u64 PTE_PROT_NONE = isa::PTE_G; // user PTEs are never global
inline constexpr u64 SWP_TYPE_SHIFT = 6;
inline constexpr u64 SWP_TYPE_BITS = 5;
inline constexpr u64 SWP_OFFSET_SHIFT = SWP_TYPE_SHIFT + SWP_TYPE_BITS;

struct SwapEntry {
    u32 type = 0;   // swap area index
    u64 offset = 0; // slot within the area
};

constexpr u64 make_swap_pte(SwapEntry e)
{
    return (u64{e.type} << SWP_TYPE_SHIFT) | (e.offset << SWP_OFFSET_SHIFT);
}
constexpr SwapEntry swap_entry_of(u64 pte)
{
    return {static_cast<u32>((pte >> SWP_TYPE_SHIFT) & ((1u << SWP_TYPE_BITS) - 1)), pte >> SWP_OFFSET_SHIFT};
}
constexpr bool pte_none(u64 pte)
{
    return pte == 0;
}
constexpr bool pte_present(u64 pte)
{
    return pte & (isa::PTE_V | PTE_PROT_NONE);
}
constexpr bool pte_is_swap(u64 pte)
{
    return pte != 0 && !pte_present(pte);
}
constexpr Pfn pte_pfn(u64 pte)
{
    return Pfn(isa::pte_ppn(pte));
}

// Where table pages come from; the memory manager implements it over the page allocator.
class TableAllocator {
  public:
    virtual ~TableAllocator() = default;
    virtual std::optional<Pfn> allocate_table() = 0; // a zeroed frame, or nullopt when out of memory
    virtual void free_table(Pfn pfn) = 0;
};

class PageTable {
  public:
    // Allocates the root table; VERIFY that it could (the caller checks memory first).
    static Result<std::unique_ptr<PageTable>> create(PhysicalMemory& memory, TableAllocator& tables,
                                                     isa::SatpMode mode);
    ~PageTable(); // frees every table page; leaves must already be empty (unmapped)

    Pfn root() const { return m_root; }
    isa::SatpMode mode() const { return m_mode; }
    unsigned levels() const { return isa::levels_of(m_mode); }
    u64 user_limit() const; // first address past the user half (TASK_SIZE)
    // Table pages in use, not counting the root (Linux's mm_pgtables_bytes / VmPTE).
    u64 table_pages() const { return m_table_pages; }

    // The leaf slot for va, creating the tables on the way when create is set. Returns null when
    // a table is missing (and create is not set) or cannot be allocated.
    u64* slot(VirtAddr va, bool create);
    u64 read(VirtAddr va) const;

    // Visits every non-empty leaf slot in [start, end), in address order.
    void for_each(VirtAddr start, VirtAddr end, const std::function<void(VirtAddr, u64&)>& fn);

    // Frees the tables that cover only addresses inside [start, end) and hold no entry,
    // Linux's free_pgtables for the hole left by an unmap. Returns how many were freed.
    u64 free_tables(VirtAddr start, VirtAddr end);

  private:
    PageTable(PhysicalMemory& memory, TableAllocator& tables, isa::SatpMode mode, Pfn root);
    u64* entry(Pfn table, unsigned index) const;
    void for_each_in(Pfn table, unsigned level, u64 base, u64 start, u64 end,
                     const std::function<void(VirtAddr, u64&)>& fn);
    bool free_in(Pfn table, unsigned level, u64 base, u64 start, u64 end, u64& freed);
    void free_all(Pfn table, unsigned level);

    PhysicalMemory& m_memory;
    TableAllocator& m_tables;
    isa::SatpMode m_mode;
    Pfn m_root;
    u64 m_table_pages = 0;
};

} // namespace kioku
