#include "kernel/Process.h"

namespace kioku {

Process::Process(Pid pid, Pid ppid, std::string name, std::shared_ptr<AddressSpace> space)
    : m_pid(pid)
    , m_ppid(ppid)
    , m_name(std::move(name))
    , m_space(std::move(space))
{
    m_space->set_fault_counters(&m_faults);
}

int Process::lowest_free_fd() const
{
    int fd = 0;
    for (auto& [n, file] : m_files) {
        if (n != fd)
            break;
        ++fd;
    }
    return fd;
}

void Process::exec(std::unique_ptr<AddressSpace> space, std::string name)
{
    // PR_SET_THP_DISABLE survives execve (Linux keeps MMF_DISABLE_THP across the new mm).
    bool thp_disabled = m_space && m_space->thp_disabled();
    m_space = std::move(space);
    m_space->set_thp_disabled(thp_disabled);
    m_space->set_fault_counters(&m_faults);
    m_name = std::move(name);
    m_posix_timers.clear(); // exit_itimers in begin_new_exec
}

void Process::terminate(int exit_code, int signal)
{
    m_files.clear();
    m_posix_timers.clear();
    // A space another process still runs in must not keep counting faults here.
    if (m_space && m_space->fault_counters() == &m_faults)
        m_space->set_fault_counters(nullptr);
    m_space.reset();
    m_exit_code = exit_code;
    m_term_signal = signal;
    m_state = State::Zombie;
}

} // namespace kioku
