// Process file descriptors (Linux: kernel/pid.c pidfd_open, kernel/signal.c pidfd_send_signal,
// mm/madvise.c process_madvise). A pidfd names one process, not a number: it keeps naming that
// process after it exits (and reports it gone, ESRCH, once reaped) and never a later process that
// got the same pid. It polls readable when the process has exited and hangs up once it is reaped;
// waitid(P_PIDFD) waits for it (SyscallsProcess.cpp).
#include <cstring>
#include <fcntl.h>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

constexpr u64 PIDFD_NONBLOCK_ = O_NONBLOCK;
constexpr u64 PIDFD_THREAD_ = O_EXCL;
constexpr u64 PIDFD_SIGNAL_THREAD_ = 1, PIDFD_SIGNAL_THREAD_GROUP_ = 2, PIDFD_SIGNAL_PROCESS_GROUP_ = 4;

// The advice process_madvise accepts for another process (process_madvise_remote_valid): hints
// that do not change what the process reads.
bool remote_advice_valid(int advice)
{
    return advice == abi::MADV_COLD_ || advice == abi::MADV_PAGEOUT_ || advice == abi::MADV_WILLNEED_ ||
           advice == 25; // MADV_COLLAPSE
}

} // namespace

Result<Process*> Syscalls::pidfd_process(Task& t, int fd)
{
    auto f = open_file(t, fd);
    if (f.is_error())
        return Error::from_errno(EBADF);
    const OpenFile& file = *f.value();
    if (!file.special || file.special->kind != SpecialFile::Kind::Pidfd)
        return Error::from_errno(EBADF);
    Process* p = kernel().process(file.special->proc_pid);
    if (!p || p->start_time_ns != file.special->proc_start_ns)
        return Error::from_errno(ESRCH);
    return p;
}

Result<Process*> Syscalls::proc_dir_process(Task& t, int fd)
{
    auto f = open_file(t, fd);
    if (f.is_error())
        return Error::from_errno(EBADF);
    const OpenFile& file = *f.value();
    if (!file.special || file.special->kind != SpecialFile::Kind::Directory || !file.special->proc_pid)
        return Error::from_errno(EBADF);
    // The process the directory was opened for, not a later one with its number.
    Process* p = kernel().process(file.special->proc_pid);
    if (!p || p->start_time_ns != file.special->proc_start_ns)
        return Error::from_errno(ESRCH);
    return p;
}

PollState Syscalls::poll_pidfd(const SpecialFile& s)
{
    const Process* p = kernel().process(s.proc_pid);
    bool reaped = !p || p->start_time_ns != s.proc_start_ns;
    if (reaped)
        return {EPOLLIN_ | EPOLLRDNORM_ | EPOLLHUP_, {}};
    return {p->alive() ? 0u : EPOLLIN_ | EPOLLRDNORM_, {}};
}

SyscallResult Syscalls::sys_pidfd_open(Task& t, const SyscallArgs& a)
{
    i32 pid = static_cast<i32>(a[0]);
    u64 flags = a[1];
    if (flags & ~(PIDFD_NONBLOCK_ | PIDFD_THREAD_))
        return SyscallResult::err(EINVAL);
    if (pid <= 0)
        return SyscallResult::err(EINVAL);
    Process* p = kernel().process(pid);
    if (!p) {
        // A thread other than a group's leader: ENOENT without PIDFD_THREAD, as Linux 6.9 on.
        // Pidfds of single threads are not modelled (EINVAL with PIDFD_THREAD).
        Task* thread = m_runner.scheduler().task(pid);
        if (!thread || thread->state == RunState::Dead)
            return SyscallResult::err(ESRCH);
        return SyscallResult::err(flags & PIDFD_THREAD_ ? EINVAL : ENOENT);
    }
    auto file = anon_file("anon_inode:[pidfd]");
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Pidfd);
    file->special->proc_pid = pid;
    file->special->proc_start_ns = p->start_time_ns;
    file->special->nonblock = flags & PIDFD_NONBLOCK_;
    return install_fd(t, std::move(file), true); // always close-on-exec
}

