// Parsing and printing of memory sizes as users write them: "512M", "16G", "4096", "64K".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/Types.h"

namespace kioku {

// Accepts a decimal number with an optional K/M/G/T suffix (binary multiples, case-insensitive,
// an optional trailing "B" or "iB"). Returns nullopt on anything else or on overflow.
std::optional<u64> parse_size(std::string_view text);

// "512M", "1G", "12K", or plain bytes when not a whole multiple.
std::string format_size(u64 bytes);

} // namespace kioku
