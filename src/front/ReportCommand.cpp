#include "front/ReportCommand.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/JsonValue.h"
#include "front/CommandLine.h"
#include "front/HtmlReport.h"

namespace kioku {

namespace {

constexpr int EXIT_USAGE = 2;

std::string text_of(const JsonValue* v)
{
    if (!v || v->is_null())
        return "-";
    if (v->kind() == JsonValue::Kind::Boolean)
        return *v->as_bool() ? "yes" : "no";
    return v->text();
}

u64 num(const JsonValue& j, std::initializer_list<std::string_view> path)
{
    const JsonValue* v = j.find(path);
    return v ? v->as_u64().value_or(0) : 0;
}

std::string seconds(u64 ns)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
    return buf;
}

std::string pad(std::string s, size_t width, bool right = true)
{
    if (s.size() >= width)
        return s;
    return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

void summary(const JsonValue& r, std::ostream& out)
{
    std::string command;
    if (const JsonValue* c = r.find({"config", "command"}))
        for (const JsonValue& w : c->items())
            command += (command.empty() ? "" : " ") + w.text();
    const JsonValue* result = r.get("result");
    std::string status = text_of(result ? result->get("shell_status") : nullptr);
    u64 signal = num(r, {"result", "signal"});
    std::string limit = text_of(r.find({"result", "limit_reached"}));

    out << "\tCommand being run: \"" << command << "\"\n";
    out << "\tMachine: " << num(r, {"config", "mem_bytes"}) / (1 << 20) << " MiB of memory, "
        << (r.find({"config", "swap"}) ? r.find({"config", "swap"})->size() : 0) << " swap area(s), policy "
        << text_of(r.find({"config", "policy"})) << ", paging " << text_of(r.find({"config", "paging"}))
        << "\n";
    out << "\tSimulated time (elapsed): " << seconds(num(r, {"time", "simulated_ns"})) << "\n";
    out << "\tHost time (wall clock): " << seconds(num(r, {"time", "host_ns"})) << "\n";
    out << "\tInstructions retired: " << num(r, {"totals", "instructions"}) << "\n";
    out << "\tSystem calls: " << num(r, {"totals", "system_calls"}) << "\n";
    out << "\tMaximum resident set size (kbytes): " << num(r, {"totals", "peak_rss_kb"}) << "\n";
    out << "\tMaximum resident set size of all processes together (kbytes): "
        << num(r, {"totals", "tree_peak_rss_kb"}) << "\n";
    out << "\tMajor (requiring I/O) page faults: " << num(r, {"totals", "major_faults"}) << "\n";
    out << "\tMinor (reclaiming a frame) page faults: " << num(r, {"totals", "minor_faults"}) << "\n";
    out << "\tPages swapped in: " << num(r, {"totals", "swap_ins"}) << "\n";
    out << "\tPages swapped out: " << num(r, {"totals", "swap_outs"}) << "\n";
    out << "\tOOM kills: " << num(r, {"totals", "oom_kills"}) << "\n";
    out << "\tTLB hits / misses: " << num(r, {"totals", "tlb_hits"}) << " / "
        << num(r, {"totals", "tlb_misses"}) << "\n";
    out << "\tMemory pressure (some / full): " << num(r, {"pressure", "memory", "some", "total_us"})
        << " us / " << num(r, {"pressure", "memory", "full", "total_us"}) << " us\n";
    if (signal)
        out << "\tCommand terminated by signal " << signal << "\n";
    out << "\tExit status: " << status
        << (limit != "none" ? " (the run reached its " + limit + " limit)" : "") << "\n";

    out << "\nProcesses\n";
    out << pad("PID", 7) << pad("PPID", 7) << "  " << pad("COMMAND", 16, false) << pad("EXIT", 7)
        << pad("PEAK kB", 10) << pad("MINFLT", 10) << pad("MAJFLT", 8) << pad("SWAPIN", 8)
        << pad("SWAPOUT", 9) << "  OOM\n";
    if (const JsonValue* ps = r.get("processes"))
        for (const JsonValue& p : ps->items()) {
            std::string exit =
                num(p, {"signal"}) ? "sig " + text_of(p.get("signal")) : text_of(p.get("exit_code"));
            const JsonValue* oom = p.get("oom_kill");
            std::string oom_text = oom && !oom->is_null()
                                       ? "badness " + text_of(oom->get("badness")) +
                                             (oom->get("memcg") && !oom->get("memcg")->is_null()
                                                  ? " in " + oom->get("memcg")->text()
                                                  : std::string())
                                       : "-";
            out << pad(text_of(p.get("pid")), 7) << pad(text_of(p.get("ppid")), 7) << "  "
                << pad(text_of(p.get("command")).substr(0, 15), 16, false) << pad(exit, 7)
                << pad(text_of(p.get("peak_rss_kb")), 10) << pad(text_of(p.get("minor_faults")), 10)
                << pad(text_of(p.get("major_faults")), 8) << pad(text_of(p.get("swap_ins")), 8)
                << pad(text_of(p.get("swap_outs")), 9) << "  " << oom_text << "\n";
        }

    out << "\nMemory cgroups\n";
    out << pad("PATH", 20, false) << pad("CURRENT kB", 12) << pad("PEAK kB", 10) << pad("SWAP kB", 10)
        << pad("HIGH", 7) << pad("MAX", 6) << pad("OOM", 5) << pad("KILLS", 6) << "\n";
    if (const JsonValue* cs = r.get("cgroups"))
        for (const JsonValue& c : cs->items())
            out << pad(text_of(c.get("path")), 20, false)
                << pad(std::to_string(num(c, {"memory.current"}) / 1024), 12)
                << pad(std::to_string(num(c, {"memory.peak"}) / 1024), 10)
                << pad(std::to_string(num(c, {"memory.swap.current"}) / 1024), 10)
                << pad(text_of(c.find({"memory.events", "high"})), 7)
                << pad(text_of(c.find({"memory.events", "max"})), 6)
                << pad(text_of(c.find({"memory.events", "oom"})), 5)
                << pad(text_of(c.find({"memory.events", "oom_kill"})), 6) << "\n";

    // The event counters that moved most (gauges, nr_*, are left out: the meminfo below has them).
    std::vector<std::pair<i64, std::string>> moved;
    if (const JsonValue* v = r.get("vmstat_delta"))
        for (auto& [name, value] : v->members())
            if (!name.starts_with("nr_") && value.as_i64().value_or(0) > 0)
                moved.emplace_back(*value.as_i64(), name);
    std::stable_sort(moved.begin(), moved.end(), [](auto& a, auto& b) { return a.first > b.first; });
    out << "\nvmstat, the counters that moved most during the run\n";
    for (size_t i = 0; i < moved.size() && i < 12; ++i)
        out << "\t" << pad(moved[i].second, 28, false) << pad(std::to_string(moved[i].first), 12) << "\n";

    out << "\nmeminfo at the end\n";
    if (const JsonValue* m = r.get("meminfo"))
        for (const char* name : {"MemTotal", "MemFree", "MemAvailable", "Cached", "AnonPages", "Shmem",
                                 "Slab", "PageTables", "SwapTotal", "SwapFree"})
            if (const JsonValue* v = m->get(name))
                out << "\t" << pad(name, 28, false) << pad(v->text() + " kB", 15) << "\n";
}

} // namespace

int report_command(int argc, char** argv, std::ostream& out, std::ostream& err)
{
    std::string file, html, timeline, events, physmap;
    CommandLine cli;
    auto keep = [](std::string& field) {
        return [&field](const std::string& v) {
            field = v;
            return std::string();
        };
    };
    cli.option("-o", keep(html), "-o needs the HTML file to write");
    cli.option("--timeline", keep(timeline), "--timeline needs the file kioku run --sample wrote");
    cli.option("--events", keep(events), "--events needs the file kioku run --events wrote");
    cli.option("--physmap", keep(physmap), "--physmap needs the picture kioku run --physmap drew");
    std::vector<std::string> operands;
    if (auto error = cli.parse({argv, argv + argc}, CommandLine::Operands::Interleaved, operands);
        !error.empty() || operands.size() != 1) {
        err << "kioku: " << (error.empty() ? "report takes one file" : error)
            << ": kioku report RUN.json [-o FILE.html [--timeline RUN.jsonl] [--events RUN.csv] "
               "[--physmap RUN.svg]]\n";
        return EXIT_USAGE;
    }
    file = operands[0];
    std::ifstream in(file);
    if (!in) {
        err << "kioku: report: cannot read " << file << "\n";
        return EXIT_USAGE;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = JsonValue::parse(text.str());
    if (parsed.is_error() || text_of(parsed.value().get("schema")) != "kioku-run-report") {
        err << "kioku: report: " << file << " is not a kioku run report\n";
        return EXIT_USAGE;
    }
    const JsonValue& r = parsed.value();
    if (num(r, {"version"}) != 1) {
        err << "kioku: report: " << file << " is a report of version " << text_of(r.get("version"))
            << "; this kioku reads version 1\n";
        return EXIT_USAGE;
    }
    if (html.empty()) {
        summary(r, out);
        return 0;
    }
    std::stringstream text_summary;
    summary(r, text_summary);
    std::string error;
    std::string page = html_report(r, text.str(), text_summary.str(), timeline, events, physmap, error);
    if (!error.empty()) {
        err << "kioku: report: " << error << "\n";
        return EXIT_USAGE;
    }
    std::ofstream o(html, std::ios::out | std::ios::trunc);
    o << page;
    o.close();
    if (!o) {
        err << "kioku: report: cannot write " << html << "\n";
        return EXIT_USAGE;
    }
    return 0;
}

} // namespace kioku
