// Timers: setitimer / getitimer (with SIGALRM, SIGVTALRM and SIGPROF), the timerfd family and the
// POSIX timers (timer_create and the rest), all on the simulated clock. One hart looks at the
// clock at its own points, so timers fire when a system call runs or a blocked call is retried; a
// blocked call's deadline includes the next timer, so a program waiting for its alarm gets it
// without waiting in real time.
#include <fcntl.h>

#include <array>
#include <cstring>

#include "kernel/Kernel.h"
#include "kernel/PosixTimer.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/TimerFd.h"

namespace kioku {

namespace {

constexpr u64 NS_PER_USEC = 1000;
constexpr int SIGVTALRM_ = 26, SIGPROF_ = 27;
constexpr int ITIMER_SIGNALS[3] = {SIGALRM_, SIGVTALRM_, SIGPROF_};
constexpr u64 TFD_TIMER_ABSTIME_ = 1, TFD_TIMER_CANCEL_ON_SET_ = 2;

bool realtime_clock(int clockid)
{
    return clockid == 0 || clockid == 8; // CLOCK_REALTIME, CLOCK_REALTIME_ALARM
}

// A (seconds, sub-unit) pair to nanoseconds; EINVAL when out of range.
Result<u64> to_ns(const i64 pair[2], u64 unit_ns, i64 units_per_sec)
{
    if (pair[0] < 0 || pair[1] < 0 || pair[1] >= units_per_sec)
        return Error::from_errno(EINVAL, "bad time value");
    return static_cast<u64>(pair[0]) * NS_PER_SEC + static_cast<u64>(pair[1]) * unit_ns;
}

void from_ns(u64 ns, u64 unit_ns, i64 out[2])
{
    out[0] = static_cast<i64>(ns / NS_PER_SEC);
    out[1] = static_cast<i64>((ns % NS_PER_SEC) / unit_ns);
}

// struct sigevent on riscv64: sigev_value, sigev_signo, sigev_notify, then a union whose first
// member is the SIGEV_THREAD_ID thread; 64 bytes in all, which timer_create copies whole.
constexpr u64 SIGEVENT_SIZE = 64;
constexpr int SIGEV_SIGNAL_ = 0, SIGEV_NONE_ = 1, SIGEV_THREAD_ = 2, SIGEV_THREAD_ID_ = 4;
constexpr u64 TIMER_ABSTIME_ = 1;
// ktime_t is signed: a longer time is cut to KTIME_MAX, as timespec64_to_ktime cuts it.
constexpr u64 KTIME_MAX = 0x7fff'ffff'ffff'ffff;

// A timespec in nanoseconds; EINVAL when it is not valid (timespec64_valid).
Result<u64> timespec_ns(const i64 ts[2])
{
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= static_cast<i64>(NS_PER_SEC))
        return Error::from_errno(EINVAL, "bad timespec");
    if (static_cast<u64>(ts[0]) >= KTIME_MAX / NS_PER_SEC)
        return KTIME_MAX;
    return static_cast<u64>(ts[0]) * NS_PER_SEC + static_cast<u64>(ts[1]);
}

u64 saturating_add(u64 a, u64 b)
{
    return a > KTIME_MAX - std::min(b, KTIME_MAX) ? KTIME_MAX : a + b;
}

// The clocks timer_create accepts (clockid_to_kclock, then whether the clock has timers). All
// count on the simulated clock. CPU-time clocks (2, 3 and the negative per-process and
// per-thread encodings glibc passes for them) count simulated time as well, as ITIMER_PROF does
// here: one hart is always running someone, so the caller's CPU time is not modelled apart.
Result<void> check_timer_clock(i32 clockid)
{
    constexpr i32 CLOCKFD = 3, CLOCKFD_MASK = 7;
    if (clockid < 0) // a CPU-time clock, or a dynamic clock's fd, which has no timers
        return (clockid & CLOCKFD_MASK) == CLOCKFD ? Error::from_errno(EOPNOTSUPP, "no timers on this clock")
                                                   : Result<void>{};
    switch (clockid) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 7:
    case 11: return {}; // REALTIME, MONOTONIC, the CPU-time clocks, BOOTTIME, TAI
    case 4:
    case 5:
    case 6: // MONOTONIC_RAW and the coarse clocks have no timers
    case 8:
    case 9: // alarm timers need an RTC to wake the machine, and kioku models none
        return Error::from_errno(EOPNOTSUPP, "no timers on this clock");
    default: return Error::from_errno(EINVAL, "no such clock");
    }
}

