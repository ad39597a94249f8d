// `kioku demo`: a guided run through the concepts of virtual memory on a default machine. Each
// step says in a sentence what it shows, does it through the kernel facade (so every fault and
// page-table write is the real thing), and prints the views a Linux user would look at.
#pragma once

#include <iosfwd>

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

struct DemoOptions {
    u64 mem_bytes = u64{512} << 20;
    isa::SatpMode paging = isa::SatpMode::Sv48;
    bool check_invariants = false;
};

// Returns 0 when every step behaved as the text says, 1 otherwise.
int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err);

} // namespace kioku
