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

#define MIB (1L << 20)

static int put(const char* path, const char* text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
    close(fd);
    return ok;
}

static long field(const char* path, const char* key)
{
    char buf[512] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (read(fd, buf, sizeof buf - 1) < 0)
        buf[0] = 0;
    close(fd);
    if (!key)
        return atol(buf);
    size_t len = strlen(key);
    for (char* line = buf; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line))
        if (!strncmp(line, key, len) && line[len] == ' ')
            return atol(line + len + 1);
    return -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs a child in the group that writes and checks 32 MiB; its status, and the time it took. */
static int run_in(const char* group, double* seconds)
{
    char procs[128];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", group);
    double start = now();
    pid_t pid = fork();
    if (pid == 0) {
        if (put(procs, "0") != 0)
            _exit(10);
        char* p = mmap(NULL, 32 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(11);
        for (long i = 0; i < 32 * MIB; i += 4096)
            p[i] = (char)(i >> 12);
        for (long i = 0; i < 32 * MIB; i += 4096)
            if (p[i] != (char)(i >> 12))
                _exit(12);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
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
    printf("peak under 16M: %d\n", field("/sys/fs/cgroup/high/memory.peak", NULL) < 16 * MIB);
    printf("swapped: %d\n", field("/sys/fs/cgroup/high/memory.swap.peak", NULL) > 0);
    printf("slower: %d\n", high_time > free_time);
    printf("rmdir: %d %d\n", rmdir("/sys/fs/cgroup/free"), rmdir("/sys/fs/cgroup/high"));
    return 0;
}