// CLOCK_REALTIME and CLOCK_TAI (TAI is realtime here: its offset is zero until set).
bool realtime_timer_clock(int clockid)
{
    return clockid == 0 || clockid == 11;
}

} // namespace

std::optional<u64> Syscalls::next_timer() const
{
    u64 now = m_runner.kernel().now_ns();
    std::optional<u64> next;
    auto consider = [&](u64 at) {
        if (at > now)
            next = next ? std::min(*next, at) : at;
    };
    for (auto& [pid, g] : m_runner.scheduler().groups()) {
        for (const IntervalTimer& it : g->itimers)
            if (it.deadline_ns)
                consider(it.deadline_ns);
        if (Process* p = m_runner.kernel().process(pid); p && p->alive())
            for (auto& [id, timer] : p->posix_timers().timers())
                if (std::optional<u64> at = timer.next_signal())
                    consider(*at);
    }
    for (auto& weak : m_timerfds)
        if (auto fd = weak.lock(); fd && fd->next_expiry())
            consider(*fd->next_expiry());
    return next;
}

void Syscalls::fire_timers()
{
    u64 now = kernel().now_ns();
    if (now < m_next_timer_ns)
        return;
    std::erase_if(m_timerfds, [](const std::weak_ptr<TimerFd>& w) { return w.expired(); });
    std::vector<std::pair<Pid, int>> due;
    for (auto& [pid, g] : m_runner.scheduler().groups()) {
        for (size_t i = 0; i < g->itimers.size(); ++i) {
            IntervalTimer& it = g->itimers[i];
            if (!it.deadline_ns || it.deadline_ns > now)
                continue;
            // Periods missed while nobody looked collapse into one signal, as overruns do.
            if (it.interval_ns)
                it.deadline_ns += ((now - it.deadline_ns) / it.interval_ns + 1) * it.interval_ns;
            else
                it.deadline_ns = 0;
            due.emplace_back(pid, ITIMER_SIGNALS[i]);
        }
    }
    for (auto [pid, sig] : due) {
        SigInfo info;
        info.signo = sig;
        info.code = SI_KERNEL_;
        m_runner.send_group_signal(pid, info);
    }
    bool waiting = fire_posix_timers(now);
    std::optional<u64> next = next_timer();
    // While a timer waits for its queued signal, every call looks, for the signal may leave the
    // pending set without a handler (discarded as ignored) and the timer then restarts.
    m_next_timer_ns = waiting ? 0 : next ? *next : ~u64{0};
}

void Syscalls::note_timer(u64 at_ns)
{
    m_next_timer_ns = std::min(m_next_timer_ns, at_ns);
}

// --- setitimer / getitimer -------------------------------------------------------------------------

SyscallResult Syscalls::sys_getitimer(Task& t, const SyscallArgs& a)
{
    if (a[0] > 2)
        return SyscallResult::err(EINVAL);
    const IntervalTimer& it = group(t).itimers[a[0]];
    u64 now = kernel().now_ns();
    // An armed timer that is due but not yet fired shows one microsecond left, as Linux's does.
    u64 left = !it.deadline_ns ? 0 : it.deadline_ns > now ? it.deadline_ns - now : NS_PER_USEC;
    i64 out[4];
    from_ns(it.interval_ns, NS_PER_USEC, out);
    from_ns(left, NS_PER_USEC, out + 2);
    return put_bytes(t, a[1], out, sizeof out).is_error() ? SyscallResult::err(EFAULT)
                                                          : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_setitimer(Task& t, const SyscallArgs& a)
{
    if (a[0] > 2)
        return SyscallResult::err(EINVAL);
    i64 in[4] = {};
    if (a[1] && get_bytes(t, a[1], in, sizeof in).is_error())
        return SyscallResult::err(EFAULT);
    auto interval = to_ns(in, NS_PER_USEC, 1'000'000);
    auto value = to_ns(in + 2, NS_PER_USEC, 1'000'000);
    if (interval.is_error() || value.is_error())
        return SyscallResult::err(EINVAL);
    if (a[2]) {
        SyscallArgs get;
        get.a = {a[0], a[2], 0, 0, 0, 0};
        if (SyscallResult r = sys_getitimer(t, get); r.value != 0)
            return r;
    }
    IntervalTimer& it = group(t).itimers[a[0]];
    it.deadline_ns = value.value() ? kernel().now_ns() + value.value() : 0;
    it.interval_ns = value.value() ? interval.value() : 0;
    if (it.deadline_ns)
        note_timer(it.deadline_ns);
    return SyscallResult::ret(0);
}

// --- timerfd -----------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_timerfd_create(Task& t, const SyscallArgs& a)
{
    int clockid = static_cast<int>(a[0]);
    if (clockid != 0 && clockid != 1 && clockid != 7 && clockid != 8 && clockid != 9)
        return SyscallResult::err(EINVAL);
    if (a[1] & ~u64{O_CLOEXEC | O_NONBLOCK})
        return SyscallResult::err(EINVAL);
    auto file = std::make_shared<OpenFile>();
    file->path = "anon_inode:[timerfd]";
    file->readable = true;
    file->writable = true;
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::TimerFd);
    file->special->timerfd = std::make_shared<TimerFd>(clockid);
    file->special->nonblock = a[1] & O_NONBLOCK;
    m_timerfds.push_back(file->special->timerfd);
    return install_fd(t, std::move(file), a[1] & O_CLOEXEC);
}

