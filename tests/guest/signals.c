/* Signal handlers on a RISC-V signal frame: a handler for SIGUSR1, a SIGSEGV handler that reads
 * si_addr and si_code and leaves with siglongjmp, a blocked signal delivered when unblocked, and
 * the registers surviving a handler. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_count;
static sigjmp_buf recover;
static volatile uintptr_t fault_addr;
static volatile int fault_code;

static void on_usr1(int sig) { usr1_count += sig == SIGUSR1; }

static void on_segv(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    (void)uc;
    fault_addr = (uintptr_t)info->si_addr;
    fault_code = info->si_code;
    siglongjmp(recover, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler ran %d time(s)\n", (int)usr1_count);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR1);
    printf("while blocked: %d\n", (int)usr1_count);
    sigpending(&set);
    printf("pending: %d\n", sigismember(&set, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("after unblocking: %d\n", (int)usr1_count);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    char* page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sigsetjmp(recover, 1) == 0) {
        page[8] = 1;
        printf("no fault?\n");
    } else {
        printf("SIGSEGV at offset %ld code %s\n", (long)(fault_addr - (uintptr_t)page),
               fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
    }
    munmap(page, 4096);
    if (sigsetjmp(recover, 1) == 0) {
        *(volatile int*)page = 1;
    } else {
        printf("unmapped: code %s\n", fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other");
    }
    double x = 1.5;
    for (int i = 0; i < 3; ++i) {
        raise(SIGUSR1);
        x *= 2.0;
    }
    printf("float state kept: %.1f, handler ran %d times\n", x, (int)usr1_count);

    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("ignored SIGUSR2\n");
    return 0;
}
