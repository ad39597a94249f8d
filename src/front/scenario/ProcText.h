// Reading numbers out of /proc text the way a user-space tool would, so that a scenario's values
// are exactly what its `show` views print. Pure functions over text; no kernel here.
//
// Amounts that /proc prints in kB ("VmRSS:  1024 kB") come back in bytes: the scenario language
// measures every memory amount in bytes, so `A.rss - r0 == 1M` reads naturally.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/Types.h"

namespace kioku::scenario {

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

// FNV-1a, 32 bits: the checksum `read` and `checksum` report.
u32 fnv1a(const u8* data, u64 length, u32 hash = 2166136261u);

} // namespace kioku::scenario
