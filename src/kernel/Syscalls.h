// The system-call layer of `kioku run`: Linux's riscv64 ABI (asm-generic unistd numbers; the
// number in a7, arguments in a0..a5, the result or -errno in a0). Each call is served through the
// Kernel (memory calls, regular files through the page cache, /proc) or the Runner (processes,
// threads, signals); every access to guest memory goes through the kernel's user-copy path, so a
// bad pointer is EFAULT, never a crash. An unknown call is ENOSYS, reported once per number.
//
// Files that are not in the page cache (the host's standard streams, pipes, /proc text,
// /dev/null, /dev/zero, directories being listed) are SpecialFiles attached to the OpenFile.
//
// Handlers are grouped by subject: SyscallsFile.cpp, SyscallsMemory.cpp, SyscallsProcess.cpp,
// SyscallsSignal.cpp; the table and names are in Syscalls.cpp. Owned by the Runner.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "base/Result.h"
#include "kernel/Credentials.h"
#include "kernel/PollEvents.h"
#include "kernel/Realtime.h"
#include "kernel/Task.h"
#include "kernel/UnixSocket.h"

namespace kioku {

class Runner;
class Kernel;
class Process;
struct OpenFile;
class EventFd;
class TimerFd;
class Epoll;
class UserfaultContext;
class AddressSpace;
class PosixTimer;
struct TimerNotify;

struct Pipe {
    static constexpr u64 CAPACITY = 65536;   // Linux's default pipe size: 16 pages
    static constexpr u64 MAX_SIZE = 1 << 20; // /proc/sys/fs/pipe-max-size
    u64 capacity = CAPACITY;                 // F_SETPIPE_SZ changes it
    u64 ino = 0;                             // its pipefs inode, shared by both ends
    // Ends ever opened for reading and for writing: an open of a named FIFO that waits for the
    // other side wakes when its count moves (fifo_open's r_counter, w_counter).
    u64 reads_opened = 0;
    u64 writes_opened = 0;
    // A named FIFO's node as stat shows it (the guest's view); st_mode 0 for an anonymous pipe.
    struct stat node {};
    std::deque<u8> data;
    int readers = 0;
    int writers = 0;
    WakeCounts wakes; // for edge-triggered epoll
};

struct DirEntry {
    std::string name;
    u64 ino = 0;
    u8 type = 0; // DT_*
};

struct SpecialFile {
    enum class Kind : u8 {
        HostFd,
        PipeRead,
        PipeWrite,
        Text,
        Null,
        Zero,
        Full, // /dev/full: reads zeros, every write is ENOSPC
        Random,
        Directory,
        EventFd,
        TimerFd,
        Epoll,
        Pagemap,      // /proc/PID/pagemap: 8 bytes per virtual page, read at the file position
        Socket,       // an AF_UNIX socket end (socketpair)
        Mem,          // /proc/PID/mem: the process's memory at the file position, as ptrace reaches it
        Pidfd,        // pidfd_open: a process (proc_pid), readable once it has exited
        Userfaultfd,  // userfaultfd: its context (SyscallsUserfault.cpp)
        UserfaultDev, // /dev/userfaultfd: USERFAULTFD_IOC_NEW makes userfaultfds
        Path          // O_PATH: a name alone (the file at `proc_path`, the link itself when !path_follows)
    };
    Kind kind = Kind::Null;
    bool both_ends = false;     // PipeRead: also the writing end (a FIFO opened O_RDWR)
    bool path_follows = true;   // Path: the name's last link was followed (no O_NOFOLLOW)
    int host_fd = -1;           // HostFd: the host's standard streams (not owned), or one reopened
    bool owns_host_fd = false;  // HostFd: closed with this file (a standard stream reopened by name)
    std::shared_ptr<Pipe> pipe; // PipeRead / PipeWrite
    std::string text;           // Text: a /proc file as last rendered (at open, at a read from 0)
    std::string proc_path;      // Text: the /proc path, for writes to /proc/sys
    i32 proc_pid = 0;           // Pagemap, Mem, Pidfd, /proc/PID dirs: whose, which process; Text: the opener
    u64 proc_start_ns = 0;      // Pidfd: the process's start time, telling it from a reused pid
    std::vector<DirEntry> entries; // Directory, read on open
    std::shared_ptr<kioku::EventFd> eventfd;
    std::shared_ptr<kioku::TimerFd> timerfd;
    std::shared_ptr<kioku::Epoll> epoll;
    std::shared_ptr<kioku::UnixSocket> socket;
    std::shared_ptr<kioku::UserfaultContext> userfault;
    bool nonblock = false; // O_NONBLOCK on pipes, eventfds, timerfds
    u64 ino = 0;           // Socket: its sockfs inode

