// System V shared memory (Linux: ipc/shm.c): shmget, shmat, shmdt and shmctl over segments that
// are shmem files, as Linux makes them (shmem_kernel_file_setup, named "SYSV" and the key, with
// the segment's id as inode number). An attach is a MAP_SHARED mapping of that file, so its pages
// live in the page cache, are shared by every process that attaches, go to swap under pressure,
// and are counted as Shmem; fork duplicates the mapping as any other.
//
// The attach count is the number of VMAs mapping the segment, kept through the file's mapping
// observer (Linux's shm_open and shm_close): fork and a split add one, munmap, shmdt and exit
// take one away, and the last one gone from a segment marked for removal (IPC_RMID) destroys
// it. Ids are built as Linux builds them: the slot index plus a sequence number shifted by 15,
// so the first segment is 0, the second 32769, and so on. Permissions are not checked: every
// guest process runs as root.
//
// The limits are the kernel.shm* sysctls: shmmax (largest segment), shmall (pages in all
// segments), shmmni (number of segments), with Linux's defaults. A SHM_HUGETLB segment is a
// hugetlbfs file of whole huge pages, reserved from the pool when made (unless SHM_NORESERVE), as
// hugetlb_file_setup does. SHM_LOCK marks a shmem file unevictable, as shmem_lock does, so
// reclaim culls its pages to the unevictable list, and SHM_UNLOCK puts them back.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/Result.h"
#include "base/Types.h"
#include "kernel/Credentials.h"
#include "mm/cache/Inode.h"

namespace kioku {

class Kernel;
using Pid = i32;

// struct shmid64_ds's contents, before the system-call layer lays them out for the guest.
struct ShmSegmentStat {
    i32 key = 0;
    i32 id = 0;
    u32 mode = 0; // permission bits | SHM_DEST | SHM_LOCKED
    u32 uid = 0, gid = 0, cuid = 0, cgid = 0;
    u16 seq = 0;
    u64 size = 0;
    i64 atime = 0, dtime = 0, ctime = 0;
    Pid cpid = 0, lpid = 0;
    u64 nattch = 0;
    u64 rss_pages = 0, swap_pages = 0;
};

struct ShmLimits {
    u64 shmmax = 18446744073692774399ull; // ULONG_MAX - 2^24, as SHMMAX
    u64 shmall = 18446744073692774399ull; // pages
    u64 shmmni = 4096;
    // kernel.shm_next_id (CONFIG_CHECKPOINT_RESTORE): the id the next new segment gets, or -1 for
    // the usual choice; a segment made with it sets it back to -1.
    i32 next_id = -1;
};

class SysvShm final : private MappingObserver {
  public:
    // shmget/shmat/shmctl flag and command values (include/uapi/linux/ipc.h, shm.h).
    static constexpr i32 IPC_PRIVATE = 0;
    static constexpr int IPC_CREAT = 01000, IPC_EXCL = 02000;
    static constexpr int IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
    static constexpr int SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
    static constexpr int SHM_HUGETLB = 04000, SHM_NORESERVE = 010000;
    static constexpr unsigned SHM_HUGE_SHIFT = 26, SHM_HUGE_MASK = 0x3f;
    static constexpr int SHM_RDONLY = 010000, SHM_RND = 020000, SHM_REMAP = 040000, SHM_EXEC = 0100000;
    static constexpr u32 SHM_DEST = 01000, SHM_LOCKED = 02000;
    static constexpr unsigned IPCMNI_SHIFT = 15;
    static constexpr i32 IPCMNI_MASK = (1 << IPCMNI_SHIFT) - 1;

    explicit SysvShm(Kernel& kernel);
    ~SysvShm();

    // ipcperms: whether the credentials grant `requested` (S_IRUGO, S_IWUGO bits: 0444, 0222)
    // through the owner's, the group's or everyone's bits of the segment's mode; CAP_IPC_OWNER
    // passes. And ipcctl_obtain_check: whether they own it (IPC_SET, IPC_RMID), or have
    // CAP_SYS_ADMIN.
    static bool permitted(const Credentials& c, const ShmSegmentStat& st, u32 requested);
    static bool owns(const Credentials& c, const ShmSegmentStat& st);
    Result<i32> shmget(Pid pid, i32 key, u64 size, int flags);
    Result<u64> shmat(Pid pid, i32 shmid, u64 addr, int flags);
    Result<void> shmdt(Pid pid, u64 addr);

    // shmctl's commands, split by what they carry.
    Result<ShmSegmentStat> stat(i32 shmid) const;       // IPC_STAT
    Result<ShmSegmentStat> stat_index(i32 index) const; // SHM_STAT, SHM_STAT_ANY: .id is returned
    Result<void> set(i32 shmid, u32 uid, u32 gid, u32 mode);
    Result<void> remove(i32 shmid);
    Result<void> lock(i32 shmid, bool lock);
    i32 highest_index() const; // IPC_INFO and SHM_INFO return it (0 when there is none)
    struct Totals {
        u64 used_ids = 0, pages = 0, rss_pages = 0, swap_pages = 0;
    };
    Totals totals() const; // SHM_INFO

    ShmLimits& limits() { return m_limits; }
    std::string proc_sysvipc_shm() const; // /proc/sysvipc/shm

  private:
    struct Segment {
        std::shared_ptr<Inode> file;
        ShmSegmentStat st;
        u64 pages = 0;
    };

    void vma_opened(Inode& inode) override;
    void vma_closed(Inode& inode) override;
    Segment* find(i32 shmid);
    const Segment* find(i32 shmid) const;
    Segment* segment_of(const Inode& inode);
    ShmSegmentStat current(const Segment& s) const;
    void destroy(i32 index);
    i64 now_s() const;

    Kernel& m_kernel;
    ShmLimits m_limits;
    std::map<i32, Segment> m_segments; // by slot index
    u16 m_seq = 0;
    i32 m_last_index = -1;
    u64 m_total_pages = 0;
};

} // namespace kioku
