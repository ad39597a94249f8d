// Process, thread, futex, time and identity system calls.
#include <algorithm>
#include <cstring>
#include <limits>

#include "hw/Machine.h"
#include "kernel/Kernel.h"
#include "kernel/ProcFs.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

constexpr u64 WNOHANG_ = 1, WUNTRACED_ = 2, WEXITED_ = 4, WCONTINUED_ = 8, WNOWAIT_ = 0x01000000;
constexpr u64 P_PID_ = 1, P_PGID_ = 2, P_PIDFD_ = 3;
constexpr u64 FUTEX_CMD_MASK = 0x7f;
constexpr u32 FUTEX_BITSET_MATCH_ANY = 0xffffffff;

int wait_status(const Process& p)
{
    return p.term_signal() ? p.term_signal() : (p.exit_code() & 0xff) << 8;
}

} // namespace

SyscallResult Syscalls::sys_exit(Task& t, const SyscallArgs& a)
{
    m_runner.exit_thread(t, static_cast<int>(a[0] & 0xff));
    return SyscallResult::no_return();
}

SyscallResult Syscalls::sys_exit_group(Task& t, const SyscallArgs& a)
{
    m_runner.exit_group(t.tgid, static_cast<int>(a[0] & 0xff), 0);
    return SyscallResult::no_return();
}

SyscallResult Syscalls::sys_clone(Task& t, const SyscallArgs& a)
{
    auto r = m_runner.clone(t, a[0], a[1], a[2], a[3], a[4]);
    if (r.is_error())
        return SyscallResult::err(r.error().code);
    // A new process starts in its parent's process group and session.
    ThreadGroup* child = m_runner.scheduler().group(r.value());
    if (child && child->pid == r.value() && child->pid != t.tgid) {
        ThreadGroup& parent = session_of(group(t));
        child->pgid = parent.pgid;
        child->sid = parent.sid;
    }
    // CLONE_VFORK: the caller waits until the child execs or exits (Runner::vfork_done returns
    // the child's pid then).
    if (child && child->vfork_parent == t.tid) {
        t.block = BlockKind::Vfork;
        return SyscallResult::block();
    }
    return SyscallResult::ret(r.value());
}

SyscallResult Syscalls::sys_execve(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[0]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    // bprm_stack_limits: the strings and their pointers get a quarter of RLIMIT_STACK, at most
    // three quarters of _STK_LIM (6 MiB) and at least ARG_MAX (128 KiB). The file name is copied
    // first, then the environment, then the arguments.
    constexpr u64 STK_LIM = u64{8} << 20, ARG_MAX_ = u64{128} << 10;
    u64 budget = std::max(std::min(STK_LIM / 4 * 3, process(t).rlimits().soft(Rlimit::Stack) / 4), ARG_MAX_);
    budget -= std::min(budget, raw.value().size() + 1);
    auto envp = read_string_array(t, a[2], &budget);
    auto argv = envp.is_error() ? envp : read_string_array(t, a[1], &budget);
    if (argv.is_error() || envp.is_error())
        return SyscallResult::err(argv.is_error() ? argv.error().code : envp.error().code);
    // do_execveat_common: an empty argv gets "" as argv[0], so that no program starts with argc 0.
    if (argv.value().empty()) {
        if (budget < sizeof(u64) + 1)
            return SyscallResult::err(E2BIG);
        argv.value().emplace_back();
    }
    // get_arg_page grows the new stack down over the strings as they are copied; growing it past
    // RLIMIT_STACK fails the copy with E2BIG too.
    u64 strings = sizeof(u64) + raw.value().size() + 1;
    for (const auto* list : {&argv.value(), &envp.value()})
        for (const auto& s : *list)
            strings += s.size() + 1;
    if (page_round_up(strings) > process(t).rlimits().soft(Rlimit::Stack))
        return SyscallResult::err(E2BIG);
    Result<void> bad;
    std::string path = absolute_path(t, -100, raw.value(), &bad);
    if (path == "/proc/self/exe" || path == "/proc/" + std::to_string(t.tgid) + "/exe")
        path = group(t).exe_path;
    auto r = m_runner.exec(t, path, argv.release_value(), envp.release_value());
    if (r.is_error())
        return SyscallResult::err(r.error().code);
    if (ThreadGroup* g = m_runner.scheduler().group(t.tgid))
        g->did_exec = true;
    return SyscallResult::no_return();
}

