/* CPU time as a process sees it: it grows while the process computes, in /proc/self/stat's utime,
 * getrusage and times alike, and not while it sleeps. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static double rusage_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long stat_ticks(void)
{
    FILE* f = fopen("/proc/self/stat", "r");
    long utime = -1, stime = -1;
    if (!f)
        return -1;
    /* pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) != 2)
        utime = -1;
    fclose(f);
    return utime + stime;
}

static long times_ticks(void)
{
    struct tms t;
    times(&t);
    return (long)(t.tms_utime + t.tms_stime);
}

int main(void)
{
    long hz = sysconf(_SC_CLK_TCK);
    printf("clock ticks per second: %ld\n", hz);
    volatile unsigned long x = 0;
    double r0 = rusage_s();
    /* Compute until /proc/self/stat shows at least 5 ticks (50 ms), for a while at most. */
    for (int round = 0; round < 5000 && stat_ticks() < 5; ++round)
        for (int i = 0; i < 1000000; ++i)
            x += i;
    double r1 = rusage_s();
    printf("after computing: stat ticks >= 5: %s, getrusage grew: %s, times ticks >= 4: %s\n",
           stat_ticks() >= 5 ? "yes" : "no", r1 - r0 > 0.03 ? "yes" : "no", times_ticks() >= 4 ? "yes" : "no");
    long s0 = stat_ticks();
    struct timespec nap = {0, 300000000};
    nanosleep(&nap, NULL);
    long s1 = stat_ticks();
    printf("a 0.3 s sleep added under 0.1 s of CPU time: %s\n", s1 - s0 < hz / 10 ? "yes" : "no");
    return 0;
}
