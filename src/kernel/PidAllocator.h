// The pid space (Linux: kernel/pid.c, alloc_pid over an IDR). Processes and threads share one
// space of numbers below pid_max (/proc/sys/kernel/pid_max, 32768 by default as on a machine of
// up to 32 CPUs). Numbers are handed out cyclically from the last one given; after the first
// wrap the search restarts at RESERVED_PIDS, leaving the low numbers to early daemons as Linux
// does. A number stays taken while anything still names it: a task, a zombie not yet reaped, or
// a process group or session that carries it. When none is free, fork fails with EAGAIN.
#pragma once

#include <functional>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

using Pid = i32;

class PidAllocator {
  public:
    static constexpr Pid RESERVED_PIDS = 300;
    static constexpr Pid PID_MAX_DEFAULT = 32768;
    static constexpr Pid PID_MAX_LIMIT = 4 * 1024 * 1024; // 64-bit kernels

    // busy(n): is n still named by something?
    Result<Pid> allocate(const std::function<bool(Pid)>& busy);

    Pid pid_max() const { return m_pid_max; }
    // /proc/sys/kernel/pid_max: from RESERVED_PIDS + 1 to PID_MAX_LIMIT, else EINVAL.
    Result<void> set_pid_max(i64 value);
    Pid last() const { return m_last; } // /proc/sys/kernel/ns_last_pid
    // A write of ns_last_pid (CONFIG_CHECKPOINT_RESTORE): the next pid is tried from value + 1;
    // 0 to pid_max - 1, else EINVAL.
    Result<void> set_last(i64 value)
    {
        if (value < 0 || value >= m_pid_max)
            return Error::from_errno(EINVAL, "ns_last_pid out of range");
        m_last = static_cast<Pid>(value);
        return {};
    }

  private:
    Pid m_pid_max = PID_MAX_DEFAULT;
    Pid m_last = 0;
};

} // namespace kioku
