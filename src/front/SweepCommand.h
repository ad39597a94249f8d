// `kioku sweep`: one program (or several) run over a grid of machine settings, the runs in
// parallel on the host's cores or as a Slurm job array (--slurm), one CSV row per run
// (docs/sweep.md). Each run is `kioku run` in a process of its own, with --report; the row is read
// back from that report, so the figures are the report's. Rows are in grid order, whatever order
// the runs finish in.
#pragma once

#include <ostream>

namespace kioku {

// Parses the options after `sweep` (argv[0] is the first of them) and runs the grid. Returns 0
// when every run was made (whatever each one's exit status), 2 for a usage error, 1 when a run
// could not be started or its report not read.
int sweep_command(int argc, char** argv, std::ostream& out, std::ostream& err);

const char* sweep_usage();

} // namespace kioku
