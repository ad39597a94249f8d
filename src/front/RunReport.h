// The report of one `kioku run` (--report FILE.json): what the run was asked to do, how it ended,
// and what its memory did, as one JSON object. The schema is docs/run-report.md's, versioned by
// its "version" field; every field is the same for the same run (inputs, options, seed) except
// time.host_ns, the host's wall-clock time.
//
// The report watches the run (RunObserver): it keeps /proc/vmstat as it was when the program
// started, and a record of every process as it ends (its exit, peak RSS, faults by cause, swap
// traffic, an OOM kill and its badness, its smaps_rollup); at the end it adds the machine's final
// meminfo, the vmstat deltas, the memory cgroups and the pressure figures.
#pragma once

#include <string>
#include <vector>

#include "base/Types.h"
#include "kernel/Runner.h"

namespace kioku {

class RunReport final : public RunObserver {
  public:
    static constexpr u64 VERSION = 1;

    // `config_json`: the run's options, already a JSON object (RunCommand writes it).
    RunReport(Runner& runner, std::string config_json);

    void process_exit(const ThreadGroup& group, Process& process) override;

    // The whole report, for a run that ended with `result` after `host_ns` of host time.
    std::string finish(const RunResult& result, u64 host_ns);

  private:
    Runner& m_runner;
    std::string m_config;
    std::string m_vmstat_at_start;
    std::vector<std::pair<Pid, std::string>> m_processes; // pid, its encoded record
};

} // namespace kioku
