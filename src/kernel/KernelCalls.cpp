// The rest of the memory system calls, as the kernel offers them to the system-call layer and to
// scenarios: mremap, madvise, mlock and friends, mincore, memfd_create and /proc/PID/clear_refs.
// The work is the address space's (Madvise.cpp, Mremap.cpp, Mlock.cpp, Mincore.cpp,
// SoftDirty.cpp); this layer finds the process, handles user pointers and runs the invariant
// checker after each call.
#include "kernel/Kernel.h"

#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

// memfd_create's flags (include/uapi/linux/memfd.h).
constexpr unsigned MFD_CLOEXEC = 0x1;
constexpr unsigned MFD_ALLOW_SEALING = 0x2;
constexpr unsigned MFD_HUGETLB = 0x4;
constexpr unsigned MFD_NOEXEC_SEAL = 0x8;
constexpr unsigned MFD_EXEC = 0x10;
constexpr unsigned MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
// NAME_MAX less the "memfd:" prefix.
constexpr size_t MFD_NAME_MAX_LEN = 255 - 6;

} // namespace

Result<u64> Kernel::mremap(Pid pid, u64 old_addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().mremap(old_addr, old_len, new_len, flags, new_addr);
    after_operation();
    return result;
}

Result<void> Kernel::madvise(Pid pid, u64 addr, u64 length, int advice)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().madvise(addr, length, advice);
    after_operation();
    return result;
}

Result<void> Kernel::mlock(Pid pid, u64 addr, u64 length)
{
    return mlock2(pid, addr, length, 0);
}

Result<void> Kernel::mlock2(Pid pid, u64 addr, u64 length, u64 flags)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().mlock(addr, length, flags);
    after_operation();
    return result;
}

Result<void> Kernel::munlock(Pid pid, u64 addr, u64 length)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().munlock(addr, length);
    after_operation();
    return result;
}

Result<void> Kernel::mlockall(Pid pid, int flags)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().mlockall(flags);
    after_operation();
    return result;
}

Result<void> Kernel::munlockall(Pid pid)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().munlockall();
    after_operation();
    return result;
}

Result<std::vector<u8>> Kernel::mincore(Pid pid, u64 addr, u64 length)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    std::vector<u8> vec;
    TRY(p->space().mincore(addr, length, vec));
    return vec;
}

Result<void> Kernel::mincore(Pid pid, u64 addr, u64 length, u64 vec)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    AddressSpace& space = p->space();
    // sys_mincore checks the start, then the range, then that the vector fits in user space.
    if (!is_page_aligned(addr))
        return Error::from_errno(EINVAL, "address not page aligned");
    if (length > space.task_size() || addr > space.task_size() - length)
        return Error::from_errno(ENOMEM, "range outside the user address space");
    u64 pages = (length >> PAGE_SHIFT) + ((length & (PAGE_SIZE - 1)) != 0);
    if (pages > space.task_size() || vec > space.task_size() - pages)
        return Error::from_errno(EFAULT, "vector outside the user address space");
    std::vector<u8> out;
    auto result = space.mincore(addr, length, out);
    // The bytes of the VMAs before a hole reach the user even when the call fails.
    if (!out.empty())
        TRY(copy_to_user(pid, vec, out));
    after_operation();
    return result;
}

Result<int> Kernel::memfd_create(Pid pid, const std::string& name, unsigned flags)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    if (name.size() > MFD_NAME_MAX_LEN)
        return Error::from_errno(EINVAL, "memfd name too long");
    if (flags & ~MFD_ALL_FLAGS)
        return Error::from_errno(EINVAL, "unknown memfd flags");
    if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL))
        return Error::from_errno(EINVAL, "MFD_EXEC with MFD_NOEXEC_SEAL");
    if (flags & MFD_HUGETLB)
        return Error::from_errno(EINVAL, "hugetlbfs memfds are not modelled yet");
    std::string path = "/memfd:" + name + " (deleted)";
    auto file = std::make_shared<OpenFile>();
    file->inode = m_mm->page_cache().create_shmem(0, path);
    file->path = path;
    file->readable = true;
    file->writable = true;
    int fd = TRY(p->install(std::move(file)));
    after_operation();
    return fd;
}

Result<i32> Kernel::shmget(Pid pid, i32 key, u64 size, int flags)
{
    Call call = TRY(enter(pid));
    auto id = m_shm->shmget(pid, key, size, flags);
    after_operation();
    return id;
}

Result<u64> Kernel::shmat(Pid pid, i32 shmid, u64 addr, int flags)
{
    Call call = TRY(enter(pid));
    auto at = m_shm->shmat(pid, shmid, addr, flags);
    after_operation();
    return at;
}

Result<void> Kernel::shmdt(Pid pid, u64 addr)
{
    Call call = TRY(enter(pid));
    auto done = m_shm->shmdt(pid, addr);
    after_operation();
    return done;
}

Result<void> Kernel::clear_refs(Pid pid, int type)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().clear_refs(type);
    after_operation();
    return result;
}

} // namespace kioku
