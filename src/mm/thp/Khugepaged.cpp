// khugepaged's collapse of one 2 MiB range (Linux: mm/khugepaged.c hpage_collapse_scan_pmd and
// collapse_huge_page): the range's PTE table is checked against the max_ptes_* limits, the pages
// are copied into a fresh THP, and the table, emptied, is replaced by one megapage leaf and kept
// as that leaf's deposit (pgtable_trans_huge_deposit), ready for a later split.
//
// Differences from Linux: swapped-out PTEs within max_ptes_swap are not swapped in first; such a
// range is left for a later pass (after the pages come back by fault). A page mapped by several
// address spaces (within max_ptes_shared) is copied, and the other mappers keep the old page.
#include <algorithm>
#include <array>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "mm/core/MmCore.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Rmap.h"

namespace kioku {

using namespace isa;

namespace {

// What the scan found in the range's 512 PTEs.
struct CollapseScan {
    u64 none = 0;
    u64 swap = 0;
    u64 shared = 0;
    u64 referenced = 0;
    bool writable = false;
    bool soft_dirty = false;
    bool unsuitable = false; // a page khugepaged cannot take (not anonymous, pinned, compound)
};

CollapseScan scan_ptes(MmCore& mm, const u64* table)
{
    CollapseScan s;
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i) {
        u64 pte = table[i];
        if (pte_none(pte) || (pte_present(pte) && mm.is_zero_pfn(pte_pfn(pte)))) {
            ++s.none;
            continue;
        }
        if (pte_is_swap(pte)) {
            ++s.swap;
            continue;
        }
        if (!(pte & PTE_V)) {
            s.unsuitable = true; // protnone
            continue;
        }
        const Frame& f = mm.frames()[pte_pfn(pte)];
        if (!f.has(FF_ANON) || f.has(FF_HEAD | FF_TAIL) || !f.has(FF_LRU) || f.has(FF_UNEVICTABLE) ||
            f.refcount != f.mapcount + (f.has(FF_SWAPCACHE) ? 1 : 0))
            s.unsuitable = true;
        if (f.mapcount > 1)
            ++s.shared;
        if ((pte & PTE_A) || f.has(FF_REFERENCED))
            ++s.referenced;
        s.writable |= (pte & PTE_W) != 0;
        s.soft_dirty |= (pte & PTE_SOFT_DIRTY) != 0;
    }
    return s;
}

} // namespace

bool Thp::collapse(AddressSpace& space, Vma& vma, VirtAddr base)
{
    PageSlot pmd = space.page_table().entry_at(base, 1, false);
    if (!pmd || !pte_valid(*pmd) || pte_is_leaf(*pmd))
        return false; // nothing mapped, or already huge
    Pfn table_pfn = pte_pfn(*pmd);
    const auto* table = reinterpret_cast<const u64*>(m_mm.memory().frame(table_pfn));
    CollapseScan s = scan_ptes(m_mm, table);
    // A range registered for userfaultfd missing faults keeps its holes for user space to fill:
    // no collapse over any (hpage_collapse_scan_pmd's userfaultfd_armed).
    if (s.none > m_settings.max_ptes_none || (s.none && (vma.flags & VM_UFFD_MISSING))) {
        m_mm.vmstat().inc(VmItem::ThpScanExceedNonePte);
        return false;
    }
    if (s.swap > m_settings.max_ptes_swap) {
        m_mm.vmstat().inc(VmItem::ThpScanExceedSwapPte);
        return false;
    }
    if (s.shared > m_settings.max_ptes_shared) {
        m_mm.vmstat().inc(VmItem::ThpScanExceedSharePte);
        return false;
    }
    // SCAN_PAGE_RO and SCAN_LACK_REFERENCED_PAGE: a range nobody writes or uses is left alone.
    if (s.swap || s.unsuitable || !s.writable || s.referenced == 0)
        return false;
    ActiveMemcg charge_to(m_mm.memcg(), space.memcg()); // the collapsed range's owner
    auto head = alloc_huge_page(m_settings.khugepaged_defrag);
    if (!head) {
        m_mm.vmstat().inc(VmItem::ThpCollapseAllocFailed);
        return false;
    }
    // __collapse_huge_page_copy: present pages are copied, holes and zero pages zeroed.
    std::array<u64, HPAGE_PMD_NR> ptes;
    std::copy(table, table + HPAGE_PMD_NR, ptes.begin());
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i) {
        u64 pte = ptes[i];
        if (pte_present(pte) && !m_mm.is_zero_pfn(pte_pfn(pte))) {
            m_mm.memory().copy_frame(*head + i, pte_pfn(pte));
            m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
        } else {
            m_mm.memory().zero_frame(*head + i);
            m_mm.clock().advance(m_mm.clock().costs().zero_page_fill_ns);
        }
    }
    // The old PTEs go at once (pmdp_collapse_flush); their emptied table becomes the new leaf's
    // deposit.
    auto detached = space.page_table().detach_table(base);
    VERIFY(detached == table_pfn);
    Rmap rmap(m_mm);
    for (u64 pte : ptes) {
        if (!pte_present(pte) || m_mm.is_zero_pfn(pte_pfn(pte)))
            continue;
        rmap.remove_mapping(space, pte_pfn(pte), pte);
        m_mm.put_page(pte_pfn(pte));
    }
    space.page_table().deposit(base, table_pfn);
    prep_huge_page(*head, space, vma, base);
    u64 bits = pte_bits_for(vma) | PTE_A | PTE_D | (vma.flags & VM_WRITE ? PTE_W : 0);
    map_huge_page(space, *head, pmd, bits | (s.soft_dirty ? PTE_SOFT_DIRTY : 0));
    m_mm.vmstat().inc(VmItem::ThpCollapseAlloc);
    ++m_pages_collapsed;
    return true;
}

} // namespace kioku
