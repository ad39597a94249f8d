// The OOM killer (Linux: mm/oom_kill.c). When reclaim cannot free enough memory it picks the
// process whose death frees the most — badness = resident pages + swap entries + page-table
// pages, shifted by oom_score_adj (−1000 exempts a process, 1000 makes it the first choice) —
// kills it with SIGKILL, reaps its memory, and writes the kernel's report to the log:
// the task table and "Out of memory: Killed process N (name) total-vm:... anon-rss:...".
//
// vm.panic_on_oom halts the machine instead, after the report's header and task table (as
// check_panic_on_oom does), and the task being served dies of SIGKILL;
// vm.oom_kill_allocating_task kills the task that asked for memory. A victim that is the task
// being served is killed when its fault returns.
#pragma once

#include "mm/MemoryManager.h"

namespace kioku {

class Kernel;
class Process;

class OomKiller final : public OomHandler {
  public:
    explicit OomKiller(Kernel& kernel)
        : m_kernel(kernel)
    {
    }
    bool out_of_memory() override;

    // /proc/PID/oom_score: badness scaled to 0..2000 as Linux's proc_oom_score does.
    static u64 oom_score(Kernel& kernel, Process& p);
    // Linux's oom_badness in pages; nullopt when the process may not be killed.
    static std::optional<i64> badness(Kernel& kernel, Process& p);

  private:
    // dump_header: who invoked the killer, the memory state and the task table.
    void dump_header(Process* current);
    // The header, then the chosen victim and the "Out of memory: Killed process" line.
    void report(Process* current, Process& victim);
    Kernel& m_kernel;
};

} // namespace kioku
