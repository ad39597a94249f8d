/* A child the OOM killer takes is a child that died of SIGKILL like any other (run with
 * --mem 128M): its parent, waiting for it in waitpid, gets SIGCHLD with CLD_KILLED and the
 * status of SIGKILL, and the child's own child is handed to init. The child grows inside a memory
 * cgroup with memory.max = 8M and no swap, in one mmap with MAP_POPULATE, so the group's OOM
 * killer chooses it (the largest) inside that call.
 * kioku once let the waiting parent reap such a child before the child's end was done: no
 * SIGCHLD, and the grandchild kept a parent that was gone. Only facts that hold on any Linux 6.x
 * with cgroup v2 are printed. */
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

static volatile sig_atomic_t chld_code;

static void on_chld(int sig, siginfo_t* info, void* ctx)
{
    (void)sig, (void)ctx;
    chld_code = info->si_code;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir("/sys/fs/cgroup/small", 0755) ||
        put("/sys/fs/cgroup/small/memory.max", "8M") || put("/sys/fs/cgroup/small/memory.swap.max", "0"))
        return 1;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);

    int report[2];
    if (pipe(report))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        if (put("/sys/fs/cgroup/small/cgroup.procs", "0") != 0)
            _exit(10);
        pid_t grandchild = fork();
        if (grandchild == 0) {
            /* Waits for its parent to die, then tells whose child it is now. */
            close(report[0]);
            while (getppid() != 1)
                usleep(10000);
            char line[32];
            int n = snprintf(line, sizeof line, "%d\n", getppid());
            write(report[1], line, n);
            _exit(0);
        }
        /* Populated by the call itself: the group's OOM killer takes the child inside mmap. */
        mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        _exit(20); /* not reached */
    }
    close(report[1]);
    int status;
    while (waitpid(child, &status, 0) != child)
        ;
    printf("SIGCHLD: %s\n", chld_code == CLD_KILLED ? "CLD_KILLED" : chld_code ? "other" : "none");
    printf("child: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    char line[32] = {0};
    read(report[0], line, sizeof line - 1);
    printf("grandchild's parent afterwards: %s", line);
    printf("oom_kill: %ld\n", field("/sys/fs/cgroup/small/memory.events", "oom_kill"));
    while (rmdir("/sys/fs/cgroup/small") != 0) /* the grandchild may still be on its way out */
        usleep(10000);
    return 0;
}
