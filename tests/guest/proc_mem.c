/* /proc/self/mem as ptrace reaches memory (FOLL_FORCE): reads and writes at the file position;
 * a write into a read-only private mapping unshares the page (from the zero page, or from a file
 * it maps) into a page of the process's own, and the program still cannot write it (SIGSEGV);
 * PROT_NONE memory is read; a read-only shared mapping refuses the write; unmapped memory is
 * EIO; the file's pages and the other processes' copies are untouched. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static int store_faults(char* p, char v)
{
    signal(SIGSEGV, on_segv);
    int faulted = sigsetjmp(env, 1);
    if (!faulted)
        *(volatile char*)p = v;
    signal(SIGSEGV, SIG_DFL);
    return faulted;
}

static const char* err_name(int e)
{
    return e == EIO ? "EIO" : e == EFAULT ? "EFAULT" : e == EPERM ? "EPERM" : strerror(e);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    int mem = open("/proc/self/mem", O_RDWR);
    printf("open: %s\n", mem < 0 ? strerror(errno) : "ok");

    /* Ordinary memory, read and written at an offset that is its address. */
    char* rw = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(rw, "hello");
    char buf[16] = {0};
    ssize_t n = pread(mem, buf, 5, (off_t)(uintptr_t)rw);
    printf("pread: %zd \"%s\"\n", n, buf);
    n = pwrite(mem, "J", 1, (off_t)(uintptr_t)rw);
    printf("pwrite: %zd, now \"%s\"\n", n, rw);
    lseek(mem, (off_t)(uintptr_t)rw + 1, SEEK_SET);
    n = read(mem, buf, 4);
    printf("read at the position: %zd \"%.4s\"\n", n, buf);

    /* A read-only private anonymous page: the write unshares it, the program still cannot. */
    char* ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("read-only page reads %d\n", ro[0]);
    n = pwrite(mem, "\x07", 1, (off_t)(uintptr_t)ro);
    printf("forced write: %zd, the page now reads %d\n", n, ro[0]);
    int faulted = store_faults(ro, 9);
    printf("the program's own store faults: %d, the page still %d\n", faulted, ro[0]);

    /* PROT_NONE: read through the file. */
    char* none = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    none[0] = 42;
    mprotect(none, page, PROT_NONE);
    buf[0] = 0;
    n = pread(mem, buf, 1, (off_t)(uintptr_t)none);
    printf("PROT_NONE read: %zd, %d\n", n, buf[0]);

    /* A read-only private file mapping: the write goes to a private copy, not the file. */
    int fd = memfd_create("file", 0);
    write(fd, "file data", 9);
    char* fmap = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0);
    n = pwrite(mem, "F", 1, (off_t)(uintptr_t)fmap);
    printf("forced write to a private file mapping: %zd, mapping \"%.9s\"", n, fmap);
    pread(fd, buf, 9, 0);
    printf(", file \"%.9s\"\n", buf);

    /* A read-only shared mapping refuses it. */
    char* smap = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
    errno = 0;
    ssize_t r = pwrite(mem, "S", 1, (off_t)(uintptr_t)smap);
    printf("forced write to a read-only shared mapping: %zd %s\n", r, r < 0 ? err_name(errno) : "");

    /* Nothing mapped. */
    munmap(rw, page);
    errno = 0;
    r = pread(mem, buf, 1, (off_t)(uintptr_t)rw);
    printf("unmapped: %zd %s\n", r, r < 0 ? err_name(errno) : "");

    /* A read-only transparent huge page (the kernel's mkdirty selftest): the forced write splits
     * it and unshares one page; the program still cannot store there. */
    const size_t thp = 2UL << 20;
    char* raw = mmap(NULL, 2 * thp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char* huge = (char*)(((uintptr_t)raw + thp - 1) & ~(thp - 1));
    madvise(huge, thp, MADV_HUGEPAGE);
    memset(huge, 1, thp);
    mprotect(huge, thp, PROT_READ);
    n = pwrite(mem, "\x02", 1, (off_t)(uintptr_t)huge);
    printf("forced write into a read-only huge page: %zd, now %d %d\n", n, huge[0], huge[1]);
    faulted = store_faults(huge + 1, 3);
    printf("the program's own store there faults: %d, still %d\n", faulted, huge[1]);
    /* And an untouched read-only region: the write fills one page. */
    char* fresh = mmap(NULL, thp, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    n = pwrite(mem, "\x05", 1, (off_t)(uintptr_t)fresh + 4096);
    printf("forced write into untouched read-only memory: %zd, now %d, beside it %d\n", n, fresh[4096], fresh[0]);

    /* A forked child's copy is not the parent's. */
    char* shared_cow = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    shared_cow[0] = 'p';
    mprotect(shared_cow, page, PROT_READ);
    pid_t child = fork();
    if (child == 0) {
        int cm = open("/proc/self/mem", O_RDWR);
        pwrite(cm, "c", 1, (off_t)(uintptr_t)shared_cow);
        printf("child sees %c\n", shared_cow[0]);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("parent still sees %c\n", shared_cow[0]);
    return 0;
}
