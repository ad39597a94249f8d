#include "mm/vm/Mlock.h"
#include "abi/Signal.h"

#include "mm/core/FolioLru.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;
using namespace abi;

namespace {

constexpr u64 VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
constexpr u64 VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

// The frame a present PTE maps, unless it is the shared zero page (Linux's vm_normal_page).
std::optional<Pfn> normal_page(MmCore& mm, u64 pte)
{
    if (!pte_present(pte) || mm.is_zero_pfn(pte_pfn(pte)))
        return std::nullopt;
    return pte_pfn(pte);
}

// Whether a VM_LOCKED VMA other than `except` maps the page.
bool locked_elsewhere(MmCore& mm, Pfn pfn, const Vma* except)
{
    bool locked = false;
    Rmap(mm).for_each_mapping(pfn, [&](AddressSpace&, Vma& vma, VirtAddr, PageSlot) {
        if (&vma != except && (vma.flags & VM_LOCKED))
            locked = true;
    });
    return locked;
}

} // namespace

void AddressSpace::fault_done(Vma& vma, VirtAddr va, bool write, PageSlot slot)
{
    if (!write && !(vma.flags & VM_LOCKED))
        return;
    if (!slot) {
        if (auto leaf = m_page_table->huge_leaf(va)) {
            // A THP (never in a locked VMA here): only the soft-dirty mark.
            if (write && (*leaf->entry & PTE_W))
                leaf->entry.upgrade(PTE_SOFT_DIRTY);
            return;
        }
        slot = m_page_table->slot(page_base(va), false);
    }
    if (!slot || !pte_present(*slot))
        return;
    if ((vma.flags & VM_LOCKED) && !(vma.flags & VM_SPECIAL)) {
        if (auto pfn = normal_page(m_mm, *slot))
            mlock_folio(m_mm, *pfn);
    }
    // pte_mkdirty marks the page soft-dirty too; the MMU's own D bit cannot, so only faults do.
    if (write && (*slot & PTE_W))
        slot.upgrade(PTE_SOFT_DIRTY);
}

void AddressSpace::munlock_range(Vma& vma, VirtAddr start, VirtAddr end)
{
    m_page_table->for_each(
        start, end,
        [&](VirtAddr, PageSlot slot) {
            auto pfn = normal_page(m_mm, *slot);
            if (pfn && m_mm.frames()[*pfn].has(FF_MLOCKED) && !locked_elsewhere(m_mm, *pfn, &vma))
                munlock_folio(m_mm, *pfn);
        },
        [](VirtAddr, unsigned, PageSlot) {}); // huge pages are never mlocked here
}

Result<void> AddressSpace::populate_locked(u64 start, u64 end, bool ignore_errors)
{
    // __mm_populate with populate_vma_page_range: writable private mappings are written (to break
    // copy-on-write), the rest read; VM_LOCKONFAULT mappings are left to fault.
    FaultHandler& handler = m_mm.fault_handler();
    u64 nstart = start;
    while (nstart < end) {
        Vma* vma = find_intersection(VirtAddr(nstart), VirtAddr(end));
        if (!vma)
            break;
        u64 nend = std::min(end, vma->end.value());
        nstart = std::max(nstart, vma->start.value());
        bool skip = (vma->flags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT)) != 0;
        if (!skip && !(vma->flags & VM_ACCESS_FLAGS)) {
            // A PROT_NONE mapping cannot be faulted in: get_user_pages fails with EFAULT.
            if (!ignore_errors)
                return Error::from_errno(EFAULT, "cannot populate a PROT_NONE mapping");
            skip = true;
        }
        bool write = (vma->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
        for (u64 va = nstart; !skip && va < nend; va += PAGE_SIZE) {
            if (m_mm.throttle_pending()) // the call takes its memory.high penalty, then runs again
                return Error::from_errno(ERESTARTNOINTR_, "memory.high penalty owed");
            u64 pte = m_page_table->read(VirtAddr(va));
            if (pte_present(pte) && (!write || (pte & PTE_W)))
                continue;
            FaultOutcome outcome = handler.handle_in_vma(*this, *vma, VirtAddr(va),
                                                         write ? AccessType::Write : AccessType::Read);
            if (fault_resolved(outcome))
                continue;
            if (!ignore_errors)
                return Error::from_errno(outcome == FaultOutcome::Oom ? ENOMEM : EFAULT, "populate failed");
            break;
        }
        nstart = nend;
    }
    return {};
}

