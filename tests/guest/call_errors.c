/* Errors Linux checks before it looks at anything: dup3's order (flags, the same descriptor
 * twice, then the descriptors), fstatat's and statx's flags and statx's reserved mask bit,
 * renameat2's flag combinations (before the source is looked up), faccessat's mode and
 * faccessat2's flags, readlinkat's size and its empty path; and pipes' sizes (F_GETPIPE_SZ,
 * F_SETPIPE_SZ rounding to a power of two of pages, EBUSY below what the pipe holds, FIONREAD,
 * /proc/sys/fs/pipe-max-size). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char* what, long r)
{
    printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
    errno = 0;
    show("dup3 bad flags, closed fd", dup3(40, 41, 1));
    show("dup3 same closed fd", dup3(40, 40, 0));
    show("dup3 same closed fd, bad flags", dup3(40, 40, O_CLOEXEC | 1));
    show("dup3 closed fd", dup3(40, 41, 0));
    show("dup3 to a negative fd", dup3(0, -1, 0));

    struct stat st;
    show("fstatat flags 9999", fstatat(AT_FDCWD, ".", &st, 9999));
    show("fstatat AT_SYMLINK_NOFOLLOW", fstatat(AT_FDCWD, ".", &st, AT_SYMLINK_NOFOLLOW));
    char sx[256];
    show("statx flags -1", syscall(SYS_statx, AT_FDCWD, ".", -1, 0, sx));
    show("statx mask -1", syscall(SYS_statx, AT_FDCWD, ".", 0, -1, sx));
    show("statx both sync types", syscall(SYS_statx, AT_FDCWD, ".", 0x6000, 0x7ff, sx));
    show("statx force sync", syscall(SYS_statx, AT_FDCWD, ".", 0x2000, 0x7ff, sx));

    show("renameat2 NOREPLACE|EXCHANGE, no source",
         syscall(SYS_renameat2, AT_FDCWD, "no-such-a", AT_FDCWD, "no-such-b", 3));
    show("renameat2 WHITEOUT|EXCHANGE, no source",
         syscall(SYS_renameat2, AT_FDCWD, "no-such-a", AT_FDCWD, "no-such-b", 6));
    show("renameat2 flag 8, no source",
         syscall(SYS_renameat2, AT_FDCWD, "no-such-a", AT_FDCWD, "no-such-b", 8));
    show("renameat2 NOREPLACE, no source",
         syscall(SYS_renameat2, AT_FDCWD, "no-such-a", AT_FDCWD, "no-such-b", 1));

    show("faccessat mode 8", syscall(SYS_faccessat, AT_FDCWD, ".", 8));
    show("faccessat empty path", syscall(SYS_faccessat, AT_FDCWD, "", R_OK));
    show("faccessat2 flags 1", syscall(SYS_faccessat2, AT_FDCWD, ".", R_OK, 1));
    show("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, ".", R_OK, AT_EACCESS));
    show("faccessat2 empty path with AT_EMPTY_PATH",
         syscall(SYS_faccessat2, AT_FDCWD, "", R_OK, AT_EMPTY_PATH));
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    show("faccessat2 a directory descriptor, empty path",
         syscall(SYS_faccessat2, dir, "", X_OK, AT_EMPTY_PATH));
    close(dir);

    char buf[16];
    show("readlinkat size 0", readlinkat(AT_FDCWD, "x", buf, 0));
    show("readlinkat empty path", readlinkat(AT_FDCWD, "", buf, sizeof buf));
    show("readlinkat empty path, closed fd", readlinkat(40, "", buf, sizeof buf));
    show("readlink of a directory", readlink(".", buf, sizeof buf));

    int p[2];
    pipe(p);
    show("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
    show("F_SETPIPE_SZ 0", fcntl(p[1], F_SETPIPE_SZ, 0));
    show("F_SETPIPE_SZ 5000", fcntl(p[1], F_SETPIPE_SZ, 5000));
    show("F_GETPIPE_SZ after", fcntl(p[0], F_GETPIPE_SZ));
    char fill[8192];
    memset(fill, 'x', sizeof fill);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    show("write 8192 into 8192", write(p[1], fill, sizeof fill));
    show("write once more", write(p[1], fill, 1));
    show("write nothing", write(p[1], fill, 0));
    int n = -1;
    show("FIONREAD", ioctl(p[0], FIONREAD, &n));
    printf("bytes waiting %d\n", n);
    show("F_SETPIPE_SZ 4096 while 8192 wait", fcntl(p[1], F_SETPIPE_SZ, 4096));
    show("F_SETPIPE_SZ 1 MiB", fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
    show("F_SETPIPE_SZ on a file", fcntl(0, F_SETPIPE_SZ, 4096) < 0 && errno == EBADF ? -1 : 0);
    char max[32] = {0};
    int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY);
    read(fd, max, sizeof max - 1);
    printf("pipe-max-size %s", max);
    return 0;
}
