// What the memory manager keeps in a page-table entry beyond the hardware's meaning (Linux:
// arch/riscv/include/asm/pgtable*.h and the swap-entry helpers): the states of a leaf slot, the
// layout of swap entries and PTE markers, the software bits, and the protection a mapping's
// permissions give its entries. Values only; writing an entry is PageSlot's (PageSlot.h).
//
// A leaf slot (the PTE for one 4 KiB page) is in exactly one of these states:
//   empty      0
//   present    V set; the frame is mapped (possibly the shared zero page)
//   protnone   V clear, PTE_PROT_NONE set: a frame is still mapped but the VMA is PROT_NONE
//   swap       V clear, PTE_PROT_NONE clear, non-zero: a swap entry (type, offset)
//   guard      PTE_GUARD_MARKER: a guard region's page (MADV_GUARD_INSTALL), whose access is
//              SIGSEGV; written as a swap entry of the one type no swap area takes, as Linux's
//              PTE markers are
#pragma once

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

// Software meaning of non-present PTEs, laid out as Linux's riscv swap PTEs are.
inline constexpr u64 PTE_PROT_NONE = isa::PTE_G; // user PTEs are never global
inline constexpr u64 SWP_TYPE_SHIFT = 6;
inline constexpr u64 SWP_TYPE_BITS = 5;
inline constexpr u64 SWP_OFFSET_SHIFT = SWP_TYPE_SHIFT + SWP_TYPE_BITS;

// Soft-dirty (Linux: _PAGE_SOFT_DIRTY): the second RSW bit of a present PTE, set when a write
// fault dirties the page and cleared by clear_refs 4. RSW bit 8 stays free for _PAGE_SPECIAL.
inline constexpr u64 PTE_SOFT_DIRTY = u64{1} << 9;

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
// The last swap type is the PTE markers' (Linux's SWP_PTE_MARKER): at most 31 swap areas.
inline constexpr u32 SWP_MARKER_TYPE = (1u << SWP_TYPE_BITS) - 1;
inline constexpr u32 MAX_SWAPFILES = SWP_MARKER_TYPE;
inline constexpr u64 PTE_GUARD_MARKER = make_swap_pte({SWP_MARKER_TYPE, 1});

constexpr bool pte_none(u64 pte)
{
    return pte == 0;
}
// Maps a frame: present, or protnone (Linux's pte_present is true for both).
constexpr bool pte_present(u64 pte)
{
    return pte & (isa::PTE_V | PTE_PROT_NONE);
}
constexpr bool pte_is_guard(u64 pte)
{
    return pte == PTE_GUARD_MARKER;
}
constexpr bool pte_is_swap(u64 pte)
{
    return pte != 0 && !pte_present(pte) && !pte_is_guard(pte);
}
constexpr Pfn pte_pfn(u64 pte)
{
    return Pfn(isa::pte_ppn(pte));
}
// The same entry mapping another frame (migration, a page moved by compaction).
constexpr u64 pte_with_pfn(u64 pte, Pfn pfn)
{
    return (pte & ~isa::PTE_PPN_MASK) | (pfn.value() << isa::PTE_PPN_SHIFT);
}

// The protection a mapping's permissions give its entries (Linux's protection_map on riscv):
// write implies read, as RISC-V reserves W without R; no permission at all is PROT_NONE, kept in
// the entry as protnone. `entry_writable` says whether the entry itself gets W: private mappings
// and write-notified shared ones map read-only and take a write fault first.
constexpr u64 protection_bits(bool read, bool write, bool exec, bool entry_writable)
{
    u64 bits = 0;
    if (read || write)
        bits |= isa::PTE_R;
    if (exec)
        bits |= isa::PTE_X;
    if (write && entry_writable)
        bits |= isa::PTE_W;
    if (!bits)
        return PTE_PROT_NONE;
    return bits | isa::PTE_V | isa::PTE_U;
}

} // namespace kioku