Result<void> AddressSpace::mlock(u64 start, u64 len, u64 flags)
{
    return MlockCall(*this).mlock(start, len, flags);
}

Result<void> AddressSpace::munlock(u64 start, u64 len)
{
    return MlockCall(*this).munlock(start, len);
}

Result<void> AddressSpace::mlockall(int flags)
{
    return MlockCall(*this).mlockall(flags);
}

Result<void> AddressSpace::munlockall()
{
    return MlockCall(*this).munlockall();
}

MlockCall::MlockCall(AddressSpace& space)
    : m_space(space)
    , m_mm(space.mm())
{
}

namespace {

// __mlock_posix_error_return: POSIX wants ENOMEM for an unmapped page and EAGAIN for no memory.
Error mlock_posix_error(Error e)
{
    if (e.code == EFAULT)
        e.code = ENOMEM;
    else if (e.code == ENOMEM)
        e.code = EAGAIN;
    return e;
}

} // namespace

Result<void> MlockCall::mlock(u64 start, u64 len, u64 flags)
{
    // do_mlock, reached from mlock (flags 0) and mlock2.
    if (flags & ~MLOCK_ONFAULT_)
        return Error::from_errno(EINVAL, "unknown mlock2 flags");
    const AddressSpace::Limits& limit = m_space.limits();
    if (limit.memlock == 0 && !limit.cap_ipc_lock)
        return Error::from_errno(EPERM, "RLIMIT_MEMLOCK is 0");
    len = page_round_up(len + (start & ~PAGE_MASK));
    start &= PAGE_MASK;
    u64 lock_limit = limit.memlock >> PAGE_SHIFT;
    u64 locked = (len >> PAGE_SHIFT) + m_space.m_tree.locked_vm();
    if (locked > lock_limit && !limit.cap_ipc_lock) {
        // Pages of the range that are locked already do not count twice.
        for (auto& [key, vma] : m_space.m_tree.all()) {
            if (!(vma->flags & VM_LOCKED))
                continue;
            u64 lo = std::max(start, vma->start.value());
            u64 hi = std::min(start + len, vma->end.value());
            if (lo < hi)
                locked -= (hi - lo) >> PAGE_SHIFT;
        }
        if (locked > lock_limit)
            return Error::from_errno(ENOMEM, "RLIMIT_MEMLOCK exceeded");
    }
    u64 lock_flags = VM_LOCKED | ((flags & MLOCK_ONFAULT_) ? u64{VM_LOCKONFAULT} : 0);
    TRY(apply_lock_flags(start, len, lock_flags));
    auto populated = m_space.populate_locked(start, start + len, false);
    if (populated.is_error())
        return mlock_posix_error(populated.error());
    return {};
}

Result<void> MlockCall::munlock(u64 start, u64 len)
{
    len = page_round_up(len + (start & ~PAGE_MASK));
    start &= PAGE_MASK;
    return apply_lock_flags(start, len, 0);
}

