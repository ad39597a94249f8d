// A process (Linux: task_struct with its signal and file state, single-threaded here): pid,
// parent, name, state, its address space, its open files and its fault counters.
//
// States: Running -> Zombie (exited or killed, memory freed, waiting for its parent to reap it)
// -> gone. The kernel's process table owns every Process.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "kernel/Credentials.h"
#include "kernel/PosixTimer.h"
#include "kernel/ResourceLimits.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {

class Cgroup;
class Inode;
struct SpecialFile;

using Pid = i32;

struct OpenFile {
    std::shared_ptr<Inode> inode;
    std::string path;
    u64 position = 0;
    bool readable = false;
    bool writable = false;
    bool append = false;
    // Set for files outside the page cache (the host's standard streams, pipes, /proc text,
    // /dev/null, /dev/zero); inode is null then, and the system-call layer serves them.
    std::shared_ptr<SpecialFile> special;
    SlabCharge slab{KmemCache::Filp}; // its struct file
    // Whether it holds write access to inode (Inode::get_write_access), given back when the
    // last descriptor of this open file goes.
    bool write_access = false;
    // Whether it counts as an opener of a block device (Inode::block_opened), closed with it.
    bool block_open = false;

    OpenFile() = default;
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile();
};

class Process {
  public:
    enum class State : u8 { Running, Zombie };

    // The space may be shared with other processes (clone with CLONE_VM and without CLONE_THREAD:
    // vfork, posix_spawn): it lives while any of them holds it, as an mm_struct with mm_users.
    Process(Pid pid, Pid ppid, std::string name, std::shared_ptr<AddressSpace> space,
            const ResourceLimits& limits);

    Pid pid() const { return m_pid; }
    Pid ppid() const { return m_ppid; }
    const std::string& name() const { return m_name; }
    // prctl(PR_SET_NAME): the name /proc shows (comm, at most 15 bytes) until the next exec.
    void set_name(std::string name) { m_name = std::move(name); }
    // prctl(PR_SET_DUMPABLE): 0 or 1 (SUID_DUMP_DISABLE, SUID_DUMP_USER).
    int dumpable = 1;
    State state() const { return m_state; }
    bool alive() const { return m_state == State::Running; }
    // Whether the kernel objects of the process could not be had (copy_process fails: ENOMEM).
    bool charges_failed() const { return m_slab.failed(); }

    AddressSpace& space() { return *m_space; }
    bool has_space() const { return m_space != nullptr; }
    const std::shared_ptr<AddressSpace>& shared_space() const { return m_space; }
    FaultCounters& faults() { return m_faults; }
    const FaultCounters& faults() const { return m_faults; }

    // Open files by descriptor number.
    std::map<int, std::shared_ptr<OpenFile>>& files() { return m_files; }
    // Puts a file at the lowest free descriptor from min_fd up; EMFILE past RLIMIT_NOFILE.
    Result<int> install(std::shared_ptr<OpenFile> file, int min_fd = 0);

    // timer_create's timers. A forked child starts with none; execve and exit delete them all.
    PosixTimers& posix_timers() { return m_posix_timers; }

    // execve: the old image is dropped for `space` (a fresh address space) and the name changes.
    void exec(std::unique_ptr<AddressSpace> space, std::string name);

    // Exit: frees memory and files, records how it ended.
    void terminate(int exit_code, int signal);
    int exit_code() const { return m_exit_code; }
    int term_signal() const { return m_term_signal; } // 0 when it exited normally
    // The status word wait() reports (and /proc/PID/stat's last field of a zombie).
    int exit_status_word() const { return m_term_signal ? m_term_signal : (m_exit_code & 0xff) << 8; }

    // getrlimit/setrlimit. After changing them, limits_changed() pushes the ones the address
    // space enforces into it; execve and a new process do that themselves.
    ResourceLimits& rlimits() { return m_rlimits; }
    const ResourceLimits& rlimits() const { return m_rlimits; }
    void limits_changed();

    int oom_score_adj = 0;
    // Its control group (Cgroups.h): where fork puts its children and what its pages are charged
    // to. Set by the kernel when the process is made.
    Cgroup* cgroup = nullptr;
    // Its user and group ids and capabilities: copied by fork, changed by execve as Linux does.
    // limits_changed() after a change passes CAP_IPC_LOCK on to the address space.
    Credentials creds;
    // The system's init (PID 1 under `kioku run`): never chosen by the OOM killer, as Linux's
    // oom_badness skips the global init.
    bool is_init = false;
    // Chosen by the OOM killer (or halted by a panic) while a call of its own was being served: it
    // dies of SIGKILL when that call ends (Kernel::Call), and may not be chosen again.
    bool oom_victim = false;
    // What the OOM killer saw when it chose this process, for reports: its badness (oom_badness's
    // points: pages of RSS, swap and page tables, adjusted by oom_score_adj), the memory cgroup
    // whose limit was met ("" for the whole machine) and the simulated time.
    struct OomKill {
        i64 badness = 0;
        std::string memcg;
        u64 time_ns = 0;
    };
    std::optional<OomKill> oom_kill;
    u64 start_time_ns = 0;
    // getrusage's ru_maxrss, in pages: the largest RSS of the images this process has left
    // (kept at execve and at exit: Linux's signal->maxrss), and of its waited-for children and
    // theirs (signal->cmaxrss, RUSAGE_CHILDREN).
    u64 maxrss_pages = 0;
    u64 children_maxrss_pages = 0;
    // RUSAGE_SELF's ru_maxrss: the earlier images' and the current one's high-water mark.
    u64 self_maxrss_pages() const;

  private:
    Pid m_pid;
    Pid m_ppid;
    std::string m_name;
    State m_state = State::Running;
    std::shared_ptr<AddressSpace> m_space;
    FaultCounters m_faults;
    std::map<int, std::shared_ptr<OpenFile>> m_files; // a forked child shares descriptions
    PosixTimers m_posix_timers;
    ResourceLimits m_rlimits;
    int m_exit_code = 0;
    int m_term_signal = 0;
    TaskCharges m_slab{m_space ? &m_space->mm() : nullptr}; // task_struct, signal, sighand, files
};

} // namespace kioku
