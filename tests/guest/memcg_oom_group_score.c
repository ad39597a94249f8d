/* memory.oom.group and oom_score_adj (run with --mem 256M): in a group with memory.max = 50M, no
 * swap and memory.oom.group = 1, a holder with oom_score_adj -1000 and another holder wait while
 * a third process grows to 100 MiB. The group's OOM kills the grower and the other holder, not
 * the protected one; memory.events counts oom_kill 3 (the victim counted twice: the group walk
 * meets it again with its memory still there) and oom_group_kill 1. As the kernel's selftest
 * test_memcg_oom_group_score_events. Only facts that hold on any Linux 6.x with cgroup v2 are
 * printed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MIB (1L << 20)

static char* volatile kept; /* the memory escapes: the compiler may not drop the stores */

/* A child in the group that touches `mib` MiB, says so on the pipe, then waits (or exits). */
static pid_t child(long mib, int stay, int ready)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (put("/sys/fs/cgroup/score/cgroup.procs", "0") != 0)
            _exit(10);
        char* p = malloc(mib * MIB);
        for (long i = 0; i < mib * MIB; i += 4096)
            p[i] = 1;
        kept = p;
        if (write(ready, "x", 1) != 1)
            _exit(11);
        while (stay)
            pause();
        _exit(0);
    }
    return pid;
}

static const char* how(int status)
{
    static char text[32];
    if (WIFSIGNALED(status))
        snprintf(text, sizeof text, "killed by %d", WTERMSIG(status));
    else
        snprintf(text, sizeof text, "exited %d", WEXITSTATUS(status));
    return text;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int ready[2];
    if (pipe(ready) || put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 ||
        mkdir("/sys/fs/cgroup/score", 0755) || put("/sys/fs/cgroup/score/memory.max", "50M") ||
        put("/sys/fs/cgroup/score/memory.swap.max", "0") || put("/sys/fs/cgroup/score/memory.oom.group", "1"))
        return 1;
    char c, path[64];
    pid_t safe = child(1, 1, ready[1]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", safe);
    if (put(path, "-1000"))
        return 1;
    pid_t other = child(1, 1, ready[1]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    pid_t grower = child(100, 0, ready[1]);
    int status;
    waitpid(grower, &status, 0);
    printf("grower: %s\n", how(status));
    waitpid(other, &status, 0);
    printf("other holder: %s\n", how(status));
    printf("protected holder alive: %d\n", kill(safe, 0) == 0);
    printf("oom_kill: %ld\n", field("/sys/fs/cgroup/score/memory.events", "oom_kill"));
    printf("oom_group_kill: %ld\n", field("/sys/fs/cgroup/score/memory.events", "oom_group_kill"));
    kill(safe, SIGKILL);
    waitpid(safe, &status, 0);
    printf("protected holder: %s\n", how(status));
    printf("rmdir: %d\n", rmdir("/sys/fs/cgroup/score"));
    return 0;
}
