/* A program whose memory grows until none is left, beside two small ones, on a machine without
 * swap (run with --mem 128M): the OOM killer must kill the grower, and only it, and the run must
 * end promptly. The parent forks two holders (8 MiB each, touched, then waiting on a pipe) and a
 * grower (1 MiB more at a time, each page written); it reports how the grower ended, then lets
 * the holders exit and reports theirs. Its own text and the holders' stay resident enough to run:
 * reclaim must not thrash them while the grower's heap eats every free page. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1UL << 20)

static void report(const char* name, int status)
{
    if (WIFSIGNALED(status))
        printf("%s killed by signal %d\n", name, WTERMSIG(status));
    else
        printf("%s exited %d\n", name, WEXITSTATUS(status));
}

static pid_t holder(int release_fd, int ready_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char* p = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(1);
    memset(p, 0x5a, 8 * MIB);
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1 || read(release_fd, &c, 1) != 1)
        _exit(2);
    for (unsigned long i = 0; i < 8 * MIB; i += 4096)
        if (p[i] != 0x5a)
            _exit(3); /* its memory was lost */
    _exit(0);
}

int main(void)
{
    int release[2], ready[2];
    if (pipe(release) != 0 || pipe(ready) != 0)
        return 1;
    pid_t holders[2];
    for (int i = 0; i < 2; ++i)
        holders[i] = holder(release[0], ready[1]);
    char c;
    for (int i = 0; i < 2; ++i)
        if (read(ready[0], &c, 1) != 1)
            return 1;
    pid_t grower = fork();
    if (grower == 0) {
        for (;;) {
            char* p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(4);
            memset(p, 1, MIB);
        }
    }
    int status;
    waitpid(grower, &status, 0);
    report("grower", status);
    if (write(release[1], "xx", 2) != 2)
        return 1;
    for (int i = 0; i < 2; ++i) {
        waitpid(holders[i], &status, 0);
        report(i == 0 ? "holder 1" : "holder 2", status);
    }
    return 0;
}
