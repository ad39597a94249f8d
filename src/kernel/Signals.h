// Signals as Linux delivers them to a RISC-V process (kernel/signal.c and
// arch/riscv/kernel/signal.c): default actions, the shell's words for a death by signal, and the
// rt_sigframe a handler runs on: a siginfo, then a ucontext holding the general registers, the
// D-extension registers and fcsr, the signal mask and the alternate stack, exactly where the
// kernel puts them, so that a handler reading its ucontext sees what it would on Linux.
//
// A handler returns into the vDSO's rt_sigreturn code (Kernel::vdso); a process without a vDSO
// (not made by exec) returns to a trampoline address in the kernel half of the address space,
// whose fetch faults and which the run loop turns into rt_sigreturn.
//
// Stateless helpers; the pending sets live in Task and ThreadGroup, and the POSIX timer a
// delivered signal came from (its Process owns it) restarts in setup_rt_frame.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "abi/Signal.h"
#include "base/Result.h"
#include "kernel/Task.h"

namespace kioku {

class Kernel;

// sa_flags.
inline constexpr u64 SA_NOCLDSTOP_ = 0x1, SA_NOCLDWAIT_ = 0x2, SA_SIGINFO_ = 0x4, SA_ONSTACK_ = 0x08000000,
                     SA_RESTART_ = 0x10000000, SA_NODEFER_ = 0x40000000, SA_RESETHAND_ = 0x80000000;
inline constexpr u64 SIG_DFL_ = 0, SIG_IGN_ = 1;
inline constexpr int SS_ONSTACK_ = 1, SS_DISABLE_ = 2;

// Signals that can be neither blocked nor caught.
inline constexpr u64 UNBLOCKABLE = sig_bit(SIGKILL_) | sig_bit(SIGSTOP_);

// Where a handler of a process without a vDSO returns to; rt_sigreturn happens when the hart
// fetches from here.
inline constexpr u64 SIGRETURN_TRAMPOLINE = 0xffff'ffff'ffff'f000;

enum class DefaultAction : u8 { Terminate, CoreDump, Ignore, Stop, Continue };
DefaultAction default_action(int sig);
// The shell's report of a death by signal ("Segmentation fault", "Killed"); empty for the
// signals bash reports with nothing (SIGINT, SIGPIPE).
std::string signal_message(int sig);
bool is_ignored(const SigAction& action, int sig);

// Frame layout (struct rt_sigframe on riscv64).
inline constexpr u64 SIGFRAME_SIZE = 1088;
inline constexpr u64 SIGFRAME_UC = 128;                    // struct ucontext after the siginfo
inline constexpr u64 SIGFRAME_UC_STACK = SIGFRAME_UC + 16; // uc_stack
inline constexpr u64 SIGFRAME_UC_SIGMASK = SIGFRAME_UC + 40;
inline constexpr u64 SIGFRAME_REGS = SIGFRAME_UC + 176;     // uc_mcontext.sc_regs: pc, x1..x31
inline constexpr u64 SIGFRAME_FPREGS = SIGFRAME_REGS + 256; // f0..f31, then fcsr
inline constexpr u64 SIGFRAME_FCSR = SIGFRAME_FPREGS + 256;

// Encodes the siginfo of a signal (128 bytes, the union member its kind uses).
void encode_siginfo(const SigInfo& info, std::span<u8, 128> out);

// The fields of a POSIX timer's signal (si_code SI_TIMER): si_timerid, si_overrun, si_value.
struct TimerSigFields {
    int timer_id = 0;
    int overrun = 0;
    u64 value = 0;
};
SigInfo timer_siginfo(int signo, const TimerSigFields& fields);
TimerSigFields timer_sig_fields(const SigInfo& info);
// A POSIX timer's signal leaving the pending set: its periodic timer restarts, and the signal
// carries the periods missed meanwhile (Linux does this in dequeue_signal, posixtimer_rearm).
// Other signals come back unchanged.
SigInfo timer_signal_dequeued(Kernel& kernel, const Task& task, const SigInfo& info);

// Builds the frame for running `action`'s handler for `info` on `task` and points the task's
// registers at the handler. EFAULT when the stack cannot take the frame. A POSIX timer's signal
// leaves the pending set here, so its timer restarts here and the frame carries its overrun.
Result<void> setup_rt_frame(Kernel& kernel, Task& task, const SigAction& action, const SigInfo& info);
// rt_sigreturn: restores the registers, mask and alternate stack saved in the frame at sp.
Result<void> restore_rt_frame(Kernel& kernel, Task& task);

} // namespace kioku
