// The replacement policies by name, for `--policy`, scenarios and sysctl-like switches. The
// policy interface is core's (mm/core/ReplacementPolicy.h); the policies themselves are here.
#pragma once

#include <memory>
#include <string>

#include "mm/core/ReplacementPolicy.h"

namespace kioku {

// "lru" (Linux two-list, default), "clock", "fifo", "exact-lru", "opt". Null for an unknown name.
class Lru;
class FrameTable;
struct VmSysctl;
std::unique_ptr<ReplacementPolicy> make_policy(const std::string& name, Lru& lru, FrameTable& frames,
                                               const VmSysctl& sysctl);

} // namespace kioku
