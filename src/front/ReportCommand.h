// `kioku report RUN.json`: a run's report (kioku run --report) as text for a terminal, laid out as
// /usr/bin/time -v lays out a process's figures, then a line per process, per memory cgroup, the
// vmstat counters that moved most and the final meminfo. It reads only the report.
#pragma once

#include <ostream>

namespace kioku {

// Returns 0, or 2 for a usage error (no such file, not a report of a version it knows).
int report_command(int argc, char** argv, std::ostream& out, std::ostream& err);

} // namespace kioku
