/* Who the OOM killer kills when several processes together exceed the memory they may use.
 *
 * Run in a 64 MiB memory cgroup with no swap (natively), or on a 64 MiB kioku machine without
 * swap. Four children are forked one after another; each touches its memory, tells the parent it
 * is ready and waits:
 *   small     4 MiB
 *   largest  24 MiB; with the argument "protect" it first sets its oom_score_adj to -1000
 *   second   20 MiB
 *   trigger  touches 24 MiB, which does not fit: the OOM killer runs while it is allocating.
 * The trigger holds at most about 16 MiB when the limit is reached, so the victim is `largest`,
 * or `second` when `largest` is exempt; either death leaves room for the trigger to complete.
 * The parent prints each child's fate in fork order: facts, never pids. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define PAGE 4096UL

struct child {
    const char* name;
    size_t mib;
    int oom_score_adj; /* written only when non-zero */
    int waits;         /* holds its memory until the parent releases it */
    pid_t pid;
};

static void fail(const char* what)
{
    perror(what);
    exit(2);
}

static void set_oom_score_adj(int value)
{
    char text[16];
    int n = snprintf(text, sizeof text, "%d", value);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0 || write(fd, text, (size_t)n) != n)
        fail("oom_score_adj");
    close(fd);
}

static void touch(size_t bytes)
{
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail("mmap");
    madvise(p, bytes, MADV_NOHUGEPAGE); /* one base page per fault, whatever the THP setting */
    for (size_t i = 0; i < bytes; i += PAGE)
        p[i] = 1;
}

/* The child's life: never returns. */
static void run_child(const struct child* c, int ready_fd, int release_fd)
{
    if (c->oom_score_adj)
        set_oom_score_adj(c->oom_score_adj);
    touch(c->mib * MIB);
    char byte = 1;
    if (write(ready_fd, &byte, 1) != 1)
        _exit(3);
    if (c->waits)
        while (read(release_fd, &byte, 1) > 0) {
        }
    _exit(0);
}

/* Forks the child and waits until it has touched its memory (or died trying). */
static void start(struct child* c, int release[2])
{
    int ready[2];
    if (pipe(ready) != 0)
        fail("pipe");
    fflush(stdout);
    c->pid = fork();
    if (c->pid < 0)
        fail("fork");
    if (c->pid == 0) {
        close(ready[0]);
        close(release[1]);
        run_child(c, ready[1], release[0]);
    }
    close(ready[1]);
    char byte;
    while (read(ready[0], &byte, 1) < 0) {
    }
    close(ready[0]);
}

static void report(const struct child* c)
{
    int status = 0;
    if (waitpid(c->pid, &status, 0) != c->pid)
        fail("waitpid");
    if (WIFEXITED(status))
        printf("%s exited %d\n", c->name, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s killed by signal %d\n", c->name, WTERMSIG(status));
}

int main(int argc, char** argv)
{
    int protect = argc > 1 && !strcmp(argv[1], "protect");
    struct child children[] = {
        {"small", 4, 0, 1, 0},
        {"largest", 24, protect ? -1000 : 0, 1, 0},
        {"second", 20, 0, 1, 0},
        {"trigger", 24, 0, 0, 0},
    };
    size_t n = sizeof children / sizeof children[0];
    int release[2];
    if (pipe(release) != 0)
        fail("pipe");
    for (size_t i = 0; i < n; ++i)
        start(&children[i], release);
    /* The trigger has finished (or died); let the others go and collect everyone. */
    close(release[0]);
    close(release[1]);
    for (size_t i = 0; i < n; ++i)
        report(&children[i]);
    return 0;
}
