#include "front/scenario/Scenario.h"

#include <fstream>
#include <sstream>

#include "base/Printable.h"
#include "front/scenario/Interpreter.h"

namespace kioku {

int run_scenario_file(const std::string& path, const ScenarioOptions& options, std::ostream& out,
                      std::ostream& err)
{
    std::ifstream file(path);
    if (!file) {
        err << printable(path) << ": cannot read the file\n";
        return SCENARIO_BAD_SCRIPT;
    }
    std::stringstream text;
    text << file.rdbuf();
    return run_scenario_text(text.str(), path, options, out, err);
}

int run_scenario_text(std::string_view text, const std::string& name, const ScenarioOptions& options,
                      std::ostream& out, std::ostream& err)
{
    auto parsed = scenario::parse_scenario(text, name);
    if (!parsed.ok()) {
        err << parsed.format_errors();
        return SCENARIO_BAD_SCRIPT;
    }
    return run_script(parsed.script, options, out, err);
}

int run_script(const scenario::Script& script, const ScenarioOptions& options, std::ostream& out,
               std::ostream& err)
{
    return scenario::Interpreter(script, options, out, err).run();
}

} // namespace kioku
