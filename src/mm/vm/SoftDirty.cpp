// /proc/PID/clear_refs and soft-dirty tracking, after Linux 6.x fs/proc/task_mmu.c.
//
// RISC-V has no hardware soft-dirty bit (the MMU sets only A and D), so kioku tracks it the way
// Linux does on architectures that have the software bit: PTE_SOFT_DIRTY (the second RSW bit) is
// set when a write fault makes a page writable (AddressSpace::fault_done), and a VMA carries
// VM_SOFTDIRTY from its creation. clear_refs 4 clears both and write-protects every present PTE,
// so that the next store faults and marks its page again; pagemap bit 55 reports either.
// Swap entries do not keep the bit here (Linux keeps _PAGE_SWP_SOFT_DIRTY): a page that went to
// swap and came back reads clean unless its VMA is soft-dirty.
#include "mm/vm/AddressSpace.h"

#include "mm/core/MmCore.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;

namespace {

enum ClearRefs : int {
    CLEAR_REFS_ALL = 1,
    CLEAR_REFS_ANON,
    CLEAR_REFS_MAPPED,
    CLEAR_REFS_SOFT_DIRTY,
    CLEAR_REFS_MM_HIWATER_RSS
};

} // namespace

Result<void> AddressSpace::clear_refs(int type)
{
    if (type < CLEAR_REFS_ALL || type > CLEAR_REFS_MM_HIWATER_RSS)
        return Error::from_errno(EINVAL, "unknown clear_refs type");
    if (type == CLEAR_REFS_MM_HIWATER_RSS) {
        m_hiwater_rss = static_cast<u64>(std::max<i64>(0, m_rss.total()));
        return {};
    }
    for (auto& entry : m_tree.all()) {
        Vma* vma = entry.second.get(); // a plain name: the lambdas below capture it
        if ((type == CLEAR_REFS_ANON && vma->file) || (type == CLEAR_REFS_MAPPED && !vma->file))
            continue;
        if (type == CLEAR_REFS_SOFT_DIRTY)
            vma->flags &= ~u64{VM_SOFTDIRTY};
        // A huge leaf is treated as one PTE (clear_soft_dirty_pmd, the PMD half of clear_refs).
        auto visit = [&](VirtAddr, PageSlot slot) {
            if (!pte_present(*slot))
                return;
            Pfn pfn = pte_pfn(*slot);
            if (type == CLEAR_REFS_SOFT_DIRTY) {
                slot.clear_bits_flush(PTE_W | PTE_SOFT_DIRTY);
            } else if (!m_mm.is_zero_pfn(pfn) && !m_mm.thp_ops().is_huge_zero(pfn)) {
                slot.mkold_flush();
                m_mm.frames()[pfn].clear(FF_REFERENCED);
            }
        };
        m_page_table->for_each(vma->start, vma->end, visit,
                               [&](VirtAddr base, unsigned level, PageSlot entry) {
                                   if (level == 1 && !(vma->flags & VM_HUGETLB))
                                       visit(base, entry);
                               });
    }
    return {};
}

} // namespace kioku
