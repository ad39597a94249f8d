// The simulated clock. Time in a kioku machine is a count of simulated nanoseconds that advances
// only by the cost model: instructions retired, TLB walks, faults, and device I/O. Nothing reads
// the host clock, so a run is deterministic.
#pragma once

#include "base/Types.h"

namespace kioku {

// Costs, in simulated nanoseconds, charged by the parts of the machine and the memory manager.
// The defaults are round figures of the order of a modern machine; they are configuration.
struct CostModel {
    u64 instruction_ns = 1;      // per retired guest instruction (about 1 GHz, IPC 1)
    u64 tlb_hit_ns = 0;          // folded into the instruction cost
    u64 walk_step_ns = 20;       // one page-table-entry read during a walk (cache miss to memory)
    u64 minor_fault_ns = 500;    // kernel entry, fault handling and return
    u64 zero_page_fill_ns = 250; // clearing a 4 KiB frame
    u64 copy_page_ns = 300;      // copying a 4 KiB frame
    u64 syscall_ns = 100;        // kernel entry and return for a system call
};

class Clock {
  public:
    u64 now_ns() const { return m_now; }
    void advance(u64 ns) { m_now += ns; }

    CostModel& costs() { return m_costs; }
    const CostModel& costs() const { return m_costs; }

  private:
    u64 m_now = 0;
    CostModel m_costs;
};

} // namespace kioku
