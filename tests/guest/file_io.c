/* Files through the page cache: create, write, seek, read back, stat, map, truncate, unlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kioku-guest-file-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    for (int i = 0; i < 1000; ++i)
        dprintf(fd, "line %04d\n", i);
    struct stat st;
    fstat(fd, &st);
    printf("size after writes %lld\n", (long long)st.st_size);
    lseek(fd, 10 * 500, SEEK_SET);
    char buf[11] = {0};
    read(fd, buf, 10);
    printf("line 500 reads: %s", buf);
    char* map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mapped line 999: %.9s\n", map + 9990);
    char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(shared, "LINE", 4);
    msync(shared, 4096, MS_SYNC);
    pread(fd, buf, 10, 0);
    printf("after a shared store: %s", buf);
    ftruncate(fd, 100);
    fstat(fd, &st);
    printf("size after truncate %lld\n", (long long)st.st_size);
    munmap(map, 10000);
    munmap(shared, 4096);
    close(fd);
    printf("stat of the path: %d\n", stat(path, &st));
    printf("unlink: %d\n", unlink(path));
    int again = open(path, O_RDONLY);
    printf("open after unlink: %d errno %s\n", again, errno == ENOENT ? "ENOENT" : "other");
    ssize_t got = read(77, buf, 1);
    printf("read from a bad fd: %zd errno %s\n", got, errno == EBADF ? "EBADF" : "other");
    const char* volatile bad = (const char*)16;
    ssize_t wrote = write(1, bad, 4);
    printf("write from a bad pointer: %zd errno %s\n", wrote, errno == EFAULT ? "EFAULT" : "other");
    return 0;
}
