/* Argument checks and small behaviours of calls outside the file system that LTP's syscall tests
 * look at: iovec lengths, pread of a directory, gettimeofday's timezone, getrandom's flags,
 * waitpid's options, prctl's dumpable flag and name, what SA_RESETHAND leaves of an action, and
 * preadv and pwritev, fcntl's lock whence, epoll_ctl of an O_PATH descriptor and
 * sync_file_range's checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* what, long r)
{
    if (r < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, r);
}

static volatile int handled;
static void on_usr1(int sig, siginfo_t* info, void* ctx)
{
    (void)sig, (void)info, (void)ctx;
    handled = 1;
}

int main(void)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/tmp/call-checks-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    write(fd, "test", 4);
    lseek(fd, 0, SEEK_SET);
    void* bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    struct iovec negative[] = {{buf, (size_t)-1}, {buf + 64, 64}};
    report("readv, a length of -1", readv(fd, negative, 2));
    report("position after it", lseek(fd, 0, SEEK_CUR));
    struct iovec faulting[] = {{bad, 64}, {buf, 64}};
    report("readv into PROT_NONE first", readv(fd, faulting, 2));
    report("writev, a length of -1", writev(fd, negative, 2));
    struct iovec huge[] = {{buf, (size_t)1 << 62}, {buf, (size_t)1 << 62}};
    report("writev, lengths summing past SSIZE_MAX", writev(fd, huge, 2));
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    report("pread of a directory", pread(dir, buf, 16, 0));
    report("read of a directory", read(dir, buf, 16));

    struct timeval tv;
    report("gettimeofday, timezone unwritable", syscall(SYS_gettimeofday, &tv, bad));
    struct timezone tz = {123, 456};
    report("gettimeofday, timezone", syscall(SYS_gettimeofday, &tv, &tz));
    printf("%-44s %d %d\n", "timezone", tz.tz_minuteswest, tz.tz_dsttime);

    report("getrandom, flag 8", getrandom(buf, 8, 8));
    report("getrandom, GRND_RANDOM|GRND_INSECURE", getrandom(buf, 8, GRND_RANDOM | 4));
    report("getrandom, GRND_NONBLOCK", getrandom(buf, 8, GRND_NONBLOCK));

    report("waitpid, options -1", waitpid(-1, NULL, -1));
    report("waitpid, no child", waitpid(-1, NULL, WNOHANG));

    report("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    report("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
    report("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0));
    report("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    pid_t pid = fork();
    if (pid == 0)
        _exit(prctl(PR_GET_DUMPABLE) == 0 ? 0 : 1);
    int status;
    waitpid(pid, &status, 0);
    printf("%-44s %d\n", "a child's PR_GET_DUMPABLE is 0", WEXITSTATUS(status) == 0);
    prctl(PR_SET_DUMPABLE, 1);
    report("PR_SET_NAME, unreadable", prctl(PR_SET_NAME, bad));
    report("PR_SET_NAME a-name-longer-than-15", prctl(PR_SET_NAME, "a-name-longer-than-15"));
    char name[17] = {0};
    report("PR_GET_NAME", prctl(PR_GET_NAME, name));
    printf("%-44s %s\n", "the name", name);
    int comm = open("/proc/self/comm", O_RDONLY);
    ssize_t n = read(comm, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%-44s %s", "/proc/self/comm", buf);

    struct sigaction sa = {0}, old;
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &old);
    printf("%-44s %d\n", "handled", handled);
    printf("%-44s %s, SA_SIGINFO %s, SA_RESETHAND %s\n", "after SA_RESETHAND",
           old.sa_handler == SIG_DFL ? "SIG_DFL" : "a handler", (old.sa_flags & SA_SIGINFO) ? "kept" : "gone",
           (old.sa_flags & SA_RESETHAND) ? "kept" : "gone");

    /* preadv and pwritev: at an offset, leaving the position. */
    ftruncate(fd, 0);
    lseek(fd, 0, SEEK_SET);
    write(fd, "abcdefgh", 8);
    struct iovec out[] = {{"XY", 2}, {"", 0}, {"Z", 1}};
    report("pwritev 3 bytes at 2", pwritev(fd, out, 3, 2));
    char a[3] = {0}, b[8] = {0};
    struct iovec in[] = {{a, 2}, {b, 7}};
    report("preadv at 1", preadv(fd, in, 2, 1));
    printf("%-44s %s|%s\n", "read", a, b);
    report("position", lseek(fd, 0, SEEK_CUR));
    report("preadv at -1", preadv(fd, in, 2, -1));
    int pfd[2];
    pipe(pfd);
    report("preadv of a pipe", preadv(pfd[0], in, 2, 0));
    report("preadv of a bad descriptor", preadv(99, in, 2, 0));

    /* fcntl's lock whence is checked whatever the file; epoll takes no O_PATH descriptor. */
    struct flock lock = {.l_type = F_RDLCK, .l_whence = -1};
    report("F_SETLK on a pipe, l_whence -1", fcntl(pfd[0], F_SETLK, &lock));
    report("F_SETLK on a file, l_whence -1", fcntl(fd, F_SETLK, &lock));
    int ep = epoll_create1(0);
    int opath = open(path, O_PATH);
    struct epoll_event ev = {.events = EPOLLIN};
    report("epoll_ctl ADD of an O_PATH descriptor", epoll_ctl(ep, EPOLL_CTL_ADD, opath, &ev));

    /* sync_file_range's checks. */
    report("sync_file_range, bad descriptor", sync_file_range(99, 0, 0, 0));
    report("sync_file_range, flag 8", sync_file_range(fd, 0, 0, 8));
    report("sync_file_range, offset -1", sync_file_range(fd, -1, 0, 0));
    report("sync_file_range, past the end of offsets", sync_file_range(fd, 1, INT64_MAX, 0));
    report("sync_file_range of a pipe", sync_file_range(pfd[0], 0, 0, 0));
    report("sync_file_range, write and wait", sync_file_range(fd, 0, 0, 7));

    close(fd);
    unlink(path);
    return 0;
}
