// Timers: setitimer / getitimer (with SIGALRM, SIGVTALRM and SIGPROF) and the timerfd family,
// all on the simulated clock. One hart looks at the clock at its own points, so interval timers
// fire when a system call runs or a blocked call is retried; a blocked call's deadline includes
// the next timer, so a program waiting for its alarm gets it without waiting in real time.
#include <fcntl.h>

#include "kernel/Kernel.h"
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

} // namespace

std::optional<u64> Syscalls::next_timer() const
{
    u64 now = m_runner.kernel().now_ns();
    std::optional<u64> next;
    auto consider = [&](u64 at) {
        if (at > now)
            next = next ? std::min(*next, at) : at;
    };
    for (auto& [pid, g] : m_runner.scheduler().groups())
        for (const IntervalTimer& it : g->itimers)
            if (it.deadline_ns)
                consider(it.deadline_ns);
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
    std::optional<u64> next = next_timer();
    m_next_timer_ns = next ? *next : ~u64{0};
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
    return SyscallResult::ret(install_fd(t, std::move(file), a[1] & O_CLOEXEC));
}

Result<TimerFd*> Syscalls::timerfd_of(Task& t, int fd)
{
    OpenFile* f = TRY(open_file(t, fd));
    if (!f->special || !f->special->timerfd)
        return Error::from_errno(EINVAL, "not a timerfd");
    return f->special->timerfd.get();
}

Result<void> Syscalls::put_timerfd_setting(Task& t, TimerFd& timer, u64 addr)
{
    TimerFd::Setting s = timer.setting(kernel().now_ns());
    i64 out[4];
    from_ns(s.interval_ns, 1, out);
    from_ns(s.remaining_ns, 1, out + 2);
    return put_bytes(t, addr, out, sizeof out);
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

} // namespace kioku
