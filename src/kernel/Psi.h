// Pressure stall information for memory (Linux: kernel/sched/psi.c, Documentation/accounting/
// psi.rst), on the simulated clock: /proc/pressure/memory and each cgroup's memory.pressure.
//
// The memory manager marks the stretches in which a task waits on memory instead of working
// (MmCore::Memstall: direct reclaim and compaction, reclaim at a cgroup's memory.max, the
// memory.high throttle, reading back a page of the working set, kswapd). Each stretch counts for
// the stalled task's cgroup and every ancestor up to the root, whose figures are the system's:
//   some  at least one task of the group was stalled;
//   full  it was, and no other task of the group could run (Linux: every non-idle task of the
//         group stalled). A group's runnable tasks are those the scheduler could pick; kswapd,
//         a kernel thread, stalls the root's "some" only.
// The machine has one hart and its I/O is synchronous, so a stall is the one thing happening
// while it lasts; "full" says whether another task of the group was waiting to run meanwhile.
//
// The averages follow Linux's arithmetic: time is cut into 2 s periods; at the end of each, the
// share of it spent stalled, in whole percent, is folded into three exponentially decaying
// averages (10 s, 60 s and 300 s windows) in 11-bit fixed point, as the load average is. A period
// ends when the clock passes it, seen at the next stall or read. Totals are in microseconds.
#pragma once

#include <array>
#include <string>

#include "base/Types.h"

namespace kioku {

class PsiGroup {
  public:
    enum Line : u8 { Some, Full };
    static constexpr u64 PERIOD_NS = 2'000'000'000; // PSI_FREQ
    static constexpr u32 FSHIFT = 11;
    static constexpr u64 FIXED_1 = u64{1} << FSHIFT;

    // A stall from start to end; full when no other task of the group could run meanwhile.
    void stall(u64 start_ns, u64 end_ns, bool full);
    // Closes the periods that ended by now.
    void update(u64 now_ns);

    u64 total_ns(Line line) const { return m_total[line]; }
    // The average over the window (0: 10 s, 1: 60 s, 2: 300 s) in percent, FIXED_1 fixed point.
    u64 average(Line line, unsigned window) const { return m_avg[line][window]; }
    // "avg10=1.25" style: the average with two decimals, as psi_show prints it.
    static std::string percent(u64 fixed);

    // The file's text as of now: the "some" and "full" lines (psi_show).
    std::string show(u64 now_ns);

  private:
    void close_period();

    std::array<u64, 2> m_total{};
    u64 m_period_start = 0;
    std::array<u64, 2> m_period_stall{};
    std::array<std::array<u64, 3>, 2> m_avg{};
};

} // namespace kioku
