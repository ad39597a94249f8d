// JSON forms of kioku's /proc views and of the procps tool outputs, as pure functions.
//
// Each JSON view is the text view re-encoded, not a second gathering of the numbers: the
// functions below read the exact text procfs serves (or that ProcFormat makes for `free` and
// `vmstat`), as a user-space tool would, and write it out again as JSON. So a JSON value can
// never disagree with the line it comes from, whatever procfs does to fill the text. Only
// pagemap, a binary file, is encoded from its 64-bit entries.
//
// Shape, shared by every function:
// - Keys are Linux's own names in Linux's print order ("MemTotal", "nr_free_pages", "Rss",
//   "VmRSS", "si"); values keep the unit the text prints (kB for the "... kB" fields, pages for
//   statm, counts elsewhere). Nothing is converted, so the JSON and the text read the same.
// - Addresses and file offsets are strings "0x..." (lowercase, no padding), since they may
//   exceed the 2^53 that JSON readers hold exactly; every other number is a JSON number.
// - Output is one line, separators ", " and ": " (as meminfo_json() in ProcFormat), no trailing
//   newline; the same text gives the same bytes.
//
// A text that does not have the shape of its file is an error value (EINVAL), never a crash:
// the functions also serve text cut out of a larger file (one smaps entry).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

// "name value" lines, /proc/vmstat and /proc/kioku/tlb: {"nr_free_pages": 15000, ...}.
Result<std::string> counters_json(std::string_view text);

// /proc/buddyinfo: one object per zone line,
// [{"node": 0, "zone": "DMA32", "free": [3, 1, ...]}], free[n] counting free blocks of order n.
Result<std::string> buddyinfo_json(std::string_view text);

// /proc/PID/maps: one object per line,
// [{"start": "0x10000", "end": "0x11000", "perms": "r-xp", "offset": "0x0", "dev": "00:00",
//   "inode": 0, "path": "[heap]"}]; path is "" for an unnamed mapping, and keeps Linux's
// escapes ("\012" for a newline in a file name).
Result<std::string> maps_json(std::string_view text);

// /proc/PID/smaps, or any run of its entries: one object per entry, the maps fields above, then
// every field line in Linux's order with its value in kB ("Size": 1024, "Rss": 8, ...),
// "THPeligible" as a number and "VmFlags" as an array of mnemonics (["rd", "wr", "mr"]).
Result<std::string> smaps_json(std::string_view text);

// /proc/PID/smaps_rollup: one object shaped as a smaps entry (its path is "[rollup]").
Result<std::string> smaps_rollup_json(std::string_view text);

// /proc/PID/status: one object, every line in order. Ids and counts are numbers, the "... kB"
// fields numbers in kB, the id lists (Uid, Gid, Groups, NStgid, NSpid, NSpgid, NSsid) arrays of
// numbers, and what Linux prints as masks, octal or words (Umask, State, SigQ, Sig*, Cap*,
// Speculation*, Cpus_allowed*, Mems_allowed*) strings as printed.
Result<std::string> status_json(std::string_view text);

// /proc/PID/statm, in pages, with the names of Documentation/filesystems/proc.rst:
// {"size": .., "resident": .., "shared": .., "trs": .., "lrs": 0, "drs": .., "dt": 0}.
Result<std::string> statm_json(std::string_view text);

// `free` output in kB (not -h): {"Mem": {"total": .., "used": .., "free": .., "shared": ..,
// "buff/cache": .., "available": ..}, "Swap": {"total": .., "used": .., "free": ..}}, the keys
// being free's own row and column headings.
Result<std::string> free_json(std::string_view text);

// `vmstat` output with exactly one sample line: {"r": .., "b": .., "swpd": .., ..., "st": ..}
// keyed by vmstat's column headings.
Result<std::string> vmstat_command_json(std::string_view text);

// /proc/PID/pagemap entries for the pages from `start` (page aligned): one object per page,
// [{"addr": "0x...", "present": true, "swapped": false, "file_or_shared": false,
//   "exclusive": true, "soft_dirty": false, "pfn": 524288, "swap_type": null,
//   "swap_offset": null}]. pfn is set for a present page; swap_type and swap_offset for a
// swapped one; null otherwise, so every object has the same keys.
std::string pagemap_json(u64 start, std::span<const u64> entries);

} // namespace kioku
