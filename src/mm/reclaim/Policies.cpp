#include "mm/reclaim/Policies.h"

#include "mm/reclaim/ClockPolicy.h"
#include "mm/reclaim/ExactLruPolicy.h"
#include "mm/reclaim/FifoPolicy.h"
#include "mm/reclaim/LinuxLruPolicy.h"
#include "mm/reclaim/OptPolicy.h"
#include "mm/reclaim/S3FifoPolicy.h"

namespace kioku {

std::unique_ptr<ReplacementPolicy> make_policy(const std::string& name, Lru& lru, FrameTable& frames,
                                               const VmSysctl& sysctl)
{
    if (name == "lru")
        return std::make_unique<LinuxLruPolicy>(lru, frames, sysctl);
    if (name == "clock")
        return std::make_unique<ClockPolicy>(frames);
    if (name == "fifo")
        return std::make_unique<FifoPolicy>(frames);
    if (name == "exact-lru")
        return std::make_unique<ExactLruPolicy>(frames);
    if (name == "opt")
        return std::make_unique<OptPolicy>(frames);
    if (name == "s3fifo")
        return std::make_unique<S3FifoPolicy>(frames);
    return nullptr;
}

} // namespace kioku
