// The kernel around the memory manager: the process table, the guest filesystem and /proc, and
// the calls a process makes (Linux's system calls, with Linux's semantics and errno). Scenario
// files, the demo and (later) the emulated CPU's system calls all enter here, so every mmap, fork
// and page fault takes the same path whoever asks.
//
// A Kernel owns one Machine (physical memory, MMU, TLB, clock) and one MemoryManager.
// Single-threaded: a kernel and its machine are used from one host thread at a time.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/Result.h"
#include "hw/Tlb.h"
#include "isa/Paging.h"
#include "kernel/PidAllocator.h"
#include "kernel/ProcFormat.h"
#include "kernel/RecordLocks.h"
#include "kernel/SysvShm.h"

struct timespec;

namespace kioku {

class Cgroups;
class Machine;
class MemCgroup;
class MemoryManager;
class Process;
class Vfs;
class Inode;
class MemoryMounts;
struct HugetlbFile;
class ProcFs;
class OomHandler;
struct OpenFile;

using Pid = i32;

// uname's release and /proc/sys/kernel/osrelease: the Linux whose behaviour kioku follows.
inline constexpr const char* KERNEL_RELEASE = "6.18.0-kioku";

struct MachineConfig {
    u64 mem_bytes = u64{512} << 20;
    isa::SatpMode paging = isa::SatpMode::Sv48;
    TlbConfig tlb;
    u64 seed = 0;
    std::string root_dir;          // the guest's "/" on the host; empty: a fresh temporary directory
    bool check_invariants = false; // run the invariant checker after every operation
    u64 disk_limit = 0;            // bytes the guest may add to the root's files; 0: no limit
    // The block device /dev/vda: a host image file (its size is the device's), or, with no image,
    // disk_bytes of a scratch file that goes with the machine; neither: no /dev/vda.
    std::string disk_image;
    u64 disk_bytes = 0;
};

// How a memory access by a process ended. A fatal fault has already been delivered as a signal
// (processes without handlers die of it) when this is returned.
struct AccessOutcome {
    enum class Kind : u8 { Ok, Segv, Bus, Oom };
    Kind kind = Kind::Ok;
    u64 fault_addr = 0; // si_addr for Segv / Bus
    int si_code = 0;    // SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR
    bool ok() const { return kind == Kind::Ok; }
};

class Kernel {
  public:
    static Result<std::unique_ptr<Kernel>> create(const MachineConfig& config);
    ~Kernel();

    // One call into the kernel on behalf of a live process: a system call, a fault, a scenario
    // operation. While it lasts the process is the one being served (serving()): the OOM killer
    // may choose it, but never tears its memory down under the call; it marks it instead, and the
    // process dies when the outermost call ends. Calls nest (a system call's kernel operations).
    class Call {
      public:
        Call(Call&& other) noexcept;
        Call& operator=(Call&&) = delete;
        Call(const Call&) = delete;
        ~Call();
        Process* process() const { return m_process; }

      private:
        friend class Kernel;
        Call(Kernel& kernel, Process& process);
        Kernel* m_kernel;
        Process* m_process;
        Pid m_previous;
        MemCgroup* m_previous_memcg = nullptr;
    };
    // EIO after a panic, ESRCH when pid is not a live process.
    Result<Call> enter(Pid pid);
    Pid serving() const { return m_serving; }
    // The process the kernel works for now: the one of the call in progress, or else the one
    // whose address space takes the fault being handled; null when neither is a live process.
    Process* current();

    Machine& machine() { return *m_machine; }
    MemoryManager& mm() { return *m_mm; }
    Vfs& vfs() { return *m_vfs; }
    // /dev/vda's inode, whose page cache is the buffer cache; null when the machine has no disk.
    Inode* disk() { return m_disk.get(); }
    // The block device at a guest path: /dev/vda, or a swap partition /dev/swapN while it is on;
    // null for any other path.
    std::shared_ptr<Inode> block_device(const std::string& path);
    // Whether the path is a swap partition in use (an exclusive open of it is EBUSY).
    bool swap_in_use(const std::string& path);
    // The block devices, for /proc/partitions: (name without /dev/, inode).
    std::vector<std::pair<std::string, Inode*>> block_devices();
    static constexpr u32 SWAP_MAJOR = 252; // the swap partitions: memory-backed, as zram's devices
    static constexpr const char* DISK_PATH = "/dev/vda";
    static constexpr u32 DISK_MAJOR = 254; // virtio-blk's (dynamic) major, as Linux commonly gives it
    const MachineConfig& config() const { return m_config; }