bool Syscalls::wait_selects(const WaitSelector& select, Pid child)
{
    switch (select.kind) {
    case WaitSelector::Kind::Any: return true;
    case WaitSelector::Kind::Pid: return child == select.id;
    case WaitSelector::Kind::Pgid: {
        ThreadGroup* g = m_runner.scheduler().group(child);
        return g && session_of(*g).pgid == select.id;
    }
    }
    return false;
}

SyscallResult Syscalls::sys_wait4(Task& t, const SyscallArgs& a)
{
    i32 which = static_cast<i32>(a[0]);
    u64 options = a[2];
    // kernel_wait4: WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD, __WALL and __WCLONE only.
    if (options & ~u64{1 | 2 | 8 | 0x20000000 | 0x40000000 | 0x80000000})
        return SyscallResult::err(EINVAL);
    if (which == std::numeric_limits<i32>::min())
        return SyscallResult::err(ESRCH); // -INT_MIN is no process group
    // pid > 0: that child; -1: any; 0: the caller's process group; < -1: group -pid.
    WaitSelector select = which > 0     ? WaitSelector{WaitSelector::Kind::Pid, which}
                          : which == -1 ? WaitSelector{WaitSelector::Kind::Any, 0}
                          : which == 0  ? WaitSelector{WaitSelector::Kind::Pgid, session_of(group(t)).pgid}
                                        : WaitSelector{WaitSelector::Kind::Pgid, -which};
    std::vector<Pid> children = m_runner.children_of(t.tgid);
    bool any = false;
    for (Pid c : children) {
        if (!wait_selects(select, c))
            continue;
        any = true;
        Process* p = kernel().process(c);
        if (!p)
            continue;
        if (p->alive()) {
            // A stop (WUNTRACED) or a continuation (WCONTINUED), each reported once.
            ThreadGroup* g = m_runner.scheduler().group(c);
            int status = 0;
            if (g && (options & WUNTRACED_) && g->stopped && g->stop_to_report) {
                g->stop_to_report = false;
                status = 0x7f | (g->stop_signal << 8);
            } else if (g && (options & WCONTINUED_) && g->continue_to_report) {
                g->continue_to_report = false;
                status = 0xffff;
            } else {
                continue;
            }
            if (a[1] && put_bytes(t, a[1], &status, 4).is_error())
                return SyscallResult::err(EFAULT);
            return SyscallResult::ret(c);
        }
        int status = wait_status(*p);
        if (a[1] && put_bytes(t, a[1], &status, 4).is_error())
            return SyscallResult::err(EFAULT);
        if (a[3]) {
            u8 ru[144] = {};
            i64 minflt = static_cast<i64>(p->faults().min_flt),
                majflt = static_cast<i64>(p->faults().maj_flt);
            // The child's own and its waited-for children's largest RSS, in kB.
            i64 maxrss = static_cast<i64>(std::max(p->self_maxrss_pages(), p->children_maxrss_pages) *
                                          (PAGE_SIZE / 1024));
            std::memcpy(ru + 32, &maxrss, 8);
            std::memcpy(ru + 64, &minflt, 8);
            std::memcpy(ru + 72, &majflt, 8);
            if (put_bytes(t, a[3], ru, sizeof ru).is_error())
                return SyscallResult::err(EFAULT);
        }
        m_runner.reaped(t.tgid, c);
        return SyscallResult::ret(c);
    }
    if (!any)
        return SyscallResult::err(ECHILD);
    if (options & WNOHANG_)
        return SyscallResult::ret(0);
    t.block = BlockKind::Retry;
    t.no_restart_after_handler = false;
    return SyscallResult::block();
}

