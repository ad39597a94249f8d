// Signal system calls: dispositions, masks, the alternate stack, sending, and rt_sigreturn.
#include <array>
#include <cstring>
#include <limits>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"

namespace kioku {

namespace {

constexpr u64 SIGSET_SIZE = 8;
constexpr u64 MINSIGSTKSZ_ = 2048;
constexpr u32 SS_AUTODISARM_ = 1u << 31;

bool valid_signal(u64 sig)
{
    return sig >= 1 && sig <= static_cast<u64>(NSIG_);
}

} // namespace

SyscallResult Syscalls::sys_rt_sigaction(Task& t, const SyscallArgs& a)
{
    int sig = static_cast<int>(a[0]);
    if (a[3] != SIGSET_SIZE || !valid_signal(a[0]))
        return SyscallResult::err(EINVAL);
    ThreadGroup& g = group(t);
    SigAction old = g.actions[static_cast<size_t>(sig)];
    if (a[1]) {
        if (sig == SIGKILL_ || sig == SIGSTOP_)
            return SyscallResult::err(EINVAL);
        u64 raw[3];
        if (get_bytes(t, a[1], raw, sizeof raw).is_error())
            return SyscallResult::err(EFAULT);
        SigAction act{raw[0], raw[1], raw[2] & ~UNBLOCKABLE};
        g.actions[static_cast<size_t>(sig)] = act;
        // Setting a disposition that ignores a pending signal discards it (POSIX).
        if (is_ignored(act, sig)) {
            g.pending &= ~sig_bit(sig);
            for (Task* th : m_runner.scheduler().threads_of(t.tgid))
                th->pending &= ~sig_bit(sig);
        }
    }
    if (a[2]) {
        u64 raw[3] = {old.handler, old.flags, old.mask};
        if (put_bytes(t, a[2], raw, sizeof raw).is_error())
            return SyscallResult::err(EFAULT);
    }
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_rt_sigprocmask(Task& t, const SyscallArgs& a)
{
    if (a[3] != SIGSET_SIZE)
        return SyscallResult::err(EINVAL);
    u64 old = t.blocked;
    if (a[1]) {
        u64 set = 0;
        if (get_bytes(t, a[1], &set, 8).is_error())
            return SyscallResult::err(EFAULT);
        switch (a[0]) {
        case 0: t.blocked |= set; break;
        case 1: t.blocked &= ~set; break;
        case 2: t.blocked = set; break;
        default: return SyscallResult::err(EINVAL);
        }
        t.blocked &= ~UNBLOCKABLE;
    }
    if (a[2] && put_bytes(t, a[2], &old, 8).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_rt_sigreturn(Task& t, const SyscallArgs&)
{
    if (restore_rt_frame(kernel(), t).is_error()) {
        SigInfo info;
        info.signo = SIGSEGV_;
        info.code = SI_KERNEL_;
        m_runner.force_signal(t, info);
    }
    return SyscallResult::no_return();
}

SyscallResult Syscalls::sys_sigaltstack(Task& t, const SyscallArgs& a)
{
    u64 sp = t.regs.x[2];
    bool on = t.altstack_size && sp > t.altstack_sp && sp - t.altstack_sp <= t.altstack_size;
    if (a[1]) {
        u8 out[24] = {};
        u32 flags = on ? SS_ONSTACK_ : (t.altstack_size ? 0 : SS_DISABLE_);
        std::memcpy(out, &t.altstack_sp, 8);
        std::memcpy(out + 8, &flags, 4);
        std::memcpy(out + 16, &t.altstack_size, 8);
        if (put_bytes(t, a[1], out, sizeof out).is_error())
            return SyscallResult::err(EFAULT);
    }
    if (a[0]) {
        u8 in[24];
        if (get_bytes(t, a[0], in, sizeof in).is_error())
            return SyscallResult::err(EFAULT);
        u64 ss_sp, ss_size;
        u32 flags;
        std::memcpy(&ss_sp, in, 8);
        std::memcpy(&flags, in + 8, 4);
        std::memcpy(&ss_size, in + 16, 8);
        if (on)
            return SyscallResult::err(EPERM);
        u32 mode = flags & ~SS_AUTODISARM_;
        if (mode != 0 && mode != static_cast<u32>(SS_DISABLE_) && mode != static_cast<u32>(SS_ONSTACK_))
            return SyscallResult::err(EINVAL);
        if (mode == static_cast<u32>(SS_DISABLE_)) {
            t.altstack_sp = 0;
            t.altstack_size = 0;
            t.altstack_flags = SS_DISABLE_;
        } else {
            if (ss_size < MINSIGSTKSZ_)
                return SyscallResult::err(ENOMEM);
            t.altstack_sp = ss_sp;
            t.altstack_size = ss_size;
            t.altstack_flags = 0;
        }
    }
    return SyscallResult::ret(0);
}

SigInfo Syscalls::user_signal(Task& t, int sig)
{
    SigInfo info;
    info.signo = sig;
    info.code = SI_USER_;
    info.pid = t.tgid;
    info.uid = process(t).creds.uid;
    return info;
}

SyscallResult Syscalls::sys_kill(Task& t, const SyscallArgs& a)
{
    i32 pid = static_cast<i32>(a[0]);
    int sig = static_cast<int>(a[1]);
    if (sig < 0 || sig > NSIG_)
        return SyscallResult::err(EINVAL);
    SigInfo info = user_signal(t, sig);
    std::vector<Pid> targets;
    if (pid > 0) {
        // A zombie is still there to be signalled (the signal is lost) until it is reaped.
        Process* p = kernel().process(pid);
        if (!p || !m_runner.scheduler().group(pid))
            return SyscallResult::err(ESRCH);
        targets.push_back(pid);
    } else if (pid == -1) {
        // Everyone but init and the caller.
        for (Pid p : kernel().pids())
            if (m_runner.scheduler().group(p) && p != 1 && p != t.tgid)
                targets.push_back(p);
    } else if (pid == std::numeric_limits<i32>::min()) {
        return SyscallResult::err(ESRCH); // -INT_MIN is not a process group
    } else {
        // 0: the caller's process group; -pgid: that group.
        Pid pgid = pid == 0 ? session_of(group(t)).pgid : -pid;
        targets = members_of(pgid);
    }
    if (targets.empty())
        return SyscallResult::err(ESRCH);
    // A group or broadcast kill succeeds if any one target allows it (Credentials::may_signal).
    const Credentials& me = process(t).creds;
    size_t before = targets.size();
    std::erase_if(targets, [&](Pid p) {
        const Process* target = kernel().process(p);
        return target && !me.may_signal(target->creds);
    });
    if (targets.empty())
        return SyscallResult::err(before ? EPERM : ESRCH);
    if (sig == 0)
        return SyscallResult::ret(0);
    for (Pid p : targets)
        m_runner.send_group_signal(p, info);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_tgkill(Task& t, const SyscallArgs& a)
{
    i32 tgid = static_cast<i32>(a[0]);
    i32 tid = static_cast<i32>(a[1]);
    int sig = static_cast<int>(a[2]);
    if (tgid <= 0 || tid <= 0 || sig < 0 || sig > NSIG_)
        return SyscallResult::err(EINVAL);
    Task* target = m_runner.scheduler().task(tid);
    if (!target || target->state == RunState::Dead || target->tgid != tgid)
        return SyscallResult::err(ESRCH);
    if (sig == 0)
        return SyscallResult::ret(0);
    SigInfo info;
    info.signo = sig;
    info.code = SI_TKILL_;
    info.pid = t.tgid;
    m_runner.send_thread_signal(*target, info);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_tkill(Task& t, const SyscallArgs& a)
{
    Task* target = m_runner.scheduler().task(static_cast<Tid>(a[0]));
    if (!target || target->state == RunState::Dead)
        return SyscallResult::err(ESRCH);
    SyscallArgs g;
    g.a = {static_cast<u64>(target->tgid), a[0], a[1], 0, 0, 0};
    return sys_tgkill(t, g);
}

SyscallResult Syscalls::sys_rt_sigsuspend(Task& t, const SyscallArgs& a)
{
    if (a[1] != SIGSET_SIZE)
        return SyscallResult::err(EINVAL);
    u64 mask = 0;
    if (get_bytes(t, a[0], &mask, 8).is_error())
        return SyscallResult::err(EFAULT);
    if (!t.saved_mask)
        t.saved_mask = t.blocked;
    t.blocked = mask & ~UNBLOCKABLE;
    // Woken only by a signal, which makes the call return EINTR. An armed timer's expiry is
    // the deadline, so that when every task waits the clock moves on to the timer's signal.
    t.block = BlockKind::Sleep;
    t.deadline_ns = next_timer();
    return SyscallResult::block();
}

SyscallResult Syscalls::sys_rt_sigpending(Task& t, const SyscallArgs& a)
{
    if (a[1] != SIGSET_SIZE)
        return SyscallResult::err(EINVAL);
    u64 set = (t.pending | group(t).pending) & t.blocked;
    return put_bytes(t, a[0], &set, 8).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_rt_sigtimedwait(Task& t, const SyscallArgs& a)
{
    if (a[3] != SIGSET_SIZE)
        return SyscallResult::err(EINVAL);
    u64 set = 0;
    if (get_bytes(t, a[0], &set, 8).is_error())
        return SyscallResult::err(EFAULT);
    set &= ~UNBLOCKABLE;
    u64 now = kernel().now_ns();
    if (first_run(t)) {
        std::optional<u64> until;
        if (a[2]) {
            i64 ts[2] = {};
            if (get_bytes(t, a[2], ts, sizeof ts).is_error())
                return SyscallResult::err(EFAULT);
            if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1'000'000'000)
                return SyscallResult::err(EINVAL);
            u64 secs = static_cast<u64>(ts[0]);
            if (secs < (~u64{0} - now) / 1'000'000'000 - 1)
                until = now + secs * 1'000'000'000 + static_cast<u64>(ts[1]);
        }
        t.wait_until = until;
        // While it waits, the signals it waits for are held back from handlers and default
        // actions: they stay pending for this call to take (do_sigtimedwait dequeues them itself
        // before returning to the program). Any other unblocked signal interrupts it (EINTR).
        if (!t.saved_mask)
            t.saved_mask = t.blocked;
        t.blocked |= set;
    }
    ThreadGroup& g = group(t);
    u64 own = t.pending & set;
    u64 shared = g.pending & set;
    if (own || shared) {
        u64& from = own ? t.pending : g.pending;
        int sig = __builtin_ctzll(own ? own : shared) + 1;
        SigInfo info =
            own ? t.pending_info[static_cast<size_t>(sig)] : g.pending_info[static_cast<size_t>(sig)];
        from &= ~sig_bit(sig);
        info = timer_signal_dequeued(kernel(), t, info);
        restore_sigmask(t);
        end_wait(t);
        if (a[1]) {
            std::array<u8, 128> raw{};
            encode_siginfo(info, std::span<u8, 128>(raw.data(), 128));
            if (put_bytes(t, a[1], raw.data(), raw.size()).is_error())
                return SyscallResult::err(EFAULT);
        }
        return SyscallResult::ret(sig);
    }
    if (!t.wait_until || now < *t.wait_until)
        return block_retry(t, t.wait_until, RestartAfterHandler::No);
    restore_sigmask(t);
    end_wait(t);
    return SyscallResult::err(EAGAIN);
}

} // namespace kioku
