// Memory system calls: the kernel's mmap family, and the address space's madvise, mremap, mlock
// and mincore.
#include <vector>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Syscalls.h"
#include "mm/MemoryManager.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

SyscallResult from(const Result<void>& r)
{
    return SyscallResult::of(r);
}
SyscallResult from(const Result<u64>& r)
{
    return r.is_error() ? SyscallResult::err(r.error().code)
                        : SyscallResult::ret(static_cast<i64>(r.value()));
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
            return from(kernel().mmap_zero(t.tgid, a[0], a[1], prot, flags, f.value()->readable,
                                           f.value()->writable));
        }
    }
    return from(kernel().mmap(t.tgid, a[0], a[1], prot, flags, a.fd(4), a[5]));
}

SyscallResult Syscalls::sys_munmap(Task& t, const SyscallArgs& a)
{
    return from(kernel().munmap(t.tgid, a[0], a[1]));
}

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
    return from(process(t).space().mremap(a[0], a[1], a[2], a[3], a[4]));
}

SyscallResult Syscalls::sys_remap_file_pages(Task& t, const SyscallArgs& a)
{
    return SyscallResult::of(process(t).space().remap_file_pages(a[0], a[1], static_cast<int>(a[2]), a[3],
                                                                 static_cast<int>(a[4])));
}

SyscallResult Syscalls::sys_madvise(Task& t, const SyscallArgs& a)
{
    return from(process(t).space().madvise(a[0], a[1], static_cast<int>(a[2])));
}

SyscallResult Syscalls::sys_mincore(Task& t, const SyscallArgs& a)
{
    // The bytes for the pages looked at before an error reach the user too, as on Linux.
    std::vector<u8> vec;
    auto r = process(t).space().mincore(a[0], a[1], vec);
    if (!vec.empty() && put_bytes(t, a[2], vec.data(), vec.size()).is_error())
        return SyscallResult::err(EFAULT);
    return from(r);
}

SyscallResult Syscalls::sys_mlock(Task& t, const SyscallArgs& a)
{
    AddressSpace& space = process(t).space();
    switch (t.regs.x[17]) {
    case 228: return from(space.mlock(a[0], a[1], 0));
    case 284: return from(space.mlock(a[0], a[1], a[2]));
    case 229: return from(space.munlock(a[0], a[1]));
    case 230: return from(space.mlockall(static_cast<int>(a[0])));
    default: return from(space.munlockall());
    }
}

} // namespace kioku

namespace kioku {

// riscv_flush_icache(start, end, flags): the program wrote instructions and wants them fetched.
// One hart: the local flush (flag 1) and the global one are the same.
SyscallResult Syscalls::sys_riscv_flush_icache(Task&, const SyscallArgs& a)
{
    constexpr u64 SYS_RISCV_FLUSH_ICACHE_LOCAL = 1;
    if (a[2] & ~SYS_RISCV_FLUSH_ICACHE_LOCAL)
        return SyscallResult::err(EINVAL);
    m_runner.hart().invalidate_caches();
    return SyscallResult::ret(0);
}

} // namespace kioku