SyscallResult Syscalls::sys_waitid(Task& t, const SyscallArgs& a)
{
    u64 idtype = a[0], options = a[3];
    i32 id = static_cast<i32>(a[1]);
    if (!(options & (WEXITED_ | WUNTRACED_ | WCONTINUED_)) || idtype > P_PIDFD_)
        return SyscallResult::err(EINVAL);
    WaitSelector select{WaitSelector::Kind::Any, 0};
    bool pidfd_nonblock = false;
    if (idtype == P_PID_) {
        if (id <= 0)
            return SyscallResult::err(EINVAL);
        select = {WaitSelector::Kind::Pid, id};
    } else if (idtype == P_PGID_) {
        if (id < 0)
            return SyscallResult::err(EINVAL);
        select = {WaitSelector::Kind::Pgid, id ? id : session_of(group(t)).pgid};
    } else if (idtype == P_PIDFD_) {
        if (id < 0)
            return SyscallResult::err(EINVAL);
        auto target = pidfd_process(t, id);
        if (target.is_error())
            return SyscallResult::err(target.error().code == ESRCH ? ECHILD : target.error().code);
        select = {WaitSelector::Kind::Pid, target.value()->pid()};
        pidfd_nonblock = open_file(t, id).value()->special->nonblock;
    }
    bool any = false;
    for (Pid c : m_runner.children_of(t.tgid)) {
        if (!wait_selects(select, c))
            continue;
        any = true;
        Process* p = kernel().process(c);
        if (!p)
            continue;
        if (p->alive()) {
            ThreadGroup* g = m_runner.scheduler().group(c);
            SigInfo info;
            info.signo = SIGCHLD_;
            info.pid = c;
            if (g && (options & WUNTRACED_) && g->stopped && g->stop_to_report) { // WSTOPPED
                info.code = CLD_STOPPED_;
                info.status = g->stop_signal;
                if (!(options & WNOWAIT_))
                    g->stop_to_report = false;
            } else if (g && (options & WCONTINUED_) && g->continue_to_report) {
                info.code = CLD_CONTINUED_;
                info.status = SIGCONT_;
                if (!(options & WNOWAIT_))
                    g->continue_to_report = false;
            } else {
                continue;
            }
            std::array<u8, 128> buf{};
            encode_siginfo(info, buf);
            if (a[2] && put_bytes(t, a[2], buf.data(), buf.size()).is_error())
                return SyscallResult::err(EFAULT);
            return SyscallResult::ret(0);
        }
        if (!(options & WEXITED_))
            continue;
        SigInfo info;
        info.signo = SIGCHLD_;
        info.code = p->term_signal() ? CLD_KILLED_ : CLD_EXITED_;
        info.pid = c;
        info.status = p->term_signal() ? p->term_signal() : p->exit_code();
        std::array<u8, 128> buf{};
        encode_siginfo(info, buf);
        if (a[2] && put_bytes(t, a[2], buf.data(), buf.size()).is_error())
            return SyscallResult::err(EFAULT);
        if (!(options & WNOWAIT_))
            m_runner.reaped(t.tgid, c);
        return SyscallResult::ret(0);
    }
    if (!any)
        return SyscallResult::err(ECHILD);
    if (options & WNOHANG_) {
        std::array<u8, 128> zero{};
        if (a[2])
            (void)put_bytes(t, a[2], zero.data(), zero.size());
        return SyscallResult::ret(0);
    }
    if (pidfd_nonblock)
        return SyscallResult::err(EAGAIN); // a nonblocking pidfd's child has not exited yet
    t.block = BlockKind::Retry;
    t.no_restart_after_handler = false;
    return SyscallResult::block();
}

SyscallResult Syscalls::sys_set_tid_address(Task& t, const SyscallArgs& a)
{
    t.clear_child_tid = a[0];
    return SyscallResult::ret(t.tid);
}

