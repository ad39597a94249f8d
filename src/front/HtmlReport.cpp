#include "front/HtmlReport.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "base/Json.h"
#include "base/Number.h"
#include "front/HtmlAssets.h"

namespace kioku {

namespace {

constexpr unsigned HEAT_TIME_BINS = 160;
constexpr unsigned HEAT_ADDRESS_BINS = 80;

// Text safe inside <script> (a JSON value) or an HTML element.
std::string script_safe(std::string text)
{
    for (size_t at = 0; (at = text.find("</", at)) != std::string::npos; at += 3)
        text.replace(at, 2, "<\\/");
    return text;
}

std::string html_escape(const std::string& text)
{
    std::string out;
    for (char c : text)
        out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return out;
}

i64 value(const JsonValue* v)
{
    return v ? v->as_i64().value_or(0) : 0;
}

// The timeline as arrays for the charts: times in seconds, memory series in MiB, rates per
// simulated second between lines, each process's RSS in MiB (null while it is not there).
bool timeline_data(const std::string& file, JsonWriter& w, std::string& error)
{
    std::ifstream in(file);
    if (!in) {
        error = "cannot read the timeline " + file;
        return false;
    }
    std::vector<JsonValue> lines;
    for (std::string line; std::getline(in, line);) {
        auto v = JsonValue::parse(line);
        if (v.is_error()) {
            error = file + " is not a kioku timeline (kioku run --sample)";
            return false;
        }
        lines.push_back(v.release_value());
    }
    auto series = [&](const char* name, auto get) {
        w.key(name);
        w.open('[');
        for (size_t i = 0; i < lines.size(); ++i)
            w.encoded(get(i));
        w.close(']');
    };
    auto mib = [](i64 kb) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(kb) / 1024);
        return std::string(buf);
    };
    auto mem = [&](std::initializer_list<const char*> keys) {
        return [&, keys](size_t i) {
            i64 kb = 0;
            for (const char* k : keys)
                kb += value(lines[i].find({"meminfo", k}));
            return mib(kb);
        };
    };
    auto seconds = [&](size_t i) { return static_cast<double>(value(lines[i].get("t_ns"))) / 1e9; };
    auto rate = [&](std::initializer_list<const char*> keys) {
        return [&, keys](size_t i) {
            if (i == 0 || seconds(i) <= seconds(i - 1))
                return std::string("null");
            i64 delta = 0;
            for (const char* k : keys)
                delta += value(lines[i].find({"vmstat", k})) - value(lines[i - 1].find({"vmstat", k}));
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f",
                          static_cast<double>(delta) / (seconds(i) - seconds(i - 1)));
            return std::string(buf);
        };
    };
    w.open('{');
    series("t", [&](size_t i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6f", seconds(i));
        return std::string(buf);
    });
    series("anon", mem({"AnonPages"}));
    series("file", mem({"Cached"}));
    series("free", mem({"MemFree"}));
    series("dirty", mem({"Dirty", "Writeback"}));
    series("swap", [&](size_t i) {
        return mib(value(lines[i].find({"meminfo", "SwapTotal"})) -
                   value(lines[i].find({"meminfo", "SwapFree"})));
    });
    series("faults", rate({"pgfault"}));
    series("major", rate({"pgmajfault"}));
    series("reclaimed", rate({"pgsteal_kswapd", "pgsteal_direct"}));
    series("swapins", rate({"pswpin"}));
    series("swapouts", rate({"pswpout"}));
    // Each process that ever appears: its RSS at each line.
    std::map<i64, std::string> processes;
    for (const JsonValue& line : lines)
        if (const JsonValue* ps = line.get("processes"))
            for (const JsonValue& p : ps->items())
                processes.emplace(value(p.get("pid")), p.get("command") ? p.get("command")->text() : "");
    w.key("processes");
    w.open('[');
    for (auto& [pid, command] : processes) {
        w.open('{');
        w.key("label");
        w.string(std::to_string(pid) + " " + command);
        w.key("rss");
        w.open('[');
        for (const JsonValue& line : lines) {
            std::string cell = "null";
            if (const JsonValue* ps = line.get("processes"))
                for (const JsonValue& p : ps->items())
                    if (value(p.get("pid")) == pid)
                        cell = mib(value(p.get("rss_kb")));
            w.encoded(cell);
        }
        w.close(']');
        w.close('}');
    }
    w.close(']');
    w.close('}');
    return true;
}