    SpecialFile(Kind k, std::shared_ptr<Pipe> p = nullptr);
    ~SpecialFile();
    SpecialFile(const SpecialFile&) = delete;
    SpecialFile& operator=(const SpecialFile&) = delete;
};

// Paths of the kernel's own trees, whatever the root holds there: /proc, /sys and the kernel
// configuration file (is_proc_path); those and /dev, where path operations that would change
// them are refused with the errno Linux gives for a read-only or busy pseudo-filesystem entry.
bool is_proc_path(const std::string& path);
bool is_kernel_path(const std::string& path);

// An open file on an anonymous inode (eventfd, epoll, pidfd), named as /proc/PID/fd shows it.
std::shared_ptr<OpenFile> anon_file(const char* name);

struct SyscallResult {
    enum class Kind : u8 {
        Return,   // a0 = value, pc past the ecall
        Block,    // the task blocks; the handler set how it is woken
        NoReturn, // the handler set the registers itself (execve, rt_sigreturn, exit)
    };
    Kind kind = Kind::Return;
    i64 value = 0;

    static SyscallResult ret(i64 v) { return {Kind::Return, v}; }
    static SyscallResult err(int e) { return {Kind::Return, -static_cast<i64>(e)}; }
    static SyscallResult block() { return {Kind::Block, 0}; }
    static SyscallResult no_return() { return {Kind::NoReturn, 0}; }
    // 0, or the call's error.
    static SyscallResult of(const Result<void>& r) { return r.is_error() ? err(r.error().code) : ret(0); }
};

// The six argument registers.
struct SyscallArgs {
    std::array<u64, 6> a{};
    i64 i(int n) const { return static_cast<i64>(a[static_cast<size_t>(n)]); }
    int fd(int n) const { return static_cast<int>(a[static_cast<size_t>(n)]); }
    u64 operator[](int n) const { return a[static_cast<size_t>(n)]; }
};

// One read or write call moves at most this much between the guest and a special file.
inline constexpr u64 MAX_IO_CHUNK = u64{1} << 20;

// Linux's name of a riscv64 system call number ("openat"); "?" when unknown.
const char* syscall_name(u64 number);

class Syscalls {
  public:
    explicit Syscalls(Runner& runner);

    // Runs the call in t's a7 with its arguments; the caller applies the result.
    SyscallResult dispatch(Task& t);
    // Gives a new process the host's standard streams as descriptors 0, 1 and 2.
    void install_stdio(Process& p);
    // The earliest interval-timer, POSIX-timer or timerfd expiry still ahead of the clock: when
    // every task is blocked, the clock may run on to it.
    std::optional<u64> next_timer_expiry() const { return next_timer(); }

  private:
    using Handler = SyscallResult (Syscalls::*)(Task&, const SyscallArgs&);
    Handler handler_for(u64 number) const;
    SyscallResult unimplemented(u64 number);

    // Helpers shared by the handlers.
    Kernel& kernel();
    Process& process(Task& t);
    ThreadGroup& group(Task& t);
    Result<std::string> read_string(Task& t, u64 addr, u64 max = 4096);
    // execve's argv or envp, taking what each string and pointer needs out of *budget (E2BIG
    // when it runs out).
    Result<std::vector<std::string>> read_string_array(Task& t, u64 addr, u64* budget);
    Result<void> put_bytes(Task& t, u64 addr, const void* src, u64 n);
    Result<void> get_bytes(Task& t, u64 addr, void* dst, u64 n);
    std::string absolute_path(Task& t, int dirfd, const std::string& path, Result<void>* error);
    // A path argument read from guest memory and made absolute (ENOENT when empty).
    Result<std::string> path_at(Task& t, int dirfd, u64 addr);
    // Discretionary access control of the root's files, as fs/namei.c checks it, against what
    // the guest sees of them (Vfs::to_guest): 0 or an errno. Credentials that override DAC skip
    // the walks; what is missing is left to the operation to report (ENOENT and the like).
    // may_search: search (x) permission on every directory `path` passes through (not its last
    // component). may_create: search, and write and search in the directory that would hold a
    // new `path`. may_delete: the same for removing `path`, and the sticky bit's rule.
    int may_search(const Credentials& c, const std::string& path);
    int may_create(const Credentials& c, const std::string& path);
    int may_delete(const Credentials& c, const std::string& path);
    // The open file of fd; an O_PATH one is EBADF (fdget), unless `path_too` (fdget_raw: fstat,
    // the *at calls' directory and AT_EMPTY_PATH, fcntl, dup, close).
    Result<OpenFile*> open_file(Task& t, int fd, bool path_too = false);
    SyscallResult install_fd(Task& t, std::shared_ptr<OpenFile> file, bool cloexec, int min_fd = 0);
    Result<u64> read_into(Task& t, int fd, OpenFile& f, u64 buf, u64 count, bool* would_block);
    // RLIMIT_FSIZE for a write of `count` bytes at `pos`: what may be written (SIGXFSZ and EFBIG
    // when nothing may).
    Result<u64> fsize_limit(Task& t, u64 pos, u64 count);
    Result<u64> write_from(Task& t, int fd, OpenFile& f, u64 buf, u64 count);