SyscallResult Syscalls::sys_set_robust_list(Task& t, const SyscallArgs& a)
{
    if (a[1] != 24) // sizeof(struct robust_list_head)
        return SyscallResult::err(EINVAL);
    t.robust_list = a[0];
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_futex(Task& t, const SyscallArgs& a)
{
    u64 uaddr = a[0], cmd = a[1] & FUTEX_CMD_MASK;
    u32 val = static_cast<u32>(a[2]);
    if (uaddr & 3)
        return SyscallResult::err(EINVAL);
    constexpr u64 FUTEX_PRIVATE_FLAG_ = 128;
    bool private_futex = a[1] & FUTEX_PRIVATE_FLAG_;
    // get_futex_key: a shared futex's key names the page behind it, which must be there to be
    // read (get_user_pages): EFAULT for nothing mapped, PROT_NONE, or a file page past its end.
    auto shared_key_ok = [&](u64 addr) {
        u32 probe = 0;
        return private_futex || !get_bytes(t, addr, &probe, 4).is_error();
    };
    bool requeue = cmd == 3 || cmd == 4;
    if (requeue && (static_cast<i32>(a[2]) < 0 || static_cast<i32>(a[3]) < 0))
        return SyscallResult::err(EINVAL); // negative nr_wake or nr_requeue
    if ((cmd == 0 || cmd == 1 || cmd == 9 || cmd == 10 || requeue) && !shared_key_ok(uaddr))
        return SyscallResult::err(EFAULT);
    if (requeue) {
        if (a[4] & 3)
            return SyscallResult::err(EINVAL);
        if (!shared_key_ok(a[4]))
            return SyscallResult::err(EFAULT);
    }
    FutexKey key = futex_key(process(t).space(), uaddr, private_futex);
    switch (cmd) {
    case 0:   // FUTEX_WAIT
    case 9: { // FUTEX_WAIT_BITSET
        u32 bitset = cmd == 0 ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(a[5]);
        if (!bitset)
            return SyscallResult::err(EINVAL);
        u32 current = 0;
        if (get_bytes(t, uaddr, &current, 4).is_error())
            return SyscallResult::err(EFAULT);
        if (current != val)
            return SyscallResult::err(EAGAIN);
        t.deadline_ns.reset();
        if (a[3]) {
            i64 ts[2];
            if (get_bytes(t, a[3], ts, sizeof ts).is_error())
                return SyscallResult::err(EFAULT);
            if (ts[0] < 0 || ts[1] < 0 || ts[1] >= static_cast<i64>(NS_PER_SEC))
                return SyscallResult::err(EINVAL);
            u64 ns = static_cast<u64>(ts[0]) * NS_PER_SEC + static_cast<u64>(ts[1]);
            u64 now = kernel().now_ns();
            if (cmd == 0)
                t.deadline_ns = now + ns;
            else if (a[1] & 256) // FUTEX_CLOCK_REALTIME: an absolute realtime deadline
                t.deadline_ns = ns > REALTIME_EPOCH_S * NS_PER_SEC ? ns - REALTIME_EPOCH_S * NS_PER_SEC : 0;
            else
                t.deadline_ns = ns;
        }
        t.block = BlockKind::Futex;
        t.futex_key = key;
        t.futex_bitset = bitset;
        return SyscallResult::block();
    }
    case 1:    // FUTEX_WAKE
    case 10: { // FUTEX_WAKE_BITSET
        u32 bitset = cmd == 1 ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(a[5]);
        if (!bitset)
            return SyscallResult::err(EINVAL);
        return SyscallResult::ret(static_cast<i64>(m_runner.futex_wake(key, val, bitset)));
    }
    case 3:   // FUTEX_REQUEUE
    case 4: { // FUTEX_CMP_REQUEUE
        if (cmd == 4) {
            u32 current = 0;
            if (get_bytes(t, uaddr, &current, 4).is_error())
                return SyscallResult::err(EFAULT);
            if (current != static_cast<u32>(a[5]))
                return SyscallResult::err(EAGAIN);
        }
        u64 woken = m_runner.futex_wake(key, val, FUTEX_BITSET_MATCH_ANY);
        FutexKey target = futex_key(process(t).space(), a[4], private_futex);
        u64 limit = static_cast<u32>(a[3]), moved = 0;
        for (Task* w : m_runner.scheduler().round()) {
            if (moved >= limit)
                break;
            if (w->block == BlockKind::Futex && w->futex_keys.empty() && w->futex_key == key) {
                w->futex_key = target;
                ++moved;
            }
        }
        return SyscallResult::ret(static_cast<i64>(woken + moved));
    }
    default: return unimplemented(98);
    }
}

SyscallResult Syscalls::sys_futex_waitv(Task& t, const SyscallArgs& a)
{
    // futex_waitv(waiters, nr_futexes, flags, timeout, clockid), in Linux's order of checks.
    constexpr u64 FUTEX_WAITV_MAX = 128;
    constexpr u32 FUTEX2_SIZE_MASK = 0x3, FUTEX2_SIZE_U32 = 0x2, FUTEX2_NUMA = 0x4, FUTEX2_MPOL = 0x8,
                  FUTEX2_PRIVATE = 128;
    constexpr i64 CLOCK_REALTIME_ = 0, CLOCK_MONOTONIC_ = 1;
    if (a[2] != 0)
        return SyscallResult::err(EINVAL); // no flags yet
    u64 count = static_cast<u32>(a[1]);
    if (count == 0 || count > FUTEX_WAITV_MAX || a[0] == 0)
        return SyscallResult::err(EINVAL);
    std::optional<u64> deadline;
    if (a[3]) {
        // futex2_setup_timeout: an absolute time on CLOCK_MONOTONIC or CLOCK_REALTIME.
        i64 clock = static_cast<i32>(a[4]);
        if (clock != CLOCK_REALTIME_ && clock != CLOCK_MONOTONIC_)
            return SyscallResult::err(EINVAL);
        i64 ts[2];
        if (get_bytes(t, a[3], ts, sizeof ts).is_error())
            return SyscallResult::err(EFAULT);
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= static_cast<i64>(NS_PER_SEC))
            return SyscallResult::err(EINVAL); // futex_init_timeout
        // Past KTIME_MAX the wait has no end, as Linux clamps it there.
        if (ts[0] < std::numeric_limits<i64>::max() / static_cast<i64>(NS_PER_SEC) - 1) {
            i64 ns = ts[0] * static_cast<i64>(NS_PER_SEC) + ts[1];
            if (clock == CLOCK_REALTIME_)
                ns -= static_cast<i64>(REALTIME_EPOCH_S * NS_PER_SEC);
            deadline = static_cast<u64>(std::max<i64>(ns, 0));
        }
    }
    // struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 __reserved; }
    struct Waiter {
        u64 val, uaddr;
        u32 flags, reserved;
    };
    std::vector<Waiter> waiters(count);
    if (get_bytes(t, a[0], waiters.data(), count * sizeof(Waiter)).is_error())
        return SyscallResult::err(EFAULT);
    for (const Waiter& w : waiters) {
        if ((w.flags & ~(FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE)) || w.reserved)
            return SyscallResult::err(EINVAL);
        if ((w.flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32 || w.val > 0xffffffffu)
            return SyscallResult::err(EINVAL); // only 32-bit futexes, and a value that fits one
    }
    // futex_wait_multiple_setup: each key (a misaligned word is EINVAL, a shared one must be
    // mapped), then each value; one that differs ends the call with EAGAIN.
    std::vector<FutexKey> keys;
    for (const Waiter& w : waiters) {
        if (w.uaddr & 3)
            return SyscallResult::err(EINVAL);
        bool private_futex = w.flags & FUTEX2_PRIVATE;
        u32 current = 0;
        if (!private_futex && get_bytes(t, w.uaddr, &current, 4).is_error())
            return SyscallResult::err(EFAULT);
        keys.push_back(futex_key(process(t).space(), w.uaddr, private_futex));
    }
    for (const Waiter& w : waiters) {
        u32 current = 0;
        if (get_bytes(t, w.uaddr, &current, 4).is_error())
            return SyscallResult::err(EFAULT);
        if (current != static_cast<u32>(w.val))
            return SyscallResult::err(EAGAIN);
    }
    t.deadline_ns = deadline;
    t.block = BlockKind::Futex;
    t.futex_keys = std::move(keys);
    t.futex_bitset = FUTEX_BITSET_MATCH_ANY;
    return SyscallResult::block();
}

SyscallResult Syscalls::sys_getpid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(t.tgid);
}
SyscallResult Syscalls::sys_gettid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(t.tid);
}
SyscallResult Syscalls::sys_getppid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(group(t).parent);
}

