// The run loop of `kioku run`: one hart executing the tasks of a Kernel. It loads the first
// program, then repeatedly picks a task (Scheduler), runs it for a slice of guest instructions and
// handles what stopped it: a system call (Syscalls), a page fault (the memory manager's fault
// handler, the same one scenarios use; an unresolved fault becomes SIGSEGV, SIGBUS or, when
// memory ran out, SIGKILL), an illegal instruction (SIGILL) or a breakpoint (SIGTRAP). Pending
// signals are delivered on the way back to the program.
//
// The hart holds one task's registers at a time; switching tasks saves and restores HartState and
// switches satp (and so the ASID) when the address space changes.
//
// Lifecycle of a thread group: created by the first exec or by fork; its threads exit or are
// killed; it becomes a zombie Process in the kernel's table; its parent reaps it with wait4 (or
// it is reaped at once when it has no parent waiting for it).
#pragma once

#include <csignal>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/Result.h"
#include "hw/riscv/Hart.h"
#include "kernel/Kernel.h"
#include "kernel/Scheduler.h"
#include "kernel/Task.h"

namespace kioku {

class Process;
class Syscalls;

struct RunOptions {
    MachineConfig machine;
    // A task's turn ends after this many instructions, or this much simulated time (a slow system
    // call counts: swap I/O, populating), or when a sleeper's deadline or a timer comes due, so
    // that wake-ups, timers and the run's time limit are served on time.
    u64 slice_instructions = 100000;
    u64 slice_ns = 4'000'000;
    // Host descriptors the guest's 0, 1 and 2 stand for.
    int stdin_fd = 0;
    int stdout_fd = 1;
    int stderr_fd = 2;
    // Set (by a host signal handler) to a host signal number to stop the run: checked between
    // scheduler rounds; every guest process is then killed and the run ends in order.
    const volatile std::sig_atomic_t* stop_signal = nullptr;
    // Bounds of the run (0: none): guest instructions retired, and simulated time. Past either,
    // every guest process is killed with SIGKILL, as a hard RLIMIT_CPU would.
    u64 max_instructions = 0;
    u64 max_simulated_ns = 0;
    // PID 1 is a minimal init that kioku provides: the program runs as PID 2, its child; orphans
    // are handed to init, which reaps them at once; init ignores every signal. With this set the
    // program itself is PID 1 (a container without an init): orphans still reaped at once.
    bool program_is_init = false;
    // Run guest code through the hart's interpreter alone, not translated to host code: the
    // reference the translator is held to (the same run, bit for bit), and slower.
    bool interpret = false;
    // Start the program in a memory cgroup of its own, /kioku, with these memory.* settings
    // (file name, value as written to it), as `systemd-run -p MemoryMax=...` would.
    std::optional<std::vector<std::pair<std::string, std::string>>> cgroup;
};

struct RunStats {
    u64 instructions = 0;
    u64 minor_faults = 0;
    u64 major_faults = 0;
    u64 tlb_hits = 0;
    u64 tlb_misses = 0;
    u64 tlb_walks = 0;
    u64 peak_rss_kb = 0;      // of the first program
    u64 tree_peak_rss_kb = 0; // the most the live processes held together (their RSS summed)
    u64 simulated_ns = 0;
    u64 syscalls = 0;
};

struct RunResult {
    int exit_code = 0;  // the first program's exit status
    int signal = 0;     // non-zero when it was killed by a signal
    int stopped_by = 0; // the host signal that stopped the run (RunOptions::stop_signal), or 0
    enum class Limit : u8 { None, Instructions, SimulatedTime };
    Limit limit_reached = Limit::None; // the bound of RunOptions that ended the run
    RunStats stats;
    // The status a shell reports: the exit code, or 128 + the signal.
    int shell_status() const { return signal ? 128 + signal : exit_code; }
};

// What a front end watches during a run (reports, timelines): each process as it ends, and a
// turn between the scheduler's rounds as simulated time passes. Observers only look.
class Strace;

class RunObserver {
  public:
    virtual ~RunObserver() = default;
    // A thread group ends: its exit code or signal is set, and its memory is still there unless
    // the OOM killer's reaper took it first.
    virtual void process_exit(const ThreadGroup& group, Process& process) { (void)group, (void)process; }
    // After a round of the scheduler and the kernel threads' work.
    virtual void round_done() {}
};

class Runner {
  public:
    // Creates the kernel; `diagnostics` receives kioku's own messages (unimplemented calls).
    static Result<std::unique_ptr<Runner>> create(const RunOptions& options, std::ostream& diagnostics);
    ~Runner();

