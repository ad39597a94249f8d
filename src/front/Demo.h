// `kioku demo`: a guided tour of virtual memory in chapters, from physical memory and the buddy
// allocator to memory cgroups. Each chapter runs on a fresh machine of its own: a few sentences
// say what it shows, then a short scenario does it on the machine (every fault and page-table
// write the real thing) and prints what a Linux user would look at, its own deltas, not totals
// since boot, and `expect` lines check that what the text claims happened. The texts come from
// the message catalogue (front/text/Messages.h), in English or Japanese.
#pragma once

#include <iosfwd>
#include <optional>

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

struct DemoOptions {
    u64 mem_bytes = u64{512} << 20; // for the chapters that need no particular size
    isa::SatpMode paging = isa::SatpMode::Sv48;
    bool check_invariants = false;
    std::optional<unsigned> chapter; // --chapter N: only that one
    bool list = false;               // --list: the chapters' titles
    bool pause = false;              // --pause: wait for Enter after each chapter on a terminal
};

// Returns 0 when every chapter behaved as its text says, 1 otherwise, 2 for a chapter that does
// not exist.
int run_demo(const DemoOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

// How many chapters there are.
unsigned demo_chapters();

} // namespace kioku
