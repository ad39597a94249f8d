// Turns the text of a scenario file into a Script, or into the list of what is wrong with it.
// Parsing is complete before anything runs. Every malformed line is reported (one message per
// line, the first problem found on it); a name defined by a malformed line still counts as
// defined, so one mistake does not cascade into "undefined name" errors on later lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "front/scenario/Script.h"

namespace kioku::scenario {

struct ParseError {
    int line = 0;
    std::string message;
};

struct ParseResult {
    Script script;
    std::vector<ParseError> errors;

    bool ok() const { return errors.empty(); }
    // "name:line: message", one per line of output.
    std::string format_errors() const;
};

ParseResult parse_scenario(std::string_view text, const std::string& name);

} // namespace kioku::scenario
