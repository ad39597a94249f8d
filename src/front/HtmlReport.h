// `kioku report RUN.json -o FILE.html`: one self-contained page (no network: the chart library,
// uPlot, is inlined) with the run's summary, memory over time (anon, file, free, dirty and
// writeback, swap), fault, reclaim and swap rates, each process's RSS, the OOM kills as markers,
// and a page-access heatmap (address by time, as DAMON's damo draws one), and the picture of
// physical memory. The timeline charts need the run's --sample file, the heatmap its --events
// file, the picture its --physmap file.
#pragma once

#include <string>

#include "base/JsonValue.h"

namespace kioku {

// The page, or empty with `error` set (a file that cannot be read, no chart library built in).
std::string html_report(const JsonValue& report, const std::string& report_text, const std::string& summary,
                        const std::string& timeline_file, const std::string& events_file,
                        const std::string& physmap_file, std::string& error);

} // namespace kioku
