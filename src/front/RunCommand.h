// `kioku run [options] -- PROGRAM [ARGS...]`: runs a static riscv64 Linux program on a fresh
// kioku machine. The program's standard streams are kioku's; its exit status becomes kioku's (or
// 128 + N, with the shell's message on stderr, when signal N killed it).
//
// Swap areas (--swap, repeatable) are host files in a temporary directory of the run, removed
// when it ends, unless --swap-memory keeps them in host memory.
//
// The executable is a host file: it is linked (or copied) into the guest root as /bin/NAME, unless
// --root is given and PROGRAM already names a file inside that root.
#pragma once

#include <ostream>

namespace kioku {

// Parses the options after `run` (argv[0] is the first of them) and runs the program. Returns the
// process exit status: the program's, 2 for a usage error, 126 when the file cannot be executed,
// 127 when it does not exist.
int run_command(int argc, char** argv, std::ostream& err);

// The `run` lines of `kioku --help`.
const char* run_usage();

} // namespace kioku
