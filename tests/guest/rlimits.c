/* Resource limits that bind: RLIMIT_NOFILE (EMFILE, and dup2/F_DUPFD past it), RLIMIT_FSIZE (a
 * write cut short at the limit, then SIGXFSZ and EFBIG, and ftruncate past it), RLIMIT_AS and
 * RLIMIT_DATA (mmap ENOMEM), RLIMIT_STACK (a child recursing past it dies of SIGSEGV), setrlimit's
 * own errors, and a forked child inheriting the limits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err(int r)
{
    if (r >= 0)
        return "ok";
    return errno == EMFILE ? "EMFILE" : errno == EBADF ? "EBADF" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
           : errno == EFBIG ? "EFBIG" : errno == ENOMEM ? "ENOMEM" : "other";
}

static volatile int xfsz;
static void on_xfsz(int sig)
{
    (void)sig;
    ++xfsz;
}

static long vm_size_kb(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char* line = strstr(buf, "VmSize:");
    return line ? strtol(line + 7, NULL, 10) : -1;
}

static int deep(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    return n == 0 ? pad[0] : deep(n - 1) + pad[0];
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit bad = {rl.rlim_max + 1, rl.rlim_max};
    printf("soft above hard: %s\n", err(setrlimit(RLIMIT_NOFILE, &bad)));
    struct rlimit huge = {1024, 1048577};
    printf("NOFILE hard above nr_open: %s\n", err(setrlimit(RLIMIT_NOFILE, &huge)));

    struct rlimit files = {16, rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &files);
    int highest = -1, last;
    while ((last = open("/dev/null", O_RDONLY)) >= 0)
        highest = last;
    printf("opens until %s; the highest descriptor %d\n", err(last), highest);
    printf("dup2 onto 16: %s\n", err(dup2(0, 16)));
    printf("F_DUPFD from 16: %s\n", err(fcntl(0, F_DUPFD, 16)));
    for (int fd = 3; fd < 16; ++fd)
        close(fd);

    signal(SIGXFSZ, on_xfsz);
    struct rlimit fsize = {10000, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &fsize);
    int fd = open("/tmp/rlimits-file", O_CREAT | O_TRUNC | O_RDWR, 0600);
    static char block[8192];
    printf("first write: %zd\n", write(fd, block, sizeof block));
    printf("second write, cut at the limit: %zd\n", write(fd, block, sizeof block));
    int r = (int)write(fd, block, sizeof block);
    printf("third write: %s, SIGXFSZ %d\n", err(r), xfsz);
    r = ftruncate(fd, 20000);
    printf("ftruncate past the limit: %s, SIGXFSZ %d\n", err(r), xfsz);
    printf("ftruncate within it: %s\n", err(ftruncate(fd, 5000)));
    close(fd);
    unlink("/tmp/rlimits-file");
    fsize.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &fsize);

    pid_t child = fork();
    if (child == 0) {
        struct rlimit got;
        getrlimit(RLIMIT_NOFILE, &got);
        printf("a child inherits NOFILE %llu\n", (unsigned long long)got.rlim_cur);
        struct rlimit as = {(rlim_t)(vm_size_kb() + 1024) * 1024, RLIM_INFINITY};
        setrlimit(RLIMIT_AS, &as);
        void* p = mmap(NULL, 4 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("AS: 4 MiB more: %s\n", p == MAP_FAILED ? "ENOMEM" : "ok");
        p = mmap(NULL, 64 << 10, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("AS: 64 KiB more: %s\n", p == MAP_FAILED ? "ENOMEM" : "ok");
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);

    child = fork();
    if (child == 0) {
        struct rlimit data = {1 << 20, RLIM_INFINITY};
        setrlimit(RLIMIT_DATA, &data);
        void* p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("DATA: 4 MiB private writable: %s\n", p == MAP_FAILED ? "ENOMEM" : "ok");
        p = mmap(NULL, 4 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("DATA: 4 MiB read-only: %s\n", p == MAP_FAILED ? "ENOMEM" : "ok");
        p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        printf("DATA: 4 MiB shared: %s\n", p == MAP_FAILED ? "ENOMEM" : "ok");
        printf("DATA: sbrk 4 MiB: %s\n", sbrk(4 << 20) == (void*)-1 ? "ENOMEM" : "ok");
        _exit(0);
    }
    waitpid(child, &status, 0);

    child = fork();
    if (child == 0) {
        struct rlimit stack = {256 << 10, RLIM_INFINITY};
        setrlimit(RLIMIT_STACK, &stack);
        _exit(deep(2000) & 1); /* about 2 MiB of stack */
    }
    waitpid(child, &status, 0);
    printf("STACK: deep recursion under 256 KiB: %s\n",
           WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "survived");
    return 0;
}
