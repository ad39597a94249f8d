#include "front/RunReport.h"

#include <algorithm>
#include <map>

#include "base/Json.h"
#include "front/RunJson.h"
#include "kernel/Cgroups.h"
#include "kernel/Kernel.h"
#include "kernel/ProcJson.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/core/Memcg.h"

namespace kioku {

namespace {

void signed_number(JsonWriter& w, i64 value)
{
    w.encoded(std::to_string(value));
}

void events(JsonWriter& w, const MemcgEvents& e)
{
    w.open('{');
    w.key("low");
    w.number(e.low);
    w.key("high");
    w.number(e.high);
    w.key("max");
    w.number(e.max);
    w.key("oom");
    w.number(e.oom);
    w.key("oom_kill");
    w.number(e.oom_kill);
    w.key("oom_group_kill");
    w.number(e.oom_group_kill);
    w.close('}');
}

// Every group with a memory controller, parents first, by name among siblings.
void cgroups(JsonWriter& w, Kernel& kernel, Cgroup& group)
{
    if (group.memcg) {
        const MemCgroup& m = *group.memcg;
        w.open('{');
        w.key("path");
        w.string(group.path());
        w.key("memory.current");
        w.number(m.usage() << PAGE_SHIFT);
        w.key("memory.peak");
        w.number(m.peak() << PAGE_SHIFT);
        w.key("memory.swap.current");
        w.number(m.swap_usage() << PAGE_SHIFT);
        w.key("memory.swap.peak");
        w.number(m.swap_peak() << PAGE_SHIFT);
        w.key("memory.events");
        events(w, m.events);
        w.key("memory.events.local");
        events(w, m.events_local);
        std::string rel = group.is_root() ? "memory.stat" : group.path().substr(1) + "/memory.stat";
        w.key("memory.stat");
        w.open('{');
        if (auto stat = kernel.cgroups().read(rel); !stat.is_error())
            for (auto& [name, value] : parse_counters(stat.value())) {
                w.key(name);
                signed_number(w, value);
            }
        w.close('}');
        w.key("memory.pressure");
        write_pressure(w, group.psi, kernel.now_ns());
        w.close('}');
    }
    for (auto& [name, child] : group.children())
        cgroups(w, kernel, *child);
}

} // namespace

RunReport::RunReport(Runner& runner, std::string config_json)
    : m_runner(runner)
    , m_config(std::move(config_json))
{
    auto vmstat = runner.kernel().read_proc(0, "/proc/vmstat");
    if (!vmstat.is_error())
        m_vmstat_at_start = vmstat.value();
}

void RunReport::process_exit(const ThreadGroup& group, Process& process)
{
    if (process.is_init)
        return;
    Kernel& kernel = m_runner.kernel();
    JsonWriter w;
    w.open('{');
    w.key("pid");
    w.number(static_cast<u64>(group.pid));
    w.key("ppid");
    w.number(static_cast<u64>(group.parent));
    w.key("command");
    w.string(process.name());
    w.key("exe");
    w.string(group.exe_path);
    w.key("cgroup");
    w.string(process.cgroup ? process.cgroup->path() : "/");
    w.key("start_ns");
    w.number(process.start_time_ns);
    w.key("end_ns");
    w.number(kernel.now_ns());
    w.key("exit_code");
    if (group.exit_signal)
        w.null();
    else
        w.number(static_cast<u64>(group.exit_code & 0xff));
    w.key("signal");
    w.number(static_cast<u64>(group.exit_signal));
    w.key("peak_rss_kb");
    w.number(std::max(group.peak_rss_pages, process.self_maxrss_pages()) * (PAGE_SIZE / 1024));
    const FaultCounters& f = process.faults();
    w.key("minor_faults");
    w.number(f.min_flt);
    w.key("major_faults");
    w.number(f.maj_flt);
    w.key("faults_by_cause");
    w.open('{');
    for (unsigned c = 0; c < static_cast<unsigned>(FaultCause::Count); ++c) {
        w.key(fault_cause_name(static_cast<FaultCause>(c)));
        w.number(f.by_cause[c]);
    }
    w.close('}');
    w.key("swap_ins");
    w.number(f.by_cause[static_cast<unsigned>(FaultCause::SwapIn)]);
    w.key("swap_outs");
    w.number(f.swap_outs);
    w.key("oom_kill");
    if (process.oom_kill) {
        w.open('{');
        w.key("badness");
        signed_number(w, process.oom_kill->badness);
        w.key("oom_score_adj");
        signed_number(w, process.oom_score_adj);
        w.key("memcg");
        if (process.oom_kill->memcg.empty())
            w.null();
        else
            w.string(process.oom_kill->memcg);
        w.key("time_ns");
        w.number(process.oom_kill->time_ns);
        w.close('}');
    } else {
        w.null();
    }
    // Its memory as it ends (gone already when the OOM killer's reaper took it).
    w.key("smaps_rollup");
    auto rollup = process.has_space() ? kernel.view_json(0, "smaps_rollup", group.pid)
                                      : Result<std::string>(Error::from_errno(ESRCH, "no memory"));
    if (rollup.is_error())
        w.null();
    else
        w.encoded(rollup.value());
    w.close('}');
    m_processes.emplace_back(group.pid, w.take());
}

std::string RunReport::finish(const RunResult& result, u64 host_ns)
{
    Kernel& kernel = m_runner.kernel();
    const RunStats& s = result.stats;
    JsonWriter w;
    w.open('{');
    w.key("schema");
    w.string("kioku-run-report");
    w.key("version");
    w.number(VERSION);
    w.key("config");
    w.encoded(m_config);

    w.key("result");
    w.open('{');
    w.key("exit_code");
    if (result.signal)
        w.null();
    else
        w.number(static_cast<u64>(result.exit_code & 0xff));
    w.key("signal");
    w.number(static_cast<u64>(result.signal));
    w.key("shell_status");
    w.number(static_cast<u64>(result.shell_status()));
    w.key("limit_reached");
    w.string(result.limit_reached == RunResult::Limit::Instructions    ? "instructions"
             : result.limit_reached == RunResult::Limit::SimulatedTime ? "simulated_time"
                                                                       : "none");
    w.key("stopped_by");
    w.number(static_cast<u64>(result.stopped_by));
    w.close('}');

    w.key("time");
    w.open('{');
    w.key("simulated_ns");
    w.number(s.simulated_ns);
    w.key("host_ns");
    w.number(host_ns);
    w.close('}');

    auto end_text = kernel.read_proc(0, "/proc/vmstat");
    auto end =
        end_text.is_error() ? std::vector<std::pair<std::string, i64>>() : parse_counters(end_text.value());
    std::map<std::string, i64> start;
    for (auto& [name, value] : parse_counters(m_vmstat_at_start))
        start[name] = value;
    auto delta = [&](const char* name) {
        for (auto& [n, v] : end)
            if (n == name)
                return v - start[n];
        return i64{0};
    };

    w.key("totals");
    w.open('{');
    w.key("instructions");
    w.number(s.instructions);
    w.key("system_calls");
    w.number(s.syscalls);
    w.key("minor_faults");
    w.number(s.minor_faults);
    w.key("major_faults");
    w.number(s.major_faults);
    w.key("tlb_hits");
    w.number(s.tlb_hits);
    w.key("tlb_misses");
    w.number(s.tlb_misses);
    w.key("tlb_walks");
    w.number(s.tlb_walks);
    w.key("peak_rss_kb");
    w.number(s.peak_rss_kb);
    w.key("tree_peak_rss_kb");
    w.number(s.tree_peak_rss_kb);
    w.key("swap_ins");
    signed_number(w, delta("pswpin"));
    w.key("swap_outs");
    signed_number(w, delta("pswpout"));
    w.key("oom_kills");
    signed_number(w, delta("oom_kill"));
    w.close('}');

    std::sort(m_processes.begin(), m_processes.end());
    w.key("processes");
    w.open('[');
    for (auto& [pid, record] : m_processes)
        w.encoded(record);
    w.close(']');

    w.key("cgroups");
    w.open('[');
    cgroups(w, kernel, kernel.cgroups().root());
    w.close(']');

    w.key("pressure");
    w.open('{');
    w.key("memory");
    write_pressure(w, kernel.cgroups().root().psi, kernel.now_ns());
    w.close('}');

    w.key("vmstat_delta");
    w.open('{');
    for (auto& [name, value] : end) {
        w.key(name);
        signed_number(w, value - start[name]);
    }
    w.close('}');

    w.key("meminfo");
    auto meminfo = kernel.view_json(0, "meminfo");
    if (meminfo.is_error())
        w.null();
    else
        w.encoded(meminfo.value());
    w.close('}');
    return w.take() + "\n";
}

} // namespace kioku
