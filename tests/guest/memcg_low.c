/* memory.low (run with --mem 64M --swap 128M): global reclaim passes over a group whose usage is
 * within its memory.low while others have memory to give. A keeper in group "kept" (low 32M) and
 * one in group "open" (no protection) each hold 12 MiB; then a hog outside both writes 80 MiB.
 * The unprotected keeper loses pages to swap, the protected one none. Only facts that hold on any
 * Linux 6.x with cgroup v2 are printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MIB (1L << 20)

/* A keeper: joins the group, writes 12 MiB, says so, waits, then checks them. */
static pid_t keeper(const char* procs, int ready, int release)
{
    pid_t pid = fork();
    if (pid)
        return pid;
    if (put(procs, "0"))
        _exit(10);
    char* p = mmap(NULL, 12 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(11);
    for (long i = 0; i < 12 * MIB; i += 4096)
        p[i] = (char)(i >> 12);
    char c = 'r';
    if (write(ready, &c, 1) != 1 || read(release, &c, 1) != 1)
        _exit(12);
    for (long i = 0; i < 12 * MIB; i += 4096)
        if (p[i] != (char)(i >> 12))
            _exit(13);
    _exit(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") || mkdir("/sys/fs/cgroup/kept", 0755) ||
        mkdir("/sys/fs/cgroup/open", 0755) || put("/sys/fs/cgroup/kept/memory.low", "32M"))
        return 1;
    int ready[2], release[2];
    if (pipe(ready) || pipe(release))
        return 1;
    pid_t a = keeper("/sys/fs/cgroup/kept/cgroup.procs", ready[1], release[0]);
    pid_t b = keeper("/sys/fs/cgroup/open/cgroup.procs", ready[1], release[0]);
    char c;
    if (read(ready[0], &c, 1) != 1 || read(ready[0], &c, 1) != 1)
        return 1;
    pid_t hog = fork();
    if (hog == 0) {
        char* p = mmap(NULL, 80 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(11);
        for (long i = 0; i < 80 * MIB; i += 4096)
            p[i] = 1;
        _exit(0);
    }
    int status;
    waitpid(hog, &status, 0);
    printf("hog exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("kept swapped: %d\n", number("/sys/fs/cgroup/kept/memory.swap.current") > 0);
    printf("open swapped: %d\n", number("/sys/fs/cgroup/open/memory.swap.current") > 0);
    printf("kept whole: %d\n", number("/sys/fs/cgroup/kept/memory.current") >= 12 * MIB);
    if (write(release[1], "xx", 2) != 2)
        return 1;
    waitpid(a, &status, 0);
    printf("kept keeper exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    waitpid(b, &status, 0);
    printf("open keeper exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("rmdir: %d %d\n", rmdir("/sys/fs/cgroup/kept"), rmdir("/sys/fs/cgroup/open"));
    return 0;
}