SyscallResult Syscalls::sys_pidfd_send_signal(Task& t, const SyscallArgs& a)
{
    int sig = static_cast<int>(a[1]);
    u64 flags = a[3];
    // Where the signal goes: by default the process; one of these flags picks its leader thread,
    // the process, or the process's group.
    if (flags & ~(PIDFD_SIGNAL_THREAD_ | PIDFD_SIGNAL_THREAD_GROUP_ | PIDFD_SIGNAL_PROCESS_GROUP_))
        return SyscallResult::err(EINVAL);
    if (flags & (flags - 1))
        return SyscallResult::err(EINVAL);
    // A pidfd, or a descriptor of a /proc/PID directory (pidfd_to_pid's tgid_pidfd_to_pid).
    auto target = pidfd_process(t, a.fd(0));
    if (target.is_error() && target.error().code == EBADF)
        target = proc_dir_process(t, a.fd(0));
    if (target.is_error())
        return SyscallResult::err(target.error().code);
    Process& p = *target.value();
    if (sig < 0 || sig > NSIG_)
        return SyscallResult::err(EINVAL);
    SigInfo info = user_signal(t, sig);
    if (a[2]) {
        // A caller's siginfo (as rt_sigqueueinfo): only for the caller itself may it claim a
        // code the kernel would use (>= 0) or SI_TKILL.
        std::array<u8, 128> raw{};
        if (get_bytes(t, a[2], raw.data(), raw.size()).is_error())
            return SyscallResult::err(EFAULT);
        i32 signo, code, pid;
        u32 uid;
        u64 value;
        std::memcpy(&signo, raw.data(), 4);
        std::memcpy(&code, raw.data() + 8, 4);
        std::memcpy(&pid, raw.data() + 16, 4);
        std::memcpy(&uid, raw.data() + 20, 4);
        std::memcpy(&value, raw.data() + 24, 8);
        if (signo != sig)
            return SyscallResult::err(EINVAL);
        if ((p.pid() != t.tgid || (flags & PIDFD_SIGNAL_PROCESS_GROUP_)) && (code >= 0 || code == SI_TKILL_))
            return SyscallResult::err(EPERM);
        info.code = code;
        info.pid = pid;
        info.uid = uid;
        info.value = value;
    }
    if (flags & PIDFD_SIGNAL_PROCESS_GROUP_) {
        SyscallArgs kill_args;
        kill_args.a = {
            static_cast<u64>(-static_cast<i64>(session_of(*m_runner.scheduler().group(p.pid())).pgid)),
            static_cast<u64>(sig),
            0,
            0,
            0,
            0};
        return sys_kill(t, kill_args);
    }
    if (!process(t).creds.may_signal(p.creds))
        return SyscallResult::err(EPERM);
    // A zombie still has its signal state until it is reaped: the signal is accepted and lost.
    if (sig == 0 || !p.alive() || !m_runner.scheduler().group(p.pid()))
        return SyscallResult::ret(0);
    if (flags & PIDFD_SIGNAL_THREAD_) {
        Task* leader = m_runner.scheduler().task(p.pid());
        if (leader && leader->state != RunState::Dead)
            m_runner.send_thread_signal(*leader, info);
        return SyscallResult::ret(0);
    }
    m_runner.send_group_signal(p.pid(), info);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_process_madvise(Task& t, const SyscallArgs& a)
{
    u64 iov = a[1], vlen = a[2];
    int advice = static_cast<int>(a[3]);
    if (a[4] != 0)
        return SyscallResult::err(EINVAL);
    // import_iovec: the vector is read whole before anything is advised.
    auto vec = read_iovec(t, iov, vlen);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    for (const IoVec& v : vec.value())
        if (static_cast<i64>(v.len) < 0)
            return SyscallResult::err(EINVAL);
    auto target = pidfd_process(t, a.fd(0));
    if (target.is_error())
        return SyscallResult::err(target.error().code);
    Process& p = *target.value();
    if (!p.alive() || !p.has_space())
        return SyscallResult::err(ESRCH);
    bool remote = p.shared_space() != process(t).shared_space();
    if (remote && !remote_advice_valid(advice))
        return SyscallResult::err(EINVAL);
    if (remote && !process(t).creds.capable(CAP_SYS_NICE))
        return SyscallResult::err(EPERM);
    // vector_madvise: the bytes of the ranges advised before the first failure, or that failure.
    u64 done = 0;
    for (auto [start, len] : vec.value()) {
        auto r = p.space().madvise(start, len, advice);
        if (r.is_error())
            return done ? SyscallResult::ret(static_cast<i64>(done)) : SyscallResult::err(r.error().code);
        done += len;
    }
    return SyscallResult::ret(static_cast<i64>(done));
}

} // namespace kioku
