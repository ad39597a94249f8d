// POSIX per-process timers: timer_create with and without a sigevent, a periodic SIGEV_SIGNAL
// timer counted by a handler (si_code, si_value), timer_gettime after timer_settime, the old value
// and disarming, TIMER_ABSTIME on CLOCK_MONOTONIC and CLOCK_REALTIME, SIGEV_NONE polled with
// timer_gettime, overruns while the signal is blocked, SIGEV_THREAD_ID, timers not inherited by a
// fork child, and the errors (EINVAL for a bad id, clock, sigevent or timespec; EFAULT).
//
// Prints facts only, the same natively, under qemu-riscv64 and under kioku. Timer ids themselves
// are not printed: qemu-riscv64 hands out ids of its own, and they differ from Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS (1000 * 1000L)

static volatile int hits;
static volatile int all_timer_code = 1;
static volatile int all_value_ok = 1;
static volatile int expected_value;
static volatile int max_overrun;
static volatile int max_getoverrun;
static volatile pid_t handler_tid;
static timer_t overrun_timer;

static void on_timer(int sig, siginfo_t* si, void* uc)
{
    (void)sig;
    (void)uc;
    ++hits;
    if (si->si_code != SI_TIMER)
        all_timer_code = 0;
    if (si->si_value.sival_int != expected_value)
        all_value_ok = 0;
    handler_tid = gettid();
}

static void on_overrun(int sig, siginfo_t* si, void* uc)
{
    (void)sig;
    (void)uc;
    if (si->si_overrun > max_overrun)
        max_overrun = si->si_overrun;
    int n = timer_getoverrun(overrun_timer);
    if (n > max_getoverrun)
        max_getoverrun = n;
}

static void catch_signal(int sig, void (*fn)(int, siginfo_t*, void*))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static void block(int sig, int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

// Waits with `sig` blocked outside the wait, so no signal is lost between test and sleep.
static void wait_for_hits(int sig, int n)
{
    sigset_t during;
    sigprocmask(SIG_BLOCK, NULL, &during);
    sigdelset(&during, sig);
    while (hits < n)
        sigsuspend(&during);
}

static void nap(long ns)
{
    struct timespec ts = {ns / (1000 * MS), ns % (1000 * MS)};
    nanosleep(&ts, NULL);
}

static struct sigevent signal_event(int sig, int value)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_int = value;
    return ev;
}

static struct itimerspec spec(long value_ns, long interval_ns)
{
    struct itimerspec s;
    s.it_value.tv_sec = value_ns / (1000 * MS);
    s.it_value.tv_nsec = value_ns % (1000 * MS);
    s.it_interval.tv_sec = interval_ns / (1000 * MS);
    s.it_interval.tv_nsec = interval_ns % (1000 * MS);
    return s;
}

static long ns_of(struct timespec ts)
{
    return ts.tv_sec * 1000 * MS + ts.tv_nsec;
}

static int in_range(struct timespec ts, long max_ns)
{
    return ns_of(ts) > 0 && ns_of(ts) <= max_ns;
}

static void ids_and_clocks(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    timer_t a, b;
    int ra = timer_create(CLOCK_MONOTONIC, &ev, &a);
    int rb = timer_create(CLOCK_MONOTONIC, &ev, &b);
    printf("create two: %d %d, ids consecutive %d\n", ra, rb, (long)(intptr_t)b - (long)(intptr_t)a == 1);
    timer_delete(a);
    timer_delete(b);
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,          CLOCK_BOOTTIME,
                                       CLOCK_TAI,      CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    static const char* names[] = {"REALTIME", "MONOTONIC",       "BOOTTIME",
                                  "TAI",      "PROCESS_CPUTIME", "THREAD_CPUTIME"};
    for (int i = 0; i < 6; ++i) {
        timer_t t;
        int r = timer_create(clocks[i], &ev, &t);
        struct itimerspec s = spec(5000 * MS, 0), cur;
        timer_settime(t, 0, &s, NULL);
        timer_gettime(t, &cur);
        printf("clock %s: create %d, armed %d\n", names[i], r, in_range(cur.it_value, 5000 * MS));
        timer_delete(t);
    }
    timer_t t;
    errno = 0;
    int r = timer_create(CLOCK_MONOTONIC_RAW, &ev, &t);
    printf("clock MONOTONIC_RAW: %d errno %d\n", r, errno);
    errno = 0;
    r = timer_create(12345, &ev, &t);
    printf("bad clock: %d errno %d\n", r, errno);
}