    // Files (SyscallsFile.cpp).
    SyscallResult sys_openat(Task&, const SyscallArgs&);
    SyscallResult sys_openat2(Task&, const SyscallArgs&);
    // The open itself, of a normalised guest path (flags and permission bits as given).
    SyscallResult open_path(Task& t, std::string path, int flags, int mode);
    // openat2's walk under its RESOLVE_* flags: the guest path to open, or EXDEV / ELOOP.
    Result<std::string> resolve_beneath(Task& t, int dirfd, const std::string& raw, u64 resolve, u64 flags);
    // The walk itself, from `start` (`root` the top a scope keeps it under), following links.
    Result<std::string> walk_path(const std::string& start, const std::string& root, const std::string& raw,
                                  u64 resolve, u64 flags);
    // The path with every symbolic link resolved, as the kernel keeps a working directory
    // (d_path of the dentry reached): for chdir and fchdir; the path itself if the walk fails.
    std::string real_path(const std::string& path);
    SyscallResult sys_close(Task&, const SyscallArgs&);
    SyscallResult sys_read(Task&, const SyscallArgs&);
    SyscallResult sys_write(Task&, const SyscallArgs&);
    SyscallResult sys_readv(Task&, const SyscallArgs&);
    SyscallResult sys_writev(Task&, const SyscallArgs&);
    SyscallResult sys_pread64(Task&, const SyscallArgs&);
    SyscallResult sys_pwrite64(Task&, const SyscallArgs&);
    SyscallResult sys_preadv(Task&, const SyscallArgs&);
    SyscallResult sys_pwritev(Task&, const SyscallArgs&);
    SyscallResult positioned_vector_io(Task& t, const SyscallArgs& a, bool write);
    SyscallResult positioned_io(Task&, const SyscallArgs&, bool write); // pread64 / pwrite64
    SyscallResult sys_lseek(Task&, const SyscallArgs&);
    SyscallResult sys_ioctl(Task&, const SyscallArgs&);
    SyscallResult sys_fstat(Task&, const SyscallArgs&);
    SyscallResult sys_newfstatat(Task&, const SyscallArgs&);
    SyscallResult sys_statx(Task&, const SyscallArgs&);
    SyscallResult sys_readlinkat(Task&, const SyscallArgs&);
    SyscallResult sys_faccessat(Task&, const SyscallArgs&);
    SyscallResult sys_faccessat2(Task&, const SyscallArgs&);
    // faccessat and faccessat2: `mode` (R_OK...) of the file at dirfd/path, under `flags`.
    SyscallResult access_at(Task& t, int dirfd, u64 path_addr, u64 mode, u64 flags);
    SyscallResult sys_dup(Task&, const SyscallArgs&);
    SyscallResult sys_dup3(Task&, const SyscallArgs&);
    SyscallResult sys_fcntl(Task&, const SyscallArgs&);
    SyscallResult record_lock(Task& t, const std::shared_ptr<OpenFile>& file, u64 cmd, u64 addr);
    SyscallResult sys_pipe2(Task&, const SyscallArgs&);
    SyscallResult sys_getdents64(Task&, const SyscallArgs&);
    SyscallResult sys_unlinkat(Task&, const SyscallArgs&);
    SyscallResult sys_mkdirat(Task&, const SyscallArgs&);
    SyscallResult sys_renameat2(Task&, const SyscallArgs&);
    SyscallResult sys_linkat(Task&, const SyscallArgs&);
    SyscallResult sys_symlinkat(Task&, const SyscallArgs&);
    SyscallResult sys_fchmod(Task&, const SyscallArgs&);
    SyscallResult sys_fchmodat(Task&, const SyscallArgs&);
    SyscallResult sys_fchmodat2(Task&, const SyscallArgs&);
    SyscallResult sys_fchown(Task&, const SyscallArgs&);
    SyscallResult sys_fchownat(Task&, const SyscallArgs&);
    SyscallResult sys_utimensat(Task&, const SyscallArgs&);
    SyscallResult sys_truncate(Task&, const SyscallArgs&);
    SyscallResult sys_ftruncate(Task&, const SyscallArgs&);
    SyscallResult sys_fsync(Task&, const SyscallArgs&);
    SyscallResult sys_sync(Task&, const SyscallArgs&);
    SyscallResult sys_syncfs(Task&, const SyscallArgs&);
    SyscallResult sys_sync_file_range(Task&, const SyscallArgs&);
    SyscallResult sys_getcwd(Task&, const SyscallArgs&);
    SyscallResult sys_chdir(Task&, const SyscallArgs&);
    SyscallResult sys_fchdir(Task&, const SyscallArgs&);
    SyscallResult sys_umask(Task&, const SyscallArgs&);

