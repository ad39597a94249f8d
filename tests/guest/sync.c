// sync(2) and syncfs(2) after writing a file: both succeed, a bad descriptor is EBADF, and the
// data reads back. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char path[] = "/tmp/kioku-sync-XXXXXX";
    int fd = mkstemp(path);
    static char block[65536];
    memset(block, 'k', sizeof block);
    printf("write: %zd\n", write(fd, block, sizeof block));
    sync();
    printf("sync: done\n");
    printf("syncfs: %d\n", syncfs(fd));
    errno = 0;
    int r = syncfs(-1);
    printf("syncfs(-1): %d %s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
    char back[16] = {0};
    ssize_t n = pread(fd, back, 1, 65535);
    printf("pread: %zd '%c'\n", n, back[0]);
    close(fd);
    unlink(path);
    return 0;
}
