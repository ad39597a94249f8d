// Runs scenario text for the front-end tests and keeps the exit status and both outputs.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "front/scenario/Scenario.h"

namespace kioku::test {

struct RunResult {
    int status = -1;
    std::string out;
    std::string err;
};

inline RunResult run(std::string_view text, bool quiet = false)
{
    ScenarioOptions options;
    options.quiet = quiet;
    std::ostringstream out;
    std::ostringstream err;
    RunResult r;
    r.status = run_scenario_text(text, "t.kio", options, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

} // namespace kioku::test