    // Memory (SyscallsMemory.cpp).
    SyscallResult sys_brk(Task&, const SyscallArgs&);
    SyscallResult sys_mmap(Task&, const SyscallArgs&);
    SyscallResult sys_munmap(Task&, const SyscallArgs&);
    SyscallResult sys_mprotect(Task&, const SyscallArgs&);
    SyscallResult sys_mremap(Task&, const SyscallArgs&);
    SyscallResult sys_madvise(Task&, const SyscallArgs&);
    SyscallResult sys_remap_file_pages(Task&, const SyscallArgs&);
    SyscallResult sys_riscv_flush_icache(Task&, const SyscallArgs&);
    SyscallResult sys_msync(Task&, const SyscallArgs&);
    SyscallResult sys_mincore(Task&, const SyscallArgs&);
    SyscallResult sys_mlock(Task&, const SyscallArgs&);

    // Processes, threads, time and identity (SyscallsProcess.cpp).
    SyscallResult sys_exit(Task&, const SyscallArgs&);
    SyscallResult sys_exit_group(Task&, const SyscallArgs&);
    SyscallResult sys_clone(Task&, const SyscallArgs&);
    SyscallResult sys_execve(Task&, const SyscallArgs&);
    SyscallResult sys_wait4(Task&, const SyscallArgs&);
    SyscallResult sys_waitid(Task&, const SyscallArgs&);
    SyscallResult sys_set_tid_address(Task&, const SyscallArgs&);
    SyscallResult sys_set_robust_list(Task&, const SyscallArgs&);
    SyscallResult sys_futex(Task&, const SyscallArgs&);
    SyscallResult sys_futex_waitv(Task&, const SyscallArgs&);
    SyscallResult sys_getpid(Task&, const SyscallArgs&);
    SyscallResult sys_getppid(Task&, const SyscallArgs&);
    SyscallResult sys_gettid(Task&, const SyscallArgs&);
    // Credentials (SyscallsCred.cpp).
    SyscallResult sys_getuid(Task&, const SyscallArgs&);
    SyscallResult sys_geteuid(Task&, const SyscallArgs&);
    SyscallResult sys_getgid(Task&, const SyscallArgs&);
    SyscallResult sys_getegid(Task&, const SyscallArgs&);
    SyscallResult sys_getresuid(Task&, const SyscallArgs&);
    SyscallResult sys_getresgid(Task&, const SyscallArgs&);
    SyscallResult sys_setuid(Task&, const SyscallArgs&);
    SyscallResult sys_setreuid(Task&, const SyscallArgs&);
    SyscallResult sys_setresuid(Task&, const SyscallArgs&);
    SyscallResult sys_setfsuid(Task&, const SyscallArgs&);
    SyscallResult sys_setgid(Task&, const SyscallArgs&);
    SyscallResult sys_setregid(Task&, const SyscallArgs&);
    SyscallResult sys_setresgid(Task&, const SyscallArgs&);
    SyscallResult sys_setfsgid(Task&, const SyscallArgs&);
    SyscallResult sys_getgroups(Task&, const SyscallArgs&);
    SyscallResult sys_setgroups(Task&, const SyscallArgs&);
    SyscallResult sys_capget(Task&, const SyscallArgs&);
    SyscallResult sys_capset(Task&, const SyscallArgs&);
    SyscallResult prctl_caps(Task&, const SyscallArgs&);
    // The version and pid of a capget/capset header; EINVAL (the preferred version written back)
    // for an unknown version, EFAULT.
    Result<std::pair<u32, i32>> read_cap_header(Task& t, u64 addr);
    // getresuid/getresgid: the three ids to the three addresses.
    SyscallResult put_three_ids(Task& t, const SyscallArgs& a, const std::array<u32, 3>& ids);
    // A credentials change made: the address space learns whether CAP_IPC_LOCK is still held.
    SyscallResult creds_changed(Task& t, int error);
    SyscallResult sys_uname(Task&, const SyscallArgs&);
    SyscallResult sys_prlimit64(Task&, const SyscallArgs&);
    SyscallResult sys_getrlimit(Task&, const SyscallArgs&);
    SyscallResult sys_setrlimit(Task&, const SyscallArgs&);
    SyscallResult sys_getrandom(Task&, const SyscallArgs&);
    SyscallResult sys_clock_gettime(Task&, const SyscallArgs&);
    SyscallResult sys_clock_getres(Task&, const SyscallArgs&);
    SyscallResult sys_gettimeofday(Task&, const SyscallArgs&);
    SyscallResult sys_nanosleep(Task&, const SyscallArgs&);
    SyscallResult sys_clock_nanosleep(Task&, const SyscallArgs&);
    SyscallResult sys_sched_yield(Task&, const SyscallArgs&);
    SyscallResult sys_sched_getaffinity(Task&, const SyscallArgs&);
    SyscallResult sys_getcpu(Task&, const SyscallArgs&);
    SyscallResult sys_sysinfo(Task&, const SyscallArgs&);
    SyscallResult sys_getrusage(Task&, const SyscallArgs&);
    SyscallResult sys_times(Task&, const SyscallArgs&);
    SyscallResult sys_prctl(Task&, const SyscallArgs&);
    SyscallResult sys_enosys_quiet(Task&, const SyscallArgs&);
    SyscallResult sys_zero(Task&, const SyscallArgs&);

