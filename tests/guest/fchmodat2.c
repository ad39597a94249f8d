/* fchmodat2 (Linux 6.6): flags AT_SYMLINK_NOFOLLOW (a link's own mode cannot change:
 * EOPNOTSUPP; the file behind a name that is no link changes) and AT_EMPTY_PATH (the descriptor's
 * file), unknown flags EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static void show(const char* what, long r)
{
    int e = errno;
    printf("%s: %ld %s\n", what, r,
           r < 0 ? (e == EINVAL ? "EINVAL" : e == EOPNOTSUPP ? "EOPNOTSUPP" : e == ENOENT ? "ENOENT" : strerror(e))
                 : "");
}

static unsigned mode_of(const char* p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_mode & 07777 : 0;
}

int main(void)
{
    char dir[] = "/tmp/fchmodat2-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0)
        return 1;
    close(open("file", O_CREAT | O_WRONLY, 0644));
    symlink("file", "link");
    errno = 0;
    show("unknown flag", syscall(SYS_fchmodat2, AT_FDCWD, "file", 0600, 0x8000));
    errno = 0;
    show("a name, following", syscall(SYS_fchmodat2, AT_FDCWD, "link", 0600, 0));
    printf("file mode %o\n", mode_of("file"));
    errno = 0;
    show("a link, not following", syscall(SYS_fchmodat2, AT_FDCWD, "link", 0640, AT_SYMLINK_NOFOLLOW));
    printf("file mode %o\n", mode_of("file"));
    errno = 0;
    show("a file, not following", syscall(SYS_fchmodat2, AT_FDCWD, "file", 0640, AT_SYMLINK_NOFOLLOW));
    printf("file mode %o\n", mode_of("file"));
    int fd = open("file", O_RDONLY);
    errno = 0;
    show("AT_EMPTY_PATH", syscall(SYS_fchmodat2, fd, "", 0604, AT_EMPTY_PATH));
    printf("file mode %o\n", mode_of("file"));
    errno = 0;
    show("an empty path without AT_EMPTY_PATH", syscall(SYS_fchmodat2, fd, "", 0600, 0));
    close(fd);
    unlink("link");
    unlink("file");
    chdir("/");
    printf("cleaned up: %d\n", rmdir(dir) == 0);
    return 0;
}
