// The rest of the memory system calls, as the kernel offers them to the system-call layer and to
// scenarios: mremap, madvise, mlock and friends, mincore, memfd_create, /proc/PID/clear_refs,
// fallocate, fadvise64 and System V shared memory.
// The work is the address space's (Madvise.cpp, Mremap.cpp, Mlock.cpp, Mincore.cpp,
// SoftDirty.cpp); this layer finds the process, handles user pointers and runs the invariant
// checker after each call.
#include "kernel/Kernel.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cstring>

#include "hw/Machine.h"
#include "hw/PhysicalMemory.h"
#include "kernel/Process.h"
#include "kernel/Vfs.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/phys/Frame.h"
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
constexpr unsigned MFD_HUGE_SHIFT = 26, MFD_HUGE_MASK = 0x3f;
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
    // With MFD_HUGETLB, bits 26 to 31 may name the huge page size as its log2 (MFD_HUGE_2MB...).
    unsigned allowed = MFD_ALL_FLAGS | ((flags & MFD_HUGETLB) ? MFD_HUGE_MASK << MFD_HUGE_SHIFT : 0);
    if (flags & ~allowed)
        return Error::from_errno(EINVAL, "unknown memfd flags");
    if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL))
        return Error::from_errno(EINVAL, "MFD_EXEC with MFD_NOEXEC_SEAL");
    std::string path = "/memfd:" + name + " (deleted)";
    auto file = std::make_shared<OpenFile>();
    if (flags & MFD_HUGETLB) {
        // An unlinked file of the hugetlbfs mount of that size (hugetlb_file_setup): ENODEV for a
        // size the machine has no pool of.
        Hstate* h = m_mm->hugetlb().hstate_for_shift((flags >> MFD_HUGE_SHIFT) & MFD_HUGE_MASK);
        if (!h)
            return Error::from_errno(ENODEV, "no huge page pool of that size");
        file->inode = m_mm->hugetlb().create_file(*h, path, 0);
    } else {
        file->inode = m_mm->page_cache().create_shmem(0, path);
    }
    // MFD_NOEXEC_SEAL implies MFD_ALLOW_SEALING and seals the file against exec (mode 0666).
    if (flags & MFD_NOEXEC_SEAL) {
        file->inode->seals = Inode::SEAL_EXEC;
        file->inode->shmem_mode &= ~u32{0111};
    } else if (flags & MFD_ALLOW_SEALING) {
        file->inode->seals = 0;
    }
    file->path = path;
    file->readable = true;
    file->writable = true;
    (void)file->inode->get_write_access(); // a new file: nothing runs it
    file->write_access = true;
    int fd = TRY(p->install(std::move(file)));
    after_operation();
    return fd;
}

