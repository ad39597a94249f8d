/* openat2: the open_how checks (size, unknown flags and resolve bits, a mode without O_CREAT,
 * file-type bits in the mode), and the RESOLVE_* walks: BENEATH refuses absolute paths, ".." and
 * links out of the starting directory (EXDEV); IN_ROOT takes them relative to it; NO_SYMLINKS and
 * NO_MAGICLINKS refuse links (ELOOP); NO_XDEV refuses crossing into /proc. Also an open(2) whose
 * mode carries S_IFREG (as cp passes st_mode) creates the file. (An O_PATH open of a link itself
 * is not modelled.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static const char* err_name(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case E2BIG: return "E2BIG";
    case EXDEV: return "EXDEV";
    case ELOOP: return "ELOOP";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    default: return strerror(e);
    }
}

static int dfd;

static void try_open(const char* what, int dir, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    errno = 0;
    long fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
    int e = errno;
    if (fd >= 0) {
        char buf[32] = {0};
        long n = (flags & O_PATH) ? 0 : read((int)fd, buf, sizeof buf - 1);
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = 0;
        printf("%s: opened%s%s\n", what, n > 0 ? ", reads " : "", n > 0 ? buf : "");
        close((int)fd);
    } else {
        printf("%s: -1 %s\n", what, err_name(e));
    }
}

static long raw_how(void* how, size_t size)
{
    errno = 0;
    long fd = syscall(SYS_openat2, dfd, "sub/file", how, size);
    if (fd >= 0)
        close((int)fd);
    return fd < 0 ? -errno : 0;
}

int main(void)
{
    char dir[] = "/tmp/openat2-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0)
        return 1;
    umask(022);
    mkdir("d", 0755);
    mkdir("d/sub", 0755);
    FILE* f = fopen("d/sub/file", "w");
    fputs("inside\n", f);
    fclose(f);
    f = fopen("outside", "w");
    fputs("outside\n", f);
    fclose(f);
    symlink("sub/file", "d/rel");
    symlink("/etc/hostname", "d/abs");
    symlink("../outside", "d/up");
    dfd = open("d", O_RDONLY | O_DIRECTORY);

    struct {
        struct open_how how;
        uint64_t extra;
    } big = {{O_RDONLY, 0, 0}, 0};
    printf("size 16: %s\n", err_name((int)-raw_how(&big, 16)));
    printf("size 32, zero tail: %ld\n", raw_how(&big, 32));
    big.extra = 1;
    printf("size 32, nonzero tail: %s\n", err_name((int)-raw_how(&big, 32)));
    char page[8192] = {0};
    printf("size 8192: %s\n", err_name((int)-raw_how(page, sizeof page)));
    printf("bad pointer: %s\n", err_name((int)-raw_how((void*)8, 24)));

    try_open("unknown flag", dfd, "sub/file", 1ull << 40, 0, 0);
    try_open("unknown resolve bit", dfd, "sub/file", O_RDONLY, 0, 0x40);
    try_open("BENEATH and IN_ROOT", dfd, "sub/file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
    try_open("a mode without O_CREAT", dfd, "sub/file", O_RDONLY, 0644, 0);
    try_open("a mode with S_IFREG", dfd, "new", O_CREAT | O_WRONLY, S_IFREG | 0644, 0);
    try_open("CACHED with O_CREAT", dfd, "new", O_CREAT | O_WRONLY, 0644, RESOLVE_CACHED);
    try_open("create", dfd, "made", O_CREAT | O_WRONLY, 0666, 0);
    struct stat st;
    stat("d/made", &st);
    printf("made with mode %o\n", st.st_mode & 0777);

    try_open("BENEATH sub/file", dfd, "sub/file", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH sub/../sub/file", dfd, "sub/../sub/file", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH ../outside", dfd, "../outside", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH an absolute path", dfd, "/etc/hostname", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH a relative link inside", dfd, "rel", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH an absolute link", dfd, "abs", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH a link out", dfd, "up", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("IN_ROOT /sub/file", dfd, "/sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT ../../sub/file", dfd, "../../sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT an absolute link", dfd, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT a link out", dfd, "up", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("NO_SYMLINKS a link", dfd, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("NO_SYMLINKS no link", dfd, "sub/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("plain through a link", dfd, "up", O_RDONLY, 0, 0);
    try_open("NO_MAGICLINKS /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
    try_open("NO_MAGICLINKS /proc/self/fd/0", AT_FDCWD, "/proc/self/fd/0", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
    try_open("NO_XDEV into /proc", dfd, "/proc/self/status", O_PATH, 0, RESOLVE_NO_XDEV);
    try_open("NO_XDEV staying", dfd, "sub/file", O_RDONLY, 0, RESOLVE_NO_XDEV);
    try_open("a missing name", dfd, "sub/none", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("an empty path", dfd, "", O_RDONLY, 0, 0);

    // open(2) masks what is not a permission bit, as cp's open(dst, O_CREAT, st_mode) relies on.
    int fd = open("plain", O_CREAT | O_WRONLY, S_IFREG | 0755);
    printf("open with S_IFREG in the mode: %s\n", fd >= 0 ? "created" : err_name(errno));
    stat("plain", &st);
    printf("its mode %o, a regular file %d\n", st.st_mode & 07777, S_ISREG(st.st_mode));
    close(fd);

    unlink("plain");
    unlink("d/made");
    unlink("d/new");
    unlink("d/rel");
    unlink("d/abs");
    unlink("d/up");
    unlink("d/sub/file");
    rmdir("d/sub");
    rmdir("d");
    unlink("outside");
    chdir("/");
    printf("cleaned up: %d\n", rmdir(dir) == 0);
    return 0;
}
