/* memory.high (run with --mem 128M --swap 64M): a group over its memory.high is reclaimed and
 * throttled, never killed. A child writes and checks 32 MiB twice, first in a group with no
 * limit, then in one with memory.high = 8M: the second survives too, its group counts high
 * events and never held much more than 8 MiB, and it took longer. Only facts that hold on any
 * Linux 6.x with cgroup v2 are printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MIB (1L << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs a child in the group that writes and checks 32 MiB; its status, and the time it took. */
static int run_in(const char* group, double* seconds)
{
    double start = now();
    int status = run_writer_in(group, 32, 1);
    *seconds = now() - start;
    return status;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir("/sys/fs/cgroup/free", 0755) ||
        mkdir("/sys/fs/cgroup/high", 0755) || put("/sys/fs/cgroup/high/memory.high", "8M"))
        return 1;
    double free_time, high_time;
    int status = run_in("/sys/fs/cgroup/free", &free_time);
    printf("unlimited: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("unlimited high events: %ld\n", field("/sys/fs/cgroup/free/memory.events", "high"));
    status = run_in("/sys/fs/cgroup/high", &high_time);
    printf("over high: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("high events > 0: %d\n", field("/sys/fs/cgroup/high/memory.events", "high") > 0);
    printf("oom_kill: %ld\n", field("/sys/fs/cgroup/high/memory.events", "oom_kill"));
    printf("max events: %ld\n", field("/sys/fs/cgroup/high/memory.events", "max"));
    printf("peak under 16M: %d\n", number("/sys/fs/cgroup/high/memory.peak") < 16 * MIB);
    printf("swapped: %d\n", number("/sys/fs/cgroup/high/memory.swap.peak") > 0);
    printf("slower: %d\n", high_time > free_time);
    printf("rmdir: %d %d\n", rmdir("/sys/fs/cgroup/free"), rmdir("/sys/fs/cgroup/high"));
    return 0;
}