    // Signals (SyscallsSignal.cpp).
    SyscallResult sys_rt_sigaction(Task&, const SyscallArgs&);
    SyscallResult sys_rt_sigprocmask(Task&, const SyscallArgs&);
    SyscallResult sys_rt_sigreturn(Task&, const SyscallArgs&);
    SyscallResult sys_sigaltstack(Task&, const SyscallArgs&);
    SyscallResult sys_kill(Task&, const SyscallArgs&);
    SyscallResult sys_tgkill(Task&, const SyscallArgs&);
    SyscallResult sys_tkill(Task&, const SyscallArgs&);
    SyscallResult sys_rt_sigtimedwait(Task&, const SyscallArgs&);
    SyscallResult sys_membarrier(Task&, const SyscallArgs&);
    SyscallResult sys_rt_sigsuspend(Task&, const SyscallArgs&);
    SyscallResult sys_rt_sigpending(Task&, const SyscallArgs&);

    SyscallResult sleep_until(Task& t, u64 deadline_ns);

    // Waiting and readiness (SyscallsPoll.cpp).
    SyscallResult sys_ppoll(Task&, const SyscallArgs&);
    SyscallResult sys_pselect6(Task&, const SyscallArgs&);
    SyscallResult sys_epoll_create1(Task&, const SyscallArgs&);
    SyscallResult sys_epoll_ctl(Task&, const SyscallArgs&);
    SyscallResult sys_epoll_pwait(Task&, const SyscallArgs&);
    SyscallResult sys_epoll_pwait2(Task&, const SyscallArgs&);
    SyscallResult epoll_wait_until(Task&, const SyscallArgs&, std::optional<u64> timeout_ns);
    SyscallResult sys_eventfd2(Task&, const SyscallArgs&);
    PollState poll_file(OpenFile& f, int depth = 0);
    // A Retry wait: blocks until `until` (none: no timeout) or the next interval timer, whichever
    // is first; the call runs again then, or when the run loop retries it. A signal handler
    // restarts it under SA_RESTART, unless the call is of the poll family (RestartAfterHandler::No).
    enum class RestartAfterHandler : bool { No, Yes };
    SyscallResult block_retry(Task& t, std::optional<u64> until,
                              RestartAfterHandler restart = RestartAfterHandler::Yes);
    // Whether this is the call's first run (not a retry of a blocked one).
    static bool first_run(const Task& t) { return t.state != RunState::Blocked; }
    static void end_wait(Task& t);
    // The sigmask argument of ppoll, pselect6 and epoll_pwait: installed for the wait, and put
    // back when the call returns without a signal to deliver.
    Result<void> swap_sigmask(Task& t, u64 mask_addr, u64 size);
    static void restore_sigmask(Task& t);

