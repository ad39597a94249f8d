/* /dev/full (zeros to read, ENOSPC to every write, character device 1:7) and /dev/tty without a
 * controlling terminal (ENXIO; natively run under setsid with no terminal). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
    int fd = open("/dev/full", O_RDWR);
    printf("/dev/full open %s\n", fd < 0 ? strerror(errno) : "ok");
    char b[4] = {1, 1, 1, 1};
    ssize_t w = write(fd, "abcd", 4);
    printf("write %zd %s\n", w, w < 0 ? strerror(errno) : "");
    ssize_t r = read(fd, b, 4);
    printf("read %zd bytes %d%d%d%d\n", r, b[0], b[1], b[2], b[3]);
    struct stat st;
    fstat(fd, &st);
    printf("char device %d, rdev 1:%u\n", S_ISCHR(st.st_mode) != 0, (unsigned)(st.st_rdev & 0xff));
    int t = open("/dev/tty", O_RDWR);
    printf("/dev/tty: %s\n", t < 0 ? (errno == ENXIO ? "ENXIO" : strerror(errno)) : "ok");
    return 0;
}
