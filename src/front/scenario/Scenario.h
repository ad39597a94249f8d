// Public entry points of the scenario language: run a .kio file (or text) against a fresh kioku
// machine, and the parser API. The language is documented in docs/scenarios.md.
//
// Exit status of a run: 0 when every expectation held; 1 when an expectation failed, an
// operation failed without an `expect` saying it should, or the machine could not be built;
// 2 when the file could not be read or did not parse (then nothing ran).
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "base/Types.h"
#include "front/scenario/Parser.h"
#include "front/scenario/Textbook.h"

namespace kioku {

struct ScenarioOptions {
    bool quiet = false;              // print only echo/print/show output and failures
    bool check_invariants = false;   // run the kernel's invariant checker after every operation
    std::optional<u64> mem_override; // replaces the script's `machine mem=`
    std::string root_dir;            // the guest's "/" on the host; empty: a fresh temporary directory
    std::string pictures_dir; // --pictures DIR: each `show physmap` also drawn as DIR/NAME-physmap-N.svg
    // Told of each row of every `reference ... trace` as it is made (compare and quiz read them).
    std::function<void(const scenario::TraceRow&)> on_trace_row;
};

inline constexpr int SCENARIO_OK = 0;
inline constexpr int SCENARIO_FAILED = 1;
inline constexpr int SCENARIO_BAD_SCRIPT = 2;

int run_scenario_file(const std::string& path, const ScenarioOptions& options, std::ostream& out,
                      std::ostream& err);
int run_scenario_text(std::string_view text, const std::string& name, const ScenarioOptions& options,
                      std::ostream& out, std::ostream& err);

// Runs an already parsed script (it must have parsed without errors).
int run_script(const scenario::Script& script, const ScenarioOptions& options, std::ostream& out,
               std::ostream& err);

} // namespace kioku
