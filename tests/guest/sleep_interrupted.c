// nanosleep(10 s) interrupted by a 100 ms ITIMER_REAL whose signal has a handler: EINTR well
// before the 10 s are up, with most of them left in rem. Prints facts only.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static void on_alarm(int sig)
{
    (void)sig;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    struct itimerval it = {.it_value = {.tv_usec = 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t1, req = {.tv_sec = 10}, rem;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = nanosleep(&req, &rem);
    int e = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("nanosleep: %d %s\n", r, e == EINTR ? "EINTR" : "no EINTR");
    printf("woken within 1 s: %d\n", elapsed < 1.0);
    printf("at least 9 s left: %d\n", rem.tv_sec >= 9);
    return 0;
}
