// A thread (Linux: task_struct as the scheduler and signal code see it) and the thread group it
// belongs to (Linux: signal_struct, sighand_struct and fs_struct). The Process in the kernel's
// table is the group's memory and files; a ThreadGroup adds what running programs need on top:
// signal dispositions, process-directed pending signals, the working directory, close-on-exec
// descriptors and the group's exit.
//
// Task states: Runnable <-> Blocked (in a system call that waits) -> Dead (exited; its
// clear_child_tid has been written and its futex woken). A blocked task either re-runs its
// system call when scheduled (Retry: wait4, read from an empty pipe) or waits for an explicit
// wake (Futex, Sleep, with an optional deadline on the simulated clock).
//
// The Scheduler owns every Task and ThreadGroup.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/Types.h"
#include "hw/riscv/Hart.h"
#include "kernel/Futex.h"

namespace kioku {

using Pid = i32;
using Tid = i32;
class AddressSpace;
class UserfaultContext;
struct OpenFile;

inline constexpr int NSIG_ = 64; // riscv64 (asm-generic) _NSIG

// The siginfo fields kioku fills in (struct siginfo, for the kinds of signal it sends).
struct SigInfo {
    int signo = 0;
    int code = 0; // SI_USER, SI_TKILL, SEGV_MAPERR, CLD_EXITED...
    i32 pid = 0;  // sender, or the child for SIGCHLD
    u32 uid = 0;
    u64 addr = 0;   // si_addr for SIGSEGV / SIGBUS / SIGILL / SIGTRAP
    int status = 0; // SIGCHLD: exit status or signal
    // A POSIX timer's signal (code SI_TIMER): si_timerid, si_overrun, si_value.
    i32 timer_id = 0;
    i32 overrun = 0;
    u64 value = 0;
};

// struct sigaction as riscv64 passes it to rt_sigaction (no sa_restorer).
struct SigAction {
    u64 handler = 0; // SIG_DFL (0), SIG_IGN (1) or a guest address
    u64 flags = 0;
    u64 mask = 0;
};

// Signal sets are 64-bit masks; signal n is bit n-1.
constexpr u64 sig_bit(int sig)
{
    return u64{1} << (sig - 1);
}

// One of setitimer's timers: when it next fires and how often it repeats.
struct IntervalTimer {
    u64 deadline_ns = 0; // 0: disarmed
    u64 interval_ns = 0; // 0: one-shot
};

struct ThreadGroup {
    Pid pid = 0;
    Pid parent = 0; // 0 for the first program
    std::array<SigAction, NSIG_ + 1> actions{};
    u64 pending = 0; // process-directed signals
    std::array<SigInfo, NSIG_ + 1> pending_info{};
    std::set<int> cloexec;
    std::string cwd = "/";
    std::string exe_path; // the guest path of the running program (/proc/self/exe)
    u32 umask = 022;
    std::vector<Tid> threads; // live threads, leader first
    bool exiting = false;     // exit_group or a fatal signal is tearing the group down
    int exit_code = 0;
    int exit_signal = 0;
    int exit_signal_to_parent = 17; // SIGCHLD, or the clone's exit signal
    u64 peak_rss_pages = 0;
    // Simulated time the group's threads have spent on the hart (RLIMIT_CPU counts it).
    u64 cpu_ns = 0;
    // Job control (Linux: task_pgrp, task_session). Zero until first asked: the first program
    // then leads its own group and session; a fork copies its parent's (Syscalls::sys_clone).
    Pid pgid = 0;
    Pid sid = 0;
    bool did_exec = false; // setpgid on a child that has exec'd is EACCES
    // setitimer's ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF, on the simulated clock. A
    // deadline of 0 is disarmed. Not inherited by fork, kept across exec, as on Linux.
    std::array<IntervalTimer, 3> itimers{};
    // Children's times and fault counts, added when they are waited for (getrusage CHILDREN).
    u64 children_minflt = 0;
    u64 children_majflt = 0;
    // A vfork child (CLONE_VFORK): the parent's task waiting until this group execs or exits.
    Tid vfork_parent = 0;
    // membarrier's registrations (MEMBARRIER_CMD_REGISTER_*), as Linux keeps them in the mm.
    u32 membarrier_registered = 0;
    // Job control: stopped by SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU (none of its threads runs
    // until SIGCONT or SIGKILL); the stop and the continuation each reported once to a waiting
    // parent (WUNTRACED, WCONTINUED).
    bool stopped = false;
    int stop_signal = 0;
    bool stop_to_report = false;
    bool continue_to_report = false;
};

enum class RunState : u8 { Runnable, Blocked, Dead };
// Vfork: the parent of a CLONE_VFORK child, until the child execs or exits (only SIGKILL ends
// the wait, as Linux's killable vfork wait).
// Userfault: a fault on a missing page of a userfaultfd-registered range, until a wake of its
// address (or a signal, after whose handler the access runs again).
// Throttle: the memory.high penalty (MmCore::handle_over_high), slept until deadline_ns, killable
// only (schedule_timeout_killable): the registers are already those of the return to user, or of
// the system call to make again when it stopped to take the penalty.
enum class BlockKind : u8 { None, Retry, Futex, Sleep, Vfork, Userfault, Throttle };

struct Task {
    Tid tid = 0;
    Pid tgid = 0;
    HartState regs;
    RunState state = RunState::Runnable;

