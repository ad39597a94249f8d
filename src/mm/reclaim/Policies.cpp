#include "mm/reclaim/LinuxLruPolicy.h"

namespace kioku {

std::unique_ptr<ReplacementPolicy> make_policy(const std::string& name, Lru& lru, FrameTable& frames,
                                               const VmSysctl& sysctl)
{
    if (name == "lru")
        return std::make_unique<LinuxLruPolicy>(lru, frames, sysctl);
    return nullptr;
}

} // namespace kioku
