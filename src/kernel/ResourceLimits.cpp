#include "kernel/ResourceLimits.h"

#include <algorithm>
#include <cerrno>

namespace kioku {

ResourceLimits ResourceLimits::initial(u64 ram_pages)
{
    ResourceLimits l;
    auto at = [&](Rlimit r) -> ResourceLimit& { return l.m_limits[static_cast<unsigned>(r)]; };
    at(Rlimit::Stack) = {u64{8} << 20, RLIM_INFINITY_}; // _STK_LIM
    at(Rlimit::Core) = {0, RLIM_INFINITY_};
    at(Rlimit::Nofile) = {1024, 4096};                  // INR_OPEN_CUR, INR_OPEN_MAX
    at(Rlimit::Memlock) = {u64{8} << 20, u64{8} << 20}; // MLOCK_LIMIT
    at(Rlimit::Msgqueue) = {819200, 819200};            // MQ_BYTES_MAX
    at(Rlimit::Nice) = {0, 0};
    at(Rlimit::Rtprio) = {0, 0};
    // fork_init: max_threads is what fits in an eighth of memory at a 16 KiB kernel stack (riscv64's
    // THREAD_SIZE), at least 20; a user may have half of them, and as many pending signals.
    u64 max_threads = std::max<u64>(ram_pages / (8 * (16384 / 4096)), 20);
    at(Rlimit::Nproc) = {max_threads / 2, max_threads / 2};
    at(Rlimit::Sigpending) = {max_threads / 2, max_threads / 2};
    return l;
}

std::optional<int> ResourceLimits::set(Rlimit r, const ResourceLimit& value)
{
    if (value.cur > value.max)
        return EINVAL;
    if (r == Rlimit::Nofile && value.max > NR_OPEN_)
        return EPERM;
    m_limits[static_cast<unsigned>(r)] = value;
    return std::nullopt;
}

} // namespace kioku
