/* The memory controller of cgroup v2, as a program sees it through /sys/fs/cgroup (run with
 * --mem 128M, no swap). It prints only facts that hold on any Linux 6.x with cgroup v2 and the
 * memory controller: file contents that do not depend on byte counts, errno names, and
 * comparisons.
 *   1. the hierarchy: /proc/self/cgroup, the root's controllers, "+memory", mkdir, the child's
 *      files, the errors of mkdir, cgroup.procs and cgroup.subtree_control;
 *   2. a process that moves into a group with memory.max = 16 MiB and grows to 64 MiB is killed
 *      by the group's OOM killer, while a bigger process outside the group lives on;
 *   3. with two processes in the group, the bigger one is the victim, not the one that grows;
 *   4. with memory.oom.group = 1 both die together;
 *   5. memory.max lowered under the usage reclaims what it can and kills the rest;
 *   6. an empty group is removed, a populated one is not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

/* A file's text for printing; "(missing)" when it cannot be read. */
static const char* shown(const char* path)
{
    const char* text = text_of(path);
    return text[0] || access(path, R_OK) == 0 ? text : "(missing)\n";
}

#define MIB (1UL << 20)
#define ROOT "/sys/fs/cgroup"
#define G ROOT "/kioku-test"

static const char* err(int e)
{
    switch (e) {
    case 0: return "0";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static void report(const char* name, int status)
{
    if (WIFSIGNALED(status))
        printf("%s killed by signal %d\n", name, WTERMSIG(status));
    else
        printf("%s exited %d\n", name, WEXITSTATUS(status));
}

/* A child that moves into the group (pid 0: itself), touches `mib` MiB and then waits on the pipe
 * (or grows forever when mib is 0). */
static pid_t child(const char* group, unsigned long mib, int ready_fd, int release_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char procs[256];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", group);
    if (put(procs, "0") != 0)
        _exit(10);
    if (mib == 0) {
        for (;;) {
            char* p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(11);
            memset(p, 1, MIB);
        }
    }
    char* p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(12);
    memset(p, 2, mib * MIB);
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1 || read(release_fd, &c, 1) != 1)
        _exit(13);
    _exit(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* 1. The hierarchy. */
    printf("self: %s", shown("/proc/self/cgroup"));
    struct statfs fs;
    printf("statfs cgroup2: %d\n", statfs(ROOT, &fs) == 0 && fs.f_type == 0x63677270);
    printf("root controllers has memory: %d\n", strstr(shown(ROOT "/cgroup.controllers"), "memory") != NULL);
    printf("+memory: %s\n", err(put(ROOT "/cgroup.subtree_control", "+memory")));
    printf("+nosuch: %s\n", err(put(ROOT "/cgroup.subtree_control", "+nosuch")));
    printf("mkdir: %s\n", err(mkdir(G, 0755) ? errno : 0));
    printf("mkdir again: %s\n", err(mkdir(G, 0755) ? errno : 0));
    printf("controllers: %s", shown(G "/cgroup.controllers"));
    printf("subtree_control: %s", shown(G "/cgroup.subtree_control"));
    printf("events: %s", shown(G "/cgroup.events"));
    printf("type: %s", shown(G "/cgroup.type"));
    printf("stat: nr_descendants %ld, nr_dying_descendants %ld, the root's nr_descendants > 0: %d\n",
           field(G "/cgroup.stat", "nr_descendants"), field(G "/cgroup.stat", "nr_dying_descendants"),
           field(ROOT "/cgroup.stat", "nr_descendants") > 0);
    printf("max: %s", shown(G "/memory.max"));
    printf("oom.group: %s", shown(G "/memory.oom.group"));
    printf("current is 0: %d\n", number(G "/memory.current") == 0);
    printf("procs is empty: %d\n", shown(G "/cgroup.procs")[0] == 0);
    printf("procs pid 999999: %s\n", err(put(G "/cgroup.procs", "999999")));
    printf("procs not a number: %s\n", err(put(G "/cgroup.procs", "abc")));
    printf("max junk: %s\n", err(put(G "/memory.max", "lots")));
    printf("max 16M: %s\n", err(put(G "/memory.max", "16M")));
    printf("max reads: %s", shown(G "/memory.max"));
    printf("unlink a file: %s\n", err(unlink(G "/memory.max") ? errno : 0));
    printf("rmdir a file: %s\n", err(rmdir(G "/memory.max") ? errno : 0));

    int ready[2], release[2];
    if (pipe(ready) || pipe(release))
        return 1;
    char c;
    /* 2. A grower alone in the group dies at its limit; a bigger holder outside lives. */
    pid_t outside = child(ROOT, 32, ready[1], release[0]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    pid_t grower = child(G, 0, ready[1], release[0]);
    int status;
    waitpid(grower, &status, 0);
    report("grower", status);
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));
    printf("oom >= 1: %d\n", field(G "/memory.events", "oom") >= 1);
    printf("max events >= 1: %d\n", field(G "/memory.events", "max") >= 1);
    printf("local oom_kill: %ld\n", field(G "/memory.events.local", "oom_kill"));
    printf("peak <= max: %d\n", number(G "/memory.peak") <= 16 * (long)MIB);
    printf("peak > 8M: %d\n", number(G "/memory.peak") > 8 * (long)MIB);
    printf("populated after: %ld\n", field(G "/cgroup.events", "populated"));
    printf("outside alive: %d\n", kill(outside, 0) == 0);

    /* 3. Two in the group: the bigger one (12 MiB, waiting) is chosen, not the small grower. */
    pid_t big = child(G, 12, ready[1], release[0]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    printf("populated with one: %ld\n", field(G "/cgroup.events", "populated"));
    printf("rmdir populated: %s\n", err(rmdir(G) ? errno : 0));
    printf("+memory with a process: %s\n", err(put(G "/cgroup.subtree_control", "+memory")));
    pid_t small = fork();
    if (small == 0) {
        if (put(G "/cgroup.procs", "0") != 0)
            _exit(10);
        /* Grows 1 MiB at a time; stops (and exits 0) once it has 6 MiB, well under the big one. */
        for (int i = 0; i < 6; ++i) {
            char* p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(11);
            memset(p, 3, MIB);
        }
        _exit(0);
    }
    waitpid(small, &status, 0);
    report("small grower", status);
    waitpid(big, &status, 0);
    report("big one", status);
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));

    /* 4. memory.oom.group: the group dies whole. */
    printf("oom.group 1: %s\n", err(put(G "/memory.oom.group", "1")));
    big = child(G, 4, ready[1], release[0]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    grower = child(G, 0, ready[1], release[0]);
    waitpid(grower, &status, 0);
    report("grower", status);
    waitpid(big, &status, 0);
    report("its neighbour", status);
    printf("oom_kill: %ld\n", field(G "/memory.events", "oom_kill"));
    printf("oom_group_kill: %ld\n", field(G "/memory.events", "oom_group_kill"));
    printf("oom.group 0: %s\n", err(put(G "/memory.oom.group", "0")));

    /* 5. memory.max lowered under the usage of memory that cannot be reclaimed (no swap). */
    printf("max 32M: %s\n", err(put(G "/memory.max", "32M")));
    big = child(G, 20, ready[1], release[0]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    printf("current > 16M: %d\n", number(G "/memory.current") > 16 * (long)MIB);
    printf("max 8M: %s\n", err(put(G "/memory.max", "8M")));
    waitpid(big, &status, 0);
    report("shrunk", status);
    printf("current <= 8M: %d\n", number(G "/memory.current") <= 8 * (long)MIB);

    /* 6. Empty again: the group goes, and the outside holder is released. */
    printf("rmdir: %s\n", err(rmdir(G) ? errno : 0));
    printf("gone: %s\n", err(access(G, F_OK) ? errno : 0));
    if (write(release[1], "xx", 2) != 2)
        return 1;
    waitpid(outside, &status, 0);
    report("outside", status);
    printf("self at the end: %s", shown("/proc/self/cgroup"));
    return 0;
}
