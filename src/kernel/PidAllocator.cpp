#include "kernel/PidAllocator.h"

namespace kioku {

Result<Pid> PidAllocator::allocate(const std::function<bool(Pid)>& busy)
{
    // idr_alloc_cyclic over [min, pid_max): from the number after the last, then once around.
    Pid min = m_last >= RESERVED_PIDS ? RESERVED_PIDS : 1;
    Pid start = m_last + 1 < m_pid_max ? m_last + 1 : min;
    Pid span = m_pid_max - min;
    for (Pid i = 0; i < span; ++i) {
        Pid n = start + i;
        if (n >= m_pid_max)
            n = min + (n - m_pid_max);
        if (!busy(n)) {
            m_last = n;
            return n;
        }
    }
    return Error::from_errno(EAGAIN, "no free pid below pid_max");
}

Result<void> PidAllocator::set_pid_max(i64 value)
{
    if (value <= RESERVED_PIDS || value > PID_MAX_LIMIT)
        return Error::from_errno(EINVAL, "pid_max out of range");
    m_pid_max = static_cast<Pid>(value);
    return {};
}

} // namespace kioku
