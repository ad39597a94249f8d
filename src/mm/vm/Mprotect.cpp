#include "mm/vm/Mprotect.h"

#include "abi/Mman.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/Mmap.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;
using namespace abi;

namespace {

// PROT_SEM: accepted by mprotect (the generic arch_validate_prot) and otherwise ignored.
constexpr int PROT_SEM_ = 0x8;

} // namespace

Result<void> AddressSpace::mprotect(u64 start, u64 len, int prot)
{
    return MprotectCall(*this).run(start, len, prot);
}

MprotectCall::MprotectCall(AddressSpace& space)
    : m_space(space)
    , m_mm(space.mm())
{
}

Result<void> MprotectCall::run(u64 start, u64 len, int prot)
{
    // Linux's do_mprotect_pkey, without protection keys.
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    if (len == 0)
        return {};
    u64 rounded = page_round_up(len);
    u64 end = start + rounded;
    if (rounded == 0 || end <= start)
        return Error::from_errno(ENOMEM, "range wraps");
    if (prot & ~(PROT_READ_ | PROT_WRITE_ | PROT_EXEC_ | PROT_SEM_))
        return Error::from_errno(EINVAL, "unknown protection bits");
    Vma* vma = m_space.find_vma(VirtAddr(start));
    if (!vma || vma->start.value() > start)
        return Error::from_errno(ENOMEM, "range not mapped");
    u64 nstart = start;
    for (;;) {
        u64 new_flags = calc_vm_prot_bits(prot) | (vma->flags & ~VM_ACCESS_FLAGS);
        if ((new_flags & ~(new_flags >> 4)) & VM_ACCESS_FLAGS)
            return Error::from_errno(EACCES, "protection beyond what the mapping may have");
        u64 tmp = std::min(vma->end.value(), end);
        // mprotect_fixup
        if (new_flags != vma->flags) {
            TRY(m_mm.hugetlb_ops().split_check(*vma, nstart, tmp));
            if ((new_flags & VM_WRITE) &&
                !(vma->flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
                u64 pages = (tmp - nstart) >> PAGE_SHIFT;
                TRY(m_mm.vm_enough_memory(pages, m_space.total_vm()));
                new_flags |= VM_ACCOUNT;
            }
            if (nstart > vma->start.value())
                vma = &m_space.split_vma(*vma, VirtAddr(nstart));
            if (tmp < vma->end.value())
                m_space.split_vma(*vma, VirtAddr(tmp));
            m_space.m_tree.set_flags(*vma, new_flags);
            change_protection(*vma, vma->start, vma->end, new_flags);
            vma = &m_space.m_tree.merge(*vma);
        }
        nstart = tmp;
        if (nstart >= end)
            return {};
        // The merge may have absorbed the next VMA, so look nstart up again rather than stepping
        // to the neighbour: the VMA that now covers nstart is the one to continue with.
        Vma* next = m_space.find_vma(VirtAddr(nstart));
        if (!next || next->start.value() > nstart)
            return Error::from_errno(ENOMEM, "range not fully mapped");
        vma = next;
    }
}

void MprotectCall::change_protection(Vma& vma, VirtAddr start, VirtAddr end, u64 new_flags)
{
    if (vma.flags & VM_HUGETLB)
        return m_mm.hugetlb_ops().change_protection(m_space, vma, start, end, new_flags);
    Vma shape = vma;
    shape.flags = new_flags;
    u64 bits = pte_bits_for(shape);
    bool may_write = new_flags & VM_WRITE;
    TlbGather tlb(m_space.page_table());
    m_mm.thp_ops().split_partial(m_space, start, end);
    m_space.page_table().for_each(
        start, end,
        [&](VirtAddr, PageSlot slot) {
            u64 pte = *slot;
            if (!pte_present(pte))
                return;
            Pfn pfn = pte_pfn(pte);
            // pte_modify keeps the accessed, dirty and soft-dirty bits with the frame.
            u64 keep = pte & (PTE_A | PTE_D | PTE_PPN_MASK | PTE_SOFT_DIRTY);
            u64 next = keep | bits;
            // pte_needs_soft_dirty_wp: while soft-dirty is tracked (clear_refs cleared the VMA's
            // VM_SOFTDIRTY) a clean-for-tracking PTE stays read-only, so the next write faults and
            // marks it.
            bool tracked = !(new_flags & VM_SOFTDIRTY) && !(pte & PTE_SOFT_DIRTY);
            if (may_write && !tracked && (bits & PTE_V) && !m_mm.is_zero_pfn(pfn)) {
                // can_change_pte_writable: an exclusively owned anonymous page of a private mapping,
                // or an already dirty page of a shared one, may become writable without a fault.
                const Frame& f = m_mm.frames()[pfn];
                bool exclusive_anon = !(new_flags & VM_SHARED) && f.has(FF_ANON) && f.refcount == 1;
                bool shared_dirty = (new_flags & VM_SHARED) && (pte & PTE_D);
                if (exclusive_anon || shared_dirty)
                    next |= PTE_W;
            }
            slot.modify_flush(next, tlb);
        },
        [&](VirtAddr, unsigned level, PageSlot entry) {
            // change_huge_pmd: a THP wholly inside the range keeps its leaf (callers split the VMA
            // first, which splits a THP it cuts through).
            if (level == 1 && !(vma.flags & VM_HUGETLB))
                m_mm.thp_ops().change_huge_pmd(shape, entry);
        });
}

} // namespace kioku
