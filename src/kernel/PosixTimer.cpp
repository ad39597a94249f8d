#include "kernel/PosixTimer.h"

#include <algorithm>
#include <climits>

#include "base/Assert.h"

namespace kioku {

PosixTimer::PosixTimer(int id, int clockid, TimerNotify notify)
    : m_id(id)
    , m_clockid(clockid)
    , m_notify(notify)
{
}

u64 PosixTimer::forward(u64 now_ns)
{
    if (!m_expiry || !m_interval || *m_expiry > now_ns)
        return 0;
    u64 periods = (now_ns - *m_expiry) / m_interval + 1;
    *m_expiry += periods * m_interval;
    return periods;
}

void PosixTimer::arm(std::optional<u64> expiry_ns, u64 interval_ns)
{
    m_expiry = expiry_ns;
    m_interval = expiry_ns ? interval_ns : 0;
    m_queued = false;
    m_forwarded = 0;
    m_overrun_last = 0;
}

PosixTimer::Setting PosixTimer::setting(u64 now_ns)
{
    Setting s;
    if (!m_expiry)
        return s;
    s.interval_ns = m_interval;
    // A timer that is not running (its signal queued, or SIGEV_NONE) is moved on to its next
    // period here, as common_timer_get does, so the time left is never negative.
    if (m_queued || m_notify.kind == TimerNotify::Kind::None) {
        u64 periods = forward(now_ns);
        if (m_queued)
            m_forwarded += periods;
    }
    if (*m_expiry > now_ns)
        s.remaining_ns = *m_expiry - now_ns;
    else if (m_notify.kind != TimerNotify::Kind::None)
        s.remaining_ns = 1;
    return s;
}

std::optional<u64> PosixTimer::next_signal() const
{
    if (m_queued || m_notify.kind == TimerNotify::Kind::None)
        return std::nullopt;
    return m_expiry;
}

void PosixTimer::expire(u64 now_ns, Sent sent)
{
    VERIFY(m_expiry && *m_expiry <= now_ns && "a timer expires once its expiry has passed");
    if (!m_interval) {
        m_expiry.reset();
        return;
    }
    if (sent == Sent::Queued) {
        m_queued = true;
        m_forwarded = 0;
        return;
    }
    // Nobody will take the signal, so nothing restarts the timer later: it goes on by itself.
    forward(now_ns);
}

int PosixTimer::dequeued(u64 now_ns)
{
    if (!m_queued)
        return 0; // a one-shot timer, or one set again since: nothing to restart
    m_queued = false;
    m_forwarded += forward(now_ns);
    u64 missed = m_forwarded ? m_forwarded - 1 : 0;
    m_forwarded = 0;
    m_overrun_last = static_cast<int>(std::min(missed, OVERRUN_MAX));
    return m_overrun_last;
}

int PosixTimers::allocate_id()
{
    for (;;) {
        int id = m_next_id;
        m_next_id = m_next_id == INT_MAX ? 0 : m_next_id + 1; // clamped to the positive ids
        if (!m_timers.contains(id))
            return id;
    }
}

PosixTimer& PosixTimers::add(int id, int clockid, TimerNotify notify)
{
    auto [it, inserted] = m_timers.try_emplace(id, id, clockid, notify);
    VERIFY(inserted && "timer ids are allocated before they are added");
    return it->second;
}

PosixTimer* PosixTimers::find(int id)
{
    auto it = m_timers.find(id);
    return it == m_timers.end() ? nullptr : &it->second;
}

bool PosixTimers::remove(int id)
{
    return m_timers.erase(id) != 0;
}

} // namespace kioku