    // Timers (SyscallsTime.cpp).
    SyscallResult sys_setitimer(Task&, const SyscallArgs&);
    SyscallResult sys_getitimer(Task&, const SyscallArgs&);
    SyscallResult sys_timerfd_create(Task&, const SyscallArgs&);
    SyscallResult sys_timerfd_settime(Task&, const SyscallArgs&);
    SyscallResult sys_timerfd_gettime(Task&, const SyscallArgs&);
    SyscallResult sys_timer_create(Task&, const SyscallArgs&);
    SyscallResult sys_timer_settime(Task&, const SyscallArgs&);
    SyscallResult sys_timer_gettime(Task&, const SyscallArgs&);
    SyscallResult sys_timer_getoverrun(Task&, const SyscallArgs&);
    SyscallResult sys_timer_delete(Task&, const SyscallArgs&);
    // Sends the signals of interval and POSIX timers that have expired; called on every system
    // call and retried wait, the points where a single hart looks at the clock.
    void fire_timers();
    // The earliest interval-timer, POSIX-timer or timerfd expiry still ahead of the clock.
    std::optional<u64> next_timer() const;
    void note_timer(u64 at_ns);
    Result<TimerFd*> timerfd_of(Task& t, int fd);
    // Writes a struct itimerspec (it_interval, then it_value).
    Result<void> put_itimerspec(Task& t, u64 addr, u64 interval_ns, u64 remaining_ns);
    Result<void> put_timerfd_setting(Task& t, TimerFd& timer, u64 addr);
    // POSIX timers: the checks timer_create makes once it has an id (the thread of a sigevent,
    // the process or thread of a CPU-time clock), the timer an id names, and timer_gettime's
    // answer.
    Result<TimerNotify> parse_sigevent(Task& t, const u8* event);
    Result<void> check_cpu_clock_target(Task& t, i32 clockid);
    Result<PosixTimer*> posix_timer_of(Task& t, u64 id);
    Result<void> put_posix_timer_setting(Task& t, PosixTimer& timer, u64 addr);
    // Fires the POSIX timers that are due; true while some timer waits for its queued signal to
    // be taken, which fire_timers must then look for on every call.
    bool fire_posix_timers(u64 now);
    // Sends a due timer's signal; true when it was queued.
    bool send_timer_signal(Pid pid, int timer_id, u64 now);
    // Whether the timer's signal is pending (in its thread's set for SIGEV_THREAD_ID, else the
    // group's); with Drop::Yes it is taken out of the set as well.
    enum class Drop : u8 { No, Yes };
    bool timer_signal_pending(Pid pid, const PosixTimer& timer, Drop drop);

