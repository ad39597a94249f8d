// System V shared memory system calls (Linux: ipc/shm.c's ksys_shm*): argument checks and the
// guest's structures (struct shmid64_ds, shminfo64, shm_info as riscv64 lays them out); the
// segments themselves are SysvShm's.
#include <cstring>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Syscalls.h"
#include "kernel/SysvShm.h"

namespace kioku {

namespace {

// struct shmid64_ds of the generic 64-bit ABI (include/uapi/asm-generic/shmbuf.h, ipcbuf.h).
struct GuestShmidDs {
    i32 key;
    u32 uid, gid, cuid, cgid;
    u32 mode;
    u16 seq, pad2;
    u64 unused1, unused2;
    u64 segsz;
    i64 atime, dtime, ctime;
    i32 cpid, lpid;
    u64 nattch;
    u64 unused4, unused5;
};
static_assert(sizeof(GuestShmidDs) == 112);

struct GuestShminfo {
    u64 shmmax, shmmin, shmmni, shmseg, shmall;
    u64 unused[4];
};
static_assert(sizeof(GuestShminfo) == 72);

struct GuestShmInfo {
    i32 used_ids;
    u32 pad;
    u64 shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};
static_assert(sizeof(GuestShmInfo) == 48);

GuestShmidDs to_guest(const ShmSegmentStat& s)
{
    GuestShmidDs d{};
    d.key = s.key;
    d.uid = s.uid;
    d.gid = s.gid;
    d.cuid = s.cuid;
    d.cgid = s.cgid;
    d.mode = s.mode;
    d.seq = s.seq;
    d.segsz = s.size;
    d.atime = s.atime;
    d.dtime = s.dtime;
    d.ctime = s.ctime;
    d.cpid = s.cpid;
    d.lpid = s.lpid;
    d.nattch = s.nattch;
    return d;
}

} // namespace

SyscallResult Syscalls::sys_shmget(Task& t, const SyscallArgs& a)
{
    auto id = kernel().shmget(t.tgid, static_cast<i32>(a[0]), a[1], static_cast<int>(a[2]));
    return id.is_error() ? SyscallResult::err(id.error().code) : SyscallResult::ret(id.value());
}

SyscallResult Syscalls::sys_shmat(Task& t, const SyscallArgs& a)
{
    auto at = kernel().shmat(t.tgid, static_cast<i32>(a[0]), a[1], static_cast<int>(a[2]));
    return at.is_error() ? SyscallResult::err(at.error().code)
                         : SyscallResult::ret(static_cast<i64>(at.value()));
}

SyscallResult Syscalls::sys_shmdt(Task& t, const SyscallArgs& a)
{
    auto done = kernel().shmdt(t.tgid, a[0]);
    return done.is_error() ? SyscallResult::err(done.error().code) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_shmctl(Task& t, const SyscallArgs& a)
{
    i32 shmid = static_cast<i32>(a[0]);
    int cmd = static_cast<int>(a[1]);
    u64 buf = a[2];
    if (cmd < 0 || shmid < 0)
        return SyscallResult::err(EINVAL);
    SysvShm& shm = kernel().sysv_shm();
    auto put = [&](const void* src, u64 n, i64 value) {
        return put_bytes(t, buf, src, n).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(value);
    };
    switch (cmd) {
    case SysvShm::IPC_INFO: {
        GuestShminfo info{};
        info.shmmax = shm.limits().shmmax;
        info.shmmin = 1;
        info.shmmni = info.shmseg = shm.limits().shmmni;
        info.shmall = shm.limits().shmall;
        return put(&info, sizeof info, shm.highest_index());
    }
    case SysvShm::SHM_INFO: {
        auto totals = shm.totals();
        GuestShmInfo info{};
        info.used_ids = static_cast<i32>(totals.used_ids);
        info.shm_tot = totals.pages;
        info.shm_rss = totals.rss_pages;
        info.shm_swp = totals.swap_pages;
        return put(&info, sizeof info, shm.highest_index());
    }
    case SysvShm::IPC_STAT:
    case SysvShm::SHM_STAT:
    case SysvShm::SHM_STAT_ANY: {
        auto st = cmd == SysvShm::IPC_STAT ? shm.stat(shmid) : shm.stat_index(shmid);
        if (st.is_error())
            return SyscallResult::err(st.error().code);
        if (cmd != SysvShm::SHM_STAT_ANY && !SysvShm::permitted(process(t).creds, st.value(), 0444))
            return SyscallResult::err(EACCES);
        GuestShmidDs d = to_guest(st.value());
        return put(&d, sizeof d, cmd == SysvShm::IPC_STAT ? 0 : st.value().id);
    }
    case SysvShm::IPC_SET: {
        GuestShmidDs d{};
        if (get_bytes(t, buf, &d, sizeof d).is_error())
            return SyscallResult::err(EFAULT);
        if (auto st = shm.stat(shmid); !st.is_error() && !SysvShm::owns(process(t).creds, st.value()))
            return SyscallResult::err(EPERM);
        auto done = shm.set(shmid, d.uid, d.gid, d.mode);
        return done.is_error() ? SyscallResult::err(done.error().code) : SyscallResult::ret(0);
    }
    case SysvShm::IPC_RMID: {
        if (auto st = shm.stat(shmid); !st.is_error() && !SysvShm::owns(process(t).creds, st.value()))
            return SyscallResult::err(EPERM);
        auto done = shm.remove(shmid);
        return done.is_error() ? SyscallResult::err(done.error().code) : SyscallResult::ret(0);
    }
    case SysvShm::SHM_LOCK:
    case SysvShm::SHM_UNLOCK: {
        // Without CAP_IPC_LOCK only the owner may, and SHM_LOCK needs an RLIMIT_MEMLOCK.
        const Credentials& c = process(t).creds;
        if (auto st = shm.stat(shmid); !st.is_error() && !c.capable(CAP_IPC_LOCK)) {
            if (c.euid != st.value().uid && c.euid != st.value().cuid)
                return SyscallResult::err(EPERM);
            if (cmd == SysvShm::SHM_LOCK && process(t).rlimits().soft(Rlimit::Memlock) == 0)
                return SyscallResult::err(EPERM);
        }
        auto done = shm.lock(shmid, cmd == SysvShm::SHM_LOCK);
        return done.is_error() ? SyscallResult::err(done.error().code) : SyscallResult::ret(0);
    }
    default: return SyscallResult::err(EINVAL);
    }
}

} // namespace kioku
