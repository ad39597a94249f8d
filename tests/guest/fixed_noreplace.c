/* MAP_FIXED_NOREPLACE is MAP_FIXED that will not replace: an unaligned address is EINVAL (not a
 * hint rounded down), a free one is used exactly, a taken one is EEXIST; a plain hint that is
 * unaligned is rounded. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char* area = mmap(NULL, 16 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area, 16 * page);
    char* want = area + 4 * page;
    errno = 0;
    void* p = mmap(want + 1024, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("unaligned NOREPLACE: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
    p = mmap(want, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("aligned free NOREPLACE: %s\n", p == want ? "exactly there" : p == MAP_FAILED ? strerror(errno) : "elsewhere");
    errno = 0;
    p = mmap(want, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("taken NOREPLACE: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
    errno = 0;
    p = mmap(want + 1024, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("unaligned MAP_FIXED: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
    p = mmap(want + 8 * page + 1024, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("unaligned hint: %s\n", p == want + 8 * page ? "rounded down" : p == MAP_FAILED ? strerror(errno) : "elsewhere");
    return 0;
}
