#include "kernel/ProcJson.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "base/Json.h"
#include "base/Number.h"
#include "kernel/ProcFormat.h"
#include "kernel/ProcText.h"

namespace kioku {

using namespace proc_text;

namespace {

Error bad_text(const char* what)
{
    return Error::from_errno(EINVAL, what);
}

// ---- maps lines ----------------------------------------------------------------------------

// "start-end perms offset dev inode [path]" written out as the maps fields of an object.
bool put_maps_fields(JsonWriter& out, std::string_view line)
{
    std::string_view range = next_word(line);
    std::string_view perms = next_word(line);
    std::string_view offset = next_word(line);
    std::string_view dev = next_word(line);
    std::string_view inode = next_word(line);
    size_t dash = range.find('-');
    if (dash == std::string_view::npos || perms.size() != 4)
        return false;
    auto start = parse_u64(range.substr(0, dash), 16);
    auto end = parse_u64(range.substr(dash + 1), 16);
    auto off = parse_u64(offset, 16);
    auto ino = parse_u64(inode);
    if (!start || !end || !off || !ino || dev.find(':') == std::string_view::npos)
        return false;
    out.key("start");
    out.hex(*start);
    out.key("end");
    out.hex(*end);
    out.key("perms");
    out.string(perms);
    out.key("offset");
    out.hex(*off);
    out.key("dev");
    out.string(dev);
    out.key("inode");
    out.number(*ino);
    out.key("path");
    out.string(trim(line));
    return true;
}

// One field line of an smaps entry. VmFlags is a list of words; everything else a number.
bool put_smaps_field(JsonWriter& out, std::string_view key, std::string_view value)
{
    out.key(key);
    if (key == "VmFlags") {
        out.open('[');
        for (std::string_view flag : words_of(value))
            out.string(flag);
        out.close(']');
        return true;
    }
    auto number = amount(value);
    if (!number)
        return false;
    out.number(*number);
    return true;
}

// Writes the entries of smaps text as objects; returns how many, or an error.
Result<size_t> put_smaps_entries(JsonWriter& out, std::string_view text)
{
    size_t entries = 0;
    for (std::string_view line : lines_of(text)) {
        auto field = colon_line(line);
        if (field) {
            if (entries == 0 || !put_smaps_field(out, field->first, field->second))
                return bad_text("not an smaps field line");
            continue;
        }
        if (entries++ > 0)
            out.close('}');
        out.open('{');
        if (!put_maps_fields(out, line))
            return bad_text("not a maps line");
    }
    if (entries > 0)
        out.close('}');
    return entries;
}

// ---- status --------------------------------------------------------------------------------

bool is_one_of(std::string_view key, std::span<const std::string_view> names)
{
    return std::find(names.begin(), names.end(), key) != names.end();
}

// Lines whose values are lists of ids.
constexpr std::array<std::string_view, 7> STATUS_ID_LISTS = {"Uid",   "Gid",    "Groups", "NStgid",
                                                             "NSpid", "NSpgid", "NSsid"};
// Lines Linux prints as words, octal or hexadecimal masks: kept as the strings they are.
constexpr std::array<std::string_view, 20> STATUS_STRINGS = {"Name",
                                                             "Umask",
                                                             "State",
                                                             "SigQ",
                                                             "SigPnd",
                                                             "ShdPnd",
                                                             "SigBlk",
                                                             "SigIgn",
                                                             "SigCgt",
                                                             "CapInh",
                                                             "CapPrm",
                                                             "CapEff",
                                                             "CapBnd",
                                                             "CapAmb",
                                                             "Speculation_Store_Bypass",
                                                             "SpeculationIndirectBranch",
                                                             "Cpus_allowed",
                                                             "Cpus_allowed_list",
                                                             "Mems_allowed",
                                                             "Mems_allowed_list"};

bool put_status_value(JsonWriter& out, std::string_view key, std::string_view value)
{
    if (is_one_of(key, STATUS_STRINGS)) {
        out.string(value);
        return true;
    }
    if (is_one_of(key, STATUS_ID_LISTS)) {
        out.open('[');
        for (std::string_view word : words_of(value)) {
            auto id = parse_u64(word);
            if (!id)
                return false;
            out.number(*id);
        }
        out.close(']');
        return true;
    }
    auto number = amount(value);
    if (!number)
        return false;
    out.number(*number);
    return true;
}

// ---- tables with a heading line --------------------------------------------------------------

// Writes {"heading": value, ...} pairing words of `headings` with the numbers of `values`; values
// may be fewer than headings (free's Swap row has three).
bool put_row(JsonWriter& out, const std::vector<std::string_view>& headings,
             std::span<const std::string_view> values)
{
    if (values.size() > headings.size())
        return false;
    out.open('{');
    for (size_t i = 0; i < values.size(); ++i) {
        auto number = parse_u64(values[i]);
        if (!number)
            return false;
        out.key(headings[i]);
        out.number(*number);
    }
    out.close('}');
    return true;
}

} // namespace

Result<std::string> counters_json(std::string_view text)
{
    JsonWriter out;
    out.open('{');
    for (std::string_view line : lines_of(text)) {
        auto words = words_of(line);
        std::optional<u64> value = words.size() == 2 ? parse_u64(words[1]) : std::nullopt;
        if (!value)
            return bad_text("not a 'name value' line");
        out.key(words[0]);
        out.number(*value);
    }
    out.close('}');
    return out.take();
}

Result<std::string> buddyinfo_json(std::string_view text)
{
    JsonWriter out;
    out.open('[');
    for (std::string_view line : lines_of(text)) {
        auto words = words_of(line);
        if (words.size() < 4 || words[0] != "Node" || words[1].back() != ',' || words[2] != "zone")
            return bad_text("not a buddyinfo line");
        auto node = parse_u64(words[1].substr(0, words[1].size() - 1));
        if (!node)
            return bad_text("not a buddyinfo node");
        out.open('{');
        out.key("node");
        out.number(*node);
        out.key("zone");
        out.string(words[3]);
        out.key("free");
        out.open('[');
        for (size_t i = 4; i < words.size(); ++i) {
            auto count = parse_u64(words[i]);
            if (!count)
                return bad_text("not a buddyinfo count");
            out.number(*count);
        }
        out.close(']');
        out.close('}');
    }
    out.close(']');
    return out.take();
}

Result<std::string> maps_json(std::string_view text)
{
    JsonWriter out;
    out.open('[');
    for (std::string_view line : lines_of(text)) {
        out.open('{');
        if (!put_maps_fields(out, line))
            return bad_text("not a maps line");
        out.close('}');
    }
    out.close(']');
    return out.take();
}

Result<std::string> smaps_json(std::string_view text)
{
    JsonWriter out;
    out.open('[');
    TRY(put_smaps_entries(out, text));
    out.close(']');
    return out.take();
}

Result<std::string> smaps_rollup_json(std::string_view text)
{
    JsonWriter out;
    size_t entries = TRY(put_smaps_entries(out, text));
    if (entries != 1)
        return bad_text("smaps_rollup has one entry");
    return out.take();
}

Result<std::string> status_json(std::string_view text)
{
    JsonWriter out;
    out.open('{');
    for (std::string_view line : lines_of(text)) {
        auto field = colon_line(line);
        if (!field)
            return bad_text("not a status line");
        out.key(field->first);
        if (!put_status_value(out, field->first, field->second))
            return bad_text("not a status value");
    }
    out.close('}');
    return out.take();
}

Result<std::string> statm_json(std::string_view text)
{
    static constexpr std::array<std::string_view, 7> NAMES = {"size", "resident", "shared", "trs",
                                                              "lrs",  "drs",      "dt"};
    auto words = words_of(trim(text.substr(0, text.find('\n'))));
    if (words.size() != NAMES.size())
        return bad_text("statm has seven columns");
    JsonWriter out;
    if (!put_row(out, {NAMES.begin(), NAMES.end()}, words))
        return bad_text("not a statm number");
    return out.take();
}

Result<std::string> free_json(std::string_view text)
{
    auto lines = lines_of(text);
    if (lines.size() < 2)
        return bad_text("free prints a heading and rows");
    auto headings = words_of(lines[0]);
    JsonWriter out;
    out.open('{');
    for (size_t i = 1; i < lines.size(); ++i) {
        auto words = words_of(lines[i]);
        if (words.size() < 2 || words[0].back() != ':')
            return bad_text("not a free row");
        out.key(words[0].substr(0, words[0].size() - 1));
        if (!put_row(out, headings, std::span(words).subspan(1)))
            return bad_text("not a free row in kB");
    }
    out.close('}');
    return out.take();
}

Result<std::string> vmstat_command_json(std::string_view text)
{
    auto lines = lines_of(text);
    if (lines.size() != 3)
        return bad_text("vmstat prints two heading lines and one sample");
    auto headings = words_of(lines[1]);
    auto values = words_of(lines[2]);
    JsonWriter out;
    if (values.size() != headings.size() || !put_row(out, headings, values))
        return bad_text("not a vmstat sample");
    return out.take();
}

std::string pagemap_json(u64 start, std::span<const u64> entries)
{
    JsonWriter out;
    out.open('[');
    for (size_t i = 0; i < entries.size(); ++i) {
        u64 entry = entries[i];
        bool present = entry & PM_PRESENT;
        bool swapped = entry & PM_SWAP;
        u64 frame = entry & PM_PFRAME_MASK;
        out.open('{');
        out.key("addr");
        out.hex(start + i * PAGE_SIZE);
        out.key("present");
        out.boolean(present);
        out.key("swapped");
        out.boolean(swapped);
        out.key("file_or_shared");
        out.boolean(entry & PM_FILE);
        out.key("exclusive");
        out.boolean(entry & PM_MMAP_EXCLUSIVE);
        out.key("soft_dirty");
        out.boolean(entry & PM_SOFT_DIRTY);
        out.key("pfn");
        present ? out.number(frame) : out.null();
        out.key("swap_type");
        swapped ? out.number(frame & ((u64{1} << PM_SWAP_TYPE_BITS) - 1)) : out.null();
        out.key("swap_offset");
        swapped ? out.number(frame >> PM_SWAP_TYPE_BITS) : out.null();
        out.close('}');
    }
    out.close(']');
    return out.take();
}

} // namespace kioku
