/* Kernel memory in a memory cgroup (run with --mem 128M): the vm_area_struct objects of a
 * process's mappings are charged to its group (memory.stat's slab_unreclaimable and slab,
 * memory.current), and a group whose memory.max is reached by them alone OOM-kills its process,
 * as a group reaching its limit with user pages does. Only facts that hold on any Linux 6.x with
 * cgroup v2 are printed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

#define MAPPINGS 2000

/* One page each, protections alternating so that no two merge into one VMA. */
static int map_many(char** at, int n)
{
    for (int i = 0; i < n; ++i) {
        at[i] =
            mmap(NULL, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (at[i] == MAP_FAILED)
            return i;
    }
    return n;
}

static int status_text(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir("/sys/fs/cgroup/kmem", 0755) ||
        mkdir("/sys/fs/cgroup/tight", 0755) || put("/sys/fs/cgroup/tight/memory.max", "1M") ||
        put("/sys/fs/cgroup/tight/memory.swap.max", "0"))
        return 1;

    /* Case 1: the group's slab grows with the mappings and falls when they go. */
    int pipefd[2];
    if (pipe(pipefd))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        static char* at[MAPPINGS];
        if (put("/sys/fs/cgroup/kmem/cgroup.procs", "0") != 0)
            _exit(10);
        const char* stat = "/sys/fs/cgroup/kmem/memory.stat";
        long slab0 = field(stat, "slab_unreclaimable"),
             current0 = number("/sys/fs/cgroup/kmem/memory.current");
        if (map_many(at, MAPPINGS) != MAPPINGS)
            _exit(11);
        long slab1 = field(stat, "slab_unreclaimable"),
             current1 = number("/sys/fs/cgroup/kmem/memory.current");
        printf("slab grew by 100 bytes a mapping or more: %d\n", slab1 - slab0 >= MAPPINGS * 100L);
        printf("memory.current grew as much: %d\n", current1 - current0 >= MAPPINGS * 100L);
        printf("slab = reclaimable + unreclaimable: %d\n",
               field(stat, "slab") == field(stat, "slab_reclaimable") + field(stat, "slab_unreclaimable"));
        printf("kernel >= pagetables + slab: %d\n",
               field(stat, "kernel") >= field(stat, "pagetables") + field(stat, "slab"));
        for (int i = 0; i < MAPPINGS; ++i)
            munmap(at[i], 4096);
        sleep(1); /* vm_area_structs may be freed after an RCU grace period */
        long slab2 = field(stat, "slab_unreclaimable");
        printf("slab fell back by most of it: %d\n", slab1 - slab2 >= (slab1 - slab0) / 2);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("case 1: exited %d\n", status_text(status));

    /* Case 2: mappings alone take the group to memory.max: its OOM killer takes the process. */
    pid = fork();
    if (pid == 0) {
        static char* at[60000];
        if (put("/sys/fs/cgroup/tight/cgroup.procs", "0") != 0)
            _exit(10);
        map_many(at, 60000);
        _exit(20); /* not reached: the group's OOM killer ends it first */
    }
    waitpid(pid, &status, 0);
    printf("case 2: exited %d\n", status_text(status));
    printf("case 2 oom_kill: %ld\n", field("/sys/fs/cgroup/tight/memory.events", "oom_kill"));
    printf("case 2 peak within 1M: %d\n", number("/sys/fs/cgroup/tight/memory.peak") <= 1L << 20);
    printf("rmdir: %d %d\n", rmdir("/sys/fs/cgroup/kmem"), rmdir("/sys/fs/cgroup/tight"));
    return 0;
}