    // Blocking. deadline_ns is on the simulated clock; Futex waits on futex_key for bitset.
    // A Retry wait (poll, epoll_wait, a timed read) keeps its own timeout in wait_until, and
    // deadline_ns is the earlier of that and the next interval timer, so the run loop advances
    // the clock to whichever comes first and the call looks again.
    BlockKind block = BlockKind::None;
    std::optional<u64> deadline_ns;
    std::optional<u64> wait_until;
    // The Retry wait ends with EINTR whenever a handler runs, SA_RESTART or not (Linux's
    // ERESTARTNOHAND: poll, ppoll, select, pselect, epoll_wait).
    bool no_restart_after_handler = false;
    u64 sleep_rem = 0;         // a relative nanosleep's rem: where the time left goes if a signal cuts it
    u64 throttle_start_ns = 0; // when a Throttle sleep began (for pressure stall information)
    u64 throttle_owed_ns = 0;  // a memory.high penalty to sleep when the task next returns to user
    // What mmap(MAP_POPULATE) had left to populate when it stopped for the penalty: done after
    // the Throttle sleep, before the call returns to the program. end 0: nothing.
    AddressSpace* populate_space = nullptr;
    u64 populate_start = 0;
    u64 populate_end = 0;
    FutexKey futex_key;
    u32 futex_bitset = 0;
    // futex_waitv: the futexes of the wait, woken by any of them (the call returns its index);
    // empty for a FUTEX_WAIT, which waits on futex_key alone.
    std::vector<FutexKey> futex_keys;
    std::weak_ptr<UserfaultContext> userfault; // the context a Userfault wait is queued on
    // An open of a named FIFO waiting for the other side: the end it holds meanwhile (counted,
    // so that the other side's open finds it), and the other side's opens it has seen.
    std::shared_ptr<OpenFile> fifo_waiting;
    u64 fifo_seen = 0;

    int nice = 0; // setpriority's value, -20..19; a clone inherits it

    // Signals.
    u64 blocked = 0; // the signal mask
    u64 pending = 0; // thread-directed signals
    std::array<SigInfo, NSIG_ + 1> pending_info{};
    u64 altstack_sp = 0;
    u64 altstack_size = 0;
    int altstack_flags = 2;        // SS_DISABLE
    std::optional<u64> saved_mask; // restored after the handler a mask-swapping call ran

    u64 clear_child_tid = 0;
    u64 robust_list = 0;
};

} // namespace kioku
