// A timerfd (Linux: fs/timerfd.c): a timer on the simulated clock whose expirations a read
// collects as a count. Expirations are worked out from the clock when asked, not by a callback:
// the timer is armed with its next expiry and interval, and every look at it first moves the
// expirations that have passed into the unread count.
//
// Times are nanoseconds on the simulated monotonic clock; the system-call layer converts
// CLOCK_REALTIME values. Invariant: next_expiry() is empty exactly when the timer is disarmed.
// Owned by the SpecialFile of the descriptors that share it.
#pragma once

#include <optional>

#include "base/Result.h"
#include "kernel/PollEvents.h"

namespace kioku {

class TimerFd {
  public:
    explicit TimerFd(int clockid)
        : m_clockid(clockid)
    {
    }

    int clockid() const { return m_clockid; }

    // timerfd_settime: first expiry at `expiry_ns` (disarmed when empty), then every interval_ns
    // (0: once). Unread expirations are dropped, as Linux drops them.
    void arm(std::optional<u64> expiry_ns, u64 interval_ns);
    // timerfd_gettime: time to the next expiry (0 when disarmed) and the interval.
    struct Setting {
        u64 remaining_ns = 0;
        u64 interval_ns = 0;
    };
    Setting setting(u64 now_ns);
    // A read: the expirations since the last read; EAGAIN when there are none.
    Result<u64> take(u64 now_ns);
    PollState poll(u64 now_ns);
    std::optional<u64> next_expiry() const { return m_next; }

  private:
    void catch_up(u64 now_ns);

    int m_clockid;
    std::optional<u64> m_next;
    u64 m_interval = 0;
    u64 m_unread = 0;
    WakeCounts m_wakes; // one reader wake-up per expiry that found the count at zero
};

} // namespace kioku
