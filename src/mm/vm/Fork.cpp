#include "mm/vm/Fork.h"

#include "mm/core/MmCore.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;

Result<std::unique_ptr<AddressSpace>> AddressSpace::fork(Asid child_asid)
{
    return ForkCall(*this).run(child_asid);
}

ForkCall::ForkCall(AddressSpace& parent)
    : m_space(parent)
    , m_mm(parent.mm())
{
}

Result<std::unique_ptr<AddressSpace>> ForkCall::run(Asid child_asid)
{
    // Linux's dup_mmap.
    auto child = TRY(AddressSpace::create(m_mm, child_asid));
    child->m_mmap_base = m_space.m_mmap_base;
    child->m_start_brk = m_space.m_start_brk;
    child->m_brk = m_space.m_brk;
    child->m_start_stack = m_space.m_start_stack;
    child->m_tree.set_hiwater_vm(m_space.m_tree.hiwater_vm());
    child->m_thp_disabled = m_space.m_thp_disabled;
    child->m_vdso_base = m_space.m_vdso_base;
    child->m_memcg = m_space.m_memcg;
    if (m_space.m_exe_file)
        TRY(child->set_exe_file(m_space.m_exe_file)); // cannot fail: the parent already denies writes
    for (auto& entry : m_space.m_tree.all()) {
        Vma* src = entry.second.get();
        if (src->flags & VM_DONTCOPY)
            continue;
        if (src->flags & VM_ACCOUNT)
            TRY(m_mm.vm_enough_memory(src->pages(), m_space.total_vm()));
        auto copy = std::make_unique<Vma>(*src);
        if (copy->slab.failed()) { // vm_area_dup failed: the child is torn down, as dup_mmap does
            if (src->flags & VM_ACCOUNT)
                m_mm.vm_unacct_memory(src->pages());
            return Error::from_errno(ENOMEM, "no memory for a vm_area_struct");
        }
        // mlock is not inherited: the child's copy is not locked (VmLck 0). Nor is a userfaultfd
        // registration (dup_userfaultfd without UFFD_FEATURE_EVENT_FORK).
        copy->flags &= ~u64{VM_LOCKED | VM_LOCKONFAULT | VM_UFFD_MISSING | VM_UFFD_WP};
        copy->uffd = nullptr;
        bool wipe = src->flags & VM_WIPEONFORK;
        if (wipe)
            copy->anon.reset();
        copy->anon_inherited = copy->anon != nullptr; // anon_vma_fork chains the parent's
        Vma& dst = child->m_tree.insert(std::move(copy));
        if (src->flags & VM_HUGETLB) { // copy_hugetlb_page_range (Hugetlb.cpp)
            m_mm.hugetlb_ops().copy(m_space, *child, *src);
            continue;
        }
        if (wipe || !src->anon)
            continue;
        // Once a table for the child cannot be had, the copy stops and fork fails with ENOMEM;
        // the child, torn down, gives back what was copied (dup_mmap's error path).
        if (!copy_page_range(*child, *src, dst))
            return Error::from_errno(ENOMEM, "no memory for the child's page tables");
    }
    child->update_hiwater_rss();
    return child;
}

bool ForkCall::copy_page_range(AddressSpace& child, Vma& src, Vma& dst)
{
    Rmap rmap(m_mm);
    bool cow = (src.flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
    TlbGather tlb(m_space.page_table());
    bool copied = true;
    PageTable::LeafVisitor copy_pte = [&](VirtAddr va, PageSlot src_slot) {
        if (!copied)
            return;
        if (!pte_present(*src_slot) && !pte_is_swap(*src_slot) && !pte_is_guard(*src_slot))
            return;
        // The child's table first, as copy_pte_range allocates before it reads: the
        // allocation may reclaim, which can swap this very page out; the entry is read after.
        PageSlot slot = child.page_table().slot(va, true);
        if (!slot) {
            copied = false;
            return;
        }
        u64 pte = *src_slot;
        if (!pte_present(pte)) {
            if (pte_is_swap(pte)) {
                // copy_nonpresent_pte: the child's PTE refers to the same slot.
                m_mm.swap().duplicate(swap_entry_of(pte));
                slot.set(pte);
                ++child.rss().swapents;
            } else if (pte_is_guard(pte)) {
                slot.set(pte); // the child's range is guarded too
            }
            return;
        }
        u64 child_pte = pte;
        if (cow && (pte & PTE_W)) {
            src_slot.wrprotect_flush(tlb);
            child_pte &= ~PTE_W;
        }
        if (dst.flags & VM_SHARED)
            child_pte &= ~PTE_D;
        child_pte &= ~PTE_A;
        slot.set(child_pte);
        Pfn pfn = pte_pfn(pte);
        if (!m_mm.is_zero_pfn(pfn)) {
            m_mm.get_page(pfn);
            rmap.add_mapping(child, pfn);
        }
    };
    m_space.page_table().for_each(
        src.start, src.end, copy_pte, [&](VirtAddr base, unsigned level, PageSlot entry) {
            if (!copied || level != 1 || (src.flags & VM_HUGETLB))
                return;
            auto done = m_mm.thp_ops().copy_huge_pmd(child, base, entry, cow);
            if (done == ThpOps::CopyHuge::Failed)
                copied = false;
            else if (done == ThpOps::CopyHuge::Split) // now a PTE table: copied as one
                m_space.page_table().for_each(std::max(base, src.start),
                                              std::min(base + HPAGE_PMD_SIZE, src.end), copy_pte);
        });
    tlb.finish();
    return copied;
}

} // namespace kioku
