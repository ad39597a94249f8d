#include "kernel/Syscalls.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <ostream>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Vfs.h"

namespace kioku {

namespace {

// Names of the asm-generic numbers riscv64 uses, for the "unimplemented" report and traces.
const std::map<u64, const char*>& names()
{
    static const std::map<u64, const char*> table = {
        {5, "setxattr"},
        {6, "lsetxattr"},
        {7, "fsetxattr"},
        {8, "getxattr"},
        {9, "lgetxattr"},
        {10, "fgetxattr"},
        {11, "listxattr"},
        {12, "llistxattr"},
        {13, "flistxattr"},
        {14, "removexattr"},
        {15, "lremovexattr"},
        {16, "fremovexattr"},
        {17, "getcwd"},
        {19, "eventfd2"},
        {20, "epoll_create1"},
        {21, "epoll_ctl"},
        {22, "epoll_pwait"},
        {23, "dup"},
        {24, "dup3"},
        {25, "fcntl"},
        {26, "inotify_init1"},
        {29, "ioctl"},
        {32, "flock"},
        {33, "mknodat"},
        {34, "mkdirat"},
        {35, "unlinkat"},
        {36, "symlinkat"},
        {37, "linkat"},
        {39, "umount2"},
        {40, "mount"},
        {43, "statfs"},
        {44, "fstatfs"},
        {45, "truncate"},
        {46, "ftruncate"},
        {47, "fallocate"},
        {48, "faccessat"},
        {49, "chdir"},
        {50, "fchdir"},
        {52, "fchmod"},
        {53, "fchmodat"},
        {54, "fchownat"},
        {55, "fchown"},
        {56, "openat"},
        {57, "close"},
        {59, "pipe2"},
        {61, "getdents64"},
        {62, "lseek"},
        {63, "read"},
        {64, "write"},
        {65, "readv"},
        {66, "writev"},
        {67, "pread64"},
        {68, "pwrite64"},
        {69, "preadv"},
        {70, "pwritev"},
        {71, "sendfile"},
        {72, "pselect6"},
        {73, "ppoll"},
        {75, "vmsplice"},
        {76, "splice"},
        {77, "tee"},
        {78, "readlinkat"},
        {79, "newfstatat"},
        {80, "fstat"},
        {81, "sync"},
        {82, "fsync"},
        {83, "fdatasync"},
        {84, "sync_file_range"},
        {267, "syncfs"},
        {85, "timerfd_create"},
        {86, "timerfd_settime"},
        {87, "timerfd_gettime"},
        {88, "utimensat"},
        {90, "capget"},
        {91, "capset"},
        {93, "exit"},
        {94, "exit_group"},
        {95, "waitid"},
        {96, "set_tid_address"},
        {97, "unshare"},
        {98, "futex"},
        {99, "set_robust_list"},
        {100, "get_robust_list"},
        {101, "nanosleep"},
        {102, "getitimer"},
        {103, "setitimer"},
        {107, "timer_create"},
        {108, "timer_gettime"},
        {109, "timer_getoverrun"},
        {110, "timer_settime"},
        {111, "timer_delete"},
        {113, "clock_gettime"},
        {114, "clock_getres"},
        {115, "clock_nanosleep"},
        {118, "sched_setparam"},
        {119, "sched_setscheduler"},
        {120, "sched_getscheduler"},
        {121, "sched_getparam"},
        {122, "sched_setaffinity"},
        {123, "sched_getaffinity"},
        {124, "sched_yield"},
        {129, "kill"},
        {130, "tkill"},
        {131, "tgkill"},
        {132, "sigaltstack"},
        {133, "rt_sigsuspend"},
        {134, "rt_sigaction"},
        {135, "rt_sigprocmask"},
        {136, "rt_sigpending"},
        {137, "rt_sigtimedwait"},
        {138, "rt_sigqueueinfo"},
        {139, "rt_sigreturn"},
        {140, "setpriority"},
        {141, "getpriority"},
        {143, "setregid"},
        {144, "setgid"},
        {145, "setreuid"},
        {146, "setuid"},
        {147, "setresuid"},
        {149, "setresgid"},
        {151, "setfsuid"},
        {152, "setfsgid"},
        {148, "getresuid"},
        {150, "getresgid"},
        {153, "times"},
        {154, "setpgid"},
        {155, "getpgid"},
        {156, "getsid"},
        {157, "setsid"},
        {158, "getgroups"},
        {159, "setgroups"},
        {160, "uname"},
        {163, "getrlimit"},
        {164, "setrlimit"},
        {165, "getrusage"},
        {166, "umask"},
        {167, "prctl"},
        {168, "getcpu"},
        {169, "gettimeofday"},
        {172, "getpid"},
        {173, "getppid"},
        {174, "getuid"},
        {175, "geteuid"},
        {176, "getgid"},
        {177, "getegid"},
        {178, "gettid"},
        {179, "sysinfo"},
        {194, "shmget"},
        {195, "shmctl"},
        {196, "shmat"},
        {197, "shmdt"},
        {198, "socket"},
        {199, "socketpair"},
        {200, "bind"},
        {201, "listen"},
        {202, "accept"},
        {203, "connect"},
        {204, "getsockname"},
        {205, "getpeername"},
        {206, "sendto"},
        {207, "recvfrom"},
        {208, "setsockopt"},
        {209, "getsockopt"},
        {210, "shutdown"},
        {211, "sendmsg"},
        {212, "recvmsg"},
        {213, "readahead"},
        {214, "brk"},
        {215, "munmap"},
        {216, "mremap"},
        {220, "clone"},
        {221, "execve"},
        {222, "mmap"},
        {223, "fadvise64"},
        {226, "mprotect"},
        {227, "msync"},
        {228, "mlock"},
        {229, "munlock"},
        {230, "mlockall"},
        {231, "munlockall"},
        {232, "mincore"},
        {233, "madvise"},
        {234, "remap_file_pages"},
        {235, "mbind"},
        {236, "get_mempolicy"},
        {237, "set_mempolicy"},
        {238, "migrate_pages"},
        {239, "move_pages"},
        {240, "rt_tgsigqueueinfo"},
        {241, "perf_event_open"},
        {242, "accept4"},
        {243, "recvmmsg"},
        {258, "riscv_hwprobe"},
        {259, "riscv_flush_icache"},
        {260, "wait4"},
        {261, "prlimit64"},
        {276, "renameat2"},
        {277, "seccomp"},
        {278, "getrandom"},
        {279, "memfd_create"},
        {280, "bpf"},
        {281, "execveat"},
        {282, "userfaultfd"},
        {283, "membarrier"},
        {284, "mlock2"},
        {285, "copy_file_range"},
        {286, "preadv2"},
        {287, "pwritev2"},
        {288, "pkey_mprotect"},
        {289, "pkey_alloc"},
        {290, "pkey_free"},
        {291, "statx"},
        {293, "rseq"},
        {424, "pidfd_send_signal"},
        {425, "io_uring_setup"},
        {426, "io_uring_enter"},
        {427, "io_uring_register"},
        {428, "open_tree"},
        {429, "move_mount"},
        {430, "fsopen"},
        {431, "fsconfig"},
        {432, "fsmount"},
        {433, "fspick"},
        {434, "pidfd_open"},
        {435, "clone3"},
        {436, "close_range"},
        {437, "openat2"},
        {438, "pidfd_getfd"},
        {439, "faccessat2"},
        {440, "process_madvise"},
        {441, "epoll_pwait2"},
        {442, "mount_setattr"},
        {443, "quotactl_fd"},
        {444, "landlock_create_ruleset"},
        {445, "landlock_add_rule"},
        {446, "landlock_restrict_self"},
        {447, "memfd_secret"},
        {448, "process_mrelease"},
        {449, "futex_waitv"},
        {450, "set_mempolicy_home_node"},
        {451, "cachestat"},
        {452, "fchmodat2"},
        {453, "map_shadow_stack"},
        {454, "futex_wake"},
        {455, "futex_wait"},
        {456, "futex_requeue"},
        {457, "statmount"},
        {458, "listmount"},
        {459, "lsm_get_self_attr"},
        {460, "lsm_set_self_attr"},
        {461, "lsm_list_modules"},
        {462, "mseal"},
    };
    return table;
}

} // namespace

const char* syscall_name(u64 number)
{
    auto it = names().find(number);
    return it == names().end() ? "?" : it->second;
}

Syscalls::Handler Syscalls::handler_for(u64 number) const
{
    static const std::map<u64, Handler> table = {
        {5, &Syscalls::sys_xattr},
        {6, &Syscalls::sys_xattr},
        {7, &Syscalls::sys_xattr},
        {8, &Syscalls::sys_xattr},
        {9, &Syscalls::sys_xattr},
        {10, &Syscalls::sys_xattr},
        {11, &Syscalls::sys_xattr},
        {12, &Syscalls::sys_xattr},
        {13, &Syscalls::sys_xattr},
        {14, &Syscalls::sys_xattr},
        {15, &Syscalls::sys_xattr},
        {16, &Syscalls::sys_xattr},
        {17, &Syscalls::sys_getcwd},
        {23, &Syscalls::sys_dup},
        {24, &Syscalls::sys_dup3},
        {25, &Syscalls::sys_fcntl},
        {29, &Syscalls::sys_ioctl},
        {34, &Syscalls::sys_mkdirat},
        {35, &Syscalls::sys_unlinkat},
        {36, &Syscalls::sys_symlinkat},
        {37, &Syscalls::sys_linkat},
        {45, &Syscalls::sys_truncate},
        {52, &Syscalls::sys_fchmod},
        {53, &Syscalls::sys_fchmodat},
        {54, &Syscalls::sys_fchownat},
        {55, &Syscalls::sys_fchown},
        {88, &Syscalls::sys_utimensat},
        {46, &Syscalls::sys_ftruncate},
        {33, &Syscalls::sys_mknodat},
        {48, &Syscalls::sys_faccessat},
        {49, &Syscalls::sys_chdir},
        {50, &Syscalls::sys_fchdir},
        {56, &Syscalls::sys_openat},
        {437, &Syscalls::sys_openat2},
        {57, &Syscalls::sys_close},
        {59, &Syscalls::sys_pipe2},
        {61, &Syscalls::sys_getdents64},
        {62, &Syscalls::sys_lseek},
        {63, &Syscalls::sys_read},
        {64, &Syscalls::sys_write},
        {65, &Syscalls::sys_readv},
        {66, &Syscalls::sys_writev},
        {67, &Syscalls::sys_pread64},
        {68, &Syscalls::sys_pwrite64},
        {69, &Syscalls::sys_preadv},
        {70, &Syscalls::sys_pwritev},
        {78, &Syscalls::sys_readlinkat},
        {79, &Syscalls::sys_newfstatat},
        {80, &Syscalls::sys_fstat},
        {81, &Syscalls::sys_sync},
        {82, &Syscalls::sys_fsync},
        {83, &Syscalls::sys_fsync},
        {84, &Syscalls::sys_sync_file_range},
        {267, &Syscalls::sys_syncfs},
        {93, &Syscalls::sys_exit},
        {94, &Syscalls::sys_exit_group},
        {95, &Syscalls::sys_waitid},
        {96, &Syscalls::sys_set_tid_address},
        {98, &Syscalls::sys_futex},
        {449, &Syscalls::sys_futex_waitv},
        {99, &Syscalls::sys_set_robust_list},
        {101, &Syscalls::sys_nanosleep},
        {113, &Syscalls::sys_clock_gettime},
        {114, &Syscalls::sys_clock_getres},
        {115, &Syscalls::sys_clock_nanosleep},
        {124, &Syscalls::sys_sched_yield},
        {129, &Syscalls::sys_kill},
        {130, &Syscalls::sys_tkill},
        {131, &Syscalls::sys_tgkill},
        {132, &Syscalls::sys_sigaltstack},
        {133, &Syscalls::sys_rt_sigsuspend},
        {134, &Syscalls::sys_rt_sigaction},
        {135, &Syscalls::sys_rt_sigprocmask},
        {136, &Syscalls::sys_rt_sigpending},
        {139, &Syscalls::sys_rt_sigreturn},
        {153, &Syscalls::sys_times},
        {154, &Syscalls::sys_setpgid},
        {155, &Syscalls::sys_getpgid},
        {39, &Syscalls::sys_umount2},
        {40, &Syscalls::sys_mount},
        {75, &Syscalls::sys_vmsplice},
        {424, &Syscalls::sys_pidfd_send_signal},
        {434, &Syscalls::sys_pidfd_open},
        {282, &Syscalls::sys_userfaultfd},
        {440, &Syscalls::sys_process_madvise},
        {156, &Syscalls::sys_getsid},
        {157, &Syscalls::sys_setsid},
        {160, &Syscalls::sys_uname},
        {165, &Syscalls::sys_getrusage},
        {166, &Syscalls::sys_umask},
        {167, &Syscalls::sys_prctl},
        {169, &Syscalls::sys_gettimeofday},
        {172, &Syscalls::sys_getpid},
        {173, &Syscalls::sys_getppid},
        {174, &Syscalls::sys_getuid},
        {175, &Syscalls::sys_geteuid},
        {176, &Syscalls::sys_getgid},
        {177, &Syscalls::sys_getegid},
        {143, &Syscalls::sys_setregid},
        {144, &Syscalls::sys_setgid},
        {145, &Syscalls::sys_setreuid},
        {146, &Syscalls::sys_setuid},
        {147, &Syscalls::sys_setresuid},
        {149, &Syscalls::sys_setresgid},
        {151, &Syscalls::sys_setfsuid},
        {152, &Syscalls::sys_setfsgid},
        {159, &Syscalls::sys_setgroups},
        {198, &Syscalls::sys_socket},
        {199, &Syscalls::sys_socketpair},
        {200, &Syscalls::sys_bind},
        {201, &Syscalls::sys_listen},
        {202, &Syscalls::sys_accept},
        {203, &Syscalls::sys_connect},
        {204, &Syscalls::sys_getsockname},
        {205, &Syscalls::sys_getpeername},
        {242, &Syscalls::sys_accept4},
        {206, &Syscalls::sys_sendto},
        {207, &Syscalls::sys_recvfrom},
        {208, &Syscalls::sys_setsockopt},
        {209, &Syscalls::sys_getsockopt},
        {210, &Syscalls::sys_shutdown},
        {211, &Syscalls::sys_sendmsg},
        {212, &Syscalls::sys_recvmsg},
        {90, &Syscalls::sys_capget},
        {91, &Syscalls::sys_capset},
        {178, &Syscalls::sys_gettid},
        {179, &Syscalls::sys_sysinfo},
        {214, &Syscalls::sys_brk},
        {215, &Syscalls::sys_munmap},
        {216, &Syscalls::sys_mremap},
        {220, &Syscalls::sys_clone},
        {221, &Syscalls::sys_execve},
        {222, &Syscalls::sys_mmap},
        {226, &Syscalls::sys_mprotect},
        {227, &Syscalls::sys_msync},
        {228, &Syscalls::sys_mlock},
        {229, &Syscalls::sys_mlock},
        {230, &Syscalls::sys_mlock},
        {231, &Syscalls::sys_mlock},
        {232, &Syscalls::sys_mincore},
        {233, &Syscalls::sys_madvise},
        {234, &Syscalls::sys_remap_file_pages},
        {258, &Syscalls::sys_enosys_quiet},
        {259, &Syscalls::sys_riscv_flush_icache},
        {260, &Syscalls::sys_wait4},
        {261, &Syscalls::sys_prlimit64},
        {163, &Syscalls::sys_getrlimit},
        {164, &Syscalls::sys_setrlimit},
        {276, &Syscalls::sys_renameat2},
        {278, &Syscalls::sys_getrandom},
        {283, &Syscalls::sys_membarrier},
        {137, &Syscalls::sys_rt_sigtimedwait},
        {284, &Syscalls::sys_mlock},
        {291, &Syscalls::sys_statx},
        {293, &Syscalls::sys_enosys_quiet},
        {435, &Syscalls::sys_enosys_quiet},
        {439, &Syscalls::sys_faccessat2},
        {452, &Syscalls::sys_fchmodat2},
        {122, &Syscalls::sys_zero},
        {123, &Syscalls::sys_sched_getaffinity},
        {19, &Syscalls::sys_eventfd2},
        {20, &Syscalls::sys_epoll_create1},
        {21, &Syscalls::sys_epoll_ctl},
        {22, &Syscalls::sys_epoll_pwait},
        {441, &Syscalls::sys_epoll_pwait2},
        {72, &Syscalls::sys_pselect6},
        {73, &Syscalls::sys_ppoll},
        {102, &Syscalls::sys_getitimer},
        {103, &Syscalls::sys_setitimer},
        {107, &Syscalls::sys_timer_create},
        {108, &Syscalls::sys_timer_gettime},
        {109, &Syscalls::sys_timer_getoverrun},
        {110, &Syscalls::sys_timer_settime},
        {111, &Syscalls::sys_timer_delete},
        {85, &Syscalls::sys_timerfd_create},
        {86, &Syscalls::sys_timerfd_settime},
        {87, &Syscalls::sys_timerfd_gettime},
        {279, &Syscalls::sys_memfd_create},
        {32, &Syscalls::sys_flock},
        {47, &Syscalls::sys_fallocate},
        {223, &Syscalls::sys_fadvise64},
        {43, &Syscalls::sys_statfs},
        {44, &Syscalls::sys_fstatfs},
        {140, &Syscalls::sys_setpriority},
        {141, &Syscalls::sys_getpriority},
        {194, &Syscalls::sys_shmget},
        {195, &Syscalls::sys_shmctl},
        {196, &Syscalls::sys_shmat},
        {197, &Syscalls::sys_shmdt},
        {168, &Syscalls::sys_getcpu},
        {148, &Syscalls::sys_getresuid},
        {150, &Syscalls::sys_getresgid},
        {158, &Syscalls::sys_getgroups},
    };
    auto it = table.find(number);
    return it == table.end() ? nullptr : it->second;
}

Syscalls::Syscalls(Runner& runner)
    : m_runner(runner)
{
    m_runner.scheduler().set_tick_hook([this] { fire_timers(); });
}

Kernel& Syscalls::kernel()
{
    return m_runner.kernel();
}

Process& Syscalls::process(Task& t)
{
    Process* p = kernel().process(t.tgid);
    VERIFY(p && "a running task's process is in the table");
    return *p;
}

ThreadGroup& Syscalls::group(Task& t)
{
    ThreadGroup* g = m_runner.scheduler().group(t.tgid);
    VERIFY(g && "a running task has a thread group");
    return *g;
}

SyscallResult Syscalls::dispatch(Task& t)
{
    u64 number = t.regs.x[17];
    SyscallArgs args;
    for (size_t i = 0; i < 6; ++i)
        args.a[i] = t.regs.x[10 + i];
    fire_timers();
    Handler h = handler_for(number);
    if (!h)
        return unimplemented(number);
    kernel().vfs().set_creator(&process(t).creds); // whatever the call makes is theirs
    SyscallResult r = (this->*h)(t, args);
    kernel().vfs().set_creator(nullptr);
    return r;
}

SyscallResult Syscalls::unimplemented(u64 number)
{
    if (m_reported.insert(number).second)
        m_runner.diagnostics() << "kioku: unimplemented system call " << number << " ("
                               << syscall_name(number) << ")\n";
    return SyscallResult::err(ENOSYS);
}

SyscallResult Syscalls::sys_enosys_quiet(Task&, const SyscallArgs&)
{
    return SyscallResult::err(ENOSYS);
}
SyscallResult Syscalls::sys_zero(Task&, const SyscallArgs&)
{
    return SyscallResult::ret(0);
}

Result<void> Syscalls::put_bytes(Task& t, u64 addr, const void* src, u64 n)
{
    return kernel().copy_to_user(t.tgid, addr, std::span<const u8>(static_cast<const u8*>(src), n));
}

Result<void> Syscalls::get_bytes(Task& t, u64 addr, void* dst, u64 n)
{
    return kernel().copy_from_user(t.tgid, addr, std::span<u8>(static_cast<u8*>(dst), n));
}

Result<std::string> Syscalls::read_string(Task& t, u64 addr, u64 max)
{
    // strncpy_from_user: a page piece at a time, so a string that ends before an unmapped page
    // is read without touching it.
    std::string out;
    while (out.size() < max) {
        u64 va = addr + out.size();
        u64 n = std::min(max - out.size(), PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        u64 had = out.size();
        out.resize(had + n);
        TRY(get_bytes(t, va, out.data() + had, n));
        if (auto nul = out.find('\0', had); nul != std::string::npos) {
            out.resize(nul);
            return out;
        }
    }
    return Error::from_errno(ENAMETOOLONG, "string too long");
}

Result<std::vector<std::string>> Syscalls::read_string_array(Task& t, u64 addr, u64* budget)
{
    // copy_strings: each string with its NUL and its pointer comes out of the budget, a string
    // being at most MAX_ARG_STRLEN (32 pages); past either, E2BIG.
    constexpr u64 MAX_ARG_STRLEN = 32 * PAGE_SIZE;
    std::vector<std::string> out;
    if (!addr)
        return out;
    for (u64 i = 0;; ++i) {
        u64 ptr = 0;
        TRY(get_bytes(t, addr + i * 8, &ptr, 8));
        if (!ptr)
            return out;
        if (*budget < 8)
            return Error::from_errno(E2BIG, "argument list too long");
        *budget -= 8;
        auto s = read_string(t, ptr, std::min(MAX_ARG_STRLEN, *budget));
        if (s.is_error())
            return Error::from_errno(s.error().code == ENAMETOOLONG ? E2BIG : s.error().code,
                                     "argument too long");
        *budget -= s.value().size() + 1;
        out.push_back(s.release_value());
    }
}

} // namespace kioku
