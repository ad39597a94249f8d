// userfaultfd's memory side: the context's waiting faults, and registering ranges of an address
// space (Linux 6.x fs/userfaultfd.c userfaultfd_register / userfaultfd_unregister, in their order
// of checks, and mm/userfaultfd.c for the destination of a fill).
#include "mm/vm/Userfault.h"

#include <algorithm>

#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/AddressSpace.h"

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

Result<Vma*> AddressSpace::userfault_first_vma(u64 start, u64 end)
{
    Vma* vma = find_vma(VirtAddr(start));
    if (!vma)
        return Error::from_errno(ENOMEM, "nothing is mapped at or above the range");
    if (vma->start.value() >= end)
        return Error::from_errno(EINVAL, "no mapping in the range");
    // A hugetlb VMA's part of the range must begin on a huge page.
    if (Hstate* h = hugetlb_hstate(m_mm, *vma); h && start > vma->start.value() && (start & (h->bytes() - 1)))
        return Error::from_errno(EINVAL, "range starts inside a huge page");
    return vma;
}

Result<bool> AddressSpace::userfault_register(UserfaultContext& ctx, u64 start, u64 end)
{
    Vma* first = TRY(userfault_first_vma(start, end));
    bool hugetlb = false;
    // Every VMA is checked before any is changed.
    for (auto it = m_vmas.find(first->start.value()); it != m_vmas.end() && it->first < end; ++it) {
        const Vma& vma = *it->second;
        if (!can_userfault(vma))
            return Error::from_errno(EINVAL, "memory of this kind cannot be registered");
        // UFFDIO_COPY fills holes even without PROT_WRITE: only mappings that may be written.
        if (!(vma.flags & VM_MAYWRITE))
            return Error::from_errno(EPERM, "mapping can never be written");
        if (Hstate* h = hugetlb_hstate(m_mm, vma); h && end < vma.end.value() && (end & (h->bytes() - 1)))
            return Error::from_errno(EINVAL, "range ends inside a huge page");
        if (vma.uffd && vma.uffd != &ctx)
            return Error::from_errno(EBUSY, "registered with another userfaultfd");
        hugetlb |= (vma.flags & VM_HUGETLB) != 0;
    }
    u64 at = start;
    while (at < end) {
        Vma* vma = find_vma(VirtAddr(at));
        if (!vma || vma->start.value() >= end)
            break;
        u64 from = std::max(at, vma->start.value());
        u64 to = std::min(end, vma->end.value());
        u64 next = vma->end.value();
        if (vma->uffd != &ctx || !(vma->flags & VM_UFFD_MISSING)) {
            Vma* target = vma;
            if (from > target->start.value())
                target = &split_vma(*target, VirtAddr(from));
            if (to < target->end.value())
                split_vma(*target, VirtAddr(to));
            target->uffd = &ctx;
            target->flags = (target->flags & ~UFFD_VM_FLAGS) | VM_UFFD_MISSING;
            next = try_merge(*target).end.value();
        }
        at = next;
    }
    return hugetlb;
}

Result<void> AddressSpace::userfault_unregister(u64 start, u64 end)
{
    Vma* first = TRY(userfault_first_vma(start, end));
    for (auto it = m_vmas.find(first->start.value()); it != m_vmas.end() && it->first < end; ++it) {
        const Vma& vma = *it->second;
        if (!can_userfault(vma))
            return Error::from_errno(EINVAL, "memory of this kind is never registered");
        if (Hstate* h = hugetlb_hstate(m_mm, vma); h && end < vma.end.value() && (end & (h->bytes() - 1)))
            return Error::from_errno(EINVAL, "range ends inside a huge page");
    }
    u64 at = start;
    while (at < end) {
        Vma* vma = find_vma(VirtAddr(at));
        if (!vma || vma->start.value() >= end)
            break;
        u64 next = vma->end.value();
        if (vma->uffd) {
            Vma* target = vma;
            if (at > target->start.value())
                target = &split_vma(*target, VirtAddr(at));
            if (end < target->end.value())
                split_vma(*target, VirtAddr(end));
            target->uffd = nullptr;
            target->flags &= ~UFFD_VM_FLAGS;
            next = try_merge(*target).end.value();
        }
        at = next;
    }
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
        if (vma->uffd == ctx) {
            vma->uffd = nullptr;
            vma->flags &= ~UFFD_VM_FLAGS;
            vma = &try_merge(*vma);
        }
        at = vma->end.value();
    }
}

} // namespace kioku
