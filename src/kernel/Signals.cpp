#include "kernel/Signals.h"

#include <array>
#include <cstring>

#include "kernel/Kernel.h"
#include "kernel/Process.h"

namespace kioku {

DefaultAction default_action(int sig)
{
    switch (sig) {
    case SIGCHLD_:
    case SIGURG_:
    case SIGWINCH_: return DefaultAction::Ignore;
    case SIGCONT_: return DefaultAction::Continue;
    case SIGSTOP_:
    case SIGTSTP_:
    case SIGTTIN_:
    case SIGTTOU_: return DefaultAction::Stop;
    case SIGQUIT_:
    case SIGILL_:
    case SIGTRAP_:
    case SIGABRT_:
    case SIGBUS_:
    case SIGFPE_:
    case SIGSEGV_:
    case SIGXCPU_:
    case SIGXFSZ_:
    case SIGSYS_: return DefaultAction::CoreDump;
    default: return DefaultAction::Terminate;
    }
}

std::string signal_message(int sig)
{
    // bash's words (its siglist), which are glibc's strsignal text for most signals.
    switch (sig) {
    case SIGHUP_: return "Hangup";
    case SIGINT_: return "";
    case SIGQUIT_: return "Quit";
    case SIGILL_: return "Illegal instruction";
    case SIGTRAP_: return "Trace/breakpoint trap";
    case SIGABRT_: return "Aborted";
    case SIGBUS_: return "Bus error";
    case SIGFPE_: return "Floating point exception";
    case SIGKILL_: return "Killed";
    case SIGUSR1_: return "User defined signal 1";
    case SIGSEGV_: return "Segmentation fault";
    case SIGUSR2_: return "User defined signal 2";
    case SIGPIPE_: return "";
    case SIGALRM_: return "Alarm clock";
    case SIGTERM_: return "Terminated";
    case 16: return "Stack fault";
    case 24: return "CPU time limit exceeded";
    case 25: return "File size limit exceeded";
    case 26: return "Virtual timer expired";
    case 27: return "Profiling timer expired";
    case 29: return "I/O possible";
    case 30: return "Power failure";
    case SIGSYS_: return "Bad system call";
    default: return "Real-time signal " + std::to_string(sig - 34);
    }
}

bool is_ignored(const SigAction& action, int sig)
{
    if (action.handler == SIG_IGN_)
        return true;
    return action.handler == SIG_DFL_ && default_action(sig) == DefaultAction::Ignore;
}

namespace {

void put64(std::span<u8> buf, u64 off, u64 v)
{
    std::memcpy(buf.data() + off, &v, sizeof v);
}
void put32(std::span<u8> buf, u64 off, u32 v)
{
    std::memcpy(buf.data() + off, &v, sizeof v);
}
u64 get64(std::span<const u8> buf, u64 off)
{
    u64 v;
    std::memcpy(&v, buf.data() + off, sizeof v);
    return v;
}
u32 get32(std::span<const u8> buf, u64 off)
{
    u32 v;
    std::memcpy(&v, buf.data() + off, sizeof v);
    return v;
}

bool on_altstack(const Task& t, u64 sp)
{
    return t.altstack_size && sp > t.altstack_sp && sp - t.altstack_sp <= t.altstack_size;
}

} // namespace

SigInfo timer_signal_dequeued(Kernel& kernel, const Task& task, const SigInfo& info)
{
    if (info.code != SI_TIMER_)
        return info;
    Process* p = kernel.process(task.tgid);
    TimerSigFields fields = timer_sig_fields(info);
    PosixTimer* timer = p ? p->posix_timers().find(fields.timer_id) : nullptr;
    if (!timer)
        return info;
    fields.overrun = timer->dequeued(kernel.now_ns());
    return timer_siginfo(info.signo, fields);
}

SigInfo timer_siginfo(int signo, const TimerSigFields& fields)
{
    SigInfo info;
    info.signo = signo;
    info.code = SI_TIMER_;
    info.timer_id = fields.timer_id;
    info.overrun = fields.overrun;
    info.value = fields.value;
    return info;
}

TimerSigFields timer_sig_fields(const SigInfo& info)
{
    return {info.timer_id, info.overrun, info.value};
}

void encode_siginfo(const SigInfo& info, std::span<u8, 128> out)
{
    std::memset(out.data(), 0, out.size());
    put32(out, 0, static_cast<u32>(info.signo));
    put32(out, 8, static_cast<u32>(info.code));
    if (info.code == SI_TIMER_) {
        // The _timer member: si_tid, si_overrun, si_sigval (si_sys_private stays zero).
        TimerSigFields timer = timer_sig_fields(info);
        put32(out, 16, static_cast<u32>(timer.timer_id));
        put32(out, 20, static_cast<u32>(timer.overrun));
        put64(out, 24, timer.value);
        return;
    }
    switch (info.signo) {
    case SIGSEGV_:
    case SIGBUS_:
    case SIGILL_:
    case SIGTRAP_:
    case SIGFPE_:
        if (info.code > 0) {
            put64(out, 16, info.addr);
            break;
        }
        [[fallthrough]];
    default:
        put32(out, 16, static_cast<u32>(info.pid));
        put32(out, 20, info.uid);
        if (info.signo == SIGCHLD_)
            put32(out, 24, static_cast<u32>(info.status));
        else if (info.code == SI_QUEUE_) // the _rt member: si_sigval after pid and uid
            put64(out, 24, info.value);
        break;
    }
}

Result<void> setup_rt_frame(Kernel& kernel, Task& task, const SigAction& action, const SigInfo& info)
{
    HartState& r = task.regs;
    u64 sp = r.x[2];
    bool was_on_altstack = on_altstack(task, sp);
    if ((action.flags & SA_ONSTACK_) && task.altstack_size && !(task.altstack_flags & SS_DISABLE_) &&
        !was_on_altstack)
        sp = task.altstack_sp + task.altstack_size;
    u64 frame = (sp - SIGFRAME_SIZE) & ~u64{15};

    std::array<u8, SIGFRAME_SIZE> buf{};
    std::span<u8> f(buf);
    encode_siginfo(timer_signal_dequeued(kernel, task, info), std::span<u8, 128>(buf.data(), 128));
    // uc_flags and uc_link stay zero; uc_stack as __save_altstack writes it.
    int ss_flags = !task.altstack_size ? SS_DISABLE_ : (on_altstack(task, frame) ? SS_ONSTACK_ : 0);
    put64(f, SIGFRAME_UC_STACK, task.altstack_sp);
    put32(f, SIGFRAME_UC_STACK + 8, static_cast<u32>(ss_flags));
    put64(f, SIGFRAME_UC_STACK + 16, task.altstack_size);
    u64 old_mask = task.saved_mask.value_or(task.blocked);
    put64(f, SIGFRAME_UC_SIGMASK, old_mask);
    put64(f, SIGFRAME_REGS, r.pc);
    for (int i = 1; i < 32; ++i)
        put64(f, SIGFRAME_REGS + 8 * static_cast<u64>(i), r.x[static_cast<size_t>(i)]);
    for (int i = 0; i < 32; ++i)
        put64(f, SIGFRAME_FPREGS + 8 * static_cast<u64>(i), r.f[static_cast<size_t>(i)]);
    put32(f, SIGFRAME_FCSR, r.fcsr);
    TRY(kernel.copy_to_user(task.tgid, frame, buf));

    task.saved_mask.reset();
    task.blocked = old_mask | action.mask;
    if (!(action.flags & SA_NODEFER_))
        task.blocked |= sig_bit(info.signo);
    task.blocked &= ~UNBLOCKABLE;
    // The handler returns into the vDSO's rt_sigreturn; a process without one (not made by exec)
    // returns to the trampoline address the Runner catches.
    Process* owner = kernel.process(task.tgid);
    u64 vdso = owner && owner->has_space() ? owner->space().vdso_base() : 0;
    r.x[1] = vdso ? vdso : SIGRETURN_TRAMPOLINE;
    r.x[2] = frame;
    r.x[10] = static_cast<u64>(info.signo);
    r.x[11] = frame;
    r.x[12] = frame + SIGFRAME_UC;
    r.pc = action.handler;
    r.reservation_valid = false;
    return {};
}

Result<void> restore_rt_frame(Kernel& kernel, Task& task)
{
    HartState& r = task.regs;
    u64 frame = r.x[2];
    std::array<u8, SIGFRAME_SIZE> buf{};
    TRY(kernel.copy_from_user(task.tgid, frame, buf));
    std::span<const u8> f(buf);
    task.blocked = get64(f, SIGFRAME_UC_SIGMASK) & ~UNBLOCKABLE;
    r.pc = get64(f, SIGFRAME_REGS);
    for (int i = 1; i < 32; ++i)
        r.x[static_cast<size_t>(i)] = get64(f, SIGFRAME_REGS + 8 * static_cast<u64>(i));
    for (int i = 0; i < 32; ++i)
        r.f[static_cast<size_t>(i)] = get64(f, SIGFRAME_FPREGS + 8 * static_cast<u64>(i));
    r.fcsr = get32(f, SIGFRAME_FCSR) & 0xff;
    // restore_altstack: a bad new stack is ignored rather than fatal here, as do_sigaltstack
    // would only refuse it.
    u64 ss_sp = get64(f, SIGFRAME_UC_STACK);
    u32 ss_flags = get32(f, SIGFRAME_UC_STACK + 8);
    u64 ss_size = get64(f, SIGFRAME_UC_STACK + 16);
    if (!on_altstack(task, r.x[2] + SIGFRAME_SIZE)) {
        task.altstack_sp = ss_sp;
        task.altstack_size = (ss_flags & SS_DISABLE_) ? 0 : ss_size;
        task.altstack_flags = static_cast<int>(ss_flags & SS_DISABLE_);
    }
    r.reservation_valid = false;
    return {};
}

} // namespace kioku
