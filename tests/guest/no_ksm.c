/* A kernel without KSM (CONFIG_KSM off), as kioku is: MADV_MERGEABLE and MADV_UNMERGEABLE are
 * unknown advice (EINVAL, before the range is looked at), and /sys/kernel/mm/ksm does not exist,
 * which is how programs and test suites find out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    int r = madvise(p, 4096, MADV_MERGEABLE);
    printf("MADV_MERGEABLE: %d %s\n", r, strerror(errno));
    errno = 0;
    r = madvise(p, 4096, MADV_UNMERGEABLE);
    printf("MADV_UNMERGEABLE: %d %s\n", r, strerror(errno));
    errno = 0;
    r = madvise(p + 1, 4096, MADV_MERGEABLE); /* unaligned: still the advice that is refused */
    printf("unaligned MADV_MERGEABLE: %d %s\n", r, strerror(errno));
    errno = 0;
    int fd = open("/sys/kernel/mm/ksm/run", O_RDONLY);
    printf("open /sys/kernel/mm/ksm/run: %d %s\n", fd < 0 ? -1 : 0, fd < 0 ? strerror(errno) : "");
    return 0;
}