    // Processes. spawn() makes a process with an empty program image: a stack and a heap start,
    // as if a tiny static program had been executed.
    Result<Pid> spawn(const std::string& name, Pid parent = 0);
    const std::map<Pid, std::unique_ptr<Process>>& processes() const { return m_processes; }
    // fork(2); with ShareMemory::Yes the child runs in the parent's address space (clone with
    // CLONE_VM but not CLONE_THREAD: vfork, posix_spawn) until it execs or exits.
    enum class ShareMemory : bool { No, Yes };
    Result<Pid> fork(Pid parent, ShareMemory share = ShareMemory::No);
    // Ends a process: its memory is freed, its files closed. status is the exit code.
    Result<void> exit(Pid pid, int status);
    // Kills with a signal (the default action of SIGSEGV, SIGBUS, SIGKILL...).
    void kill(Pid pid, int signal);
    Process* process(Pid pid);
    bool is_alive(Pid pid);
    // Reserves a number in the pid space for a thread (threads and processes share it); EAGAIN
    // when every number below pid_max is taken. Numbers named outside the process table (thread
    // ids, process groups and sessions) are the scheduler's: set_pid_users tells which are.
    Result<Pid> allocate_pid();
    void set_pid_users(std::function<bool(Pid)> named) { m_pid_named = std::move(named); }
    PidAllocator& pids_space() { return m_pids; }
    // kernel.threads-max: fork and clone fail with EAGAIN when this many tasks exist (Linux's
    // default: a thread's 16 KiB kernel stack may take an eighth of RAM at most).
    u64 threads_max() const { return m_threads_max; }
    void set_threads_max(u64 n) { m_threads_max = n; }
    std::vector<Pid> pids() const; // live processes in pid order

    // What the scheduler knows of a process and the process table does not: its run state
    // (R, S, T, D, Z), its parent after reparenting, its process group, session and threads.
    // /proc/PID/stat and status show it. Without a scheduler (scenarios) a live process is
    // running and single-threaded, its own group and session leader.
    struct TaskView {
        TaskState state = TaskState::Running;
        Pid ppid = 0;
        Pid pgid = 0;
        Pid sid = 0;
        u32 threads = 1;
        // Threads the scheduler could run now (pressure stall information's non-idle tasks);
        // without a scheduler none: nothing runs between a scenario's operations.
        u32 runnable = 0;
        // Simulated time the process's threads have run (all of it user time: system calls
        // take none).
        u64 cpu_ns = 0;
    };
    void set_task_view(std::function<std::optional<TaskView>(Pid)> view) { m_task_view = std::move(view); }
    // tid: a thread of p whose state to show (0: the process's leader).
    TaskView task_view(const Process& p, Pid tid = 0) const;
    // Whether tid is a live thread of process pid (without a scheduler: the process itself).
    bool task_exists(Pid pid, Pid tid) const;
    void set_task_exists(std::function<bool(Pid, Pid)> exists) { m_task_exists = std::move(exists); }

    // Memory calls, as the Linux system calls of the same names.
    Result<u64> mmap(Pid pid, u64 addr, u64 length, int prot, int flags, int fd, u64 offset);
    // mmap of /dev/zero opened with the given access: anonymous memory, shmem when shared.
    Result<u64> mmap_zero(Pid pid, u64 addr, u64 length, int prot, int flags, bool readable, bool writable);
    Result<void> munmap(Pid pid, u64 addr, u64 length);
    Result<void> mprotect(Pid pid, u64 addr, u64 length, int prot);
    Result<void> msync(Pid pid, u64 addr, u64 length, int flags);
    u64 brk(Pid pid, u64 addr); // the raw system call: returns the new break, the old one on failure

