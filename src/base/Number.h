// Integers as text: the one parser of whole numbers, on std::from_chars. The whole text must be
// the number (digits in `base`, a leading '-' only for signed types, no blanks, no base prefix);
// anything else, and overflow, is nullopt. trim_number() takes off what /proc and /sys writes
// carry around a number (blanks and a trailing newline) for callers that accept them.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "base/Types.h"

namespace kioku {

template <typename T>
std::optional<T> parse_integer(std::string_view text, int base = 10)
{
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

inline std::optional<u64> parse_u64(std::string_view text, int base = 10)
{
    return parse_integer<u64>(text, base);
}

inline std::optional<i64> parse_i64(std::string_view text, int base = 10)
{
    return parse_integer<i64>(text, base);
}

// 0x2a: a whole number in lowercase hexadecimal, as /proc and the run's outputs print addresses.
inline std::string hex_text(u64 value)
{
    char buf[20] = {'0', 'x'};
    auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, value, 16);
    return std::string(buf, end);
}

// " 42\n" -> "42".
inline std::string_view trim_number(std::string_view text)
{
    size_t first = text.find_first_not_of(" \t\n");
    if (first == std::string_view::npos)
        return {};
    size_t last = text.find_last_not_of(" \t\n");
    return text.substr(first, last - first + 1);
}

} // namespace kioku
