/* sigtimedwait, sigwaitinfo and sigwait take a pending signal without running its handler;
 * a timeout gives EAGAIN, a bad timespec EINVAL, another signal with a handler EINTR.
 * membarrier: QUERY lists the commands, the private expedited barrier needs registering first. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static void on_signal(int sig)
{
    handled = sig;
}

static const char* err_name(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EINTR: return "EINTR";
    case EFAULT: return "EFAULT";
    case EPERM: return "EPERM";
    default: return strerror(e);
    }
}

static long membarrier(int cmd, unsigned flags)
{
    return syscall(__NR_membarrier, cmd, flags, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    /* A pending signal is taken at once, with its sender. */
    kill(getpid(), SIGUSR1);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int sig = sigwaitinfo(&set, &info);
    printf("sigwaitinfo: %d (SIGUSR1 %d), code SI_USER %s, from me %s, handler ran %d\n", sig, SIGUSR1,
           info.si_code == SI_USER ? "yes" : "no", info.si_pid == getpid() ? "yes" : "no", handled);

    /* Nothing pending: a zero timeout and a short one give EAGAIN. */
    struct timespec zero = {0, 0}, short_wait = {0, 20 * 1000 * 1000};
    errno = 0;
    sig = sigtimedwait(&set, &info, &zero);
    printf("zero timeout: %d %s\n", sig, err_name(errno));
    errno = 0;
    sig = sigtimedwait(&set, &info, &short_wait);
    printf("20 ms timeout: %d %s\n", sig, err_name(errno));
    struct timespec bad = {0, 1000 * 1000 * 1000};
    errno = 0;
    sig = sigtimedwait(&set, &info, &bad);
    printf("tv_nsec 1e9: %d %s\n", sig, err_name(errno));

    /* A signal sent while it waits: a child sends it. */
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct timespec long_wait = {5, 0};
    memset(&info, 0, sizeof info);
    sig = sigtimedwait(&set, &info, &long_wait);
    printf("woken by the child's signal: %d, from the child %s, handler ran %d\n", sig,
           info.si_pid == child ? "yes" : "no", handled);
    waitpid(child, NULL, 0);

    /* A signal outside the set, with a handler and unblocked: EINTR, and the handler runs. */
    child = fork();
    if (child == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    errno = 0;
    sig = sigtimedwait(&set, &info, &long_wait);
    int e = errno;
    printf("another signal: %d %s, handler ran for SIGUSR2 %s\n", sig, err_name(e), handled == SIGUSR2 ? "yes" : "no");
    waitpid(child, NULL, 0);

    /* sigwait, and a signal that is unblocked in the caller's mask but waited for. */
    sigset_t alarm_set;
    sigemptyset(&alarm_set);
    sigaddset(&alarm_set, SIGALRM);
    handled = 0;
    alarm(1);
    int got = 0;
    int rc = sigwait(&alarm_set, &got);
    printf("sigwait: rc %d, got SIGALRM %s, handler ran %d\n", rc, got == SIGALRM ? "yes" : "no", handled);

    /* SIGCHLD, blocked, taken as a child exits, with its status. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    child = fork();
    if (child == 0)
        _exit(5);
    memset(&info, 0, sizeof info);
    sig = sigwaitinfo(&chld, &info);
    printf("SIGCHLD: %d, CLD_EXITED %s, status %d, child %s\n", sig, info.si_code == CLD_EXITED ? "yes" : "no",
           info.si_status, info.si_pid == child ? "yes" : "no");
    waitpid(child, NULL, 0);

    /* membarrier */
    long query = membarrier(MEMBARRIER_CMD_QUERY, 0);
    long wanted = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED |
                  MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    printf("membarrier query lists the global and private commands: %s\n", (query & wanted) == wanted ? "yes" : "no");
    errno = 0;
    long r = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
    printf("private expedited before registering: %ld %s\n", r, err_name(errno));
    printf("register: %ld\n", membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0));
    printf("private expedited: %ld\n", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0));
    printf("global: %ld\n", membarrier(MEMBARRIER_CMD_GLOBAL, 0));
    errno = 0;
    r = membarrier(MEMBARRIER_CMD_GLOBAL, 1);
    printf("bad flags: %ld %s\n", r, err_name(errno));
    errno = 0;
    r = membarrier(1 << 20, 0);
    printf("unknown command: %ld %s\n", r, err_name(errno));
    printf("registrations: %ld\n", membarrier(1 << 9 /* MEMBARRIER_CMD_GET_REGISTRATIONS */, 0));
    return 0;
}
