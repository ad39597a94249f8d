#include "kernel/Process.h"

#include <algorithm>

#include "mm/cache/Inode.h"

namespace kioku {

Process::Process(Pid pid, Pid ppid, std::string name, std::shared_ptr<AddressSpace> space,
                 const ResourceLimits& limits)
    : m_pid(pid)
    , m_ppid(ppid)
    , m_name(std::move(name))
    , m_space(std::move(space))
    , m_rlimits(limits)
{
    m_space->set_fault_counters(&m_faults);
    limits_changed();
}

void Process::limits_changed()
{
    if (!m_space)
        return;
    AddressSpace::Limits& l = m_space->limits();
    l.as = m_rlimits.soft(Rlimit::As);
    l.data = m_rlimits.soft(Rlimit::Data);
    l.stack = m_rlimits.soft(Rlimit::Stack);
    l.memlock = m_rlimits.soft(Rlimit::Memlock);
    l.cap_ipc_lock = creds.capable(CAP_IPC_LOCK);
}

Result<int> Process::install(std::shared_ptr<OpenFile> file, int min_fd)
{
    int fd = min_fd;
    for (auto it = m_files.lower_bound(fd); it != m_files.end() && it->first == fd; ++it)
        ++fd;
    if (static_cast<u64>(fd) >= m_rlimits.soft(Rlimit::Nofile))
        return Error::from_errno(EMFILE, "RLIMIT_NOFILE reached");
    m_files.emplace(fd, std::move(file));
    return fd;
}

void Process::exec(std::unique_ptr<AddressSpace> space, std::string name)
{
    // PR_SET_THP_DISABLE survives execve (Linux keeps MMF_DISABLE_THP across the new mm).
    bool thp_disabled = m_space && m_space->thp_disabled();
    maxrss_pages = self_maxrss_pages(); // exec_mmap: setmax_mm_hiwater_rss of the old mm
    m_space = std::move(space);
    m_space->set_thp_disabled(thp_disabled);
    m_space->set_fault_counters(&m_faults);
    creds.exec();
    limits_changed();
    m_name = std::move(name);
    dumpable = 1;           // begin_new_exec: SUID_DUMP_USER for an ordinary program
    m_posix_timers.clear(); // exit_itimers in begin_new_exec
}

OpenFile::~OpenFile()
{
    if (write_access && inode)
        inode->put_write_access();
    if (block_open && inode)
        inode->block_closed();
}

u64 Process::self_maxrss_pages() const
{
    return std::max(maxrss_pages, m_space ? m_space->hiwater_rss() : u64{0});
}

void Process::terminate(int exit_code, int signal)
{
    m_files.clear();
    m_posix_timers.clear();
    // A space another process still runs in must not keep counting faults here.
    if (m_space && m_space->fault_counters() == &m_faults)
        m_space->set_fault_counters(nullptr);
    maxrss_pages = self_maxrss_pages(); // exit_mm
    m_space.reset();
    m_exit_code = exit_code;
    m_term_signal = signal;
    m_state = State::Zombie;
}

} // namespace kioku
