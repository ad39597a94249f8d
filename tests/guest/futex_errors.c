/* futex argument errors as Linux gives them: a shared futex's page must be there (EFAULT for
 * nothing mapped, PROT_NONE or a file page past the end), a private one is only a number;
 * FUTEX_CMP_REQUEUE refuses negative counts (EINVAL), a misaligned or missing second futex, and
 * a changed value (EAGAIN). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long futex(void* uaddr, int op, int val, long val2, void* uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static const char* err_name(int e)
{
    return e == EFAULT ? "EFAULT" : e == EINVAL ? "EINVAL" : e == EAGAIN ? "EAGAIN" : strerror(e);
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (call);                                                                                 \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? err_name(errno) : "");                                  \
    } while (0)

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uint32_t* good = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t* none = mmap(NULL, page, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t* gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    munmap(gone, page);
    int fd = memfd_create("futex", 0);
    ftruncate(fd, 2 * page);
    char* file = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ftruncate(fd, page);
    uint32_t* past_end = (uint32_t*)(file + page);

    SHOW("wake, shared, mapped", futex(good, FUTEX_WAKE, 1, 0, NULL, 0));
    SHOW("wake, shared, unmapped", futex(gone, FUTEX_WAKE, 1, 0, NULL, 0));
    SHOW("wake, shared, PROT_NONE", futex(none, FUTEX_WAKE, 1, 0, NULL, 0));
    SHOW("wake, shared, past the file's end", futex(past_end, FUTEX_WAKE, 1, 0, NULL, 0));
    SHOW("wake, private, unmapped", futex(gone, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
    SHOW("wake, misaligned", futex((char*)good + 1, FUTEX_WAKE, 1, 0, NULL, 0));
    *good = 5;
    SHOW("cmp_requeue", futex(good, FUTEX_CMP_REQUEUE, 1, 1, good + 1, 5));
    SHOW("cmp_requeue, value changed", futex(good, FUTEX_CMP_REQUEUE, 1, 1, good + 1, 6));
    SHOW("cmp_requeue, nr_wake -1", futex(good, FUTEX_CMP_REQUEUE, -1, 1, good + 1, 5));
    SHOW("cmp_requeue, nr_requeue -1", futex(good, FUTEX_CMP_REQUEUE, 1, -1, good + 1, 5));
    SHOW("cmp_requeue, second unmapped", futex(good, FUTEX_CMP_REQUEUE, 1, 1, gone, 5));
    SHOW("cmp_requeue, second PROT_NONE", futex(good, FUTEX_CMP_REQUEUE, 1, 1, none, 5));
    SHOW("cmp_requeue, second misaligned", futex(good, FUTEX_CMP_REQUEUE, 1, 1, (char*)good + 5, 5));
    SHOW("wait, value differs", futex(good, FUTEX_WAIT, 4, 0, NULL, 0));
    SHOW("wait, shared, unmapped", futex(gone, FUTEX_WAIT, 0, 0, NULL, 0));
    return 0;
}
