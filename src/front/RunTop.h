// The live view of one `kioku run` (--top[=FILE]): like top and vmstat 1, a screen redrawn about
// twice a second of host time while the guest runs (and once more at the end) with the machine's
// memory, swap, pressure and faults, and the guest's processes, largest first. It goes to the
// terminal (/dev/tty) so that it does not mix with the program's own output, or to FILE.
#pragma once

#include <chrono>
#include <ostream>

#include "kernel/Runner.h"

namespace kioku {

class RunTop final : public RunObserver {
  public:
    RunTop(Runner& runner, std::ostream& out, bool clear_screen);

    void round_done() override;
    // The last screen, when the run has ended.
    void finish();

  private:
    void draw(bool final);

    Runner& m_runner;
    std::ostream& m_out;
    bool m_clear;
    std::chrono::steady_clock::time_point m_next;
    u64 m_last_faults = 0;
    u64 m_last_ns = 0;
};

} // namespace kioku
