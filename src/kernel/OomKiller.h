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
//
// A memory cgroup at its memory.max has an OOM of its own (CONSTRAINT_MEMCG): only the processes
// of the group and its descendants are candidates, badness is scaled to the group's limit, the
// report names the group, and no process outside is ever chosen; panic_on_oom=1 does not panic
// for it, 2 does. memory.oom.group makes the killer take every process of the highest such group
// holding the victim. The victim's group counts oom_kill in memory.events.
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
    bool memcg_out_of_memory(MemCgroup& memcg) override;

    // /proc/PID/oom_score: badness scaled to 0..2000 as Linux's proc_oom_score does.
    static u64 oom_score(Kernel& kernel, Process& p);
    // Linux's oom_badness in pages; nullopt when the process may not be killed. oom_score_adj
    // is scaled to total_pages (default: RAM and swap).
    static std::optional<i64> badness(Kernel& kernel, Process& p, std::optional<u64> total_pages = {});

  private:
    // out_of_memory, over every process (memcg null) or one memory cgroup's.
    bool oom(MemCgroup* memcg);
    // dump_header: who invoked the killer, the memory state (the group's, for a group's OOM) and
    // the task table.
    void dump_header(Process* current, MemCgroup* memcg);
    // The header, then the chosen victim and the "Out of memory: Killed process" line.
    void report(Process* current, Process& victim, MemCgroup* memcg);
    // The "Killed process" line and the kill itself; whether its memory was freed now.
    // memcg: the group whose OOM it is (null: the machine's); total: the badness's scale. reap:
    // free the victim's memory now (the reaper), unless a call of its own is using it; false
    // leaves that to the caller, which still needs its memory (a group kill's walk).
    bool kill(Process& victim, Process* current, const char* message, MemCgroup* memcg,
              std::optional<u64> total, bool reap = true);
    Kernel& m_kernel;
};

} // namespace kioku
