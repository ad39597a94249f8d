// The one reader of /proc text: numbers and fields taken out of the files as a user-space tool
// would read them, so that what a scenario, the demo or a JSON view reports is exactly what the
// text says. Pure functions over text; no kernel state here.
//
// The field readers give amounts that /proc prints in kB ("VmRSS:  1024 kB") back in bytes: the
// scenario language measures every memory amount in bytes, so `A.rss - r0 == 1M` reads naturally.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/Types.h"

namespace kioku::proc_text {

// "Key:   value [kB]" lines: /proc/meminfo, /proc/PID/status, smaps entries.
std::optional<i64> colon_field(std::string_view text, std::string_view key);

// "key value" lines: /proc/vmstat, /proc/kioku/tlb.
std::optional<i64> space_field(std::string_view text, std::string_view key);

// Field `index` (1-based, as proc(5) numbers them) of /proc/PID/stat. The command name in
// parentheses may itself hold spaces and parentheses, so counting starts after the last ')'.
std::optional<i64> stat_field(std::string_view text, int index);

// Whitespace-separated column `index` (0-based) of a one-line file such as /proc/PID/statm,
// or the first number of a /proc/sys file with index 0.
std::optional<i64> column(std::string_view text, int index);

// The smaps entry (its header line and the field lines after it) whose range holds addr.
std::optional<std::string_view> smaps_entry(std::string_view smaps, u64 addr);

// The /proc/PID/maps lines whose range overlaps [start, end): how many, and their permission
// fields joined by commas ("rw-p,r--p,rw-p"), in address order.
struct MapsOverlap {
    i64 count = 0;
    std::string perms;
};
MapsOverlap maps_overlapping(std::string_view maps, u64 start, u64 end);

// How many non-empty lines the text has.
i64 line_count(std::string_view text);

// ==== Tokens, for readers that walk a whole file (the JSON views) ====
// The non-empty lines of the text.
std::vector<std::string_view> lines_of(std::string_view text);
// Without leading and trailing blanks (spaces and tabs).
std::string_view trim(std::string_view text);
// Takes the next blank-separated word off the front of `text`; empty when none is left.
std::string_view next_word(std::string_view& text);
std::vector<std::string_view> words_of(std::string_view text);
// Splits "Key:   value" into its key and its trimmed value; nullopt for a line without a colon
// directly after its first word.
std::optional<std::pair<std::string_view, std::string_view>> colon_line(std::string_view line);
// A value printed as "N kB" or "N": the number N, as printed (kB are not converted).
std::optional<u64> amount(std::string_view value);

} // namespace kioku::proc_text
