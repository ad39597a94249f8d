// Process groups and sessions (setpgid, getpgid, getsid, setsid; Linux: kernel/sys.c), and
// memfd_create, whose memory side is the kernel's (a shmem file, Kernel::memfd_create).
//
// The ids live in each ThreadGroup. The first program leads its own process group and session
// (there is no shell above it); a fork starts in its parent's group and session.
#include <algorithm>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Syscalls.h"

namespace kioku {

namespace {

constexpr unsigned MFD_CLOEXEC_ = 0x1;

} // namespace

ThreadGroup& Syscalls::session_of(ThreadGroup& g)
{
    if (g.sid == 0) {
        ThreadGroup* parent = m_runner.scheduler().group(g.parent);
        if (parent && parent != &g) {
            session_of(*parent);
            g.pgid = parent->pgid;
            g.sid = parent->sid;
        } else {
            g.pgid = g.sid = g.pid;
        }
    }
    return g;
}

std::vector<Pid> Syscalls::members_of(Pid pgid)
{
    std::vector<Pid> out;
    for (auto& [pid, g] : m_runner.scheduler().groups())
        if (!g->exiting && session_of(*g).pgid == pgid)
            out.push_back(pid);
    return out;
}

SyscallResult Syscalls::sys_setpgid(Task& t, const SyscallArgs& a)
{
    Pid pid = static_cast<Pid>(a[0]);
    Pid pgid = static_cast<Pid>(a[1]);
    ThreadGroup& me = session_of(group(t));
    if (pid == 0)
        pid = t.tgid;
    if (pgid == 0)
        pgid = pid;
    if (pgid < 0)
        return SyscallResult::err(EINVAL);
    ThreadGroup* target = m_runner.scheduler().group(pid);
    if (!target || target->exiting)
        return SyscallResult::err(ESRCH);
    session_of(*target);
    if (target->pid != me.pid) {
        // Only the caller itself or one of its children, in the same session, not yet exec'd.
        if (target->parent != me.pid)
            return SyscallResult::err(ESRCH);
        if (target->sid != me.sid)
            return SyscallResult::err(EPERM);
        if (target->did_exec)
            return SyscallResult::err(EACCES);
    }
    if (target->sid == target->pid)
        return SyscallResult::err(EPERM); // a session leader stays where it is
    if (pgid != pid) {
        auto members = members_of(pgid);
        bool same_session = std::any_of(members.begin(), members.end(),
                                        [&](Pid p) { return m_runner.scheduler().group(p)->sid == me.sid; });
        if (!same_session)
            return SyscallResult::err(EPERM);
    }
    target->pgid = pgid;
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getpgid(Task& t, const SyscallArgs& a)
{
    Pid pid = a.i(0) == 0 ? t.tgid : static_cast<Pid>(a[0]);
    ThreadGroup* g = m_runner.scheduler().group(pid);
    if (!g || g->exiting)
        return SyscallResult::err(ESRCH);
    return SyscallResult::ret(session_of(*g).pgid);
}

SyscallResult Syscalls::sys_getsid(Task& t, const SyscallArgs& a)
{
    Pid pid = a.i(0) == 0 ? t.tgid : static_cast<Pid>(a[0]);
    ThreadGroup* g = m_runner.scheduler().group(pid);
    if (!g || g->exiting)
        return SyscallResult::err(ESRCH);
    return SyscallResult::ret(session_of(*g).sid);
}

SyscallResult Syscalls::sys_setsid(Task& t, const SyscallArgs&)
{
    ThreadGroup& me = session_of(group(t));
    // A process group leader cannot start a session: its group would straddle two sessions.
    if (!members_of(me.pid).empty())
        return SyscallResult::err(EPERM);
    me.pgid = me.sid = me.pid;
    return SyscallResult::ret(me.sid);
}

SyscallResult Syscalls::sys_memfd_create(Task& t, const SyscallArgs& a)
{
    auto name = read_string(t, a[0], 256);
    if (name.is_error())
        return SyscallResult::err(name.error().code == ENAMETOOLONG ? EINVAL : name.error().code);
    unsigned flags = static_cast<unsigned>(a[1]);
    auto fd = kernel().memfd_create(t.tgid, name.value(), flags);
    if (fd.is_error())
        return SyscallResult::err(fd.error().code);
    if (flags & MFD_CLOEXEC_)
        group(t).cloexec.insert(fd.value());
    else
        group(t).cloexec.erase(fd.value());
    return SyscallResult::ret(fd.value());
}

} // namespace kioku
