// Memory system calls: the kernel's mmap family, plus mremap, madvise and mincore, which work on
// the address space directly.
#include <algorithm>
#include <vector>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Syscalls.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/PageTable.h"

namespace kioku {

namespace {

constexpr u64 MREMAP_MAYMOVE_ = 1;
constexpr u64 MREMAP_FIXED_ = 2;
constexpr u64 MADV_DONTNEED_ = 4;

SyscallResult from(const Result<void>& r) { return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(0); }
SyscallResult from(const Result<u64>& r)
{
    return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(static_cast<i64>(r.value()));
}

int prot_of_vma(const Vma& vma)
{
    int prot = 0;
    if (vma.flags & VM_READ)
        prot |= PROT_READ_;
    if (vma.flags & VM_WRITE)
        prot |= PROT_WRITE_;
    if (vma.flags & VM_EXEC)
        prot |= PROT_EXEC_;
    return prot;
}

} // namespace

SyscallResult Syscalls::sys_brk(Task& t, const SyscallArgs& a)
{
    return SyscallResult::ret(static_cast<i64>(kernel().brk(t.tgid, a[0])));
}

SyscallResult Syscalls::sys_mmap(Task& t, const SyscallArgs& a)
{
    int prot = static_cast<int>(a[2]);
    int flags = static_cast<int>(a[3]);
    if (!(flags & MAP_ANONYMOUS_)) {
        auto f = open_file(t, a.fd(4));
        if (f.is_error())
            return SyscallResult::err(EBADF);
        if (SpecialFile* s = f.value()->special.get()) {
            // /dev/zero maps as anonymous memory (shared: shmem), as its mmap method does.
            if (s->kind != SpecialFile::Kind::Zero)
                return SyscallResult::err(ENODEV);
            return from(kernel().mmap(t.tgid, a[0], a[1], prot, flags | MAP_ANONYMOUS_, -1, 0));
        }
    }
    return from(kernel().mmap(t.tgid, a[0], a[1], prot, flags, a.fd(4), a[5]));
}

SyscallResult Syscalls::sys_munmap(Task& t, const SyscallArgs& a) { return from(kernel().munmap(t.tgid, a[0], a[1])); }

SyscallResult Syscalls::sys_mprotect(Task& t, const SyscallArgs& a)
{
    return from(kernel().mprotect(t.tgid, a[0], a[1], static_cast<int>(a[2])));
}

SyscallResult Syscalls::sys_msync(Task& t, const SyscallArgs& a)
{
    return from(kernel().msync(t.tgid, a[0], a[1], static_cast<int>(a[2])));
}

SyscallResult Syscalls::sys_mremap(Task& t, const SyscallArgs& a)
{
    u64 old_addr = a[0], old_size = page_round_up(a[1]), new_size = page_round_up(a[2]), flags = a[3];
    if ((flags & ~(MREMAP_MAYMOVE_ | MREMAP_FIXED_)) || !is_page_aligned(old_addr) || new_size == 0 ||
        ((flags & MREMAP_FIXED_) && !(flags & MREMAP_MAYMOVE_)))
        return SyscallResult::err(EINVAL);
    if (flags & MREMAP_FIXED_)
        return SyscallResult::err(EINVAL); // moving to a chosen address is not modelled yet
    AddressSpace& space = process(t).space();
    Vma* vma = space.vma_containing(VirtAddr(old_addr));
    if (!vma || old_addr + old_size > vma->end.value())
        return SyscallResult::err(EFAULT);
    if (new_size <= old_size) {
        if (new_size < old_size) {
            auto r = kernel().munmap(t.tgid, old_addr + new_size, old_size - new_size);
            if (r.is_error())
                return SyscallResult::err(r.error().code);
        }
        return SyscallResult::ret(static_cast<i64>(old_addr));
    }
    int prot = prot_of_vma(*vma);
    int share = vma->is_shared() ? MAP_SHARED_ : MAP_PRIVATE_;
    std::shared_ptr<Inode> file = vma->file;
    u64 pgoff = vma->page_index(VirtAddr(old_addr));
    FileAccess access{true, vma->is_shared() && (vma->flags & VM_MAYWRITE)};
    // Grow in place when the pages after the mapping are free.
    u64 tail = old_addr + old_size;
    if (old_addr + old_size == vma->end.value() && !space.find_intersection(VirtAddr(tail), VirtAddr(old_addr + new_size))) {
        auto r = file ? space.mmap(tail, new_size - old_size, prot, share | MAP_FIXED_, file,
                                   (pgoff << PAGE_SHIFT) + old_size, access)
                      : kernel().mmap(t.tgid, tail, new_size - old_size, prot, share | MAP_FIXED_ | MAP_ANONYMOUS_, -1, 0);
        if (!r.is_error())
            return SyscallResult::ret(static_cast<i64>(old_addr));
    }
    if (!(flags & MREMAP_MAYMOVE_))
        return SyscallResult::err(ENOMEM);
    if (vma->is_shared() && !file)
        return SyscallResult::err(ENOMEM);
    auto moved = file ? space.mmap(0, new_size, prot | PROT_READ_ | PROT_WRITE_, share, file, pgoff << PAGE_SHIFT, access)
                      : kernel().mmap(t.tgid, 0, new_size, prot | PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0);
    if (moved.is_error())
        return SyscallResult::err(moved.error().code);
    // Copy the pages that exist; the new area is zero (or the file) elsewhere already.
    std::vector<u8> page(PAGE_SIZE);
    for (u64 off = 0; off < old_size && !vma->is_shared(); off += PAGE_SIZE) {
        if (space.page_table().read(VirtAddr(old_addr + off)) == 0)
            continue;
        if (get_bytes(t, old_addr + off, page.data(), PAGE_SIZE).is_error() ||
            put_bytes(t, moved.value() + off, page.data(), PAGE_SIZE).is_error())
            break;
    }
    (void)kernel().mprotect(t.tgid, moved.value(), new_size, prot);
    (void)kernel().munmap(t.tgid, old_addr, old_size);
    return SyscallResult::ret(static_cast<i64>(moved.value()));
}

SyscallResult Syscalls::sys_madvise(Task& t, const SyscallArgs& a)
{
    u64 start = a[0], len = page_round_up(a[1]), advice = a[2];
    if (!is_page_aligned(start) || start + len < start)
        return SyscallResult::err(EINVAL);
    switch (advice) {
    case 0: case 1: case 2: case 3: // NORMAL, RANDOM, SEQUENTIAL, WILLNEED
    case 8: case 9: case 10: case 11: // FREE (pages stay until memory is short), REMOVE, DONTFORK, DOFORK
    case 12: case 13: case 14: case 15: case 16: case 17: // (UN)MERGEABLE, (NO)HUGEPAGE, (DO)DUMP
    case 18: case 19: case 20: case 21: case 22: // WIPEONFORK, KEEPONFORK, COLD, PAGEOUT
    case MADV_DONTNEED_:
        break;
    default:
        return SyscallResult::err(EINVAL);
    }
    if (len == 0)
        return SyscallResult::ret(0);
    AddressSpace& space = process(t).space();
    u64 end = start + len;
    bool hole = false;
    u64 cursor = start;
    while (cursor < end) {
        Vma* vma = space.find_vma(VirtAddr(cursor));
        if (!vma || vma->start.value() >= end) {
            hole = true;
            break;
        }
        if (vma->start.value() > cursor)
            hole = true;
        u64 s = std::max(cursor, vma->start.value());
        u64 e = std::min(end, vma->end.value());
        if (advice == MADV_DONTNEED_) {
            if (vma->flags & VM_LOCKED)
                return SyscallResult::err(EINVAL);
            space.zap_range(*vma, VirtAddr(s), VirtAddr(e));
        }
        cursor = e;
    }
    return hole ? SyscallResult::err(ENOMEM) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_mincore(Task& t, const SyscallArgs& a)
{
    u64 start = a[0], len = page_round_up(a[1]);
    if (!is_page_aligned(start))
        return SyscallResult::err(EINVAL);
    AddressSpace& space = process(t).space();
    if (start + len < start || start + len > space.task_size())
        return SyscallResult::err(ENOMEM);
    std::vector<u8> vec(len >> PAGE_SHIFT, 0);
    for (u64 i = 0; i < vec.size(); ++i) {
        VirtAddr va(start + (i << PAGE_SHIFT));
        Vma* vma = space.vma_containing(va);
        if (!vma)
            return SyscallResult::err(ENOMEM);
        u64 pte = space.page_table().read(va);
        if (pte_present(pte))
            vec[i] = 1;
        else if (vma->file && kernel().mm().page_cache().find(*vma->file, vma->page_index(va)))
            vec[i] = 1;
    }
    if (!vec.empty() && put_bytes(t, a[2], vec.data(), vec.size()).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_mlock(Task&, const SyscallArgs&)
{
    // Nothing is ever evicted yet, so every page is as good as locked.
    return SyscallResult::ret(0);
}

} // namespace kioku
