// The page reference stream of one `kioku run` (--trace-refs FILE.csv), in a CSV that
// libCacheSim reads: every load, store and atomic the guest makes, and every instruction fetch
// that enters another code page (the hart's ReferenceSink), as one row per page referenced:
//   time,obj_id,obj_size,op,pid,page
// time is the simulated clock in ns (the clock moves at the end of each slice, so many rows share
// it); obj_id names the page as (pid << 36) | virtual page number, so each process's pages are
// objects of their own; obj_size is 4096; op is r, w or x. A reference to the same page as the row
// before it is not written again (a page's hits in a row count once), which leaves every cache
// policy's misses unchanged and its hit count lower. docs/run-report.md says how to replay it.
#pragma once

#include <ostream>

#include "hw/riscv/Hart.h"
#include "kernel/Runner.h"

namespace kioku {

class RunRefs final : public ReferenceSink {
  public:
    RunRefs(Runner& runner, std::ostream& out);
    ~RunRefs() override;
    RunRefs(const RunRefs&) = delete;
    RunRefs& operator=(const RunRefs&) = delete;

    void reference(u64 va, isa::AccessType access) override;
    u64 rows() const { return m_rows; }

  private:
    Runner& m_runner;
    std::ostream& m_out;
    u64 m_last = ~u64{0};
    u64 m_rows = 0;
};

} // namespace kioku