Result<TimerFd*> Syscalls::timerfd_of(Task& t, int fd)
{
    OpenFile* f = TRY(open_file(t, fd));
    if (!f->special || !f->special->timerfd)
        return Error::from_errno(EINVAL, "not a timerfd");
    return f->special->timerfd.get();
}

Result<void> Syscalls::put_itimerspec(Task& t, u64 addr, u64 interval_ns, u64 remaining_ns)
{
    i64 out[4];
    from_ns(interval_ns, 1, out);
    from_ns(remaining_ns, 1, out + 2);
    return put_bytes(t, addr, out, sizeof out);
}

Result<void> Syscalls::put_timerfd_setting(Task& t, TimerFd& timer, u64 addr)
{
    TimerFd::Setting s = timer.setting(kernel().now_ns());
    return put_itimerspec(t, addr, s.interval_ns, s.remaining_ns);
}

SyscallResult Syscalls::sys_timerfd_settime(Task& t, const SyscallArgs& a)
{
    i64 in[4] = {};
    if (get_bytes(t, a[2], in, sizeof in).is_error())
        return SyscallResult::err(EFAULT);
    if (a[1] & ~(TFD_TIMER_ABSTIME_ | TFD_TIMER_CANCEL_ON_SET_))
        return SyscallResult::err(EINVAL);
    auto interval = to_ns(in, 1, static_cast<i64>(NS_PER_SEC));
    auto value = to_ns(in + 2, 1, static_cast<i64>(NS_PER_SEC));
    if (interval.is_error() || value.is_error())
        return SyscallResult::err(EINVAL);
    auto timer = timerfd_of(t, a.fd(0));
    if (timer.is_error())
        return SyscallResult::err(timer.error().code);
    if (a[3] && put_timerfd_setting(t, *timer.value(), a[3]).is_error())
        return SyscallResult::err(EFAULT);
    u64 now = kernel().now_ns();
    std::optional<u64> expiry;
    if (value.value()) {
        u64 v = value.value();
        if (!(a[1] & TFD_TIMER_ABSTIME_))
            expiry = now + v;
        else if (realtime_clock(timer.value()->clockid()))
            expiry = v > REALTIME_EPOCH_S * NS_PER_SEC ? v - REALTIME_EPOCH_S * NS_PER_SEC : 0;
        else
            expiry = v;
    }
    timer.value()->arm(expiry, interval.value());
    if (expiry)
        note_timer(*expiry);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_timerfd_gettime(Task& t, const SyscallArgs& a)
{
    auto timer = timerfd_of(t, a.fd(0));
    if (timer.is_error())
        return SyscallResult::err(timer.error().code);
    return put_timerfd_setting(t, *timer.value(), a[1]).is_error() ? SyscallResult::err(EFAULT)
                                                                   : SyscallResult::ret(0);
}

// --- POSIX timers ----------------------------------------------------------------------------------

bool Syscalls::fire_posix_timers(u64 now)
{
    std::vector<std::pair<Pid, int>> due;
    bool waiting = false;
    for (auto& [pid, g] : m_runner.scheduler().groups()) {
        Process* p = kernel().process(pid);
        if (!p || !p->alive())
            continue;
        for (auto& [id, timer] : p->posix_timers().timers()) {
            // A queued signal gone from the set without reaching a handler (it was ignored when
            // taken) restarts its timer now; a delivered one restarted it in setup_rt_frame.
            if (timer.queued() && !timer_signal_pending(pid, timer, Drop::No))
                timer.dequeued(now);
            if (std::optional<u64> at = timer.next_signal(); at && *at <= now)
                due.emplace_back(pid, id);
            waiting |= timer.queued();
        }
    }
    // Signals are sent after the walk: a signal can end a process and change the tables walked.
    for (auto [pid, id] : due)
        waiting |= send_timer_signal(pid, id, now);
    return waiting;
}

bool Syscalls::send_timer_signal(Pid pid, int timer_id, u64 now)
{
    Process* p = kernel().process(pid);
    PosixTimer* timer = p ? p->posix_timers().find(timer_id) : nullptr;
    if (!timer)
        return false;
    TimerNotify notify = timer->notify();
    SigInfo info = timer_siginfo(notify.signo, {timer_id, 0, notify.value});
    if (notify.kind == TimerNotify::Kind::Thread) {
        // A thread that has exited since timer_create gets nothing; the timer goes on.
        Task* target = m_runner.scheduler().task(notify.tid);
        if (target && target->tgid == pid && target->state != RunState::Dead)
            m_runner.send_thread_signal(*target, info);
    } else {
        m_runner.send_group_signal(pid, info);
    }
    p = kernel().process(pid);
    timer = p && p->alive() ? p->posix_timers().find(timer_id) : nullptr;
    if (!timer)
        return false;
    bool queued = timer_signal_pending(pid, *timer, Drop::No);
    timer->expire(now, queued ? PosixTimer::Sent::Queued : PosixTimer::Sent::Dropped);
    return timer->queued();
}

bool Syscalls::timer_signal_pending(Pid pid, const PosixTimer& timer, Drop drop)
{
    const TimerNotify& notify = timer.notify();
    if (notify.kind == TimerNotify::Kind::None)
        return false;
    u64 bit = sig_bit(notify.signo);
    auto take = [&](u64& pending, const std::array<SigInfo, NSIG_ + 1>& infos) {
        const SigInfo& info = infos[static_cast<size_t>(notify.signo)];
        bool mine =
            (pending & bit) && info.code == SI_TIMER_ && timer_sig_fields(info).timer_id == timer.id();
        if (mine && drop == Drop::Yes)
            pending &= ~bit;
        return mine;
    };
    if (notify.kind == TimerNotify::Kind::Thread) {
        Task* target = m_runner.scheduler().task(notify.tid);
        return target && target->tgid == pid && take(target->pending, target->pending_info);
    }
    ThreadGroup* g = m_runner.scheduler().group(pid);
    return g && take(g->pending, g->pending_info);
}

Result<TimerNotify> Syscalls::parse_sigevent(Task& t, const u8* event)
{
    TimerNotify notify;
    i32 notify_kind = 0;
    std::memcpy(&notify.value, event, 8);
    std::memcpy(&notify.signo, event + 8, 4);
    std::memcpy(&notify_kind, event + 12, 4);
    std::memcpy(&notify.tid, event + 16, 4);
    // good_sigevent: SIGEV_THREAD_ID needs a live thread of the caller's group, the signal kinds
    // a signal number, SIGEV_NONE nothing.
    switch (notify_kind) {
    case SIGEV_SIGNAL_ | SIGEV_THREAD_ID_: {
        Task* target = m_runner.scheduler().task(notify.tid);
        if (!target || target->state == RunState::Dead || target->tgid != t.tgid)
            return Error::from_errno(EINVAL, "not a thread of this process");
        notify.kind = TimerNotify::Kind::Thread;
        break;
    }
    case SIGEV_SIGNAL_:
    case SIGEV_THREAD_: notify.kind = TimerNotify::Kind::Signal; break;
    case SIGEV_NONE_: notify.kind = TimerNotify::Kind::None; return notify;
    default: return Error::from_errno(EINVAL, "bad sigev_notify");
    }
    if (notify.signo <= 0 || notify.signo > NSIG_)
        return Error::from_errno(EINVAL, "bad sigev_signo");
    return notify;
}

Result<void> Syscalls::check_cpu_clock_target(Task& t, i32 clockid)
{
    if (clockid >= 0)
        return {};
    // A CPU-time clock id is ~pid << 3, a per-thread bit (4) and which clock (0-2); pid 0 means
    // the caller (posix_cpu_timer_create, pid_for_clock).
    Pid pid = ~(clockid >> 3);
    bool per_thread = clockid & 4;
    if ((clockid & 3) == 3)
        return Error::from_errno(EINVAL, "no such CPU clock");
    if (pid == 0)
        return {};
    if (per_thread) {
        Task* target = m_runner.scheduler().task(pid);
        if (!target || target->state == RunState::Dead || target->tgid != t.tgid)
            return Error::from_errno(EINVAL, "not a thread of this process");
        return {};
    }
    if (!m_runner.scheduler().group(pid))
        return Error::from_errno(EINVAL, "no such process");
    return {};
}

SyscallResult Syscalls::sys_timer_create(Task& t, const SyscallArgs& a)
{
    std::array<u8, SIGEVENT_SIZE> event{};
    if (a[1] && get_bytes(t, a[1], event.data(), event.size()).is_error())
        return SyscallResult::err(EFAULT);
    i32 clockid = static_cast<i32>(a[0]);
    if (Result<void> r = check_timer_clock(clockid); r.is_error())
        return SyscallResult::err(r.error().code);
    PosixTimers& timers = process(t).posix_timers();
    int id = timers.allocate_id();
    // Without a sigevent: SIGALRM to the process, with the timer's id as si_value.
    TimerNotify notify{TimerNotify::Kind::Signal, SIGALRM_, static_cast<u64>(id), 0};
    if (a[1]) {
        Result<TimerNotify> parsed = parse_sigevent(t, event.data());
        if (parsed.is_error())
            return SyscallResult::err(parsed.error().code);
        notify = parsed.value();
    }
    i32 out = id;
    if (put_bytes(t, a[2], &out, sizeof out).is_error())
        return SyscallResult::err(EFAULT);
    if (Result<void> r = check_cpu_clock_target(t, clockid); r.is_error())
        return SyscallResult::err(r.error().code);
    timers.add(id, clockid, notify);
    return SyscallResult::ret(0);
}

Result<PosixTimer*> Syscalls::posix_timer_of(Task& t, u64 id)
{
    // timer_t is an int in the kernel's ABI: the upper half of the register is not looked at.
    PosixTimer* timer = process(t).posix_timers().find(static_cast<i32>(id));
    if (!timer)
        return Error::from_errno(EINVAL, "no such timer");
    return timer;
}

Result<void> Syscalls::put_posix_timer_setting(Task& t, PosixTimer& timer, u64 addr)
{
    PosixTimer::Setting s = timer.setting(kernel().now_ns());
    return put_itimerspec(t, addr, s.interval_ns, s.remaining_ns);
}

SyscallResult Syscalls::sys_timer_settime(Task& t, const SyscallArgs& a)
{
    if (!a[2])
        return SyscallResult::err(EINVAL);
    i64 in[4];
    if (get_bytes(t, a[2], in, sizeof in).is_error())
        return SyscallResult::err(EFAULT);
    Result<u64> interval = timespec_ns(in);
    Result<u64> value = timespec_ns(in + 2);
    if (interval.is_error() || value.is_error())
        return SyscallResult::err(EINVAL);
    Result<PosixTimer*> found = posix_timer_of(t, a[0]);
    if (found.is_error())
        return SyscallResult::err(found.error().code);
    PosixTimer& timer = *found.value();
    u64 now = kernel().now_ns();
    PosixTimer::Setting old = a[3] ? timer.setting(now) : PosixTimer::Setting{};
    // A signal of the old setting still pending is never delivered: Linux drops it when it is
    // dequeued, and kioku drops it now.
    timer_signal_pending(t.tgid, timer, Drop::Yes);
    std::optional<u64> expiry;
    if (u64 v = value.value()) {
        if (!(a[1] & TIMER_ABSTIME_))
            expiry = saturating_add(now, v);
        else if (realtime_timer_clock(timer.clockid()))
            expiry = v > REALTIME_EPOCH_S * NS_PER_SEC ? v - REALTIME_EPOCH_S * NS_PER_SEC : 0;
        else
            expiry = v;
    }
    timer.arm(expiry, interval.value());
    if (std::optional<u64> at = timer.next_signal())
        note_timer(*at);
    if (a[3] && put_itimerspec(t, a[3], old.interval_ns, old.remaining_ns).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_timer_gettime(Task& t, const SyscallArgs& a)
{
    Result<PosixTimer*> timer = posix_timer_of(t, a[0]);
    if (timer.is_error())
        return SyscallResult::err(timer.error().code);
    return put_posix_timer_setting(t, *timer.value(), a[1]).is_error() ? SyscallResult::err(EFAULT)
                                                                       : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_timer_getoverrun(Task& t, const SyscallArgs& a)
{
    Result<PosixTimer*> timer = posix_timer_of(t, a[0]);
    if (timer.is_error())
        return SyscallResult::err(timer.error().code);
    return SyscallResult::ret(timer.value()->overrun());
}

SyscallResult Syscalls::sys_timer_delete(Task& t, const SyscallArgs& a)
{
    Result<PosixTimer*> timer = posix_timer_of(t, a[0]);
    if (timer.is_error())
        return SyscallResult::err(timer.error().code);
    timer_signal_pending(t.tgid, *timer.value(), Drop::Yes);
    process(t).posix_timers().remove(timer.value()->id());
    return SyscallResult::ret(0);
}

} // namespace kioku
