/* The pid space: numbers wrap at kernel.pid_max and restart above RESERVED_PIDS (300), a number
 * is not reused while a zombie holds it, fork fails with EAGAIN when every number is taken and
 * when kernel.threads-max tasks exist, and the sysctls refuse values out of range. Writes the
 * sysctls itself (as root does on Linux). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long read_long(const char* path)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
        return -1;
    close(fd);
    return strtol(buf, NULL, 10);
}

static const char* write_long(const char* path, long v)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%ld\n", v);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return strerror(errno);
    ssize_t w = write(fd, buf, n);
    int e = errno;
    close(fd);
    return w == n ? "ok" : e == EINVAL ? "EINVAL" : strerror(e);
}

/* Forks children that wait on a pipe until fork fails; returns how many were made. */
static int hold_until_full(int* failure, pid_t* pids, int max)
{
    int fds[2];
    pipe(fds);
    int made = 0;
    for (; made < max; ++made) {
        pid_t pid = fork();
        if (pid < 0) {
            *failure = errno;
            break;
        }
        if (pid == 0) {
            char c;
            close(fds[1]);
            read(fds[0], &c, 1);
            _exit(0);
        }
        pids[made] = pid;
    }
    close(fds[0]);
    close(fds[1]);
    for (int i = 0; i < made; ++i)
        waitpid(pids[i], NULL, 0);
    return made;
}

int main(void)
{
    static pid_t pids[5000];
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("pid_max 300: %s\n", write_long("/proc/sys/kernel/pid_max", 300));
    printf("pid_max 4194305: %s\n", write_long("/proc/sys/kernel/pid_max", 4194305));
    printf("threads-max 0: %s\n", write_long("/proc/sys/kernel/threads-max", 0));
    printf("pid_max 400: %s\n", write_long("/proc/sys/kernel/pid_max", 400));

    /* Short-lived children: the numbers climb to 399, then start again at 300 or above. */
    pid_t prev = getpid(), low = 1 << 30;
    int wrapped = 0, matches_last = 1;
    for (int i = 0; i < 500; ++i) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < prev)
            ++wrapped;
        if (pid < low && wrapped)
            low = pid;
        if (read_long("/proc/sys/kernel/ns_last_pid") != pid)
            matches_last = 0;
        prev = pid;
        waitpid(pid, NULL, 0);
    }
    printf("wrapped: %s, lowest after the wrap >= 300: %s, all below 400: %s\n", wrapped ? "yes" : "no",
           low >= 300 ? "yes" : "no", prev < 400 ? "yes" : "no");
    printf("ns_last_pid names the last child: %s\n", matches_last ? "yes" : "no");

    /* A zombie keeps its number: none of the next children gets it. */
    pid_t zombie = fork();
    if (zombie == 0)
        _exit(0);
    usleep(10000);
    int reused = 0;
    for (int i = 0; i < 200; ++i) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        reused |= pid == zombie;
        waitpid(pid, NULL, 0);
    }
    waitpid(zombie, NULL, 0);
    printf("a zombie's number reused: %s\n", reused ? "yes" : "no");

    int failure = 0;
    int made = hold_until_full(&failure, pids, 5000);
    printf("pid space full: fork failed with %s after more than 50 children: %s\n",
           failure == EAGAIN ? "EAGAIN" : strerror(failure), made > 50 ? "yes" : "no");
    printf("pid_max 32768: %s\n", write_long("/proc/sys/kernel/pid_max", 32768));

    long threads_max = read_long("/proc/sys/kernel/threads-max");
    printf("threads-max is at least 20: %s\n", threads_max >= 20 ? "yes" : "no");
    failure = 0;
    printf("threads-max 40: %s\n", write_long("/proc/sys/kernel/threads-max", 40));
    made = hold_until_full(&failure, pids, 5000);
    printf("threads-max reached: fork failed with %s after fewer than 40 children: %s\n",
           failure == EAGAIN ? "EAGAIN" : strerror(failure), made < 40 ? "yes" : "no");
    printf("threads-max back: %s\n", write_long("/proc/sys/kernel/threads-max", threads_max));
    return 0;
}
