/* Futexes between processes. A word in shared memory (anonymous MAP_SHARED, and a file mapped by
 * two processes at different addresses) is one futex for both: the parent's FUTEX_WAKE wakes the
 * child waiting there. A word in private memory is the process's own even after fork: waking it
 * in the parent does not wake the child, whose wait times out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t* word, int op, uint32_t val, const struct timespec* timeout)
{
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* The child waits on *word while it is 0 (up to `seconds`) and exits 0 when woken, 1 on timeout. */
static pid_t waiter(uint32_t* word, int seconds)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec timeout = {seconds, 0};
        long r = futex(word, FUTEX_WAIT, 0, &timeout);
        _exit(r == 0 ? 0 : errno == ETIMEDOUT ? 1 : 2);
    }
    return pid;
}

/* Wakes the futex until someone was woken or `tries` wakes found nobody; returns how many woke. */
static long wake(uint32_t* word, int tries)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (int i = 0; i < tries; ++i) {
        long n = futex(word, FUTEX_WAKE, 1, NULL);
        if (n != 0)
            return n;
        nanosleep(&pause, NULL);
    }
    return 0;
}

static void report(const char* what, pid_t child, long woken)
{
    int status;
    waitpid(child, &status, 0);
    printf("%s: wake woke %ld, child %s\n", what, woken,
           WIFEXITED(status) && WEXITSTATUS(status) == 0   ? "was woken"
           : WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "timed out"
                                                            : "failed");
}

int main(void)
{
    uint32_t* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t child = waiter(shared, 10);
    report("anonymous shared", child, wake(shared, 500));

    int fd = open("/tmp/futex-word", O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 8192) != 0)
        return 1;
    child = fork();
    if (child == 0) {
        /* The child maps the file's second page at an address of its own choosing. */
        uint32_t* mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
        struct timespec timeout = {10, 0};
        long r = futex(mine + 1, FUTEX_WAIT, 0, &timeout);
        _exit(r == 0 ? 0 : errno == ETIMEDOUT ? 1 : 2);
    }
    char* whole = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    report("file shared at other addresses", child, wake((uint32_t*)(whole + 4096) + 1, 500));
    unlink("/tmp/futex-word");

    static uint32_t private_word;
    child = waiter(&private_word, 1);
    report("private after fork", child, wake(&private_word, 20));
    return 0;
}