// The heatmap: faults and swap-ins by time and address. Addresses are the pages touched, in
// order, with the unused space between them left out, so that the picture is not one stripe.
bool heatmap_data(const std::string& file, JsonWriter& w, std::string& error)
{
    std::ifstream in(file);
    if (!in) {
        error = "cannot read the events " + file;
        return false;
    }
    std::string line;
    if (!std::getline(in, line) || line != "time_ns,pid,address,pfn,kind,detail") {
        error = file + " is not a kioku events file (kioku run --events)";
        return false;
    }
    std::vector<std::pair<u64, u64>> touches; // time, page
    std::set<u64> pages;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream fields(line);
        for (std::string x; f.size() < 5 && std::getline(fields, x, ',');)
            f.push_back(x);
        if (f.size() < 5 || (f[4] != "fault" && f[4] != "swap_in") || f[2].size() < 3)
            continue;
        auto t = parse_u64(f[0]);
        auto a = parse_u64(std::string_view(f[2]).substr(2), 16);
        if (!t || !a)
            continue;
        touches.emplace_back(*t, *a >> 12);
        pages.insert(*a >> 12);
    }
    std::vector<u64> order(pages.begin(), pages.end());
    u64 t_max = touches.empty() ? 1 : std::max<u64>(touches.back().first, 1);
    std::vector<u32> bins(HEAT_TIME_BINS * HEAT_ADDRESS_BINS, 0);
    for (auto& [t, page] : touches) {
        u64 rank = static_cast<u64>(std::lower_bound(order.begin(), order.end(), page) - order.begin());
        u64 tb = std::min<u64>(t * HEAT_TIME_BINS / (t_max + 1), HEAT_TIME_BINS - 1);
        u64 ab = order.empty() ? 0 : rank * HEAT_ADDRESS_BINS / order.size();
        ++bins[tb * HEAT_ADDRESS_BINS + ab];
    }
    w.open('{');
    w.key("time_bins");
    w.number(HEAT_TIME_BINS);
    w.key("address_bins");
    w.number(HEAT_ADDRESS_BINS);
    w.key("t_max_s");
    w.encoded(std::to_string(static_cast<double>(t_max) / 1e9));
    w.key("pages");
    w.number(order.size());
    w.key("first");
    w.hex(order.empty() ? 0 : order.front() << 12);
    w.key("last");
    w.hex(order.empty() ? 0 : order.back() << 12);
    w.key("counts");
    w.open('[');
    for (u32 c : bins)
        w.number(c);
    w.close(']');
    w.close('}');
    return true;
}

const char* PAGE_SCRIPT = R"JS(
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); document.body.dataset.errors = errors.join(' | '); });
  var D = JSON.parse(document.getElementById('kioku-data').textContent);
  var charts = 0;
  var width = Math.min(1000, document.body.clientWidth - 40);
  var oom = (D.report.processes || []).filter(function (p) { return p.oom_kill; })
    .map(function (p) { return { t: p.oom_kill.time_ns / 1e9, label: 'OOM kill of ' + p.pid + ' ' + p.command }; });
  function markers(u) {
    var ctx = u.ctx;
    oom.forEach(function (m) {
      var x = u.valToPos(m.t, 'x', true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      ctx.save(); ctx.strokeStyle = '#d00'; ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.restore();
    });
  }
  var COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  function chart(id, title, unit, names, columns) {
    var el = document.getElementById(id);
    var series = [{}].concat(names.map(function (n, i) {
      return { label: n, stroke: COLORS[i % COLORS.length], width: 1.5, value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' ' + unit; } };
    }));
    new uPlot({ title: title, width: width, height: 280, series: series, scales: { x: { time: false } },
                axes: [{ label: 'simulated seconds', values: function (u, vals) { return vals.map(function (v) { return +v.toPrecision(4); }); } },
                       { label: unit }], hooks: { draw: [markers] } },
              [D.timeline.t].concat(columns), el);
    charts++;
  }
  if (D.timeline) {
    var T = D.timeline;
    chart('memory', 'Memory over time', 'MiB', ['anonymous', 'file (page cache)', 'free', 'dirty + writeback', 'swap used'],
          [T.anon, T.file, T.free, T.dirty, T.swap]);
    chart('rates', 'Faults, reclaim and swap', 'pages/s', ['faults', 'major faults', 'pages reclaimed', 'swapped in', 'swapped out'],
          [T.faults, T.major, T.reclaimed, T.swapins, T.swapouts]);
    chart('rss', 'Resident set size of each process', 'MiB', T.processes.map(function (p) { return p.label; }),
          T.processes.map(function (p) { return p.rss; }));
  } else {
    ['memory', 'rates', 'rss'].forEach(function (id) {
      document.getElementById(id).textContent = 'No timeline: run with --sample INTERVAL:FILE and pass --timeline FILE.';
    });
  }
  if (D.heatmap) {
    var H = D.heatmap, canvas = document.getElementById('heatmap-canvas');
    var cw = Math.floor(width / H.time_bins), ch = 4;
    canvas.width = cw * H.time_bins; canvas.height = ch * H.address_bins;
    var ctx = canvas.getContext('2d'), most = 1;
    H.counts.forEach(function (c) { if (c > most) most = c; });
    for (var t = 0; t < H.time_bins; t++)
      for (var a = 0; a < H.address_bins; a++) {
        var c = H.counts[t * H.address_bins + a];
        if (!c) continue;
        var level = Math.log(1 + c) / Math.log(1 + most);
        ctx.fillStyle = 'rgba(200, 60, 0, ' + (0.15 + 0.85 * level).toFixed(3) + ')';
        ctx.fillRect(t * cw, (H.address_bins - 1 - a) * ch, cw, ch);
      }
    document.getElementById('heatmap-legend').textContent = H.pages + ' pages touched, ' + H.first + ' to ' + H.last +
      ' (the space between them left out), over ' + H.t_max_s.toFixed(3) + ' simulated seconds; darker: more faults.';
    charts++;
  } else {
    document.getElementById('heatmap').textContent = 'No page events: run with --events FILE.csv and pass --events FILE.';
  }
  document.body.dataset.charts = charts;
  document.body.dataset.ready = '1';
})();
)JS";

} // namespace

