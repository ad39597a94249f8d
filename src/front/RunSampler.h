// The timeline of one `kioku run` (--sample INTERVAL[:FILE]): every INTERVAL of simulated time,
// one line of JSON (JSON Lines) with the machine's meminfo, every vmstat counter, memory pressure,
// each live process's RSS, swap and faults, and each memory cgroup's usage. docs/run-report.md
// describes the lines; docs/run-sample.schema.json is their schema.
//
// A sample is taken between the scheduler's rounds, at the first one at or past its time, so its
// "t_ns" is the clock then: one round (a task's slice, 4 ms of simulated time at most) after the
// interval's boundary while tasks run. A round that passes several boundaries (a slow swap-in,
// or every task asleep, when the clock jumps to the first wake-up) gives one sample, when it
// ends, not one per boundary. The first line is taken before the program's first instruction,
// the last when the run ends ("final": true).
#pragma once

#include <ostream>

#include "base/Types.h"
#include "kernel/Runner.h"

namespace kioku {

class RunSampler final : public RunObserver {
  public:
    RunSampler(Runner& runner, u64 interval_ns, std::ostream& out);

    void round_done() override;
    // The last line, at the end of the run.
    void finish();

  private:
    void sample(bool final);

    Runner& m_runner;
    u64 m_interval;
    std::ostream& m_out;
    u64 m_next_ns;
};

} // namespace kioku
