// Linux's signal numbers and si_code values (asm-generic, as riscv64 and the host use them). Only
// constants: the behaviour that uses them is the kernel's (kernel/Signals.h) and the fault
// handler's mapping of an unresolved fault to the signal the CPU raises (mm/vm/FaultHandler.h).
#pragma once

namespace kioku {

inline constexpr int SIGHUP_ = 1, SIGINT_ = 2, SIGQUIT_ = 3, SIGILL_ = 4, SIGTRAP_ = 5, SIGABRT_ = 6,
                     SIGBUS_ = 7, SIGFPE_ = 8, SIGKILL_ = 9, SIGUSR1_ = 10, SIGSEGV_ = 11, SIGUSR2_ = 12,
                     SIGPIPE_ = 13, SIGALRM_ = 14, SIGTERM_ = 15, SIGCHLD_ = 17, SIGCONT_ = 18, SIGSTOP_ = 19,
                     SIGTSTP_ = 20, SIGTTIN_ = 21, SIGTTOU_ = 22, SIGURG_ = 23, SIGXCPU_ = 24, SIGXFSZ_ = 25,
                     SIGWINCH_ = 28, SIGSYS_ = 31;

inline constexpr int SI_USER_ = 0, SI_QUEUE_ = -1, SI_TIMER_ = -2, SI_TKILL_ = -6, SI_KERNEL_ = 0x80;
inline constexpr int SEGV_MAPERR_ = 1, SEGV_ACCERR_ = 2, BUS_ADRALN_ = 1, BUS_ADRERR_ = 2, ILL_ILLOPC_ = 1,
                     TRAP_BRKPT_ = 1;
inline constexpr int CLD_EXITED_ = 1, CLD_KILLED_ = 2, CLD_DUMPED_ = 3, CLD_STOPPED_ = 5, CLD_CONTINUED_ = 6;

// The kernel-internal errno of a system call to be made again, whatever signals come meanwhile
// (Linux's ERESTARTNOINTR); the program never sees it.
inline constexpr int ERESTARTNOINTR_ = 513;

} // namespace kioku
