#include "mm/vm/VmaTree.h"

#include <algorithm>

#include "base/Assert.h"
#include "mm/cache/Inode.h"
#include "mm/vm/AnonVma.h"

namespace kioku {

Vma* VmaTree::find(VirtAddr va) const
{
    auto it = m_vmas.upper_bound(va.value());
    if (it != m_vmas.begin()) {
        auto prev = std::prev(it);
        if (prev->second->end > va)
            return prev->second.get();
    }
    return it == m_vmas.end() ? nullptr : it->second.get();
}

Vma* VmaTree::containing(VirtAddr va) const
{
    Vma* vma = find(va);
    return vma && vma->start <= va ? vma : nullptr;
}

Vma* VmaTree::intersection(VirtAddr start, VirtAddr end) const
{
    Vma* vma = find(start);
    return vma && vma->start < end ? vma : nullptr;
}

Vma* VmaTree::prev(const Vma& vma) const
{
    auto it = m_vmas.find(vma.start.value());
    return it == m_vmas.begin() ? nullptr : std::prev(it)->second.get();
}

Vma* VmaTree::next(const Vma& vma) const
{
    auto it = std::next(m_vmas.find(vma.start.value()));
    return it == m_vmas.end() ? nullptr : it->second.get();
}

void VmaTree::account(const Vma& vma, i64 sign)
{
    // vm_stat_account: the classes of /proc/PID/status's VmExe, VmStk and VmData.
    i64 pages = sign * static_cast<i64>(vma.pages());
    m_total_vm += pages;
    if ((vma.flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) == VM_EXEC)
        m_exec_vm += pages;
    else if (vma.flags & VM_GROWSDOWN)
        m_stack_vm += pages;
    else if ((vma.flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE)
        m_data_vm += pages;
    if (vma.flags & VM_LOCKED)
        m_locked_vm += pages;
    m_hiwater_vm = std::max(m_hiwater_vm, m_total_vm);
}

Vma& VmaTree::insert(std::unique_ptr<Vma> vma)
{
    VERIFY(vma->start < vma->end && is_page_aligned(vma->start.value()) && is_page_aligned(vma->end.value()));
    VERIFY(!intersection(vma->start, vma->end) && "VMAs must not overlap");
    vma->mm = m_owner;
    if (vma->file)
        vma->file->link(vma.get());
    if (vma->anon)
        vma->anon->link(vma.get());
    account(*vma, +1);
    Vma& ref = *vma;
    m_vmas.emplace(vma->start.value(), std::move(vma));
    return ref;
}

std::unique_ptr<Vma> VmaTree::remove(Vma& vma)
{
    auto it = m_vmas.find(vma.start.value());
    VERIFY(it != m_vmas.end() && it->second.get() == &vma);
    std::unique_ptr<Vma> owned = std::move(it->second);
    m_vmas.erase(it);
    account(*owned, -1);
    if (owned->file)
        owned->file->unlink(owned.get());
    if (owned->anon)
        owned->anon->unlink(owned.get());
    return owned;
}

Vma& VmaTree::split(Vma& vma, VirtAddr at)
{
    VERIFY(vma.start < at && at < vma.end && is_page_aligned(at.value()));
    auto upper = std::make_unique<Vma>(vma);
    upper->start = at;
    upper->pgoff = vma.pgoff + ((at - vma.start) >> PAGE_SHIFT);
    // Shrink the lower part without touching the counters: the two halves add up to the whole.
    account(vma, -1);
    vma.end = at;
    account(vma, +1);
    return insert(std::move(upper));
}

bool VmaTree::can_merge(const Vma& lower, const Vma& upper) const
{
    if (lower.end != upper.start)
        return false;
    if ((lower.flags ^ upper.flags) & ~u64{VM_SOFTDIRTY})
        return false;
    if (lower.flags & (VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB))
        return false; // VM_SPECIAL (hugetlb included) never merges, as vma_merge refuses it
    if (lower.file != upper.file || lower.name != upper.name || lower.uffd != upper.uffd)
        return false;
    if (lower.file && lower.file->observer())
        return false; // a VMA with a close method is never merged away
    if (lower.anon && upper.anon && lower.anon != upper.anon)
        return false;
    if (!lower.anon != !upper.anon &&
        ((lower.anon && lower.anon_inherited) || (upper.anon && upper.anon_inherited)))
        return false; // is_mergeable_anon_vma: the side with an anon_vma had uncowed parents
    return lower.pgoff + lower.pages() == upper.pgoff;
}

Vma& VmaTree::merge(Vma& vma)
{
    Vma* target = &vma;
    auto absorb = [this](Vma& lower, Vma& upper) {
        std::shared_ptr<AnonVma> anon = lower.anon ? lower.anon : upper.anon;
        VirtAddr end = upper.end;
        remove(upper);
        set_end(lower, end);
        if (!lower.anon && anon) {
            lower.anon = anon;
            anon->link(&lower);
        }
    };
    if (Vma* before = prev(*target); before && can_merge(*before, *target)) {
        absorb(*before, *target);
        target = before;
    }
    if (Vma* after = next(*target); after && can_merge(*target, *after))
        absorb(*target, *after);
    return *target;
}

void VmaTree::set_flags(Vma& vma, u64 flags)
{
    account(vma, -1);
    vma.flags = flags;
    account(vma, +1);
}

void VmaTree::set_end(Vma& vma, VirtAddr end)
{
    VERIFY(vma.start < end && is_page_aligned(end.value()));
    VERIFY((!next(vma) || end <= next(vma)->start) && "a VMA grown over its neighbour");
    account(vma, -1);
    vma.end = end;
    account(vma, +1);
}

void VmaTree::set_start(Vma& vma, VirtAddr start)
{
    VERIFY(start < vma.end && is_page_aligned(start.value()));
    auto owned = remove(vma);
    i64 moved = (static_cast<i64>(owned->start.value()) - static_cast<i64>(start.value())) >> PAGE_SHIFT;
    owned->start = start;
    owned->pgoff -= moved;
    insert(std::move(owned));
}

} // namespace kioku