    Kernel& kernel() { return *m_kernel; }
    Scheduler& scheduler() { return m_sched; }
    Hart& hart() { return *m_hart; }
    const RunOptions& options() const { return m_options; }
    std::ostream& diagnostics() { return m_diag; }

    // Starts the first program: `path` is a guest path.
    Result<void> start(const std::string& path, const std::vector<std::string>& argv,
                       const std::vector<std::string>& envp);
    // Runs until every task has exited.
    RunResult run();

    // Services for the system calls.
    // Replaces the image of t's process (execve); the error is returned only before the point of
    // no return, after which a failure kills the process.
    Result<void> exec(Task& t, const std::string& path, std::vector<std::string> argv,
                      std::vector<std::string> envp);
    // The group --cgroup puts the program in, relative to /sys/fs/cgroup.
    static constexpr const char* RUN_CGROUP = "kioku";
    // fork (flags without CLONE_VM) or a new thread (CLONE_VM | CLONE_THREAD).
    Result<Tid> clone(Task& parent, u64 flags, u64 stack, u64 parent_tid, u64 tls, u64 child_tid);
    void exit_thread(Task& t, int code);
    void exit_group(Pid pid, int code, int signal);
    // Sends a signal to a thread group (kill) or one thread (tgkill, faults).
    void send_group_signal(Pid pid, const SigInfo& info);
    // forced: a signal the task's own fault raised, which even an unkillable init takes.
    void send_thread_signal(Task& t, const SigInfo& info, bool forced = false);
    // A signal the task caused (a fault): fatal if blocked or ignored, as force_sig_fault makes it.
    void force_signal(Task& t, const SigInfo& info);
    // Wakes up to `count` tasks waiting on the futex `key` whose bitset matches.
    u64 futex_wake(const FutexKey& key, u64 count, u32 bitset);
    // Deterministic random bytes (getrandom, AT_RANDOM), from the machine's seed.
    void random_bytes(u8* out, u64 n);
    // Children of pid (thread groups whose parent it is), and the zombies among them.
    std::vector<Pid> children_of(Pid pid) const;
    // A zombie goes. Waited: its parent (or init) waited for it, and its fault counts and
    // maxrss join the parent's children's (getrusage RUSAGE_CHILDREN); Released: it went
    // unwaited for (its parent ignores SIGCHLD), and they do not.
    enum class Reap : bool { Waited, Released };
    void reaped(Pid parent, Pid child, Reap how = Reap::Waited);
    u64 instructions() const;
    // Writes the hart's pc and integer registers before every instruction to `out`, in the
    // layout of qemu-riscv64's `-singlestep -d cpu,nochain` log, for lock-step comparisons
    // (scripts/lockstep.sh). Slow: the hart then runs one instruction at a time. Null stops it.
    // The program given to start(): PID 2 under kioku's init, 1 with --no-init.
    Pid first_pid() const { return m_first; }
    // The process whose address space the hart runs in now.
    Pid running_pid() const { return m_loaded; }
    void set_trace(std::ostream* out) { m_trace = out; }
    // Writes a line each time the hart stops (a system call, a fault, a slice's end): the task,
    // instructions retired, simulated time, pc and digests of the registers; at a system call
    // also a digest of the process's memory (every present page: its address, its PTE's flag bits
    // and its bytes): at each of a process's first thousand calls, then every hundredth, and at
    // exit and execve. Two runs that should be the same run (the translator and the interpreter)
    // are compared by these lines. Null stops it.
    void set_state_log(std::ostream* out) { m_state_log = out; }
    // Writes a line per system call to `out`, as strace -f does (kernel/Strace.h). Null stops it.
    void set_strace(std::ostream* out);
    // Observers are told in the order they were added; they must outlive the run.
    void add_observer(RunObserver* observer) { m_observers.push_back(observer); }
    // The figures so far (run() returns them at the end).
    RunStats stats() const;