    // Loads and stores by the process through the MMU, taking page faults as the CPU would.
    AccessOutcome write_memory(Pid pid, u64 addr, std::span<const u8> bytes);
    AccessOutcome read_memory(Pid pid, u64 addr, std::span<u8> bytes);
    AccessOutcome fill_memory(Pid pid, u64 addr, u64 length, u8 byte); // a memset by the process
    // copy_from_user / copy_to_user / clear_user, as a system call does: faults are taken and
    // resolved; one that cannot be resolved ends the copy with EFAULT (ENOMEM when memory ran out)
    // and sends no signal.
    Result<void> copy_from_user(Pid pid, u64 addr, std::span<u8> bytes);
    Result<void> copy_to_user(Pid pid, u64 addr, std::span<const u8> bytes);
    Result<void> clear_user(Pid pid, u64 addr, u64 length);
    // Removes a zombie from the process table (its parent has waited for it).
    Result<void> reap(Pid pid);

    // Files, as the system calls of the same names. Paths are guest paths.
    Result<int> open(Pid pid, const std::string& path, int flags, int mode = 0644);
    Result<void> close(Pid pid, int fd);
    // Takes descriptor fd out of p's table however it goes (close, dup2 over it, close-on-exec):
    // a close of any descriptor of a file releases the process's POSIX record locks on it.
    // False when fd was not open.
    bool drop_fd(Process& p, int fd);
    RecordLocks& record_locks() { return m_record_locks; }
    // flock(2)'s locks: whole-file, owned by the open file description, and apart from fcntl's
    // (Linux keeps the two kinds on separate lists that never conflict).
    RecordLocks& flocks() { return m_flocks; }

    // fallocate(2) on a regular file of the root or of shmem, once the system-call layer has
    // checked the arguments: allocation (growing the file unless FALLOC_FL_KEEP_SIZE; shmem gets
    // its pages), FALLOC_FL_PUNCH_HOLE and FALLOC_FL_ZERO_RANGE (the root's files only).
    Result<void> fallocate(Pid pid, int fd, int mode, u64 offset, u64 len);
    // fadvise64's POSIX_FADV_DONTNEED (clean, unmapped cached pages of the range are dropped)
    // and POSIX_FADV_WILLNEED (the range is read into the cache); other advice changes nothing.
    Result<void> fadvise(Pid pid, int fd, u64 offset, u64 len, int advice);

    // The tmpfs and hugetlbfs mounts: /dev/shm, /dev/hugepages and the guest's own (Mounts.h).
    MemoryMounts& mounts() { return *m_mounts; }
    // The control groups and their cgroup2 filesystem at /sys/fs/cgroup (Cgroups.h).
    Cgroups& cgroups() { return *m_cgroups; }
    // The vDSO image every exec maps as "[vdso]" (Linux: arch/riscv/kernel/vdso): one page of code
    // whose start is the signal return trampoline (li a7, __NR_rt_sigreturn; ecall), so that a
    // handler returns through real instructions an unwinder can read, as on Linux. Kept in the
    // page cache, never evicted; made at the first exec (ENOMEM when no page can be had).
    Result<std::shared_ptr<Inode>> vdso();

