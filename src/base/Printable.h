// Text from outside (a scenario line, a file name, a guest's string) made safe to print in a
// message: control bytes and DEL become \xNN, so a message can never move the terminal's cursor,
// clear its screen or forge a line of its own.
#pragma once

#include <string>
#include <string_view>

namespace kioku {

std::string printable(std::string_view text);

} // namespace kioku
