// vmsplice: user memory into a pipe and a pipe's contents into user memory, its flags and errors,
// and the copy-on-write case the kernel's cow selftest checks: a page spliced by a forked child
// keeps the bytes it had, whatever the parent writes to its copy afterwards.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err(long r)
{
    return r >= 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == EBADF ? "EBADF" : errno == EAGAIN ? "EAGAIN" : strerror(errno);
}

int main(void)
{
    int p[2];
    pipe(p);
    char a[] = "vm", b[] = "splice";
    struct iovec iov[2] = {{a, 2}, {b, 6}};
    long r = vmsplice(p[1], iov, 2, 0);
    printf("vmsplice two pieces: %ld\n", r);
    char got[16] = {0};
    struct iovec out = {got, sizeof got - 1};
    r = vmsplice(p[0], &out, 1, 0);
    printf("vmsplice them out of the pipe: %ld '%s'\n", r, got);
    r = vmsplice(p[1], iov, 2, 0x10);
    printf("unknown flags: %s\n", err(r));
    r = vmsplice(1 + p[1] + 10, iov, 2, 0);
    printf("a closed descriptor: %s\n", err(r));
    int fd = open("/proc/self/status", O_RDONLY);
    r = vmsplice(fd, iov, 2, 0);
    printf("not a pipe: %s\n", err(r));
    close(fd);
    r = vmsplice(p[0], &out, 1, SPLICE_F_NONBLOCK);
    printf("empty pipe, SPLICE_F_NONBLOCK: %s\n", err(r));
    char* big = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(big, 'z', 65536);
    struct iovec whole = {big, 65536}; // whole pages: a pipe's 16 slots hold them all
    r = vmsplice(p[1], &whole, 1, 0);
    printf("fill the pipe: %ld\n", r);
    r = vmsplice(p[1], iov, 1, SPLICE_F_NONBLOCK);
    printf("full pipe, SPLICE_F_NONBLOCK: %s\n", err(r));
    close(p[0]);
    close(p[1]);

    // Copy-on-write: the child splices its (shared) page, then the parent writes to its own.
    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(page, 'a', 4096);
    int q[2], sync_pipe[2];
    pipe(q);
    pipe(sync_pipe);
    pid_t child = fork();
    if (child == 0) {
        struct iovec v = {page, 4096};
        vmsplice(q[1], &v, 1, 0);
        munmap(page, 4096);
        write(sync_pipe[1], "x", 1);
        _exit(0);
    }
    char c;
    read(sync_pipe[0], &c, 1);
    memset(page, 'b', 4096);
    waitpid(child, NULL, 0);
    char back[4096];
    r = read(q[0], back, sizeof back);
    printf("the spliced page after the parent wrote its copy: %ld bytes, all 'a' %d\n", r,
           r == 4096 && memchr(back, 'b', 4096) == NULL);
    return 0;
}
