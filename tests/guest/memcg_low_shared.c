/* memory.low shared among siblings (run with --mem 96M --swap 256M): B (memory.low 24M) has two
 * children, C (low 36M) and D (low 12M), holding 16 MiB each. Together they claim 28 MiB of
 * protection, more than B's 24 MiB, so Linux scales each child's down in proportion
 * (effective_protection): neither is protected whole. Under pressure from a hog outside, both
 * give pages to swap, and B keeps about its 24 MiB. Only facts that hold on any Linux 6.x with
 * cgroup v2 are printed. (LTP's memcontrol03 checks the same sharing.) */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MIB (1L << 20)
#define B "/sys/fs/cgroup/b"

static pid_t holder(const char* procs, int ready, int release)
{
    pid_t pid = fork();
    if (pid)
        return pid;
    if (put(procs, "0"))
        _exit(10);
    char* p = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(11);
    for (long i = 0; i < 16 * MIB; i += 4096)
        p[i] = (char)(i >> 12);
    char c = 'r';
    if (write(ready, &c, 1) != 1 || read(release, &c, 1) != 1)
        _exit(12);
    for (long i = 0; i < 16 * MIB; i += 4096)
        if (p[i] != (char)(i >> 12))
            _exit(13);
    _exit(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") || mkdir(B, 0755) ||
        put(B "/memory.low", "24M") || put(B "/cgroup.subtree_control", "+memory") || mkdir(B "/c", 0755) ||
        mkdir(B "/d", 0755) || put(B "/c/memory.low", "36M") || put(B "/d/memory.low", "12M"))
        return 1;
    int ready[2], release[2];
    if (pipe(ready) || pipe(release))
        return 1;
    pid_t c = holder(B "/c/cgroup.procs", ready[1], release[0]);
    pid_t d = holder(B "/d/cgroup.procs", ready[1], release[0]);
    char ch;
    if (read(ready[0], &ch, 1) != 1 || read(ready[0], &ch, 1) != 1)
        return 1;
    pid_t hog = fork();
    if (hog == 0) {
        char* p = mmap(NULL, 160 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(11);
        for (long i = 0; i < 160 * MIB; i += 4096)
            p[i] = 1;
        _exit(0);
    }
    int status;
    waitpid(hog, &status, 0);
    printf("hog exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("c swapped: %d\n", number(B "/c/memory.swap.current") > 0);
    printf("d swapped: %d\n", number(B "/d/memory.swap.current") > 0);
    long b = number(B "/memory.current");
    printf("b near its low: %d\n", b >= 18 * MIB && b <= 30 * MIB);
    printf("low events in c and d: %d %d\n", field(B "/c/memory.events", "low") > 0,
           field(B "/d/memory.events", "low") > 0);
    if (write(release[1], "xx", 2) != 2)
        return 1;
    waitpid(c, &status, 0);
    printf("c holder exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    waitpid(d, &status, 0);
    printf("d holder exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("rmdir: %d %d %d\n", rmdir(B "/c"), rmdir(B "/d"), rmdir(B));
    return 0;
}
