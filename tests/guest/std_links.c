/* /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd are links to /proc/self/fd, and opening one
 * opens again what the descriptor has open: the same pipe (either end, for reading or writing),
 * or the same file with a position of its own. A socket is not opened that way (ENXIO). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* err(int r)
{
    return r < 0 ? (errno == ENOENT ? "ENOENT" : errno == ENXIO ? "ENXIO" : strerror(errno)) : "ok";
}

static void show_link(const char* path)
{
    char buf[64];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) {
        printf("readlink %s: %s\n", path, err(-1));
        return;
    }
    buf[n] = 0;
    if (strncmp(buf, "pipe:[", 6) == 0 || strncmp(buf, "socket:[", 8) == 0)
        buf[strchr(buf, '[') - buf + 1] = 0; /* the inode number is the host's */
    printf("readlink %s -> %s\n", path, buf);
}

static const char* kind(mode_t m)
{
    return S_ISFIFO(m)   ? "fifo"
           : S_ISREG(m)  ? "regular"
           : S_ISLNK(m)  ? "link"
           : S_ISDIR(m)  ? "directory"
           : S_ISSOCK(m) ? "socket"
           : S_ISCHR(m)  ? "char"
                         : "other";
}

static void show_stat(const char* path)
{
    struct stat st, lst;
    int r = stat(path, &st);
    int l = lstat(path, &lst);
    printf("stat %s: %s %s, lstat %s %s\n", path, err(r), r ? "-" : kind(st.st_mode), err(l),
           l ? "-" : kind(lst.st_mode));
}

int main(void)
{
    show_link("/dev/stdin");
    show_link("/dev/stdout");
    show_link("/dev/stderr");
    show_link("/dev/fd");
    show_stat("/dev/fd");

    /* A pipe as standard input. */
    int p[2];
    pipe(p);
    int saved_in = dup(0);
    dup2(p[0], 0);
    show_link("/dev/stdin");
    show_link("/proc/self/fd/0");
    show_stat("/dev/stdin");
    show_stat("/proc/self/fd/0");
    int in = open("/dev/stdin", O_RDONLY);
    printf("open /dev/stdin: %s\n", err(in));
    struct stat a, b;
    fstat(in, &a);
    fstat(p[0], &b);
    printf("same pipe: %d, %s\n", a.st_ino == b.st_ino, kind(a.st_mode));
    write(p[1], "through", 7);
    char buf[16] = {0};
    printf("read %zd '%s'\n", read(in, buf, sizeof buf - 1), buf);
    /* The read end's link opened for writing is the pipe's writing end. */
    char name[32];
    snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
    int w = open(name, O_WRONLY);
    printf("open read end for writing: %s\n", err(w));
    write(w, "back", 4);
    memset(buf, 0, sizeof buf);
    printf("read %zd '%s'\n", read(p[0], buf, sizeof buf - 1), buf);
    close(w);
    close(in);
    int fd0 = open("/dev/fd/0", O_RDONLY);
    printf("open /dev/fd/0: %s\n", err(fd0));
    close(fd0);
    int self0 = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC);
    printf("open /proc/self/fd/0: %s\n", err(self0));
    close(self0);

    /* Standard input closed: nothing to open. */
    close(0);
    printf("closed: open /dev/stdin: %s\n", err(open("/dev/stdin", O_RDONLY)));
    show_stat("/dev/stdin");
    printf("open /dev/fd/99: %s\n", err(open("/dev/fd/99", O_RDONLY)));
    dup2(saved_in, 0);
    close(saved_in);

    /* A file as standard output: the link opens it anew, at position 0. */
    fflush(stdout);
    int saved_out = dup(1);
    int f = open("std_links.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    dup2(f, 1);
    write(1, "abcdef", 6);
    int o = open("/dev/stdout", O_WRONLY);
    write(o, "XY", 2);
    close(o);
    int ap = open("/dev/fd/1", O_WRONLY | O_APPEND);
    write(ap, "Z", 1);
    close(ap);
    write(1, "!", 1);
    struct stat fs;
    stat("/dev/stdout", &fs);
    dup2(saved_out, 1);
    close(saved_out);
    char content[16] = {0};
    pread(f, content, sizeof content - 1, 0);
    printf("file through /dev/stdout: '%s' (%s, size %lld)\n", content, kind(fs.st_mode),
           (long long)fs.st_size);
    int t = open("/dev/stdout", O_RDONLY);
    printf("open /dev/stdout read-only: %s\n", err(t));
    close(t);
    close(f);
    unlink("std_links.tmp");

    /* A socket is not reopened through its link. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int saved_err = dup(2);
    dup2(sv[0], 2);
    show_link("/dev/fd/2");
    show_stat("/dev/stderr");
    int s = open("/dev/stderr", O_WRONLY);
    int e = errno;
    dup2(saved_err, 2);
    errno = e;
    printf("open /dev/stderr on a socket: %s\n", err(s));
    return 0;
}