    // Process groups, sessions and memfd (SyscallsSession.cpp).
    SyscallResult sys_setpgid(Task&, const SyscallArgs&);
    SyscallResult sys_getpgid(Task&, const SyscallArgs&);
    SyscallResult sys_getsid(Task&, const SyscallArgs&);
    SyscallResult sys_setsid(Task&, const SyscallArgs&);
    SyscallResult sys_memfd_create(Task&, const SyscallArgs&);
    // pidfds (SyscallsPidfd.cpp): pidfd_open, pidfd_send_signal, process_madvise, and the process
    // a pidfd names (EBADF for another kind of file, ESRCH once the process is gone).
    SyscallResult sys_pidfd_open(Task&, const SyscallArgs&);
    // userfaultfd (SyscallsUserfault.cpp).
    SyscallResult sys_userfaultfd(Task&, const SyscallArgs&);
    SyscallResult new_userfaultfd(Task& t, u64 flags, bool from_device);
    SyscallResult userfault_ioctl(Task& t, SpecialFile& s, u64 request, u64 arg);
    Result<u64> userfault_read(SpecialFile& s, u64 count, std::vector<u8>& data, bool* would_block);
    PollState poll_userfault(SpecialFile& s);
    void userfault_prune(UserfaultContext& ctx);
    i64 userfault_fill(Task& t, AddressSpace& space, u64 dst, u64 src, u64 len, bool copy, bool wp);
    // mount and umount2 of tmpfs and hugetlbfs (SyscallsMount.cpp).
    SyscallResult sys_mount(Task&, const SyscallArgs&);
    SyscallResult sys_vmsplice(Task&, const SyscallArgs&); // SyscallsFile.cpp
    // The ioctl PROCMAP_QUERY on a /proc/PID/maps descriptor (ENOTTY on any other file).
    SyscallResult procmap_query(Task& t, OpenFile& f, u64 arg);
    // A struct iovec array: EINVAL past UIO_MAXIOV, EFAULT.
    struct IoVec {
        u64 base;
        u64 len;
    };
    Result<std::vector<IoVec>> read_iovec(Task& t, u64 addr, u64 count);
    SyscallResult sys_umount2(Task&, const SyscallArgs&);
    // The children a wait4 or waitid selects: any, one pid, or a process group.
    struct WaitSelector {
        enum class Kind : u8 { Any, Pid, Pgid } kind;
        Pid id;
    };
    bool wait_selects(const WaitSelector& select, Pid child);
    SyscallResult sys_pidfd_send_signal(Task&, const SyscallArgs&);
    SyscallResult sys_process_madvise(Task&, const SyscallArgs&);
    Result<Process*> pidfd_process(Task& t, int fd);
    // The process of a /proc/PID (or /proc/self) directory descriptor: EBADF for another file.
    Result<Process*> proc_dir_process(Task& t, int fd);
    // The siginfo of a signal a process sends (kill, pidfd_send_signal): SI_USER, its pid and uid.
    SigInfo user_signal(Task& t, int sig);
    PollState poll_pidfd(const SpecialFile& s);
    // flock, fallocate, fadvise64, statfs and fstatfs (SyscallsFile.cpp), the priority calls.
    SyscallResult sys_flock(Task&, const SyscallArgs&);
    SyscallResult sys_fallocate(Task&, const SyscallArgs&);
    SyscallResult sys_fadvise64(Task&, const SyscallArgs&);
    SyscallResult sys_statfs(Task&, const SyscallArgs&);
    SyscallResult sys_fstatfs(Task&, const SyscallArgs&);
    SyscallResult statfs_of(Task& t, const std::string& path, u64 buf);
    // open of /proc/PID/fd/N (and of /dev/fd/N, /dev/stdin, which lead there): what N has open,
    // opened again with `flags`. NotALink for other paths; Opened when `file` is filled; ByPath
    // when N's file is one of the kernel's named files (a /proc file, /dev/null), whose path
    // `file->path` then holds, to be opened by name.
    enum class Reopen : u8 { NotALink, Opened, ByPath };
    Result<Reopen> reopen_fd_link(Task& t, const std::string& path, int flags,
                                  std::shared_ptr<OpenFile>& file);
    // An open of the named FIFO whose host stat is `host` (fifo_open): `file` takes an end of its
    // pipe, waiting (Retry) for the other side unless O_NONBLOCK or O_RDWR.
    SyscallResult open_fifo(Task& t, const struct stat& host, int flags, std::shared_ptr<OpenFile> file);
    SyscallResult sys_mknodat(Task&, const SyscallArgs&);
    // The extended-attribute calls (setxattr ... fremovexattr, by the call's number).
    SyscallResult sys_xattr(Task&, const SyscallArgs&);
    // open with O_PATH: a descriptor of the name alone.
    SyscallResult open_name_only(Task& t, const std::string& path, int flags);
    // Sockets (SyscallsSocket.cpp).
    SyscallResult sys_socket(Task&, const SyscallArgs&);
    SyscallResult sys_socketpair(Task&, const SyscallArgs&);
    SyscallResult sys_sendto(Task&, const SyscallArgs&);
    SyscallResult sys_recvfrom(Task&, const SyscallArgs&);
    SyscallResult sys_sendmsg(Task&, const SyscallArgs&);
    SyscallResult sys_recvmsg(Task&, const SyscallArgs&);
    SyscallResult sys_shutdown(Task&, const SyscallArgs&);
    SyscallResult sys_getsockopt(Task&, const SyscallArgs&);
    SyscallResult sys_setsockopt(Task&, const SyscallArgs&);
    SyscallResult sys_getsockname(Task&, const SyscallArgs&);
    SyscallResult sys_getpeername(Task&, const SyscallArgs&);
    SyscallResult sys_bind(Task&, const SyscallArgs&);
    SyscallResult sys_listen(Task&, const SyscallArgs&);
    SyscallResult sys_connect(Task&, const SyscallArgs&);
    SyscallResult sys_accept(Task&, const SyscallArgs&);
    SyscallResult sys_accept4(Task&, const SyscallArgs&);
    // socket and socketpair's arguments (family, type with flags, protocol): the AF_UNIX type,
    // or their errno (`other_family` for a family other than AF_UNIX).
    static Result<UnixSocket::Type> unix_socket_type(const SyscallArgs& a, int other_family);
    // The socket behind fd: EBADF, or ENOTSOCK for another kind of file.
    Result<SpecialFile*> socket_file(Task& t, int fd);
    // bind's and connect's socket (argument 0) and address (arguments 1 and 2).
    Result<std::pair<SpecialFile*, std::vector<u8>>> socket_and_address(Task& t, const SyscallArgs& a);
    // A sockaddr from the guest (EINVAL past 128 bytes or negative), and one written back as
    // accept, getsockname and recvfrom write it: cut to the caller's length, the full length told.
    Result<std::vector<u8>> read_sockaddr(Task& t, u64 addr, i64 len);
    Result<void> put_sockaddr(Task& t, u64 addr, u64 len_addr, std::span<const u8> bytes);
    // The guest path of a bound name (relative to the caller's working directory).
    Result<std::string> socket_path(Task& t, const UnixSocket::Address& name);
    // The socket bound to a name, to connect or send to: ECONNREFUSED when there is none.
    Result<std::shared_ptr<UnixSocket>> find_socket(Task& t, const UnixSocket::Address& name,
                                                    UnixSocket::Type type);
    // Sends to the peer, or to the address `to` (a datagram socket; EISCONN or EOPNOTSUPP for a
    // stream), and raises SIGPIPE for a stream's EPIPE unless MSG_NOSIGNAL.
    Result<u64> socket_send(Task& t, SpecialFile& f, std::span<const u8> to, std::span<const u8> data,
                            std::vector<std::shared_ptr<OpenFile>> files, int flags);
    // A send or receive that failed: EAGAIN on a blocking socket waits, anything else returns.
    SyscallResult socket_failed(Task& t, const Error& error, bool nonblock);
    // SIGPIPE to the writer of a pipe or socket nobody will read.
    void raise_sigpipe(Task& t);
    Result<std::vector<u8>> gather_iov(Task& t, u64 iov, u64 count);
    // fcntl(F_ADD_SEALS) on a shmem file (memfd).
    SyscallResult add_seals(OpenFile& f, u32 seals);
    SyscallResult sys_getpriority(Task&, const SyscallArgs&);
    SyscallResult sys_setpriority(Task&, const SyscallArgs&);
    bool priority_target(Task& t, Task& task, i64 which, i64 who);
    // System V shared memory (SyscallsIpc.cpp).
    SyscallResult sys_shmget(Task&, const SyscallArgs&);
    SyscallResult sys_shmctl(Task&, const SyscallArgs&);
    SyscallResult sys_shmat(Task&, const SyscallArgs&);
    SyscallResult sys_shmdt(Task&, const SyscallArgs&);
    // The group's job-control ids, set up on first use (the first program leads its own).
    ThreadGroup& session_of(ThreadGroup& g);
    // Thread groups in process group `pgid`.
    std::vector<Pid> members_of(Pid pgid);

    Runner& m_runner;
    std::set<u64> m_reported;                       // unimplemented numbers already reported
    u64 m_next_timer_ns = ~u64{0};                  // earliest armed timer (a cached lower bound)
    std::vector<std::weak_ptr<TimerFd>> m_timerfds; // every timerfd, for blocked calls' deadlines
    // Inode numbers of pipes and sockets (Linux: get_next_ino), counted per run so that a run
    // shows the same numbers every time.
    u64 m_next_ino = 4096;
    u64 next_ino() { return m_next_ino++; }
    UnixNames m_unix_names; // the names AF_UNIX sockets are bound to
    // The pipes of named FIFOs, by their nodes' host (dev, ino), while any end is open.
    std::map<std::pair<u64, u64>, std::weak_ptr<Pipe>> m_fifos;
};

} // namespace kioku