  private:
    // --cgroup: the program goes into /kioku with the given memory.* settings.
    Result<void> enter_cgroup(Process& program);
    Runner(const RunOptions& options, std::ostream& diagnostics);
    bool step(Task& t);
    bool resume_blocked(Task& t);
    // Adds a slice's simulated time to the group's CPU time and applies RLIMIT_CPU.
    void charge_cpu(Pid tgid, u64 ns);
    void run_slice(Task& t);
    void load(Task& t);
    void handle_stop(Task& t, const StopInfo& stop);
    void handle_fault(Task& t, const PageFault& fault);
    // A fault on a missing page of a userfaultfd range: the task waits on the context. False
    // when the context wants SIGBUS delivered instead.
    bool userfault_wait(Task& t, const PageFault& fault);
    void deliver_signals(Task& t);
    bool interrupt_if_signalled(Task& t);
    bool take_signal(Task& t, SigInfo& info);
    void finish_group(ThreadGroup& g);
    bool unkillable_init(const ThreadGroup& g, int sig) const;
    // Job control: a pending stop signal with its default action stops the group.
    bool take_stop_signal(ThreadGroup& g, Task& t);
    void stop_group(ThreadGroup& g, int sig);
    void notify_parent_job_control(ThreadGroup& g, int code, int status);
    void kill_group_now(Pid pid, int signal);
    void kill_everything(); // SIGKILL to every thread group not already exiting
    void vfork_done(ThreadGroup& child);
    bool advance_clock_to_deadline();
    // The earliest moment something must happen: a blocked task's deadline, a timer, the time
    // limit of the run.
    std::optional<u64> next_event_ns();
    void record_peak(ThreadGroup& g);
    // The thread groups whose process the kernel killed on its own (the OOM killer's victims,
    // a panic's halt) end now, as if killed by the signal: their parent gets SIGCHLD, their
    // children go to init, before anyone can wait for them.
    void finish_killed();
    // The memory.high penalty the task owes (MmCore::take_throttle) is slept now, if it is about
    // to return to user: BlockKind::Throttle until the deadline, killable only.
    void throttle(Task& t);
    u64 m_seen_oom_kills = 0;
    // The RSS of every live process, summed: the tree's peak is kept after each fault and call.
    void note_tree_rss();
    // /proc's view of a process from its thread group and tasks (Kernel::set_task_view).
    std::optional<Kernel::TaskView> task_view(Pid pid) const;

    RunOptions m_options;
    std::ostream& m_diag;
    std::unique_ptr<Kernel> m_kernel;
    std::unique_ptr<Hart> m_hart;
    std::unique_ptr<Syscalls> m_syscalls;
    Scheduler m_sched;
    Pid m_loaded = 0;      // whose address space the hart's satp selects
    Tid m_loaded_task = 0; // whose registers the hart last held
    u64 m_loaded_satp = ~u64{0};
    Pid m_first = 0;
    Pid m_init = 0; // the minimal init's pid (1), or 0 when the program is PID 1
    RunResult m_result;
    bool m_first_done = false;
    u64 m_rng_state = 0;
    std::set<Pid> m_zombies; // exited groups waiting for their parent
    std::ostream* m_trace = nullptr;
    std::ostream* m_state_log = nullptr;
    std::unordered_map<Pid, u64> m_state_log_calls; // system calls logged, by process
    void log_state(const Task& t, const StopInfo& stop);
    std::vector<RunObserver*> m_observers;
    std::unique_ptr<Strace> m_strace;
    u64 m_tree_peak_pages = 0;
    u64 m_traced_instret = ~u64{0}; // the instruction last written to the trace
    void trace_state();
};

} // namespace kioku