static void periodic(void)
{
    catch_signal(SIGUSR1, on_timer);
    block(SIGUSR1, SIG_BLOCK);
    struct sigevent ev = signal_event(SIGUSR1, 42);
    timer_t t;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    hits = 0;
    expected_value = 42;
    struct itimerspec s = spec(10 * MS, 10 * MS), cur;
    printf("settime: %d\n", timer_settime(t, 0, &s, NULL));
    timer_gettime(t, &cur);
    printf("gettime: interval %ld value in (0, 10ms] %d\n", ns_of(cur.it_interval),
           in_range(cur.it_value, 10 * MS));
    wait_for_hits(SIGUSR1, 5);
    struct itimerspec off = spec(0, 0), old;
    printf("disarm: %d\n", timer_settime(t, 0, &off, &old));
    printf("periodic: hits >= 5 %d, si_code SI_TIMER %d, si_value 42 %d\n", hits >= 5, all_timer_code,
           all_value_ok);
    printf("old value: interval %ld value in (0, 10ms] %d\n", ns_of(old.it_interval),
           in_range(old.it_value, 10 * MS));
    timer_gettime(t, &cur);
    printf("disarmed: %ld %ld\n", ns_of(cur.it_interval), ns_of(cur.it_value));
    printf("overrun of a disarmed timer: %d\n", timer_getoverrun(t));
    timer_delete(t);
    block(SIGUSR1, SIG_UNBLOCK);
}

static void default_event(void)
{
    // Without a sigevent the signal is SIGALRM. (The kernel would make si_value the timer's id,
    // but glibc passes a sigevent of its own then, with a null si_value.)
    catch_signal(SIGALRM, on_timer);
    block(SIGALRM, SIG_BLOCK);
    timer_t t;
    printf("create without sigevent: %d\n", timer_create(CLOCK_REALTIME, NULL, &t));
    hits = 0;
    all_timer_code = 1;
    all_value_ok = 1;
    expected_value = 0;
    struct itimerspec s = spec(5 * MS, 0), cur;
    timer_settime(t, 0, &s, NULL);
    wait_for_hits(SIGALRM, 1);
    printf("SIGALRM: SI_TIMER %d, si_value 0 %d\n", all_timer_code, all_value_ok);
    timer_gettime(t, &cur);
    printf("one-shot after firing: %ld %ld\n", ns_of(cur.it_interval), ns_of(cur.it_value));
    timer_delete(t);
    block(SIGALRM, SIG_UNBLOCK);
}

