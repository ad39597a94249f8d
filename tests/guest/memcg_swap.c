/* memory.swap.max (run with --mem 128M --swap 64M): a group whose memory.max is 16 MiB
 *   1. with swap allowed, a process that writes 32 MiB survives: the rest goes to swap, which the
 *      group is charged for (memory.swap.peak), and its data reads back whole;
 *   2. with memory.swap.max = 0 the same process is killed by the group's OOM killer, since
 *      anonymous memory that may not be swapped cannot be reclaimed;
 *   3. in a new group with memory.swap.max = 4M it is killed too, and the group never held more
 *      than 4 MiB of swap;
 *   4. memory.reclaim takes what it is asked for, to swap, and is EAGAIN when nothing can go.
 * Only facts that hold on any Linux 6.x with cgroup v2 are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MIB (1L << 20)
#define G "/sys/fs/cgroup/swap-test"

/* Joins the group, writes 32 MiB, checks it: exit 0 when every byte read back. */
static int run_child(void)
{
    return run_writer_in(G, 32, 1);
}

static void report(const char* what, int status)
{
    if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir(G, 0755) != 0)
        return 1;
    char buf[16] = {0};
    int fd = open(G "/memory.swap.max", O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf - 1) < 0)
        return 1;
    close(fd);
    printf("swap.max: %s", buf);
    if (put(G "/memory.max", "16M") != 0)
        return 1;

    report("swap allowed", run_child());
    printf("swapped: %d\n", number(G "/memory.swap.peak") > 8 * MIB);
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));
    printf("swap.current after: %ld\n", number(G "/memory.swap.current"));

    if (put(G "/memory.swap.max", "0") != 0)
        return 1;
    report("swap.max 0", run_child());
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));

    /* A new group, so that its swap peak starts from nothing (a peak is never reset for all). */
    printf("rmdir: %d\n", rmdir(G));
    if (mkdir(G, 0755) != 0 || put(G "/memory.max", "16M") != 0 || put(G "/memory.swap.max", "4M") != 0)
        return 1;
    printf("swap.max reads: %ld\n", number(G "/memory.swap.max"));
    report("swap.max 4M", run_child());
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));
    printf("swap peak within 4M: %d\n", number(G "/memory.swap.peak") <= 4 * MIB);
    printf("swapped some: %d\n", number(G "/memory.swap.peak") > 0);
    printf("rmdir: %d\n", rmdir(G));

    /* 4. memory.reclaim: a holder of 8 MiB gives 4 MiB to swap when asked; with no swap allowed
     * nothing can go, and the write fails with EAGAIN. */
    int ready[2], release[2];
    if (mkdir(G, 0755) != 0 || pipe(ready) || pipe(release))
        return 1;
    pid_t holder = fork();
    if (holder == 0) {
        if (put(G "/cgroup.procs", "0") != 0)
            _exit(10);
        char* p = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(11);
        for (long i = 0; i < 8 * MIB; i += 4096)
            p[i] = (char)(i >> 12);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
            _exit(12);
        for (long i = 0; i < 8 * MIB; i += 4096)
            if (p[i] != (char)(i >> 12))
                _exit(13);
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 1;
    long before = number(G "/memory.current");
    printf("reclaim 4M: %d\n", put(G "/memory.reclaim", "4M"));
    printf("gave 4M: %d\n", before - number(G "/memory.current") >= 4 * MIB);
    printf("to swap: %d\n", number(G "/memory.swap.current") >= 4 * MIB);
    put(G "/memory.swap.max", "0");
    printf("reclaim without swap: %s\n", put(G "/memory.reclaim", "4M") == EAGAIN ? "EAGAIN" : "other");
    if (write(release[1], "x", 1) != 1)
        return 1;
    int status;
    waitpid(holder, &status, 0);
    report("holder", status);
    printf("rmdir: %d\n", rmdir(G));
    return 0;
}
