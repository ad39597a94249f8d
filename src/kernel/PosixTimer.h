// POSIX per-process timers (Linux: struct k_itimer in kernel/time/posix-timers.c) and the table
// of one process's timers (Linux: the posix_timers of its signal_struct). Like TimerFd, a timer
// holds its next expiry on the simulated clock and is looked at rather than called back: the
// system-call layer asks next_signal(), and once the clock has passed it sends the signal and
// tells the timer with expire().
//
// States, with Linux's in brackets:
//   Disarmed  no expiry [hrtimer inactive, it_interval 0].
//   Armed     an expiry, ahead of the clock or just passed until the next look [hrtimer queued].
//   Queued    a periodic timer whose signal waits in a pending set. It does not run again until
//             that signal leaves the set; then it restarts on its period after the current time
//             and counts the periods it missed as the overrun [requeue pending, rearmed by
//             posixtimer_rearm when the signal is dequeued].
// Transitions: arm() from any state to Armed or Disarmed; expire() takes Armed to Queued (periodic,
// signal queued), Armed (periodic, signal dropped: the timer keeps its period) or Disarmed
// (one-shot); dequeued() takes Queued to Armed. A SIGEV_NONE timer never expires: it stays Armed
// and setting() works its periods out when asked.
//
// Times are nanoseconds on the simulated monotonic clock; the system-call layer converts
// CLOCK_REALTIME values. A Process owns its PosixTimers; PosixTimers owns the timers.
#pragma once

#include <map>
#include <optional>

#include "base/Types.h"

namespace kioku {

// How a timer reports an expiry (struct sigevent).
struct TimerNotify {
    // Signal: SIGEV_SIGNAL, and SIGEV_THREAD, which the kernel treats alike (the C library runs
    // the thread); None: SIGEV_NONE; Thread: SIGEV_SIGNAL | SIGEV_THREAD_ID.
    enum class Kind : u8 { Signal, None, Thread };
    Kind kind = Kind::Signal;
    int signo = 14; // SIGALRM
    u64 value = 0;  // sigev_value, handed back as si_value
    i32 tid = 0;    // Thread: the thread the signal goes to
};

class PosixTimer {
  public:
    // Linux caps what timer_getoverrun and si_overrun report at DELAYTIMER_MAX, INT_MAX.
    static constexpr u64 OVERRUN_MAX = 0x7fff'ffff;

    PosixTimer(int id, int clockid, TimerNotify notify);

    int id() const { return m_id; }
    int clockid() const { return m_clockid; }
    const TimerNotify& notify() const { return m_notify; }

    // timer_settime: first expiry at `expiry_ns` (disarmed when empty), then every interval_ns
    // (0: once). The overrun of the last signal is forgotten, as common_timer_set forgets it.
    void arm(std::optional<u64> expiry_ns, u64 interval_ns);

    // timer_gettime: time to the next expiry and the interval; all zero when disarmed. A timer
    // whose signal is due but not yet sent shows 1 ns left, as Linux's does.
    struct Setting {
        u64 remaining_ns = 0;
        u64 interval_ns = 0;
    };
    Setting setting(u64 now_ns);

    // timer_getoverrun: the periods missed before the last signal was delivered.
    int overrun() const { return m_overrun_last; }

    // When the timer's next signal is due; empty when it has none to send (disarmed, queued, or
    // SIGEV_NONE).
    std::optional<u64> next_signal() const;

    // The signal due at next_signal() (not after now_ns) has been sent: it is pending now, or was
    // dropped (ignored, or its thread is gone).
    enum class Sent : u8 { Queued, Dropped };
    void expire(u64 now_ns, Sent sent);

    // The timer's signal left the pending set at now_ns (delivered, or discarded at delivery). A
    // queued periodic timer restarts; returns the overrun the signal carries as si_overrun.
    int dequeued(u64 now_ns);

    bool queued() const { return m_queued; }

  private:
    // Moves a passed expiry on by whole periods to the first one after now_ns; returns how many.
    u64 forward(u64 now_ns);

    int m_id;
    int m_clockid;
    TimerNotify m_notify;
    std::optional<u64> m_expiry;
    u64 m_interval = 0;
    bool m_queued = false;
    u64 m_forwarded = 0; // periods moved on while queued; the first of them is the signalled one
    int m_overrun_last = 0;
};

class PosixTimers {
  public:
    // Linux hands out ids in order from 0 and reuses one only after the counter wraps at INT_MAX;
    // a timer_create that fails after the clock check has used up its id.
    int allocate_id();
    PosixTimer& add(int id, int clockid, TimerNotify notify);
    PosixTimer* find(int id);
    bool remove(int id);
    // exec and exit (exit_itimers): every timer goes; the id counter stays, as signal_struct does.
    void clear() { m_timers.clear(); }

    bool empty() const { return m_timers.empty(); }
    std::map<int, PosixTimer>& timers() { return m_timers; }

  private:
    std::map<int, PosixTimer> m_timers; // by id; node-based, so a timer's address is stable
    int m_next_id = 0;
};

} // namespace kioku
