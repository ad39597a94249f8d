// Page events of one `kioku run` (--events FILE.csv): one CSV row per event the memory manager
// reports (MmCore's PageEventSink): faults by cause, swap-ins, evictions with the replacement
// policy's reason, swap-outs from each mapping, writebacks, OOM kills with the victim's badness.
// docs/run-report.md describes the columns. Rows come in the order things happened; the same run
// gives the same file.
#pragma once

#include <ostream>
#include <unordered_map>

#include "kernel/Runner.h"
#include "mm/core/MmCore.h"

namespace kioku {

class RunEvents final : public PageEventSink {
  public:
    RunEvents(Runner& runner, std::ostream& out);
    ~RunEvents() override;
    RunEvents(const RunEvents&) = delete;
    RunEvents& operator=(const RunEvents&) = delete;

    void page_event(const PageEvent& event) override;
    u64 rows() const { return m_rows; }

  private:
    // The pid of the process whose address space this is (the lowest, for a shared one); for a
    // space nobody holds yet (exec's new image), the process being served; 0 if none.
    i32 pid_of(const AddressSpace* space);

    Runner& m_runner;
    std::ostream& m_out;
    std::unordered_map<const AddressSpace*, i32> m_pids;
    u64 m_rows = 0;
};

} // namespace kioku
