// /proc and /proc/sys/vm as the guest sees them, rendered from the memory manager's live state in
// Linux's formats (the formats themselves live in ProcFormat). Also the `free` and `vmstat`
// command views and the pagemap array, which scenarios and reports use.
//
// A ProcFs is a short-lived view over a Kernel; it holds no state of its own.
#pragma once

#include <functional>

#include <string>
#include <vector>

#include "base/Result.h"
#include "kernel/ProcFormat.h"
#include "mm/core/VmStat.h"

namespace kioku {

class Kernel;
class Process;

class ProcFs {
  public:
    explicit ProcFs(Kernel& kernel)
        : m_kernel(kernel)
    {
    }

    // "/proc/meminfo", "/proc/vmstat", "/proc/buddyinfo", "/proc/self/maps", "/proc/7/smaps",
    // "/proc/PID/{smaps_rollup,status,statm,stat,oom_score_adj}", "/proc/sys/vm/NAME",
    // "/proc/kioku/tlb" (the modelled TLB's counters), "/proc/kioku/clock".
    Result<std::string> read(int viewer, const std::string& path);
    Result<void> write(int viewer, const std::string& path, const std::string& value);

    MeminfoValues meminfo();
    // The counters of /proc/vmstat (VmStat::format and for_each print them).
    VmStat vmstat();
    std::string free_text(bool human);
    // One pagemap entry per page of [start, start + pages * PAGE_SIZE).
    Result<std::vector<u64>> pagemap(int pid, u64 start, u64 pages);
    // PROCMAP_QUERY: the VMA of process `pid` that covers addr (or, with `or_next`, the first one
    // above it) and passes `accept`; ENOENT when there is none, ESRCH without the process.
    Result<ProcmapAnswer> procmap_query(int pid, u64 addr, bool or_next,
                                        const std::function<bool(const ProcmapAnswer&)>& accept);

    // The JSON form of a view (shapes in ProcJson.h), defined in ProcFsJson.cpp. Machine views:
    // "meminfo", "vmstat", "buddyinfo", "free", "tlb", "vmstat_cmd" (the `vmstat` command's
    // sample). Views of process `pid` (0: the viewer): "maps", "smaps", "smaps_rollup",
    // "status", "statm", and "pagemap" for `pages` pages from `start`. ENOENT for another name.
    Result<std::string> json(int viewer, const std::string& view, int pid = 0, u64 start = 0, u64 pages = 0);

  private:
    Result<std::string> read_pid(Process& p, const std::string& what);
    std::string mounts();
    Result<std::string> read_sysctl(const std::string& name);
    Result<void> write_sysctl(const std::string& name, const std::string& value);
    std::string maps(Process& p, bool smaps);
    std::string smaps_rollup(Process& p);
    std::string status(Process& p);
    std::string statm(Process& p);
    std::string stat(Process& p);
    std::string tlb();

    Kernel& m_kernel;
    int m_tid = 0; // the thread a task/TID file is read for (0: the process)
};

} // namespace kioku
