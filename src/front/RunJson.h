// Pieces the run's JSON outputs share (RunReport, RunSampler): reading "name value" counter text
// and writing the pressure figures of a group.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/Json.h"
#include "base/Types.h"

namespace kioku {

class PsiGroup;

// "name value" lines (/proc/vmstat, memory.stat), in their order; other lines are skipped.
std::vector<std::pair<std::string, i64>> parse_counters(std::string_view text);

// {"some": {"avg10": 1.25, "avg60": .., "avg300": .., "total_us": ..}, "full": {...}}, as of now.
void write_pressure(JsonWriter& w, PsiGroup& psi, u64 now_ns);

} // namespace kioku
