#include "kernel/TimerFd.h"

namespace kioku {

void TimerFd::catch_up(u64 now_ns)
{
    if (!m_next || now_ns < *m_next)
        return;
    u64 ticks = 1;
    if (m_interval) {
        ticks += (now_ns - *m_next) / m_interval;
        *m_next += ticks * m_interval;
    } else {
        m_next.reset();
    }
    m_unread += ticks;
    m_wakes.wake_readers();
}

void TimerFd::arm(std::optional<u64> expiry_ns, u64 interval_ns)
{
    m_next = expiry_ns;
    m_interval = expiry_ns ? interval_ns : 0;
    m_unread = 0;
}

TimerFd::Setting TimerFd::setting(u64 now_ns)
{
    catch_up(now_ns);
    Setting s;
    s.interval_ns = m_interval;
    if (m_next)
        s.remaining_ns = *m_next - now_ns;
    return s;
}

Result<u64> TimerFd::take(u64 now_ns)
{
    catch_up(now_ns);
    if (m_unread == 0)
        return Error::from_errno(EAGAIN, "the timer has not expired");
    u64 n = m_unread;
    m_unread = 0;
    return n;
}

PollState TimerFd::poll(u64 now_ns)
{
    catch_up(now_ns);
    PollState s{0, m_wakes};
    if (m_unread)
        s.mask = EPOLLIN_ | EPOLLRDNORM_;
    return s;
}

} // namespace kioku
