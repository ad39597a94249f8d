#include "base/Assert.h"

#include <cstdio>
#include <cstdlib>

namespace kioku {
void verify_failed(const char* expr, const char* file, int line, const char* func)
{
    std::fprintf(stderr, "kioku: internal invariant broken: %s\n  at %s:%d (%s)\n", expr, file, line, func);
    std::fflush(stderr);
    std::abort();
}
} // namespace kioku
