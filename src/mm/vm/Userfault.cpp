// userfaultfd's memory side: the context's waiting faults, and registering ranges of an address
// space (Linux 6.x fs/userfaultfd.c userfaultfd_register / userfaultfd_unregister, in their order
// of checks, and mm/userfaultfd.c for the destination of a fill).
#include "mm/vm/Userfault.h"

#include <algorithm>

#include "mm/cache/Inode.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/HugetlbOps.h"

namespace kioku {

UserfaultContext::UserfaultContext(AddressSpace& space)
    : m_space(&space)
{
    space.userfault_attach(this);
}

UserfaultContext::~UserfaultContext()
{
    if (m_space)
        m_space->userfault_release(this);
}

bool UserfaultContext::waiting(i32 tid) const
{
    return std::any_of(m_waits.begin(), m_waits.end(),
                       [tid](const UserfaultWait& w) { return w.tid == tid; });
}

void UserfaultContext::cancel(i32 tid)
{
    std::erase_if(m_waits, [tid](const UserfaultWait& w) { return w.tid == tid; });
}

void UserfaultContext::wake(u64 start, u64 len)
{
    std::erase_if(m_waits,
                  [&](const UserfaultWait& w) { return w.address >= start && w.address - start < len; });
}

namespace {

// vma_can_userfault in missing mode: anonymous private memory, shmem or hugetlb. Special
// mappings the kernel names ([vdso]) and PFN maps are none of these.
bool can_userfault(const Vma& vma)
{
    if ((vma.flags & (VM_PFNMAP | VM_IO | VM_MIXEDMAP)) || !vma.name.empty())
        return false;
    if (vma.flags & VM_HUGETLB)
        return true;
    return !vma.file || vma.file->is_shmem();
}

constexpr u64 UFFD_VM_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP;

} // namespace

Result<bool> AddressSpace::userfault_check(const UserfaultContext* ctx, u64 start, u64 end)
{
    // Every VMA is checked before any is changed. ctx is null for unregistering, which skips the
    // checks only registering needs.
    Vma* first = find_vma(VirtAddr(start));
    if (!first)
        return Error::from_errno(ENOMEM, "nothing is mapped at or above the range");
    if (first->start.value() >= end)
        return Error::from_errno(EINVAL, "no mapping in the range");
    // A hugetlb VMA's part of the range must begin and end on a huge page.
    if (u64 huge = m_mm.hugetlb_ops().page_size(*first);
        huge && start > first->start.value() && (start & (huge - 1)))
        return Error::from_errno(EINVAL, "range starts inside a huge page");
    bool hugetlb = false;
    for (auto it = m_tree.all().find(first->start.value()); it != m_tree.all().end() && it->first < end;
         ++it) {
        const Vma& vma = *it->second;
        if (!can_userfault(vma))
            return Error::from_errno(EINVAL, "memory of this kind is never registered");
        // UFFDIO_COPY fills holes even without PROT_WRITE: only mappings that may be written.
        if (ctx && !(vma.flags & VM_MAYWRITE))
            return Error::from_errno(EPERM, "mapping can never be written");
        if (u64 huge = m_mm.hugetlb_ops().page_size(vma); huge && end < vma.end.value() && (end & (huge - 1)))
            return Error::from_errno(EINVAL, "range ends inside a huge page");
        if (ctx && vma.uffd && vma.uffd != ctx)
            return Error::from_errno(EBUSY, "registered with another userfaultfd");
        hugetlb |= (vma.flags & VM_HUGETLB) != 0;
    }
    return hugetlb;
}

Vma& AddressSpace::set_userfault(Vma& vma, u64 from, u64 to, UserfaultContext* ctx)
{
    Vma* target = &vma;
    if (from > target->start.value())
        target = &split_vma(*target, VirtAddr(from));
    if (to < target->end.value())
        split_vma(*target, VirtAddr(to));
    target->uffd = ctx;
    target->flags = (target->flags & ~UFFD_VM_FLAGS) | (ctx ? u64{VM_UFFD_MISSING} : 0);
    return m_tree.merge(*target);
}

void AddressSpace::userfault_set(u64 start, u64 end, UserfaultContext* ctx)
{
    u64 want = ctx ? u64{VM_UFFD_MISSING} : 0;
    u64 at = start;
    while (Vma* vma = find_vma(VirtAddr(at))) {
        if (vma->start.value() >= end)
            break;
        at = vma->uffd == ctx && (vma->flags & UFFD_VM_FLAGS) == want
                 ? vma->end.value()
                 : set_userfault(*vma, std::max(at, vma->start.value()), std::min(end, vma->end.value()), ctx)
                       .end.value();
    }
}

Result<bool> AddressSpace::userfault_register(UserfaultContext& ctx, u64 start, u64 end)
{
    bool hugetlb = TRY(userfault_check(&ctx, start, end));
    userfault_set(start, end, &ctx);
    return hugetlb;
}

Result<void> AddressSpace::userfault_unregister(u64 start, u64 end)
{
    TRY(userfault_check(nullptr, start, end));
    userfault_set(start, end, nullptr);
    return {};
}

Result<Vma*> AddressSpace::userfault_dst(u64 dst, u64 len)
{
    Vma* vma = vma_containing(VirtAddr(dst));
    if (!vma || dst + len > vma->end.value())
        return Error::from_errno(ENOENT, "destination not inside one mapping");
    if (!vma->uffd)
        return Error::from_errno(ENOENT, "destination not registered");
    if (vma->is_shared() && !(vma->flags & VM_HUGETLB) && !(vma->file && vma->file->is_shmem()))
        return Error::from_errno(EINVAL, "shared mapping that is not shmem");
    return vma;
}

void AddressSpace::userfault_release(UserfaultContext* ctx)
{
    // userfaultfd_release: the context's VMAs are unregistered (and merged where they can be).
    std::erase(m_userfaults, ctx);
    u64 at = 0;
    while (Vma* vma = find_vma(VirtAddr(at))) {
        if (vma->uffd == ctx)
            vma = &set_userfault(*vma, vma->start.value(), vma->end.value(), nullptr);
        at = vma->end.value();
    }
}

} // namespace kioku