static void absolute(void)
{
    block(SIGUSR1, SIG_BLOCK);
    expected_value = 7;
    all_value_ok = 1;
    struct sigevent ev = signal_event(SIGUSR1, 7);
    timer_t m, r;
    timer_create(CLOCK_MONOTONIC, &ev, &m);
    timer_create(CLOCK_REALTIME, &ev, &r);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long at = ns_of(now) + 20 * MS;
    struct itimerspec s = spec(at, 0), cur;
    hits = 0;
    printf("abstime monotonic: %d\n", timer_settime(m, TIMER_ABSTIME, &s, NULL));
    timer_gettime(m, &cur);
    printf("abstime remaining in (0, 20ms] %d\n", in_range(cur.it_value, 20 * MS));
    wait_for_hits(SIGUSR1, 1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("fired not before the time: %d\n", ns_of(now) >= at);

    clock_gettime(CLOCK_REALTIME, &now);
    s = spec(0, 0);
    s.it_value = now;
    s.it_value.tv_nsec += 20 * MS;
    if (s.it_value.tv_nsec >= 1000 * MS) {
        s.it_value.tv_nsec -= 1000 * MS;
        s.it_value.tv_sec += 1;
    }
    hits = 0;
    printf("abstime realtime: %d\n", timer_settime(r, TIMER_ABSTIME, &s, NULL));
    wait_for_hits(SIGUSR1, 1);
    printf("realtime fired: %d\n", hits);

    // A time already past fires at once.
    s = spec(1000 * MS, 0);
    hits = 0;
    timer_settime(r, TIMER_ABSTIME, &s, NULL);
    wait_for_hits(SIGUSR1, 1);
    printf("past abstime fired: %d, si_value 7 %d\n", hits, all_value_ok);
    timer_delete(m);
    timer_delete(r);
    block(SIGUSR1, SIG_UNBLOCK);
}

static void sigev_none(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    timer_t t;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    struct itimerspec s = spec(30 * MS, 0), cur;
    timer_settime(t, 0, &s, NULL);
    timer_gettime(t, &cur);
    printf("SIGEV_NONE one-shot: remaining in (0, 30ms] %d\n", in_range(cur.it_value, 30 * MS));
    nap(60 * MS);
    timer_gettime(t, &cur);
    printf("SIGEV_NONE expired: %ld %ld\n", ns_of(cur.it_interval), ns_of(cur.it_value));
    s = spec(10 * MS, 10 * MS);
    timer_settime(t, 0, &s, NULL);
    nap(35 * MS);
    timer_gettime(t, &cur);
    printf("SIGEV_NONE periodic: interval %ld remaining in (0, 10ms] %d, overrun %d\n",
           ns_of(cur.it_interval), in_range(cur.it_value, 10 * MS), timer_getoverrun(t));
    timer_delete(t);
}

static void overruns(void)
{
    catch_signal(SIGUSR2, on_overrun);
    block(SIGUSR2, SIG_BLOCK);
    struct sigevent ev = signal_event(SIGUSR2, 0);
    timer_create(CLOCK_MONOTONIC, &ev, &overrun_timer);
    struct itimerspec s = spec(10 * MS, 10 * MS);
    timer_settime(overrun_timer, 0, &s, NULL);
    nap(200 * MS);
    block(SIGUSR2, SIG_UNBLOCK);
    // qemu-riscv64 may hand the signal over a little later than the kernel does.
    for (int i = 0; i < 100 && max_getoverrun == 0; ++i)
        nap(MS);
    block(SIGUSR2, SIG_BLOCK);
    printf("overruns: si_overrun > 0 %d, timer_getoverrun > 0 %d\n", max_overrun > 0, max_getoverrun > 0);
    timer_delete(overrun_timer);
    block(SIGUSR2, SIG_UNBLOCK);
}

static volatile pid_t target_tid;

static void* target_thread(void* arg)
{
    (void)arg;
    block(SIGUSR1, SIG_UNBLOCK);
    target_tid = gettid();
    for (int i = 0; i < 5000 && hits == 0; ++i)
        nap(MS);
    return NULL;
}

static void thread_id(void)
{
    catch_signal(SIGUSR1, on_timer);
    block(SIGUSR1, SIG_BLOCK);
    hits = 0;
    handler_tid = 0;
    pthread_t th;
    pthread_create(&th, NULL, target_thread, NULL);
    while (target_tid == 0)
        nap(MS);
    struct sigevent ev = signal_event(SIGUSR1, 9);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev._sigev_un._tid = target_tid;
    expected_value = 9;
    all_value_ok = 1;
    timer_t t;
    printf("SIGEV_THREAD_ID create: %d\n", timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct itimerspec s = spec(5 * MS, 0);
    timer_settime(t, 0, &s, NULL);
    // The main thread takes SIGUSR1 too now: a process-directed signal could come here.
    block(SIGUSR1, SIG_UNBLOCK);
    pthread_join(th, NULL);
    printf("SIGEV_THREAD_ID: handled by the target thread %d, si_value 9 %d\n", handler_tid == target_tid,
           all_value_ok);
    timer_delete(t);
    ev._sigev_un._tid = getppid();
    errno = 0;
    int r = timer_create(CLOCK_MONOTONIC, &ev, &t);
    printf("SIGEV_THREAD_ID to another process: %d errno %d\n", r, errno);
}

static void inheritance(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    timer_t t;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    pid_t child = fork();
    if (child == 0) {
        struct itimerspec cur;
        errno = 0;
        int r = timer_gettime(t, &cur);
        printf("fork child sees the timer: %d errno %d\n", r, errno);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    struct itimerspec cur;
    printf("parent still has it: %d\n", timer_gettime(t, &cur));
    timer_delete(t);
}

static void errors(void)
{
    timer_t bad = (timer_t)(intptr_t)12345;
    struct itimerspec s = spec(MS, 0), cur;
    errno = 0;
    int r = timer_gettime(bad, &cur);
    printf("gettime bad id: %d errno %d\n", r, errno);
    errno = 0;
    r = timer_settime(bad, 0, &s, NULL);
    printf("settime bad id: %d errno %d\n", r, errno);
    errno = 0;
    r = timer_getoverrun(bad);
    printf("getoverrun bad id: %d errno %d\n", r, errno);
    errno = 0;
    r = timer_delete(bad);
    printf("delete bad id: %d errno %d\n", r, errno);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = 99;
    timer_t t;
    errno = 0;
    r = timer_create(CLOCK_MONOTONIC, &ev, &t);
    printf("bad sigev_notify: %d errno %d\n", r, errno);
    ev = signal_event(0, 0);
    errno = 0;
    r = timer_create(CLOCK_MONOTONIC, &ev, &t);
    printf("bad sigev_signo: %d errno %d\n", r, errno);

    ev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    static const long bad_specs[][4] = {
        {0, 1000 * MS, 0, 0}, {0, -1, 0, 0}, {-1, 0, 0, 0}, {0, 1, 0, 1000 * MS}, {0, 1, -1, 0}};
    static const char* what[] = {"value nsec 1e9", "value nsec -1", "value sec -1", "interval nsec 1e9",
                                 "interval sec -1"};
    for (int i = 0; i < 5; ++i) {
        s.it_value.tv_sec = bad_specs[i][0];
        s.it_value.tv_nsec = bad_specs[i][1];
        s.it_interval.tv_sec = bad_specs[i][2];
        s.it_interval.tv_nsec = bad_specs[i][3];
        errno = 0;
        r = timer_settime(t, 0, &s, NULL);
        printf("settime %s: %d errno %d\n", what[i], r, errno);
    }
    errno = 0;
    long l = syscall(SYS_timer_settime, (long)(intptr_t)t, 0, NULL, NULL);
    printf("settime without a value: %ld errno %d\n", l, errno);
    errno = 0;
    l = syscall(SYS_timer_settime, (long)(intptr_t)t, 0, (void*)8, NULL);
    printf("settime bad value pointer: %ld errno %d\n", l, errno);
    errno = 0;
    r = timer_gettime(t, (struct itimerspec*)8);
    printf("gettime bad pointer: %d errno %d\n", r, errno);
    errno = 0;
    l = syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, (void*)8);
    printf("create bad id pointer: %ld errno %d\n", l, errno);
    errno = 0;
    l = syscall(SYS_timer_create, CLOCK_MONOTONIC, (void*)8, &t);
    printf("create bad sigevent pointer: %ld errno %d\n", l, errno);
    timer_delete(t);
    errno = 0;
    r = timer_gettime(t, &cur);
    printf("gettime after delete: %d errno %d\n", r, errno);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    ids_and_clocks();
    periodic();
    default_event();
    absolute();
    sigev_none();
    overruns();
    thread_id();
    inheritance();
    errors();
    return 0;
}