Result<void> Kernel::fallocate(Pid pid, int fd, int mode, u64 offset, u64 len)
{
    constexpr int KEEP_SIZE = 0x01, PUNCH_HOLE = 0x02, ZERO_RANGE = 0x10;
    Call call = TRY(enter(pid));
    OpenFile* file = TRY(file_of(*call.process(), fd));
    if (!file->inode)
        return Error::from_errno(EBADF, "not a file with an inode");
    Inode& inode = *file->inode;
    if (is_hugetlbfs(*m_mm, &inode)) {
        auto r = hugetlb_fallocate(*m_mm, inode, mode, offset, len);
        after_operation();
        return r;
    }
    int kind = mode & ~KEEP_SIZE;
    // shmem_fallocate and a memfd's seals: no hole in a write-sealed file, no growing past the
    // size of a grow-sealed one (whether or not the size would change).
    if ((kind == PUNCH_HOLE && (inode.seals & (Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE))) ||
        (kind == 0 && (inode.seals & Inode::SEAL_GROW) && offset + len > inode.size()))
        return Error::from_errno(EPERM, "the file is sealed");
    // shmem_fallocate takes allocation and holes only; the root's disk also zeroes ranges.
    if (kind != 0 && kind != PUNCH_HOLE && (kind != ZERO_RANGE || inode.is_shmem()))
        return Error::from_errno(EOPNOTSUPP, "this fallocate mode is not supported by the filesystem");
    u64 end = offset + len;
    u64 first = offset >> PAGE_SHIFT;
    u64 last = (end + PAGE_SIZE - 1) >> PAGE_SHIFT; // exclusive
    if (kind == PUNCH_HOLE || kind == ZERO_RANGE) {
        // Whole pages leave the cache (and the host file); the bytes of partial pages at the
        // edges are zeroed where they are cached, and the host file is zeroed under them.
        u64 whole_first = (offset + PAGE_SIZE - 1) >> PAGE_SHIFT;
        u64 whole_last = end >> PAGE_SHIFT;
        if (!inode.is_shmem() && ::fallocate(inode.host_fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                             static_cast<off_t>(offset), static_cast<off_t>(len)) != 0)
            return Error::from_errno(errno, "punching the host file failed");
        if (whole_first < whole_last)
            m_mm->page_cache().punch_hole(inode, whole_first, whole_last - whole_first);
        for (u64 index : {first, last - 1}) {
            if (index >= whole_first && index < whole_last)
                continue;
            auto page = m_mm->page_cache().find(inode, index);
            if (!page)
                continue;
            u64 from = std::max(offset, index << PAGE_SHIFT) - (index << PAGE_SHIFT);
            u64 to = std::min(end, (index + 1) << PAGE_SHIFT) - (index << PAGE_SHIFT);
            std::memset(m_machine->memory().frame(*page) + from, 0, to - from);
            m_mm->allocator().frames_changed(*page, 1);
        }
        inode.contents_changed();
        m_vfs->changed(inode);
        if (kind == ZERO_RANGE && !(mode & KEEP_SIZE) && end > inode.size())
            TRY(truncate_inode(inode, end));
        after_operation();
        return {};
    }
    if (!(mode & KEEP_SIZE) && end > inode.size())
        TRY(truncate_inode(inode, end));
    if (inode.is_shmem()) {
        // shmem_fallocate allocates the pages now (they count as Shmem at once).
        u64 stop = (mode & KEEP_SIZE) ? std::min(last, inode.size_in_pages()) : last;
        for (u64 index = first; index < stop; ++index) {
            Pfn page = TRY(m_mm->page_cache().get_page(inode, index, 1, nullptr));
            m_mm->put_page(page);
        }
    }
    after_operation();
    return {};
}

Result<void> Kernel::fadvise(Pid pid, int fd, u64 offset, u64 len, int advice)
{
    constexpr int WILLNEED = 3, DONTNEED = 4;
    constexpr u64 WILLNEED_MAX_PAGES = 512; // force_page_cache_readahead reads a bounded window
    Call call = TRY(enter(pid));
    OpenFile* file = TRY(file_of(*call.process(), fd));
    if (!file->inode)
        return Error::from_errno(EBADF, "not a file with an inode");
    Inode& inode = *file->inode;
    if (inode.is_shmem() || is_hugetlbfs(*m_mm, &inode))
        return {}; // generic_fadvise does nothing for a filesystem without a backing device
    u64 end = len == 0 || offset + len < offset ? ~u64{0} : offset + len;
    u64 first = offset >> PAGE_SHIFT;
    u64 last =
        std::min(inode.size_in_pages(), end == ~u64{0} ? ~u64{0} : (end + PAGE_SIZE - 1) >> PAGE_SHIFT);
    if (advice == DONTNEED) {
        // invalidate_mapping_pages: only what is clean, unmapped and not under writeback goes.
        std::vector<u64> drop;
        for (auto pg = inode.pages().lower_bound(first); pg != inode.pages().end() && pg->first < last;
             ++pg) {
            const Frame& f = m_mm->frames()[pg->second];
            if (!f.has(FF_DIRTY) && !f.has(FF_WRITEBACK) && f.mapcount == 0 && f.refcount == 1)
                drop.push_back(pg->first);
        }
        for (u64 index : drop)
            m_mm->page_cache().evict(inode, index);
    } else if (advice == WILLNEED) {
        for (u64 index = first; index < last && index < first + WILLNEED_MAX_PAGES; ++index) {
            auto page = m_mm->page_cache().get_page(inode, index, 1, nullptr);
            if (page.is_error())
                break;
            m_mm->put_page(page.value());
        }
    }
    after_operation();
    return {};
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
