// A process's resource limits (Linux: signal->rlim, getrlimit(2)), each a soft and a hard value,
// RLIM_INFINITY (~0) for none. A forked child inherits them, execve keeps them. The first process
// starts with Linux's (init_task's INIT_RLIMITS, with RLIMIT_NPROC and RLIMIT_SIGPENDING set from
// the machine's memory as fork_init sets them).
//
// Where they bind: RLIMIT_AS, DATA, STACK and MEMLOCK in the address space (AddressSpace::Limits,
// pushed there by the process); RLIMIT_NOFILE when a descriptor is made; RLIMIT_FSIZE when a file
// would grow past it (SIGXFSZ and EFBIG); RLIMIT_CPU against the group's time on the hart
// (SIGXCPU at the soft limit and each second after it, SIGKILL at the hard one). kioku's processes run as
// root, so RLIMIT_NPROC does not bind (CAP_SYS_RESOURCE), as on Linux; what bounds root is kernel.pid_max and
// kernel.threads-max (PidAllocator, Runner::clone).
#pragma once

#include <array>
#include <optional>

#include "base/Types.h"

namespace kioku {

inline constexpr u64 RLIM_INFINITY_ = ~u64{0};

enum class Rlimit : u8 {
    Cpu = 0,
    Fsize = 1,
    Data = 2,
    Stack = 3,
    Core = 4,
    Rss = 5,
    Nproc = 6,
    Nofile = 7,
    Memlock = 8,
    As = 9,
    Locks = 10,
    Sigpending = 11,
    Msgqueue = 12,
    Nice = 13,
    Rtprio = 14,
    Rttime = 15,
};
inline constexpr unsigned RLIM_NLIMITS_ = 16;
inline constexpr u64 NR_OPEN_ = 1048576; // fs.nr_open: RLIMIT_NOFILE's ceiling

struct ResourceLimit {
    u64 cur = RLIM_INFINITY_;
    u64 max = RLIM_INFINITY_;
};

class ResourceLimits {
  public:
    // Linux's limits for the first process of a machine with `ram_pages` pages of memory.
    static ResourceLimits initial(u64 ram_pages);

    const ResourceLimit& operator[](Rlimit r) const { return m_limits[static_cast<unsigned>(r)]; }
    u64 soft(Rlimit r) const { return (*this)[r].cur; }
    // setrlimit's checks (the caller is root: raising a hard limit is allowed): EINVAL when the
    // soft value is above the hard one, EPERM for RLIMIT_NOFILE above fs.nr_open.
    std::optional<int> set(Rlimit r, const ResourceLimit& value);
    // Past the soft RLIMIT_CPU the kernel moves it a second on, past the hard one if it must
    // (check_process_timers), so that SIGXCPU comes once a second.
    void extend_cpu_soft_limit() { ++m_limits[static_cast<unsigned>(Rlimit::Cpu)].cur; }

  private:
    std::array<ResourceLimit, RLIM_NLIMITS_> m_limits{};
};

} // namespace kioku
