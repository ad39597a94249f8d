#include "kernel/ProcText.h"

#include <cctype>
#include <charconv>

#include "base/Number.h"

namespace kioku::proc_text {

namespace {

// Calls visit(line) for each line until it returns true; returns whether one did.
template <typename Visit>
bool for_each_line(std::string_view text, Visit visit)
{
    while (!text.empty()) {
        size_t newline = text.find('\n');
        if (visit(text.substr(0, newline)))
            return true;
        if (newline == std::string_view::npos)
            break;
        text.remove_prefix(newline + 1);
    }
    return false;
}

bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

std::string_view skip_spaces(std::string_view s)
{
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    return s;
}

// The number at the start of `s` (after blanks), times 1024 when a "kB" unit follows it.
std::optional<i64> leading_number(std::string_view s)
{
    s = skip_spaces(s);
    i64 value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end == s.data())
        return std::nullopt;
    std::string_view unit = skip_spaces(s.substr(static_cast<size_t>(end - s.data())));
    if (unit.substr(0, 2) == "kB")
        value *= 1024;
    return value;
}

bool is_smaps_header(std::string_view line)
{
    size_t dash = line.find('-');
    size_t space = line.find(' ');
    if (dash == 0 || dash == std::string_view::npos || space == std::string_view::npos || dash > space)
        return false;
    for (size_t i = 0; i < space; ++i)
        if (i != dash && !std::isxdigit(static_cast<unsigned char>(line[i])))
            return false;
    return true;
}

std::optional<u64> hex(std::string_view s)
{
    return parse_u64(s, 16);
}

} // namespace

std::optional<i64> colon_field(std::string_view text, std::string_view key)
{
    std::optional<i64> result;
    for_each_line(text, [&](std::string_view line) {
        if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
            return false;
        result = leading_number(line.substr(key.size() + 1));
        return true;
    });
    return result;
}

std::optional<i64> space_field(std::string_view text, std::string_view key)
{
    std::optional<i64> result;
    for_each_line(text, [&](std::string_view line) {
        if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ')
            return false;
        result = leading_number(line.substr(key.size()));
        return true;
    });
    return result;
}

std::optional<i64> stat_field(std::string_view text, int index)
{
    if (index == 1)
        return leading_number(text);
    size_t paren = text.rfind(')');
    if (index < 3 || paren == std::string_view::npos)
        return std::nullopt;
    // After ") " come field 3 (state), field 4, ...; field 3 is a letter, not a number.
    return column(text.substr(paren + 1), index - 3);
}

std::optional<i64> column(std::string_view text, int index)
{
    for (int i = 0;; ++i) {
        text = skip_spaces(text);
        while (!text.empty() && text.front() == '\n')
            text = skip_spaces(text.substr(1));
        if (text.empty())
            return std::nullopt;
        size_t end = text.find_first_of(" \t\n");
        if (i == index)
            return leading_number(text.substr(0, end));
        if (end == std::string_view::npos)
            return std::nullopt;
        text.remove_prefix(end);
    }
}

std::optional<std::string_view> smaps_entry(std::string_view smaps, u64 addr)
{
    size_t begin = std::string_view::npos;
    size_t pos = 0;
    while (pos < smaps.size()) {
        size_t newline = smaps.find('\n', pos);
        size_t end = newline == std::string_view::npos ? smaps.size() : newline;
        std::string_view line = smaps.substr(pos, end - pos);
        if (is_smaps_header(line)) {
            if (begin != std::string_view::npos)
                return smaps.substr(begin, pos - begin);
            size_t dash = line.find('-');
            auto start = hex(line.substr(0, dash));
            auto stop = hex(line.substr(dash + 1, line.find(' ') - dash - 1));
            if (start && stop && *start <= addr && addr < *stop)
                begin = pos;
        }
        pos = end + 1;
    }
    if (begin == std::string_view::npos)
        return std::nullopt;
    return smaps.substr(begin);
}

MapsOverlap maps_overlapping(std::string_view maps, u64 start, u64 end)
{
    MapsOverlap out;
    for_each_line(maps, [&](std::string_view line) {
        if (!is_smaps_header(line))
            return false;
        size_t dash = line.find('-');
        size_t space = line.find(' ');
        auto lo = hex(line.substr(0, dash));
        auto hi = hex(line.substr(dash + 1, space - dash - 1));
        if (!lo || !hi || *lo >= end || *hi <= start)
            return false;
        std::string_view perms = skip_spaces(line.substr(space));
        perms = perms.substr(0, perms.find(' '));
        out.perms += (out.count++ ? "," : "") + std::string(perms);
        return false;
    });
    return out;
}

i64 line_count(std::string_view text)
{
    i64 count = 0;
    for_each_line(text, [&](std::string_view line) {
        count += !line.empty();
        return false;
    });
    return count;
}

std::vector<std::string_view> lines_of(std::string_view text)
{
    std::vector<std::string_view> lines;
    for_each_line(text, [&](std::string_view line) {
        if (!line.empty())
            lines.push_back(line);
        return false;
    });
    return lines;
}

std::string_view trim(std::string_view text)
{
    text = skip_spaces(text);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

std::string_view next_word(std::string_view& text)
{
    text = trim(text);
    size_t end = 0;
    while (end < text.size() && !is_blank(text[end]))
        ++end;
    std::string_view word = text.substr(0, end);
    text.remove_prefix(end);
    return word;
}

std::vector<std::string_view> words_of(std::string_view text)
{
    std::vector<std::string_view> words;
    for (std::string_view word = next_word(text); !word.empty(); word = next_word(text))
        words.push_back(word);
    return words;
}

std::optional<std::pair<std::string_view, std::string_view>> colon_line(std::string_view line)
{
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        line.substr(0, colon).find_first_of(" \t") != std::string_view::npos)
        return std::nullopt;
    return std::pair{line.substr(0, colon), trim(line.substr(colon + 1))};
}

std::optional<u64> amount(std::string_view value)
{
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB")
        value = trim(value.substr(0, value.size() - 3));
    return parse_u64(value);
}

} // namespace kioku::proc_text