std::string html_report(const JsonValue& report, const std::string& report_text, const std::string& summary,
                        const std::string& timeline_file, const std::string& events_file,
                        const std::string& physmap_file, std::string& error)
{
    if (!uplot_version()) {
        error = "this kioku was built without uPlot, the chart library (scripts/setup.sh fetches it into "
                "third_party/; build again)";
        return {};
    }
    JsonWriter w;
    w.open('{');
    w.key("report");
    w.encoded(report_text);
    w.key("timeline");
    if (timeline_file.empty())
        w.null();
    else if (!timeline_data(timeline_file, w, error))
        return {};
    w.key("heatmap");
    if (events_file.empty())
        w.null();
    else if (!heatmap_data(events_file, w, error))
        return {};
    w.close('}');
    std::string command;
    if (const JsonValue* c = report.find({"config", "command"}))
        for (const JsonValue& word : c->items())
            command += (command.empty() ? "" : " ") + word.text();

    std::string page =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>kioku run: " +
        html_escape(command) + "</title>\n<style>\n";
    page += std::string(uplot_css());
    page += "\nbody { font-family: sans-serif; margin: 20px; color: #222; }\n"
            "pre { background: #f6f6f6; padding: 12px; overflow-x: auto; font-size: 13px; }\n"
            "h2 { margin-top: 28px; font-size: 18px; } .note { color: #666; font-size: 13px; }\n"
            "#heatmap-canvas { border: 1px solid #ccc; image-rendering: pixelated; "
            "}\n</style>\n</head>\n<body>\n";
    page += "<h1>kioku run: " + html_escape(command) + "</h1>\n";
    page +=
        "<p class=\"note\">Made by <code>kioku report</code> from a run report (schema version 1); charts by "
        "uPlot " +
        std::string(uplot_version()) + ". Dashed red lines mark OOM kills.</p>\n";
    page += "<h2>Summary</h2>\n<pre>" + html_escape(summary) + "</pre>\n";
    page += "<h2>Memory</h2>\n<div id=\"memory\"></div>\n";
    page += "<h2>Rates</h2>\n<div id=\"rates\"></div>\n";
    page += "<h2>Processes</h2>\n<div id=\"rss\"></div>\n";
    page += "<h2>Page accesses</h2>\n<div id=\"heatmap\"><canvas id=\"heatmap-canvas\"></canvas>"
            "<p class=\"note\" id=\"heatmap-legend\"></p></div>\n";
    if (!physmap_file.empty()) {
        // kioku run --physmap's picture, inlined as it is (an SVG document kioku wrote).
        std::ifstream in(physmap_file);
        std::stringstream svg;
        svg << in.rdbuf();
        if (!in || svg.str().rfind("<svg", 0) != 0) {
            error = "cannot read the picture " + physmap_file + " (kioku run --physmap writes one)";
            return {};
        }
        page += "<h2>Physical memory</h2>\n<div id=\"physmap\">" + svg.str() + "</div>\n";
    }
    page += "<script>\n" + script_safe(std::string(uplot_js())) + "\n</script>\n";
    page += "<script type=\"application/json\" id=\"kioku-data\">" + script_safe(w.take()) + "</script>\n";
    page += "<script>" + std::string(PAGE_SCRIPT) + "</script>\n</body>\n</html>\n";
    return page;
}

} // namespace kioku