    // System V shared memory, as the system calls of the same names (SysvShm).
    Result<i32> shmget(Pid pid, i32 key, u64 size, int flags);
    Result<u64> shmat(Pid pid, i32 shmid, u64 addr, int flags);
    Result<void> shmdt(Pid pid, u64 addr);
    SysvShm& sysv_shm() { return *m_shm; }
    Result<u64> read(Pid pid, int fd, u64 buf, u64 count);
    Result<u64> write(Pid pid, int fd, u64 buf, u64 count);
    Result<u64> pread(Pid pid, int fd, u64 buf, u64 count, u64 offset);
    Result<u64> pwrite(Pid pid, int fd, u64 buf, u64 count, u64 offset);
    Result<void> ftruncate(Pid pid, int fd, u64 length);
    Result<void> fsync(Pid pid, int fd);
    // truncate(2) and ftruncate(2) of a file the caller has resolved, page cache included.
    Result<void> truncate_inode(Inode& inode, u64 length);
    // utimensat(2) of a regular file: the times reach the host file and stay through writeback.
    Result<void> set_file_times(Inode& inode, const struct timespec* times);
    // sync(2): writes back every dirty page of every file and waits for all writeback.
    Result<void> sync();
    // The end of the machine, however its run ended (exit, a fatal signal, an OOM kill, a panic,
    // a stop asked of kioku): every process ends, then every file's dirty pages reach the host
    // and every write in flight completes, so the host holds what the guest wrote. Idempotent;
    // the destructor calls it. Only killing kioku itself loses what the page cache held.
    void shutdown();
    // Lets `ns` of simulated time pass with every process idle. The kernel's background work
    // (the flusher's wakeups and the device's completions, khugepaged, kcompactd) runs at each of
    // the flusher's events on the way, as the kernel threads would while the tasks sleep.
    Result<void> sleep(u64 ns);
    // Creates (or replaces) a guest file outside of any process, for setting up a scenario.
    Result<void> create_file(const std::string& path, std::span<const u8> contents);

    // Reads a /proc (or /sys) file as the given process would: "/proc/meminfo",
    // "/proc/self/maps", "/proc/42/smaps", "/proc/sys/vm/overcommit_memory".
    Result<std::string> read_proc(Pid viewer, const std::string& path);
    Result<void> write_proc(Pid viewer, const std::string& path, const std::string& value);
    // /proc/PID/pagemap entries for `pages` pages from addr (Linux's 64-bit entry format).
    Result<std::vector<u64>> pagemap(Pid pid, u64 addr, u64 pages);
    // The ioctl PROCMAP_QUERY on /proc/PID/maps (ProcFs::procmap_query).
    Result<ProcmapAnswer> procmap_query(Pid pid, u64 addr, bool or_next,
                                        const std::function<bool(const ProcmapAnswer&)>& accept);
    // access_remote_vm with FOLL_FORCE, as ptrace and /proc/PID/mem reach another process's
    // memory: reads need only VM_MAYREAD; a write to a private mapping without VM_WRITE breaks
    // copy-on-write into a page of the process's own, left read-only and dirty in its PTE, and
    // is refused for a shared one. Stops at the first page it cannot reach; EIO when that is the
    // first.
    Result<u64> access_process_vm(Pid pid, u64 addr, std::span<u8> bytes, bool write);
    // The `free` command's output (procps), in kB or human units.
    std::string free_text(bool human);
    // The JSON form of a /proc view or command output; see ProcFs::json for the names.
    // Defined in ProcFsJson.cpp.
    Result<std::string> view_json(Pid viewer, const std::string& view, Pid pid = 0, u64 start = 0,
                                  u64 pages = 0);
    // The `vmstat` command's output (procps, no options): the headings and one line of averages
    // since boot. Defined in ProcFsJson.cpp.
    std::string vmstat_text();

    // Runs the invariant checker; the error text names the first broken invariant.
    Result<void> check() const;
    std::string check_report() const; // empty when everything holds

    u64 now_ns() const;

    // The kernel log (dmesg): OOM reports, panics, unimplemented system calls. Lines are kept
    // and, when a sink is set, also written to it as they come.
    void log(const std::string& line);
    const std::vector<std::string>& log_lines() const { return m_log; }
    void set_log_sink(std::ostream* sink) { m_log_sink = sink; }
    // A kernel panic halts the machine: every later call fails with EIO, and every process ends
    // with the status of SIGKILL (the one being served when its fault or call returns).
    void panic(const std::string& reason);
    bool panicked() const { return m_panicked; }

