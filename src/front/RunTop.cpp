#include "front/RunTop.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "kernel/Cgroups.h"
#include "kernel/Kernel.h"
#include "kernel/ProcFormat.h"
#include "kernel/ProcFs.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/core/Memcg.h"

namespace kioku {

namespace {

constexpr auto REDRAW = std::chrono::milliseconds(500);

} // namespace

RunTop::RunTop(Runner& runner, std::ostream& out, bool clear_screen)
    : m_runner(runner)
    , m_out(out)
    , m_clear(clear_screen)
    , m_next(std::chrono::steady_clock::now())
{
}

void RunTop::round_done()
{
    auto now = std::chrono::steady_clock::now();
    if (now < m_next)
        return;
    m_next = now + REDRAW;
    draw(false);
}

void RunTop::finish()
{
    draw(true);
}

void RunTop::draw(bool final)
{
    Kernel& kernel = m_runner.kernel();
    MemoryManager& mm = kernel.mm();
    const VmStat& vm = mm.vmstat();
    RunStats s = m_runner.stats();
    u64 faults = vm[VmItem::Pgfault];
    u64 now = kernel.now_ns();
    // Faults per simulated second since the last screen.
    double rate = now > m_last_ns ? static_cast<double>(faults - m_last_faults) * 1e9 /
                                        static_cast<double>(now - m_last_ns)
                                  : 0;
    m_last_faults = faults;
    m_last_ns = now;
    MeminfoValues mi = ProcFs(kernel).meminfo();
    PsiGroup& psi = kernel.cgroups().root().psi;
    psi.update(now);
    char line[256];
    // On the terminal each screen replaces the last; in a file they follow one another.
    std::string screen = m_clear ? "\x1b[H\x1b[2J" : m_last_ns ? "\n" : "";
    std::snprintf(line, sizeof line, "kioku %s  simulated %.3f s  instructions %llu  system calls %llu\n",
                  final ? "(the run has ended)" : "", static_cast<double>(now) / 1e9,
                  static_cast<unsigned long long>(s.instructions),
                  static_cast<unsigned long long>(s.syscalls));
    screen += line;
    std::snprintf(line, sizeof line,
                  "MiB Mem : %8.1f total, %8.1f free, %8.1f available, %8.1f cache, %8.1f anon\n",
                  static_cast<double>(mi.mem_total) / 1024, static_cast<double>(mi.mem_free) / 1024,
                  static_cast<double>(mi.mem_available) / 1024, static_cast<double>(mi.cached) / 1024,
                  static_cast<double>(mi.anon_pages) / 1024);
    screen += line;
    std::snprintf(line, sizeof line, "MiB Swap: %8.1f total, %8.1f free; pages in %llu, out %llu\n",
                  static_cast<double>(mi.swap_total) / 1024, static_cast<double>(mi.swap_free) / 1024,
                  static_cast<unsigned long long>(vm[VmItem::Pswpin]),
                  static_cast<unsigned long long>(vm[VmItem::Pswpout]));
    screen += line;
    std::snprintf(line, sizeof line,
                  "faults %llu (major %llu), %.0f/s simulated; OOM kills %llu; pressure some avg10 %s "
                  "full avg10 %s\n\n",
                  static_cast<unsigned long long>(faults),
                  static_cast<unsigned long long>(vm[VmItem::Pgmajfault]), rate,
                  static_cast<unsigned long long>(vm[VmItem::OomKill]),
                  PsiGroup::percent(psi.average(PsiGroup::Some, 0)).c_str(),
                  PsiGroup::percent(psi.average(PsiGroup::Full, 0)).c_str());
    screen += line;
    screen += "    PID   PPID S    RSS kB   SWAP kB    MINFLT  MAJFLT CGROUP       COMMAND\n";
    struct Row {
        u64 rss;
        std::string text;
    };
    std::vector<Row> rows;
    for (auto& [pid, p] : kernel.processes()) {
        if (!p->alive() || !p->has_space())
            continue;
        Kernel::TaskView view = kernel.task_view(*p);
        const RssStat& rss = p->space().rss();
        u64 rss_kb = static_cast<u64>(std::max<i64>(rss.total(), 0)) * (PAGE_SIZE / 1024);
        std::snprintf(line, sizeof line, "%7d %6d %c %9llu %9llu %9llu %7llu %-12s %s\n", pid, view.ppid,
                      task_state_text(view.state)[0], static_cast<unsigned long long>(rss_kb),
                      static_cast<unsigned long long>(std::max<i64>(rss.swapents, 0)) * (PAGE_SIZE / 1024),
                      static_cast<unsigned long long>(p->faults().min_flt),
                      static_cast<unsigned long long>(p->faults().maj_flt),
                      (p->cgroup ? p->cgroup->path() : std::string("/")).substr(0, 12).c_str(),
                      p->name().c_str());
        rows.push_back({rss_kb, line});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.rss > b.rss; });
    for (size_t i = 0; i < rows.size() && i < 20; ++i)
        screen += rows[i].text;
    if (rows.size() > 20)
        screen += "  ... and " + std::to_string(rows.size() - 20) + " more\n";
    m_out << screen << std::flush;
}

} // namespace kioku