Result<void> MlockCall::mlockall(int flags)
{
    if (!flags || (flags & ~(MCL_CURRENT_ | MCL_FUTURE_ | MCL_ONFAULT_)) || flags == MCL_ONFAULT_)
        return Error::from_errno(EINVAL, "bad mlockall flags");
    const AddressSpace::Limits& limit = m_space.limits();
    if (limit.memlock == 0 && !limit.cap_ipc_lock)
        return Error::from_errno(EPERM, "RLIMIT_MEMLOCK is 0");
    if ((flags & MCL_CURRENT_) && m_space.m_tree.total_vm() > (limit.memlock >> PAGE_SHIFT) &&
        !limit.cap_ipc_lock)
        return Error::from_errno(ENOMEM, "RLIMIT_MEMLOCK below the address space size");
    // apply_mlockall_flags: MCL_FUTURE goes into def_flags for later mappings; MCL_CURRENT locks
    // every VMA now.
    m_space.m_def_flags &= ~VM_LOCKED_MASK;
    u64 onfault = (flags & MCL_ONFAULT_) ? u64{VM_LOCKONFAULT} : 0;
    if (flags & MCL_FUTURE_)
        m_space.m_def_flags |= VM_LOCKED | onfault;
    if (!(flags & MCL_CURRENT_))
        return {};
    u64 to_add = VM_LOCKED | onfault;
    for (u64 cur = 0; Vma* vma = m_space.find_vma(VirtAddr(cur));) {
        cur = vma->end.value();
        mlock_fixup(*vma, vma->start.value(), cur, (vma->flags & ~VM_LOCKED_MASK) | to_add);
    }
    // Best effort, but a memory.high penalty owed makes the call again after it.
    if (auto r = m_space.populate_locked(0, m_space.task_size(), true);
        r.is_error() && r.error().code == ERESTARTNOINTR_)
        return r.error();
    return {};
}

Result<void> MlockCall::munlockall()
{
    m_space.m_def_flags &= ~VM_LOCKED_MASK;
    for (u64 cur = 0; Vma* vma = m_space.find_vma(VirtAddr(cur));) {
        cur = vma->end.value();
        mlock_fixup(*vma, vma->start.value(), cur, vma->flags & ~VM_LOCKED_MASK);
    }
    return {};
}

void MlockCall::mlock_fixup(Vma& vma, u64 start, u64 end, u64 new_flags)
{
    u64 old_flags = vma.flags;
    // Special and hugetlb mappings are never locked, and do not count in locked_vm.
    if (new_flags == old_flags || (old_flags & (VM_SPECIAL | VM_HUGETLB)))
        return;
    // modify_flags keeps locked_vm right: the VMA tree counts the VM_LOCKED pages.
    Vma& changed = m_space.modify_flags(vma, start, end, new_flags);
    if ((new_flags & VM_LOCKED) && (old_flags & VM_LOCKED))
        return; // only VM_LOCKONFAULT changed: locking twice would be wrong
    // mlock_vma_pages_range: pages already present are locked (or unlocked) now, even with
    // VM_LOCKONFAULT; the rest are locked as they fault in. Locked memory is kept at 4 KiB here,
    // so a THP in the range is split first.
    if (new_flags & VM_LOCKED)
        m_mm.thp_ops().split_range(m_space, VirtAddr(start), VirtAddr(end));
    m_space.page_table().for_each(VirtAddr(start), VirtAddr(end), [&](VirtAddr, PageSlot slot) {
        auto pfn = normal_page(m_mm, *slot);
        if (!pfn)
            return;
        if (new_flags & VM_LOCKED)
            mlock_folio(m_mm, *pfn);
        else if (!locked_elsewhere(m_mm, *pfn, &changed))
            munlock_folio(m_mm, *pfn);
    });
}

Result<void> MlockCall::apply_lock_flags(u64 start, u64 len, u64 lock_flags)
{
    // apply_vma_lock_flags: VMAs up to the first hole get the flags; the hole is ENOMEM.
    u64 end = start + len;
    if (end < start)
        return Error::from_errno(EINVAL, "range wraps");
    if (end == start)
        return {};
    Vma* vma = m_space.vma_containing(VirtAddr(start));
    if (!vma)
        return Error::from_errno(ENOMEM, "range not mapped");
    u64 nstart = start;
    u64 tmp = vma->start.value();
    while (vma && vma->start.value() < end) {
        if (vma->start.value() != tmp)
            return Error::from_errno(ENOMEM, "range not fully mapped");
        tmp = std::min(vma->end.value(), end);
        mlock_fixup(*vma, nstart, tmp, (vma->flags & ~VM_LOCKED_MASK) | lock_flags);
        // A merge may have carried the VMA past tmp; continue after whatever now covers it.
        tmp = m_space.vma_containing(VirtAddr(tmp - 1))->end.value();
        nstart = tmp;
        vma = m_space.find_vma(VirtAddr(tmp));
    }
    if (tmp < end)
        return Error::from_errno(ENOMEM, "range not fully mapped");
    return {};
}

} // namespace kioku
