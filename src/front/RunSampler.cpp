#include "front/RunSampler.h"

#include <charconv>
#include <vector>

#include "base/Json.h"
#include "front/RunJson.h"
#include "kernel/Cgroups.h"
#include "kernel/Kernel.h"
#include "kernel/ProcFs.h"
#include "kernel/Process.h"
#include "mm/core/Memcg.h"

namespace kioku {

namespace {

void cgroups(JsonWriter& w, const Cgroup& group)
{
    if (group.memcg) {
        w.open('{');
        w.key("path");
        w.string(group.path());
        w.key("memory.current");
        w.number(group.memcg->usage() << PAGE_SHIFT);
        w.key("memory.swap.current");
        w.number(group.memcg->swap_usage() << PAGE_SHIFT);
        w.close('}');
    }
    for (auto& [name, child] : group.children())
        cgroups(w, *child);
}

// The counters /proc/vmstat prints, as one JSON object, without printing and parsing its text:
// the keys are made once (a line has some 250 of them, and --sample 10ms may write thousands of
// lines in a second of host time).
std::string vmstat_json(const VmStat& stat)
{
    static const std::vector<std::string> KEYS = [] {
        std::vector<std::string> keys;
        VmStat().for_each([&](const char* name, u64) { keys.push_back("\"" + json_escape(name) + "\": "); });
        return keys;
    }();
    std::string out;
    out.reserve(KEYS.size() * 32);
    out += '{';
    size_t i = 0;
    stat.for_each([&](const char*, u64 value) {
        if (i)
            out += ", ";
        out += KEYS[i++];
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
        out.append(digits, end);
    });
    out += '}';
    return out;
}

} // namespace

RunSampler::RunSampler(Runner& runner, u64 interval_ns, std::ostream& out)
    : m_runner(runner)
    , m_interval(interval_ns)
    , m_out(out)
    , m_next_ns(runner.kernel().now_ns())
{
}

void RunSampler::round_done()
{
    if (m_runner.kernel().now_ns() >= m_next_ns)
        sample(false);
}

void RunSampler::finish()
{
    sample(true);
    m_out.flush();
}

void RunSampler::sample(bool final)
{
    Kernel& kernel = m_runner.kernel();
    u64 now = kernel.now_ns();
    // The next boundary after now: missed ones are not made up.
    m_next_ns = (now / m_interval + 1) * m_interval;
    JsonWriter w;
    w.open('{');
    w.key("t_ns");
    w.number(now);
    w.key("final");
    w.boolean(final);
    w.key("instructions");
    w.number(m_runner.stats().instructions);
    w.key("meminfo");
    if (auto meminfo = kernel.view_json(0, "meminfo"); !meminfo.is_error())
        w.encoded(meminfo.value());
    else
        w.null();
    w.key("vmstat");
    w.encoded(vmstat_json(ProcFs(kernel).vmstat()));
    w.key("pressure");
    write_pressure(w, kernel.cgroups().root().psi, now);
    w.key("processes");
    w.open('[');
    for (auto& [pid, p] : kernel.processes()) {
        if (!p->alive() || p->is_init || !p->has_space())
            continue;
        const RssStat& rss = p->space().rss();
        auto kb = [](i64 pages) { return static_cast<u64>(std::max<i64>(pages, 0)) * (PAGE_SIZE / 1024); };
        w.open('{');
        w.key("pid");
        w.number(static_cast<u64>(pid));
        w.key("command");
        w.string(p->name());
        w.key("rss_kb");
        w.number(kb(rss.total()));
        w.key("anon_kb");
        w.number(kb(rss.anon));
        w.key("file_kb");
        w.number(kb(rss.file));
        w.key("shmem_kb");
        w.number(kb(rss.shmem));
        w.key("swap_kb");
        w.number(kb(rss.swapents));
        w.key("minor_faults");
        w.number(p->faults().min_flt);
        w.key("major_faults");
        w.number(p->faults().maj_flt);
        w.close('}');
    }
    w.close(']');
    w.key("cgroups");
    w.open('[');
    cgroups(w, kernel.cgroups().root());
    w.close(']');
    w.close('}');
    m_out << w.take() << '\n';
}

} // namespace kioku
