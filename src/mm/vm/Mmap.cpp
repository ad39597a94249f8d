#include "mm/vm/Mmap.h"

#include "abi/Mman.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/HugetlbOps.h"

namespace kioku {

using namespace isa;

namespace {

constexpr int MAP_UNINITIALIZED_ = 0x4000000;
constexpr u64 MAX_LFS_FILESIZE = u64{INT64_MAX};
// The flags every file's mmap accepts; MAP_SHARED_VALIDATE refuses any other (EOPNOTSUPP), since
// no file here supports MAP_SYNC.
constexpr int LEGACY_MAP_MASK = MAP_SHARED_ | MAP_PRIVATE_ | MAP_FIXED_ | MAP_ANONYMOUS_ | MAP_DENYWRITE_ |
                                MAP_EXECUTABLE_ | MAP_UNINITIALIZED_ | MAP_GROWSDOWN_ | MAP_LOCKED_ |
                                MAP_NORESERVE_ | MAP_POPULATE_ | MAP_NONBLOCK_ | MAP_STACK_ | MAP_HUGETLB_;

u64 calc_vm_flag_bits(int flags)
{
    u64 f = 0;
    if (flags & MAP_GROWSDOWN_)
        f |= VM_GROWSDOWN;
    if (flags & MAP_LOCKED_)
        f |= VM_LOCKED;
    return f;
}

} // namespace

bool writably_mapped(const Inode& file)
{
    for (const Vma* vma : file.mappings())
        if ((vma->flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
            return true;
    return false;
}

u64 calc_vm_prot_bits(int prot)
{
    u64 f = 0;
    if (prot & PROT_READ_)
        f |= VM_READ;
    if (prot & PROT_WRITE_)
        f |= VM_WRITE;
    if (prot & PROT_EXEC_)
        f |= VM_EXEC;
    return f;
}

Result<u64> AddressSpace::mmap(u64 addr, u64 len, int prot, int flags, std::shared_ptr<Inode> file,
                               u64 offset, FileAccess access)
{
    return MmapCall(*this).mmap(addr, len, prot, flags, std::move(file), offset, access);
}

Result<void> AddressSpace::remap_file_pages(u64 start, u64 size, int prot, u64 pgoff, int flags)
{
    return MmapCall(*this).remap_file_pages(start, size, prot, pgoff, flags);
}

u64 AddressSpace::brk(u64 requested)
{
    return MmapCall(*this).brk(requested);
}

Result<void> AddressSpace::msync(u64 start, u64 len, int flags)
{
    return MmapCall(*this).msync(start, len, flags);
}

MmapCall::MmapCall(AddressSpace& space)
    : m_space(space)
    , m_mm(space.mm())
{
}

Result<u64> MmapCall::mmap(u64 addr, u64 len, int prot, int flags, std::shared_ptr<Inode> file, u64 offset,
                           FileAccess access)
{
    // Linux 6.x do_mmap, in its order of checks.
    if (!is_page_aligned(offset))
        return Error::from_errno(EINVAL, "offset not page aligned");
    if (len == 0)
        return Error::from_errno(EINVAL, "zero length");
    // MAP_HUGETLB and hugetlbfs files (Hugetlb.cpp): the length in huge pages, the file behind.
    u64 huge = TRY(m_mm.hugetlb_ops().mmap_setup(len, flags, file, access));
    // MAP_FIXED_NOREPLACE is MAP_FIXED that refuses to replace: set before the hint is rounded,
    // so that an unaligned address is EINVAL for it too (do_mmap's order).
    if (flags & MAP_FIXED_NOREPLACE_)
        flags |= MAP_FIXED_;
    if (!(flags & MAP_FIXED_) && addr) {
        addr &= PAGE_MASK;
        if (addr < m_mm.sysctl().mmap_min_addr)
            addr = page_round_up(m_mm.sysctl().mmap_min_addr);
    }
    u64 rounded = page_round_up(len);
    if (rounded == 0 || rounded < len)
        return Error::from_errno(ENOMEM, "length overflows");
    len = rounded;
    u64 pgoff = offset >> PAGE_SHIFT;
    if (pgoff + (len >> PAGE_SHIFT) < pgoff)
        return Error::from_errno(EOVERFLOW, "offset + length overflows");
    if (m_space.map_count() > m_mm.sysctl().max_map_count)
        return Error::from_errno(ENOMEM, "too many mappings");

    u64 vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | m_space.def_flags() | VM_MAYREAD |
                   VM_MAYWRITE | VM_MAYEXEC;
    int type = flags & MAP_TYPE_;
    if (file) {
        // file_mmap_ok: the mapping must end within the largest file offset (MAX_LFS_FILESIZE).
        if (len > MAX_LFS_FILESIZE || pgoff > ((MAX_LFS_FILESIZE - len) >> PAGE_SHIFT))
            return Error::from_errno(EOVERFLOW, "mapping beyond the largest file offset");
        switch (type) {
        case MAP_SHARED_:
        case MAP_SHARED_VALIDATE_:
            if (type == MAP_SHARED_VALIDATE_ && (flags & ~LEGACY_MAP_MASK))
                return Error::from_errno(EOPNOTSUPP,
                                         "MAP_SHARED_VALIDATE with a flag the file does not support");
            if ((prot & PROT_WRITE_) && !access.writable)
                return Error::from_errno(EACCES, "shared writable mapping of a file not open for writing");
            // A swap partition in use holds swapped-out memory: no shared writable mapping of it,
            // now or by mprotect later.
            if (file->swap_in_use() && (prot & PROT_WRITE_))
                return Error::from_errno(ETXTBSY, "shared writable mapping of a swap device in use");
            vm_flags |= VM_SHARED | VM_MAYSHARE;
            if (file->swap_in_use())
                vm_flags &= ~u64{VM_MAYWRITE};
            if (!access.writable)
                vm_flags &= ~u64{VM_MAYWRITE | VM_SHARED};
            // A write-sealed memfd (seal_check_write): no shared writable mapping, and a
            // read-only one may never become writable.
            if (file->seals & (Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE)) {
                if (prot & PROT_WRITE_)
                    return Error::from_errno(EPERM, "shared writable mapping of a write-sealed file");
                vm_flags &= ~u64{VM_MAYWRITE};
            }
            [[fallthrough]];
        case MAP_PRIVATE_:
            if (!access.readable)
                return Error::from_errno(EACCES, "mapping of a file not open for reading");
            if (vm_flags & VM_GROWSDOWN)
                return Error::from_errno(EINVAL, "MAP_GROWSDOWN on a file");
            break;
        default: return Error::from_errno(EINVAL, "neither MAP_SHARED nor MAP_PRIVATE");
        }
    } else {
        // MAP_SHARED_VALIDATE is for files only: anonymous memory takes the default branch.
        if (access.zero_device && !access.readable)
            return Error::from_errno(EACCES, "mapping of /dev/zero not open for reading");
        switch (type) {
        case MAP_SHARED_:
            if (vm_flags & VM_GROWSDOWN)
                return Error::from_errno(EINVAL, "MAP_GROWSDOWN on shared memory");
            pgoff = 0;
            vm_flags |= VM_SHARED | VM_MAYSHARE;
            if (access.zero_device && !access.writable) {
                // do_mmap's file checks: no shared writable mapping of a read-only /dev/zero,
                // and a read-only one may never become writable; mmap_zero then makes it plain
                // anonymous memory, since VM_SHARED is gone.
                if (prot & PROT_WRITE_)
                    return Error::from_errno(EACCES, "shared writable mapping of a read-only /dev/zero");
                vm_flags &= ~u64{VM_MAYWRITE | VM_SHARED};
            }
            break;
        case MAP_PRIVATE_: break;
        default: return Error::from_errno(EINVAL, "neither MAP_SHARED nor MAP_PRIVATE");
        }
    }

    bool failed = false;
    u64 slack = huge && !(flags & MAP_FIXED_) ? huge - PAGE_SIZE : 0; // room to align a hugetlb start
    u64 where = m_space.get_unmapped_area(addr, len + slack, flags, failed);
    if (failed)
        return Error::from_errno(static_cast<int>(where), "no room for the mapping");
    if (huge)
        where = TRY(m_mm.hugetlb_ops().align_area(where, flags, huge));
    if (where > m_space.task_size() - len)
        return Error::from_errno(ENOMEM, "mapping beyond the user address space");
    if (!is_page_aligned(where))
        return Error::from_errno(EINVAL, "address not page aligned");
    if ((flags & MAP_FIXED_NOREPLACE_) && m_space.find_intersection(VirtAddr(where), VirtAddr(where + len)))
        return Error::from_errno(EEXIST, "MAP_FIXED_NOREPLACE over an existing mapping");
    if (!file && !(vm_flags & VM_SHARED))
        pgoff = where >> PAGE_SHIFT;
    if ((flags & MAP_NORESERVE_) && m_mm.sysctl().overcommit_memory != OvercommitMode::Never)
        vm_flags |= VM_NORESERVE;
    if (huge) // hugetlb reserves strictly unless MAP_NORESERVE, whatever the overcommit mode
        vm_flags |= VM_HUGETLB | ((flags & MAP_NORESERVE_) ? u64{VM_NORESERVE} : 0);

    u64 mapped = TRY(mmap_region(where, len, vm_flags, pgoff, std::move(file)));
    if ((flags & (MAP_POPULATE_ | MAP_NONBLOCK_)) == MAP_POPULATE_ ||
        (vm_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED) {
        VirtAddr stopped = m_space.populate(VirtAddr(mapped), VirtAddr(mapped + len));
        if (stopped.value() < mapped + len && m_mm.throttle_pending())
            m_mm.set_populate_rest({&m_space, stopped.value(), mapped + len});
    }
    return mapped;
}

Result<void> MmapCall::remap_file_pages(u64 start, u64 size, int prot, u64 pgoff, int flags)
{
    // mm/mmap.c: the old nonlinear call is emulated by a new shared mapping of the same file over
    // the range, with the mapping's protection, populated, and locked if it was.
    if (prot)
        return Error::from_errno(EINVAL, "remap_file_pages takes no protection");
    start &= PAGE_MASK;
    size &= PAGE_MASK;
    if (start + size <= start)
        return Error::from_errno(EINVAL, "empty or wrapping range");
    if (pgoff + (size >> PAGE_SHIFT) < pgoff)
        return Error::from_errno(EINVAL, "the offset wraps");
    Vma* vma = m_space.vma_containing(VirtAddr(start));
    if (!vma || !(vma->flags & VM_SHARED) || !vma->file)
        return Error::from_errno(EINVAL, "not in a shared file mapping");
    // A range past the first VMA must run on through VMAs of the same file and flags.
    for (Vma* prev = vma; prev->end.value() < start + size;) {
        Vma* next = m_space.m_tree.next(*prev);
        if (!next || next->start != prev->end || next->file != vma->file || next->flags != vma->flags)
            return Error::from_errno(EINVAL, "the range crosses other mappings");
        prev = next;
    }
    int new_prot = ((vma->flags & VM_READ) ? PROT_READ_ : 0) | ((vma->flags & VM_WRITE) ? PROT_WRITE_ : 0) |
                   ((vma->flags & VM_EXEC) ? PROT_EXEC_ : 0);
    int new_flags = (flags & MAP_NONBLOCK_) | MAP_SHARED_ | MAP_FIXED_ | MAP_POPULATE_;
    if (vma->flags & VM_LOCKED)
        new_flags |= MAP_LOCKED_;
    FileAccess access;
    access.readable = true;
    access.writable = true; // VM_SHARED stays only on mappings of files open for writing
    // mmap_region unmaps the range before the file's mmap method runs. A file watched by its
    // owner (a System V segment) that the owner lets go of with that last mapping (a segment
    // marked for removal) can no longer be mapped: shm_mmap finds no segment (EINVAL), and the
    // range is left empty.
    std::shared_ptr<Inode> file = vma->file;
    MappingObserver* owner = file->observer();
    TRY(m_space.do_munmap(start, size));
    if (owner && file->observer() != owner)
        return Error::from_errno(EINVAL, "the file's segment was removed with its last mapping");
    TRY(mmap(start, size, new_prot, new_flags, std::move(file), pgoff << PAGE_SHIFT, access));
    return {};
}

Result<u64> MmapCall::mmap_region(u64 addr, u64 len, u64 vm_flags, u64 pgoff, std::shared_ptr<Inode> file)
{
    u64 pages = len >> PAGE_SHIFT;
    // may_expand_vm counts only what the mapping adds: pages it replaces go first.
    u64 replaced = 0;
    for (Vma* v = m_space.find_vma(VirtAddr(addr)); v && v->start.value() < addr + len;
         v = m_space.m_tree.next(*v))
        replaced += (std::min(v->end.value(), addr + len) - std::max(v->start.value(), addr)) >> PAGE_SHIFT;
    if (!m_space.may_expand_vm(vm_flags, pages - replaced))
        return Error::from_errno(ENOMEM, "over RLIMIT_AS or RLIMIT_DATA");
    TRY(m_space.do_munmap(addr, len));
    bool accountable = (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE | VM_HUGETLB)) == VM_WRITE;
    if (accountable) {
        TRY(m_mm.vm_enough_memory(pages, m_space.total_vm()));
        vm_flags |= VM_ACCOUNT;
    }
    if (!file && (vm_flags & VM_SHARED)) {
        // shmem_zero_setup: shared anonymous memory is a file of tmpfs, charged whole unless
        // MAP_NORESERVE.
        if (!(vm_flags & VM_NORESERVE)) {
            if (auto r = m_mm.vm_enough_memory(pages, m_space.total_vm()); r.is_error())
                return r.error();
        }
        file = m_mm.page_cache().create_shmem(len, "/dev/zero (deleted)");
        if (!(vm_flags & VM_NORESERVE))
            file->accounted_pages = pages;
    }
    auto vma = std::make_unique<Vma>();
    if (vma->slab.failed()) {
        // vm_area_alloc failed; the commit charge goes back (a shmem file returns its own when
        // it is dropped).
        if (accountable)
            m_mm.vm_unacct_memory(pages);
        return Error::from_errno(ENOMEM, "no memory for a vm_area_struct");
    }
    vma->start = VirtAddr(addr);
    vma->end = VirtAddr(addr + len);
    // New mappings start soft-dirty, as Linux marks them for clear_refs/pagemap users.
    vma->flags = vm_flags | VM_SOFTDIRTY;
    vma->pgoff = pgoff;
    vma->file = std::move(file);
    if (vma->flags & VM_HUGETLB) // hugetlbfs_file_mmap: the reservation (Hugetlb.cpp)
        TRY(m_mm.hugetlb_ops().mmap_vma(m_space, *vma));
    Vma& inserted = m_space.m_tree.insert(std::move(vma));
    Vma& merged = m_space.m_tree.merge(inserted);
    (void)merged;
    m_space.update_hiwater_rss();
    return addr;
}

u64 MmapCall::brk(u64 requested)
{
    // Linux 6.x sys_brk, without randomisation.
    u64 origbrk = m_space.m_brk;
    if (requested < m_space.m_start_brk)
        return origbrk;
    u64 newbrk = page_round_up(requested);
    u64 oldbrk = page_round_up(m_space.m_brk);
    if (oldbrk == newbrk) {
        m_space.m_brk = requested;
        return m_space.m_brk;
    }
    if (requested <= m_space.m_brk) {
        // Shrinking needs a mapping inside [newbrk, oldbrk); with none there (the program
        // unmapped that part of its heap) Linux 6.x leaves the break where it was.
        if (!m_space.find_intersection(VirtAddr(newbrk), VirtAddr(oldbrk)))
            return origbrk;
        if (m_space.do_munmap(newbrk, oldbrk - newbrk).is_error())
            return origbrk;
        m_space.m_brk = requested;
        return m_space.m_brk;
    }
    if (Vma* next = m_space.find_vma(VirtAddr(oldbrk));
        next && newbrk + PAGE_SIZE > m_space.vm_start_gap(*next))
        return origbrk;
    u64 pages = (newbrk - oldbrk) >> PAGE_SHIFT;
    // RLIMIT_DATA: data_vm holds the data segment and the heap, as check_data_rlimit counts them.
    if (m_space.map_count() > m_mm.sysctl().max_map_count || !m_space.may_expand_vm(VM_WRITE, pages))
        return origbrk;
    if (m_mm.vm_enough_memory(pages, m_space.total_vm()).is_error())
        return origbrk;
    auto vma = std::make_unique<Vma>();
    vma->start = VirtAddr(oldbrk);
    vma->end = VirtAddr(newbrk);
    vma->flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | VM_SOFTDIRTY |
                 m_space.def_flags();
    vma->pgoff = oldbrk >> PAGE_SHIFT;
    m_space.m_tree.merge(m_space.m_tree.insert(std::move(vma)));
    m_space.m_brk = requested;
    if ((m_space.def_flags() & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED)
        m_space.populate(VirtAddr(oldbrk), VirtAddr(newbrk)); // mlockall(MCL_FUTURE)
    return m_space.m_brk;
}

Result<void> MmapCall::msync(u64 start, u64 len, int flags)
{
    if (flags & ~(MS_ASYNC_ | MS_INVALIDATE_ | MS_SYNC_))
        return Error::from_errno(EINVAL, "unknown msync flags");
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    if ((flags & MS_ASYNC_) && (flags & MS_SYNC_))
        return Error::from_errno(EINVAL, "MS_ASYNC with MS_SYNC");
    u64 end = start + page_round_up(len);
    if (end < start)
        return Error::from_errno(ENOMEM, "range wraps");
    if (end == start)
        return {};
    bool unmapped = false;
    u64 cur = start;
    for (;;) {
        Vma* vma = m_space.find_vma(VirtAddr(cur));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        if (cur < vma->start.value()) {
            if (flags == MS_SYNC_)
                return Error::from_errno(ENOMEM, "range not mapped"); // plain MS_SYNC stops at a hole
            unmapped = true;
            cur = vma->start.value();
            if (cur >= end)
                return Error::from_errno(ENOMEM, "range not mapped");
        }
        if ((flags & MS_INVALIDATE_) && (vma->flags & VM_LOCKED))
            return Error::from_errno(EBUSY, "MS_INVALIDATE on locked memory");
        u64 stop = std::min(end, vma->end.value());
        if ((flags & MS_SYNC_) && (vma->flags & VM_SHARED))
            TRY(m_space.writeback_range(*vma, VirtAddr(cur), VirtAddr(stop)));
        cur = stop;
        if (cur >= end)
            break;
    }
    if (unmapped)
        return Error::from_errno(ENOMEM, "range not fully mapped");
    return {};
}

} // namespace kioku
