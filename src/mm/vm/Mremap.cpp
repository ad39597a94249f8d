#include "mm/vm/Mremap.h"

#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;
using namespace abi;

namespace {

constexpr u64 VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

} // namespace

Result<u64> AddressSpace::mremap(u64 addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr)
{
    return MremapCall(*this).run(addr, old_len, new_len, flags, new_addr);
}

Result<u64> MremapCall::run(u64 addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr)
{
    if (flags & ~(MREMAP_FIXED_ | MREMAP_MAYMOVE_ | MREMAP_DONTUNMAP_))
        return Error::from_errno(EINVAL, "unknown mremap flags");
    if ((flags & MREMAP_FIXED_) && !(flags & MREMAP_MAYMOVE_))
        return Error::from_errno(EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
    // MREMAP_DONTUNMAP is always a move and never a resize.
    if ((flags & MREMAP_DONTUNMAP_) && (!(flags & MREMAP_MAYMOVE_) || old_len != new_len))
        return Error::from_errno(EINVAL, "MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and an unchanged size");
    if (!is_page_aligned(addr))
        return Error::from_errno(EINVAL, "address not page aligned");
    old_len = page_round_up(old_len);
    new_len = page_round_up(new_len);
    if (new_len == 0)
        return Error::from_errno(EINVAL, "zero new length");
    if (new_len > m_space.task_size())
        return Error::from_errno(EINVAL, "new length larger than the address space"); // a "silly" one
    Vma* vma = m_space.vma_containing(VirtAddr(addr));
    if (!vma)
        return Error::from_errno(EFAULT, "old address not mapped");
    TRY(m_space.m_mm.hugetlb_ops().mremap_check(*vma, addr, old_len, new_len, new_addr)); // Hugetlb.cpp
    if (flags & (MREMAP_FIXED_ | MREMAP_DONTUNMAP_))
        return mremap_to(addr, old_len, new_addr, new_len, flags);
    // A shrink only unmaps the tail, wherever the old range lies.
    if (old_len >= new_len) {
        if (old_len > new_len)
            TRY(m_space.do_munmap(addr + new_len, old_len - new_len));
        return addr;
    }
    vma = TRY(vma_to_resize(addr, old_len, new_len, flags));
    u64 delta = new_len - old_len;
    u64 grown_end = vma->end.value() + delta;
    // vma_expandable: the old range ends the VMA and the space after it is free.
    if (old_len == vma->end.value() - addr && grown_end > vma->end.value() &&
        grown_end <= m_space.task_size() && !m_space.find_intersection(vma->end, VirtAddr(grown_end))) {
        if (vma->flags & VM_ACCOUNT)
            TRY(m_space.m_mm.vm_enough_memory(delta >> PAGE_SHIFT, m_space.total_vm()));
        // vma_merge_extend; the tree adds the growth to total_vm and, if locked, locked_vm.
        m_space.m_tree.set_end(*vma, VirtAddr(grown_end));
        Vma& grown = m_space.m_tree.merge(*vma);
        if (grown.flags & VM_LOCKED)
            (void)m_space.populate_locked(addr + old_len, addr + new_len, true);
        return addr;
    }
    if (!(flags & MREMAP_MAYMOVE_))
        return Error::from_errno(ENOMEM, "cannot grow in place");
    bool failed = false;
    u64 where = m_space.get_unmapped_area(0, new_len, (vma->flags & VM_MAYSHARE) ? MAP_SHARED_ : 0, failed);
    if (failed)
        return Error::from_errno(static_cast<int>(where), "no room for the moved mapping");
    return move_vma(*vma, addr, old_len, new_len, where, flags);
}

Result<Vma*> MremapCall::vma_to_resize(u64 addr, u64 old_len, u64 new_len, u64 flags)
{
    Vma* vma = m_space.vma_containing(VirtAddr(addr));
    if (!vma)
        return Error::from_errno(EFAULT, "old address not mapped");
    // A zero old_len duplicates a shared mapping; for a private one it would make an unrelated
    // mapping, so Linux refuses it.
    if (!old_len && !(vma->flags & (VM_SHARED | VM_MAYSHARE)))
        return Error::from_errno(EINVAL, "duplicating a private mapping");
    if ((flags & MREMAP_DONTUNMAP_) && (vma->flags & (VM_DONTEXPAND | VM_PFNMAP)))
        return Error::from_errno(EINVAL, "MREMAP_DONTUNMAP on a special mapping");
    if (old_len > vma->end.value() - addr)
        return Error::from_errno(EFAULT, "old range crosses the end of its mapping");
    if (new_len == old_len)
        return vma;
    u64 pgoff = vma->page_index(VirtAddr(addr));
    if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
        return Error::from_errno(EINVAL, "offset overflows");
    if (vma->flags & (VM_DONTEXPAND | VM_PFNMAP))
        return Error::from_errno(EFAULT, "mapping may not grow");
    // mlock_future_ok: a locked mapping may only grow within RLIMIT_MEMLOCK.
    const AddressSpace::Limits& limit = m_space.m_limits;
    if ((vma->flags & VM_LOCKED) && !limit.cap_ipc_lock && new_len > old_len &&
        ((new_len - old_len) >> PAGE_SHIFT) + m_space.m_tree.locked_vm() > (limit.memlock >> PAGE_SHIFT))
        return Error::from_errno(EAGAIN, "RLIMIT_MEMLOCK exceeded");
    if (new_len > old_len && !m_space.may_expand_vm(vma->flags, (new_len - old_len) >> PAGE_SHIFT))
        return Error::from_errno(ENOMEM, "over RLIMIT_AS or RLIMIT_DATA");
    return vma;
}

Result<u64> MremapCall::mremap_to(u64 addr, u64 old_len, u64 new_addr, u64 new_len, u64 flags)
{
    if (!is_page_aligned(new_addr))
        return Error::from_errno(EINVAL, "new address not page aligned");
    if (new_len > m_space.task_size() || new_addr > m_space.task_size() - new_len)
        return Error::from_errno(EINVAL, "new range outside the user address space");
    if (addr + old_len > new_addr && new_addr + new_len > addr)
        return Error::from_errno(EINVAL, "old and new ranges overlap");
    // Room for both ranges to split in three before anything is unmapped.
    if (m_space.map_count() + 2 >= m_space.m_mm.sysctl().max_map_count - 3)
        return Error::from_errno(ENOMEM, "too many mappings");
    if (flags & MREMAP_FIXED_)
        TRY(m_space.do_munmap(new_addr, new_len));
    if (old_len > new_len) {
        TRY(m_space.do_munmap(addr + new_len, old_len - new_len));
        old_len = new_len;
    }
    Vma* vma = TRY(vma_to_resize(addr, old_len, new_len, flags));
    int map_flags =
        ((flags & MREMAP_FIXED_) ? MAP_FIXED_ : 0) | ((vma->flags & VM_MAYSHARE) ? MAP_SHARED_ : 0);
    bool failed = false;
    u64 where = m_space.get_unmapped_area(new_addr, new_len, map_flags, failed);
    if (failed)
        return Error::from_errno(static_cast<int>(where), "no room for the moved mapping");
    return move_vma(*vma, addr, old_len, new_len, where, flags);
}

bool MremapCall::move_ptes(u64 old_addr, u64 new_addr, u64 len)
{
    // move_page_tables: each entry goes to the same offset in the new range, page by page. The
    // new VMA is already in the tree, so reclaim running while a table page is allocated finds
    // every page at whichever address maps it at that moment. Moved pages count as soft-dirty
    // (move_soft_dirty_pte): the mapping changed under them.
    // Pages move one PTE at a time here, so THPs in the old range are split first (Linux moves a
    // whole PMD when both addresses are 2 MiB aligned).
    if (Vma* vma = m_space.vma_containing(VirtAddr(old_addr)); vma && (vma->flags & VM_HUGETLB)) {
        m_space.m_mm.hugetlb_ops().move_leaves(m_space, old_addr, new_addr, len); // move_hugetlb_page_tables
        return true;
    }
    m_space.m_mm.thp_ops().split_range(m_space, VirtAddr(old_addr), VirtAddr(old_addr + len));
    std::vector<u64> offsets;
    m_space.m_page_table->for_each(VirtAddr(old_addr), VirtAddr(old_addr + len), [&](VirtAddr va, PageSlot) {
        offsets.push_back(va - VirtAddr(old_addr));
    });
    for (size_t i = 0; i < offsets.size(); ++i) {
        u64 off = offsets[i];
        PageSlot dst = m_space.m_page_table->slot(VirtAddr(new_addr + off), true);
        if (!dst) {
            // No memory for a table: what moved goes back, to tables that are still there (the
            // old ones are never freed here), and mremap fails with ENOMEM as move_vma does.
            for (size_t j = 0; j < i; ++j) {
                PageSlot from = m_space.m_page_table->slot(VirtAddr(new_addr + offsets[j]), false);
                PageSlot to = m_space.m_page_table->slot(VirtAddr(old_addr + offsets[j]), false);
                if (!from || !to || pte_none(*from))
                    continue;
                to.set(from.clear_flush());
            }
            return false;
        }
        PageSlot src = m_space.m_page_table->slot(VirtAddr(old_addr + off), false);
        if (!src || pte_none(*src))
            continue;
        u64 pte = src.clear_flush(); // a swap entry or a marker was never in the TLB
        dst.set(pte_present(pte) ? (pte | PTE_SOFT_DIRTY) : pte);
    }
    return true;
}

Result<u64> MremapCall::move_vma(Vma& vma, u64 old_addr, u64 old_len, u64 new_len, u64 new_addr, u64 flags)
{
    if (m_space.map_count() >= m_space.m_mm.sysctl().max_map_count - 3)
        return Error::from_errno(ENOMEM, "too many mappings");
    bool dontunmap = flags & MREMAP_DONTUNMAP_;
    u64 to_account = dontunmap ? new_len : new_len - old_len;
    if ((vma.flags & VM_ACCOUNT) && to_account)
        TRY(m_space.m_mm.vm_enough_memory(to_account >> PAGE_SHIFT, m_space.total_vm()));
    // copy_vma.
    auto copy = std::make_unique<Vma>();
    copy->start = VirtAddr(new_addr);
    copy->end = VirtAddr(new_addr + new_len);
    // mremap_userfaultfd_prep: without UFFD_FEATURE_EVENT_REMAP the moved range leaves its
    // userfaultfd registration behind (copy->uffd stays null).
    copy->flags = vma.flags & ~u64{VM_UFFD_MISSING | VM_UFFD_WP};
    copy->pgoff = vma.page_index(VirtAddr(old_addr));
    if (vma.is_anonymous() && !vma.anon)
        copy->pgoff = new_addr >> PAGE_SHIFT;
    copy->file = vma.file;
    copy->anon = vma.anon;
    copy->name = vma.name;
    u64 hiwater_vm = m_space.m_tree.hiwater_vm();
    bool charged = (vma.flags & VM_ACCOUNT) && to_account; // vma may be merged away below
    m_space.m_tree.merge(m_space.m_tree.insert(std::move(copy)));
    if (!move_ptes(old_addr, new_addr, old_len)) {
        // The new range goes again without touching the charge the old VMA still holds; what
        // this call charged is given back.
        Vma* fresh = m_space.vma_containing(VirtAddr(new_addr));
        if (fresh && (fresh->flags & VM_ACCOUNT)) {
            if (fresh->start.value() < new_addr)
                fresh = &m_space.split_vma(*fresh, VirtAddr(new_addr));
            if (fresh->end.value() > new_addr + new_len)
                m_space.split_vma(*fresh, VirtAddr(new_addr + new_len));
            fresh->flags &= ~u64{VM_ACCOUNT};
        }
        (void)m_space.do_munmap(new_addr, new_len);
        if (charged)
            m_space.m_mm.vm_unacct_memory(to_account >> PAGE_SHIFT);
        m_space.m_tree.set_hiwater_vm(hiwater_vm);
        return Error::from_errno(ENOMEM, "no memory for the moved mapping's page tables");
    }
    Vma* old = m_space.vma_containing(VirtAddr(old_addr));
    VERIFY(old && "the old range is still mapped");
    if (dontunmap) {
        // The old VMA stays, empty, and is no longer locked. When all of it moved, it gives up
        // its AnonVma so that new faults there start a fresh one.
        if (old->flags & VM_LOCKED_MASK) {
            m_space.m_tree.set_flags(*old, old->flags & ~VM_LOCKED_MASK);
        }
        if (old->anon && old->start.value() == old_addr && old->end.value() == old_addr + old_len) {
            old->anon->unlink(old);
            old->anon.reset();
        }
    } else if (old_len) {
        // Conceal VM_ACCOUNT on the old part so that unmapping it keeps the charge, which now
        // belongs to the new VMA; a hugetlb reservation moves the same way (Hugetlb.cpp).
        if (old->flags & (VM_ACCOUNT | VM_HUGETLB)) {
            if (old->start.value() < old_addr)
                old = &m_space.split_vma(*old, VirtAddr(old_addr));
            if (old->end.value() > old_addr + old_len)
                m_space.split_vma(*old, VirtAddr(old_addr + old_len));
            old->flags &= ~u64{VM_ACCOUNT};
            m_space.m_mm.hugetlb_ops().forget_resv(*old);
        }
        TRY(m_space.do_munmap(old_addr, old_len));
        m_space.m_tree.set_hiwater_vm(hiwater_vm);
    }
    Vma* moved = m_space.vma_containing(VirtAddr(new_addr));
    if (moved && (moved->flags & VM_LOCKED) && new_len > old_len)
        (void)m_space.populate_locked(new_addr + old_len, new_addr + new_len, true);
    // vdso_mremap: signal handlers return into the vDSO where it now is.
    if (moved && moved->name == "[vdso]" && m_space.m_vdso_base >= old_addr &&
        m_space.m_vdso_base - old_addr < old_len)
        m_space.m_vdso_base = new_addr + (m_space.m_vdso_base - old_addr);
    m_space.update_hiwater_rss();
    return new_addr;
}

} // namespace kioku
