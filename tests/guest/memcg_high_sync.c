/* memory.high throttles a big allocation made by one system call (run with --mem 1G): a child in
 * a group with memory.high = 30M and memory.max = 140M locks 200 MiB with mlock, then maps 200
 * MiB with MAP_POPULATE. Each time the group's high events grow while its max events do not (the
 * child sleeps its penalty inside the call, Linux's mem_cgroup_handle_over_high), and the parent,
 * polling memory.events every millisecond, keeps running meanwhile. As the kernel's
 * test_memcg_high_sync, with polling for inotify. Only facts that hold on any Linux 6.x with
 * cgroup v2 are printed. */
#define _GNU_SOURCE
#include <signal.h>
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

static void run(const char* how)
{
    const char* events = "/sys/fs/cgroup/sync/memory.events";
    long high0 = field(events, "high"), max0 = field(events, "max");
    pid_t pid = fork();
    if (pid == 0) {
        if (put("/sys/fs/cgroup/sync/cgroup.procs", "0") != 0)
            _exit(10);
        if (!strcmp(how, "mlock")) {
            char* p = mmap(NULL, 200 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            mlock(p, 200 * MIB);
        } else {
            mmap(NULL, 200 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        }
        pause(); /* done allocating: wait for the parent's SIGKILL */
        _exit(20);
    }
    /* The first change of memory.events, seen by polling every millisecond. */
    double slowest = 0;
    int polls = 0;
    while (field(events, "high") == high0 && field(events, "max") == max0 && polls < 5000) {
        double before = now();
        usleep(1000);
        double took = now() - before;
        slowest = took > slowest ? took : slowest;
        ++polls;
    }
    long high = field(events, "high"), max = field(events, "max");
    printf("%s: high events grew: %d, max events grew: %d\n", how, high > high0, max > max0);
    printf("%s: the parent's sleeps kept time (each under 100 ms): %d\n", how, slowest < 0.1);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    printf("%s: child killed by %d\n", how, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir("/sys/fs/cgroup/sync", 0755) ||
        put("/sys/fs/cgroup/sync/memory.swap.max", "0") || put("/sys/fs/cgroup/sync/memory.high", "30M") ||
        put("/sys/fs/cgroup/sync/memory.max", "140M"))
        return 1;
    run("mlock");
    run("MAP_POPULATE");
    printf("rmdir: %d\n", rmdir("/sys/fs/cgroup/sync"));
    return 0;
}
