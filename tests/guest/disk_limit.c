/* kioku run --disk-limit: writes past the room the guest may take fail with ENOSPC, a write that
 * would cross it is cut short, and removing a file gives its room back. Run with
 * --disk-limit 1M. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long fill(const char* path)
{
    static char block[100000];
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    long total = 0;
    for (;;) {
        ssize_t n = write(fd, block, sizeof block);
        if (n < 0) {
            printf("%s: %ld bytes, then %s\n", path, total, errno == ENOSPC ? "ENOSPC" : strerror(errno));
            break;
        }
        total += n;
    }
    printf("ftruncate %s larger: %s\n", path,
           ftruncate(fd, total + 4096) == 0 ? "ok"
           : errno == ENOSPC                ? "ENOSPC"
                                            : "other");
    close(fd);
    return total;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    fill("/tmp/first");
    unlink("/tmp/first");
    fill("/tmp/second");
    fill("/tmp/second"); /* O_TRUNC gives the room back before the refill */
    return 0;
}