SyscallResult Syscalls::sys_uname(Task& t, const SyscallArgs& a)
{
    char buf[6][65] = {};
    // The release is the Linux whose behaviour kioku follows and is compared with (6.18).
    const char* fields[6] = {"Linux", "kioku", KERNEL_RELEASE, "#1 SMP PREEMPT_DYNAMIC", "riscv64", "(none)"};
    for (int i = 0; i < 6; ++i)
        std::strncpy(buf[i], fields[i], 64);
    return put_bytes(t, a[0], buf, sizeof buf).is_error() ? SyscallResult::err(EFAULT)
                                                          : SyscallResult::ret(0);
}

// prlimit64(pid, resource, new, old): old gets the limit before any change (both may be given).
// The caller is root, so it may read and set any process's limits and raise a hard limit.
SyscallResult Syscalls::sys_prlimit64(Task& t, const SyscallArgs& a)
{
    Pid pid = a[0] == 0 ? t.tgid : static_cast<Pid>(a[0]);
    Process* p = kernel().process(pid);
    if (!p || !p->alive())
        return SyscallResult::err(ESRCH);
    if (a[1] >= RLIM_NLIMITS_)
        return SyscallResult::err(EINVAL);
    auto which = static_cast<Rlimit>(a[1]);
    ResourceLimit wanted;
    if (a[2]) {
        u64 raw[2];
        if (get_bytes(t, a[2], raw, sizeof raw).is_error())
            return SyscallResult::err(EFAULT);
        wanted = {raw[0], raw[1]};
    }
    const Credentials& me = process(t).creds;
    if (p != &process(t) && !me.capable(CAP_SYS_RESOURCE)) {
        // check_prlimit_permission: another process's limits need all its ids to be ours.
        const Credentials& c = p->creds;
        if (c.uid != me.uid || c.euid != me.uid || c.suid != me.uid || c.gid != me.gid || c.egid != me.gid ||
            c.sgid != me.gid)
            return SyscallResult::err(EPERM);
    }
    const ResourceLimit old = p->rlimits()[which];
    if (a[2]) {
        if (wanted.cur > wanted.max)
            return SyscallResult::err(EINVAL);
        // Raising the hard limit is CAP_SYS_RESOURCE's.
        if (wanted.max > old.max && !me.capable(CAP_SYS_RESOURCE))
            return SyscallResult::err(EPERM);
        if (auto error = p->rlimits().set(which, wanted))
            return SyscallResult::err(*error);
        p->limits_changed();
    }
    if (a[3]) {
        u64 raw[2] = {old.cur, old.max};
        if (put_bytes(t, a[3], raw, sizeof raw).is_error())
            return SyscallResult::err(EFAULT);
    }
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getrlimit(Task& t, const SyscallArgs& a)
{
    SyscallArgs p;
    p.a = {0, a[0], 0, a[1], 0, 0};
    return sys_prlimit64(t, p);
}

SyscallResult Syscalls::sys_setrlimit(Task& t, const SyscallArgs& a)
{
    SyscallArgs p;
    p.a = {0, a[0], a[1], 0, 0, 0};
    return sys_prlimit64(t, p);
}

SyscallResult Syscalls::sys_getrandom(Task& t, const SyscallArgs& a)
{
    // GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE; the last two exclude each other.
    constexpr u64 GRND_RANDOM_ = 2, GRND_INSECURE_ = 4;
    if ((a[2] & ~u64{7}) || (a[2] & (GRND_RANDOM_ | GRND_INSECURE_)) == (GRND_RANDOM_ | GRND_INSECURE_))
        return SyscallResult::err(EINVAL);
    u64 n = std::min<u64>(a[1], 33554431);
    std::vector<u8> bytes(n);
    m_runner.random_bytes(bytes.data(), n);
    if (n && put_bytes(t, a[0], bytes.data(), n).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(n));
}

SyscallResult Syscalls::sys_clock_gettime(Task& t, const SyscallArgs& a)
{
    u64 now = kernel().now_ns();
    switch (a[0]) {
    case 0:
    case 5:
    case 8:
    case 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
        now += REALTIME_EPOCH_S * NS_PER_SEC;
        break;
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 9: break;
    default: return SyscallResult::err(EINVAL);
    }
    i64 ts[2] = {static_cast<i64>(now / NS_PER_SEC), static_cast<i64>(now % NS_PER_SEC)};
    return put_bytes(t, a[1], ts, sizeof ts).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_clock_getres(Task& t, const SyscallArgs& a)
{
    if (a[0] > 11)
        return SyscallResult::err(EINVAL);
    i64 ts[2] = {0, 1};
    if (a[1] && put_bytes(t, a[1], ts, sizeof ts).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_gettimeofday(Task& t, const SyscallArgs& a)
{
    u64 now = kernel().now_ns() + REALTIME_EPOCH_S * NS_PER_SEC;
    i64 tv[2] = {static_cast<i64>(now / NS_PER_SEC), static_cast<i64>((now % NS_PER_SEC) / 1000)};
    if (a[0] && put_bytes(t, a[0], tv, sizeof tv).is_error())
        return SyscallResult::err(EFAULT);
    i32 tz[2] = {0, 0}; // sys_tz: minutes west of Greenwich, and no DST correction
    if (a[1] && put_bytes(t, a[1], tz, sizeof tz).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sleep_until(Task& t, u64 deadline_ns)
{
    if (kernel().now_ns() >= deadline_ns)
        return SyscallResult::ret(0);
    t.block = BlockKind::Sleep;
    t.deadline_ns = deadline_ns;
    return SyscallResult::block();
}

SyscallResult Syscalls::sys_nanosleep(Task& t, const SyscallArgs& a)
{
    SyscallArgs c;
    c.a = {1, 0, a[0], a[1], 0, 0};
    return sys_clock_nanosleep(t, c);
}

SyscallResult Syscalls::sys_clock_nanosleep(Task& t, const SyscallArgs& a)
{
    i64 ts[2];
    if (get_bytes(t, a[2], ts, sizeof ts).is_error())
        return SyscallResult::err(EFAULT);
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= static_cast<i64>(NS_PER_SEC))
        return SyscallResult::err(EINVAL);
    u64 ns = static_cast<u64>(ts[0]) * NS_PER_SEC + static_cast<u64>(ts[1]);
    if (a[1] & 1) { // TIMER_ABSTIME
        if (a[0] == 0)
            ns = ns > REALTIME_EPOCH_S * NS_PER_SEC ? ns - REALTIME_EPOCH_S * NS_PER_SEC : 0;
        return sleep_until(t, ns);
    }
    SyscallResult r = sleep_until(t, kernel().now_ns() + ns);
    if (r.kind == SyscallResult::Kind::Block)
        t.sleep_rem = a[3];
    return r;
}

SyscallResult Syscalls::sys_sched_yield(Task&, const SyscallArgs&)
{
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_sched_getaffinity(Task& t, const SyscallArgs& a)
{
    // One hart: CPU 0 only. The kernel copies a whole number of longs and returns how many bytes.
    if (a[1] < 8 || (a[1] & 7))
        return SyscallResult::err(EINVAL);
    u64 mask = 1;
    return put_bytes(t, a[2], &mask, 8).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(8);
}

SyscallResult Syscalls::sys_getcpu(Task& t, const SyscallArgs& a)
{
    u32 zero = 0;
    if ((a[0] && put_bytes(t, a[0], &zero, 4).is_error()) ||
        (a[1] && put_bytes(t, a[1], &zero, 4).is_error()))
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_sysinfo(Task& t, const SyscallArgs& a)
{
    ProcFs procfs(kernel());
    MeminfoValues mi = procfs.meminfo();
    u8 buf[112] = {};
    auto put64 = [&](size_t off, u64 v) { std::memcpy(buf + off, &v, 8); };
    put64(0, kernel().now_ns() / NS_PER_SEC);
    put64(32, mi.mem_total * 1024);
    put64(40, mi.mem_free * 1024);
    put64(48, mi.shmem * 1024);
    put64(56, mi.buffers * 1024);
    put64(64, mi.swap_total * 1024);
    put64(72, mi.swap_free * 1024);
    u16 procs = static_cast<u16>(m_runner.scheduler().tasks().size());
    std::memcpy(buf + 80, &procs, 2);
    u32 unit = 1;
    std::memcpy(buf + 104, &unit, 4);
    return put_bytes(t, a[0], buf, sizeof buf).is_error() ? SyscallResult::err(EFAULT)
                                                          : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getrusage(Task& t, const SyscallArgs& a)
{
    i64 who = a.i(0);
    if (who != 0 && who != -1 && who != 1)
        return SyscallResult::err(EINVAL);
    u8 ru[144] = {};
    auto put64 = [&](size_t off, u64 v) { std::memcpy(ru + off, &v, 8); };
    Process& p = process(t);
    ThreadGroup& g = group(t);
    if (who == -1) {
        put64(32, p.children_maxrss_pages * (PAGE_SIZE / 1024));
        put64(64, g.children_minflt);
        put64(72, g.children_majflt);
    } else {
        u64 ns = g.cpu_ns; // the CPU time, as user time
        put64(0, ns / NS_PER_SEC);
        put64(8, (ns % NS_PER_SEC) / 1000);
        put64(32, p.self_maxrss_pages() * (PAGE_SIZE / 1024));
        put64(64, p.faults().min_flt);
        put64(72, p.faults().maj_flt);
    }
    return put_bytes(t, a[1], ru, sizeof ru).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_times(Task& t, const SyscallArgs& a)
{
    u64 ticks = kernel().now_ns() / (NS_PER_SEC / 100);
    if (a[0]) {
        u64 tms[4] = {group(t).cpu_ns / (NS_PER_SEC / 100), 0, 0, 0}; // the CPU time, as user time
        if (put_bytes(t, a[0], tms, sizeof tms).is_error())
            return SyscallResult::err(EFAULT);
    }
    return SyscallResult::ret(static_cast<i64>(ticks));
}

SyscallResult Syscalls::sys_prctl(Task& t, const SyscallArgs& a)
{
    switch (a[0]) {
    case 7:  // PR_GET_KEEPCAPS
    case 8:  // PR_SET_KEEPCAPS
    case 23: // PR_CAPBSET_READ
    case 24: // PR_CAPBSET_DROP
        return prctl_caps(t, a);
    case 3: return SyscallResult::ret(process(t).dumpable); // PR_GET_DUMPABLE
    case 4:                                                 // PR_SET_DUMPABLE
        if (a[1] > 1)
            return SyscallResult::err(EINVAL); // SUID_DUMP_ROOT is for the sysctl alone
        process(t).dumpable = static_cast<int>(a[1]);
        return SyscallResult::ret(0);
    case 15: { // PR_SET_NAME: up to 15 bytes, cut there
        char name[16] = {};
        for (unsigned i = 0; i < 15; ++i) {
            if (get_bytes(t, a[1] + i, &name[i], 1).is_error())
                return SyscallResult::err(EFAULT);
            if (name[i] == '\0')
                break;
        }
        process(t).set_name(name);
        return SyscallResult::ret(0);
    }
    case 16: { // PR_GET_NAME
        char name[16] = {};
        std::strncpy(name, process(t).name().c_str(), 15);
        return put_bytes(t, a[1], name, sizeof name).is_error() ? SyscallResult::err(EFAULT)
                                                                : SyscallResult::ret(0);
    }
    case 0x53564d41: return SyscallResult::ret(0); // PR_SET_VMA (anonymous VMA names)
    case 41:                                       // PR_SET_THP_DISABLE
        if (a[2] || a[3] || a[4])
            return SyscallResult::err(EINVAL);
        process(t).space().set_thp_disabled(a[1] != 0);
        return SyscallResult::ret(0);
    case 42: // PR_GET_THP_DISABLE
        if (a[1] || a[2] || a[3] || a[4])
            return SyscallResult::err(EINVAL);
        return SyscallResult::ret(process(t).space().thp_disabled() ? 1 : 0);
    default: return SyscallResult::err(EINVAL);
    }
}

SyscallResult Syscalls::sys_membarrier(Task& t, const SyscallArgs& a)
{
    // kernel/sched/membarrier.c's commands. One hart runs one task at a time and every switch
    // orders memory, so each barrier is complete as soon as it is asked for; what is modelled is
    // which commands exist and the registration each needs. No rseq here (its call is ENOSYS),
    // so no RSEQ commands.
    enum : u32 {
        QUERY = 0,
        GLOBAL = 1,
        GLOBAL_EXPEDITED = 2,
        REGISTER_GLOBAL_EXPEDITED = 4,
        PRIVATE_EXPEDITED = 8,
        REGISTER_PRIVATE_EXPEDITED = 16,
        PRIVATE_EXPEDITED_SYNC_CORE = 32,
        REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64,
        GET_REGISTRATIONS = 512,
    };
    constexpr u32 SUPPORTED = GLOBAL | GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED | PRIVATE_EXPEDITED |
                              REGISTER_PRIVATE_EXPEDITED | PRIVATE_EXPEDITED_SYNC_CORE |
                              REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | GET_REGISTRATIONS;
    u64 cmd = a[0];
    if (a[1] != 0)
        return SyscallResult::err(EINVAL); // MEMBARRIER_CMD_FLAG_CPU is for the RSEQ command only
    u32& registered = group(t).membarrier_registered;
    switch (cmd) {
    case QUERY: return SyscallResult::ret(SUPPORTED);
    case GLOBAL:
    case GLOBAL_EXPEDITED: return SyscallResult::ret(0);
    case REGISTER_GLOBAL_EXPEDITED:
    case REGISTER_PRIVATE_EXPEDITED:
    case REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
        registered |= static_cast<u32>(cmd);
        return SyscallResult::ret(0);
    case PRIVATE_EXPEDITED:
    case PRIVATE_EXPEDITED_SYNC_CORE:
        return (registered & (cmd << 1)) ? SyscallResult::ret(0) : SyscallResult::err(EPERM);
    case GET_REGISTRATIONS: return SyscallResult::ret(registered);
    default: return SyscallResult::err(EINVAL);
    }
}

} // namespace kioku
