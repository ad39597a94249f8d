// The guest's wall clock: CLOCK_REALTIME is the simulated time since boot plus a fixed date, so
// runs are reproducible.
#pragma once

#include "base/Types.h"

namespace kioku {

inline constexpr u64 NS_PER_SEC = 1'000'000'000;
// CLOCK_REALTIME starts at 2024-01-01 00:00:00 UTC.
inline constexpr u64 REALTIME_EPOCH_S = 1'704'067'200;

} // namespace kioku