    // Swap areas and the replacement policy. swapon without a priority gives Linux's defaults
    // -2, -3, ...; an explicit one must be 0 to 32767 (SWAP_FLAG_PRIO_MASK), else EINVAL. With
    // host_file the area is that host file (created at the size), else memory ("/dev/swapN").
    Result<void> swapon(u64 bytes, std::optional<int> priority = std::nullopt,
                        const std::string& host_file = {});
    // swapoff by the name /proc/swaps shows: EINVAL when no such area is on, ENOMEM when memory
    // cannot take its pages back (the area stays on).
    Result<void> swapoff(const std::string& name);
    Result<void> set_replacement_policy(const std::string& name);

    // ==== The rest of the memory calls (KernelCalls.cpp), as the Linux system calls. ====
    Result<u64> mremap(Pid pid, u64 old_addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr = 0);
    Result<void> madvise(Pid pid, u64 addr, u64 length, int advice);
    Result<void> mlock(Pid pid, u64 addr, u64 length);
    Result<void> mlock2(Pid pid, u64 addr, u64 length, u64 flags);
    Result<void> munlock(Pid pid, u64 addr, u64 length);
    Result<void> mlockall(Pid pid, int flags);
    Result<void> munlockall(Pid pid);
    // mincore writing its vector to guest memory at vec, as the system call does; the second
    // form returns it instead (for scenarios and tests).
    Result<void> mincore(Pid pid, u64 addr, u64 length, u64 vec);
    Result<std::vector<u8>> mincore(Pid pid, u64 addr, u64 length);
    // memfd_create: a shmem file behind a new descriptor, shown as "/memfd:NAME (deleted)".
    Result<int> memfd_create(Pid pid, const std::string& name, unsigned flags);
    // A write of `type` to /proc/PID/clear_refs.
    Result<void> clear_refs(Pid pid, int type);
    // ==== end of the rest of the memory calls ====

  private:
    void write_back_everything();
    // SIGKILL, and their memory back, for the OOM victims no call is serving any more.
    void reap_oom_victims();
    explicit Kernel(const MachineConfig& config);
    void after_operation();
    static Result<OpenFile*> file_of(Process& p, int fd); // EBADF when fd is not open
    void halt_processes();
    AccessOutcome user_access(Process& p, u64 addr, u64 len, isa::AccessType access,
                              const std::function<void(u8*, u64 done, u64 n)>& fn);
    AccessOutcome deliver(Process& p, AccessOutcome outcome);
    Result<u64> file_read(Process& p, OpenFile& f, u64 buf, u64 count, u64 offset);
    Result<u64> hugetlbfs_read(Process& p, HugetlbFile& file, u64 size, u64 buf, u64 count, u64 offset);
    Result<u64> file_write(Process& p, OpenFile& f, u64 buf, u64 count, u64 offset);

    MachineConfig m_config;
    std::unique_ptr<Machine> m_machine;
    std::unique_ptr<MemoryManager> m_mm;
    std::unique_ptr<Vfs> m_vfs;
    std::shared_ptr<Inode> m_disk;
    std::map<std::string, std::shared_ptr<Inode>> m_swap_nodes; // /dev/swapN by path
    Result<void> attach_disk(const MachineConfig& config);
    std::map<Pid, std::unique_ptr<Process>> m_processes;
    PidAllocator m_pids;
    std::function<bool(Pid)> m_pid_named;
    std::function<std::optional<TaskView>(Pid)> m_task_view;
    std::function<bool(Pid, Pid)> m_task_exists;
    u64 m_threads_max = 0;
    std::vector<std::string> m_log;
    std::ostream* m_log_sink = nullptr;
    bool m_panicked = false;
    bool m_shut_down = false;
    Pid m_serving = 0;
    RecordLocks m_record_locks{[this](Pid pid) { return is_alive(pid); }};
    RecordLocks m_flocks{[this](Pid pid) { return is_alive(pid); }};
    std::unique_ptr<OomHandler> m_oom;
    std::unique_ptr<SysvShm> m_shm;
    std::unique_ptr<MemoryMounts> m_mounts;
    std::unique_ptr<Cgroups> m_cgroups;
    std::shared_ptr<Inode> m_vdso;
};

} // namespace kioku
