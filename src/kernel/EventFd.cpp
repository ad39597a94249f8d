#include "kernel/EventFd.h"

namespace kioku {

Result<u64> EventFd::read()
{
    if (m_count == 0)
        return Error::from_errno(EAGAIN, "eventfd counter is zero");
    u64 value = m_semaphore ? 1 : m_count;
    m_count -= value;
    m_wakes.wake_writers();
    return value;
}

Result<void> EventFd::write(u64 value)
{
    if (value == ~u64{0})
        return Error::from_errno(EINVAL, "eventfd cannot take ~0");
    if (value > MAX_COUNT - m_count)
        return Error::from_errno(EAGAIN, "eventfd counter would overflow");
    m_count += value;
    // Linux wakes readers on every write that went through, even of 0.
    m_wakes.wake_readers();
    return {};
}

PollState EventFd::poll() const
{
    PollState s{0, m_wakes};
    if (m_count > 0)
        s.mask |= EPOLLIN_ | EPOLLRDNORM_;
    if (m_count == ~u64{0})
        s.mask |= EPOLLERR_;
    if (m_count < MAX_COUNT)
        s.mask |= EPOLLOUT_ | EPOLLWRNORM_;
    return s;
}

} // namespace kioku
