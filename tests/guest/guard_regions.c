// Guard regions (MADV_GUARD_INSTALL, MADV_GUARD_REMOVE): PTE markers that fault with SIGSEGV,
// installed over what was mapped (which goes, as with MADV_DONTNEED), kept by MADV_DONTNEED,
// mprotect, mremap and fork, gone with munmap, visible in pagemap, refused on locked memory.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

#define PG 4096L

static sigjmp_buf jump;
static volatile int last_code;

static void on_segv(int sig, siginfo_t* info, void* ctx)
{
    (void)sig;
    (void)ctx;
    last_code = info->si_code;
    siglongjmp(jump, 1);
}

// 1 when reading the byte faults (SIGSEGV), else 0; the byte read goes to *out.
static int faults(volatile char* p, char* out)
{
    if (sigsetjmp(jump, 1))
        return 1;
    char c = *p;
    if (out)
        *out = c;
    return 0;
}

static const char* err(long r)
{
    return r == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == EFAULT ? "EFAULT" : errno == EIO ? "EIO" : strerror(errno);
}

static int guard_bit(void* addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t entry = 0;
    pread(fd, &entry, 8, (off_t)((uintptr_t)addr / PG) * 8);
    close(fd);
    return (int)((entry >> 58) & 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    // 30 pages of room: the mapping, and the place mremap moves it to.
    char* room = mmap(NULL, 30 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char* p = mmap(room, 10 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    memset(p, 'a', 10 * PG);
    long r = madvise(p + 2 * PG, 2 * PG, MADV_GUARD_INSTALL);
    printf("install on pages 2-3: %s\n", err(r));
    char c = 0;
    int f = faults(p + 2 * PG, NULL);
    printf("page 2 faults: %d, SEGV_MAPERR %d\n", f, last_code == SEGV_MAPERR);
    printf("page 3 faults: %d, page 1 reads '%c'", faults(p + 3 * PG + 100, NULL), (faults(p + PG, &c), c));
    printf(", page 4 reads '%c'\n", (faults(p + 4 * PG, &c), c));
    printf("pagemap guard bit: page 2 %d, page 4 %d\n", guard_bit(p + 2 * PG), guard_bit(p + 4 * PG));
    r = madvise(p + 2 * PG, 2 * PG, MADV_GUARD_INSTALL);
    printf("install again: %s\n", err(r));
    r = madvise(p, 10 * PG, MADV_DONTNEED);
    printf("MADV_DONTNEED over it: %s, page 2 still faults: %d\n", err(r), faults(p + 2 * PG, NULL));
    r = mprotect(p, 10 * PG, PROT_READ);
    printf("mprotect read-only: %s, page 2 still faults: %d\n", err(r), faults(p + 2 * PG, NULL));
    mprotect(p, 10 * PG, PROT_READ | PROT_WRITE);
    unsigned char vec[10];
    mincore(p, 10 * PG, vec);
    printf("mincore of page 2: %d\n", vec[2] & 1);
    r = madvise(p, 10 * PG, MADV_POPULATE_READ);
    printf("MADV_POPULATE_READ over a guard: %s\n", err(r));
    int mem = open("/proc/self/mem", O_RDONLY);
    r = pread(mem, &c, 1, (off_t)(uintptr_t)(p + 2 * PG));
    printf("/proc/self/mem read of a guard: %s\n", r == 1 ? "ok" : err(r));
    close(mem);

    pid_t child = fork();
    if (child == 0)
        _exit(faults(p + 2 * PG, NULL) ? 3 : 4);
    int status;
    waitpid(child, &status, 0);
    printf("a forked child faults there too: %d\n", WEXITSTATUS(status) == 3);

    char* q = mremap(p, 10 * PG, 10 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p + 20 * PG);
    printf("mremap moves the guard: %d, to the place asked: %d\n", faults(q + 2 * PG, NULL),
           q == p + 20 * PG);
    r = madvise(q + 2 * PG, PG, MADV_GUARD_REMOVE);
    printf("remove page 2: %s, it reads %d, page 3 faults %d\n", err(r), (faults(q + 2 * PG, &c), c),
           faults(q + 3 * PG, NULL));
    munmap(q, 10 * PG);
    q = mmap(q, 10 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("after munmap and a new mapping there, page 3 faults: %d\n", faults(q + 3 * PG, NULL));

    r = mlock(q, PG);
    printf("mlock: %s", err(r));
    r = madvise(q, PG, MADV_GUARD_INSTALL);
    printf(", install on locked memory: %s\n", err(r));
    r = madvise(q, PG, MADV_GUARD_REMOVE);
    printf("remove on locked memory: %s\n", err(r));
    munlock(q, PG);
    munmap(room, 30 * PG);

    // A private file mapping: the file's pages stay in the page cache behind the guard.
    char name[] = "/tmp/guard-XXXXXX";
    int fd = mkstemp(name);
    char buf[2 * PG];
    memset(buf, 'f', sizeof buf);
    write(fd, buf, sizeof buf);
    char* m = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("file page reads '%c'", (faults(m + PG, &c), c));
    r = madvise(m + PG, PG, MADV_GUARD_INSTALL);
    printf(", install: %s, faults %d", err(r), faults(m + PG, NULL));
    madvise(m + PG, PG, MADV_GUARD_REMOVE);
    printf(", after removal reads '%c'\n", (faults(m + PG, &c), c));
    munmap(m, 2 * PG);
    close(fd);
    unlink(name);
    return 0;
}
