/* futex_waitv: its argument checks, EAGAIN when a value differs, an absolute timeout on both
 * clocks, the index of the futex that woke it (private and shared across fork), and a signal:
 * restarted under SA_RESTART, EINTR without. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

#define SIZE_U32 0x02
#define PRIVATE 128

static long waitv(struct waitv* w, unsigned n, unsigned flags, struct timespec* ts, int clock)
{
    return syscall(SYS_futex_waitv, w, n, flags, ts, clock);
}

static const char* err_name(int e)
{
    switch (e) {
    case 0: return "";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINTR: return "EINTR";
    default: return strerror(e);
    }
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (call);                                                                                 \
        int e_ = errno;                                                                                   \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? err_name(e_) : "");                                     \
    } while (0)

static uint32_t words[4];

static long wake(uint32_t* word, int private_futex)
{
    return syscall(SYS_futex, word, private_futex ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void* waiter(void* arg)
{
    struct waitv w[3];
    for (int i = 0; i < 3; ++i)
        w[i] = (struct waitv){0, (uintptr_t)&words[i], SIZE_U32 | PRIVATE, 0};
    long r = waitv(w, 3, 0, NULL, 0);
    *(long*)arg = r < 0 ? -errno : r;
    return NULL;
}

static void wake_until_woken(uint32_t* word, int private_futex)
{
    while (wake(word, private_futex) == 0)
        usleep(1000);
}

static int handled;
static void on_usr1(int sig)
{
    (void)sig;
    handled = 1;
}

static pid_t thread_id;
static void* signalled_waiter(void* arg)
{
    thread_id = (pid_t)syscall(SYS_gettid);
    struct waitv w = {0, (uintptr_t)&words[3], SIZE_U32 | PRIVATE, 0};
    long r = waitv(&w, 1, 0, NULL, 0);
    *(long*)arg = r < 0 ? -errno : r;
    return NULL;
}

static void signal_during_wait(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
    thread_id = 0;
    long result = 99;
    pthread_t th;
    pthread_create(&th, NULL, signalled_waiter, &result);
    while (!thread_id)
        usleep(1000);
    usleep(20000);
    syscall(SYS_tgkill, getpid(), thread_id, SIGUSR1);
    usleep(20000);
    if (restart)
        wake_until_woken(&words[3], 1);
    pthread_join(th, NULL);
    char returned[32];
    if (result < 0)
        snprintf(returned, sizeof returned, "%s", err_name((int)-result));
    else
        snprintf(returned, sizeof returned, "%ld", result);
    printf("a signal %s SA_RESTART: handler ran %d, the wait returned %s\n", restart ? "with" : "without",
           handled, returned);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct waitv w = {0, (uintptr_t)&words[0], SIZE_U32 | PRIVATE, 0};
    struct timespec past = {0, 0};
    SHOW("flags", waitv(&w, 1, 1, NULL, 0));
    SHOW("no futexes", waitv(&w, 0, 0, NULL, 0));
    SHOW("129 futexes", waitv(&w, 129, 0, NULL, 0));
    SHOW("null waiters", waitv(NULL, 1, 0, NULL, 0));
    SHOW("bad waiters", waitv((struct waitv*)8, 1, 0, NULL, 0));
    SHOW("bad clock", waitv(&w, 1, 0, &past, 2));
    SHOW("bad timeout pointer", waitv(&w, 1, 0, (struct timespec*)8, CLOCK_MONOTONIC));
    struct timespec bad_ns = {0, 1000000000};
    SHOW("bad timeout", waitv(&w, 1, 0, &bad_ns, CLOCK_MONOTONIC));
    struct waitv odd = w;
    odd.uaddr += 1;
    SHOW("misaligned word", waitv(&odd, 1, 0, NULL, 0));
    struct waitv u8 = w;
    u8.flags = PRIVATE; // FUTEX2_SIZE_U8
    SHOW("8-bit futex", waitv(&u8, 1, 0, NULL, 0));
    struct waitv res = w;
    res.reserved = 1;
    SHOW("reserved field", waitv(&res, 1, 0, NULL, 0));
    struct waitv big = w;
    big.val = 1ull << 32;
    SHOW("value past 32 bits", waitv(&big, 1, 0, NULL, 0));
    struct waitv unknown = w;
    unknown.flags |= 0x100;
    SHOW("unknown flag", waitv(&unknown, 1, 0, NULL, 0));
    struct waitv nowhere = {0, 4096, SIZE_U32, 0};
    SHOW("shared word unmapped", waitv(&nowhere, 1, 0, NULL, 0));
    struct waitv two[2] = {w, w};
    two[1].uaddr = (uintptr_t)&words[1];
    words[1] = 5;
    SHOW("second value differs", waitv(two, 2, 0, NULL, 0));
    words[1] = 0;

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 10000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec += 1;
        now.tv_nsec -= 1000000000;
    }
    SHOW("monotonic deadline 10 ms ahead", waitv(&w, 1, 0, &now, CLOCK_MONOTONIC));
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= 1;
    SHOW("realtime deadline passed", waitv(&w, 1, 0, &now, CLOCK_REALTIME));

    long result = 99;
    pthread_t th;
    pthread_create(&th, NULL, waiter, &result);
    wake_until_woken(&words[2], 1);
    pthread_join(th, NULL);
    printf("woken by the third futex: %ld\n", result);

    // A shared futex in a MAP_SHARED page: the child waits, the parent wakes it.
    uint32_t* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t child = fork();
    if (child == 0) {
        struct waitv sw[2] = {{7, (uintptr_t)&shared[1], SIZE_U32, 0}, {0, (uintptr_t)&shared[0], SIZE_U32, 0}};
        shared[1] = 7;
        long r = waitv(sw, 2, 0, NULL, 0);
        _exit(r == 1 ? 0 : 1);
    }
    while (shared[1] != 7)
        usleep(1000);
    wake_until_woken(&shared[0], 0);
    int status;
    waitpid(child, &status, 0);
    printf("a child woken through a shared futex by its index 1: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    signal_during_wait(1);
    signal_during_wait(0);
    return 0;
}
