/* Files a program writes reach the host however the run ends (tests/guest/files_survive.sh checks
 * them on the host afterwards). It writes /out/data (10000 bytes with write(), no fsync),
 * /out/mapped (8192 bytes stored through a MAP_SHARED mapping, no msync, still mapped), sets
 * /out/data's mode with fchmod and its times with utimensat, and then ends as MODE says:
 *   exit    exit(0)
 *   segv    a store to address 0: killed by SIGSEGV
 *   oom     touches memory until the OOM killer kills it (run with --mem 32M, no swap)
 *   panic   the same after writing 1 to vm.panic_on_oom: the kernel panics
 *   spin    prints "ready" and computes forever, until kioku itself is stopped */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char pattern(unsigned long i, unsigned long seed)
{
    return (unsigned char)((i * 7 + seed) & 0xff);
}

static void check(int ok, const char* what)
{
    if (!ok) {
        perror(what);
        exit(1);
    }
}

static void touch_until_killed(void)
{
    for (;;) {
        char* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        check(p != MAP_FAILED, "mmap");
        memset(p, 1, 1 << 20);
    }
}

int main(int argc, char** argv)
{
    const char* mode = argc > 1 ? argv[1] : "exit";
    static unsigned char buf[10000];
    for (unsigned long i = 0; i < sizeof buf; ++i)
        buf[i] = pattern(i, 3);
    int fd = open("/out/data", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    check(fd >= 0, "open /out/data");
    check(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf, "write");
    check(fchmod(fd, 0640) == 0, "fchmod");
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 0}};
    check(utimensat(AT_FDCWD, "/out/data", times, 0) == 0, "utimensat");

    int mfd = open("/out/mapped", O_CREAT | O_TRUNC | O_RDWR, 0644);
    check(mfd >= 0, "open /out/mapped");
    check(ftruncate(mfd, 8192) == 0, "ftruncate");
    unsigned char* m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    check(m != MAP_FAILED, "mmap /out/mapped");
    for (unsigned long i = 0; i < 8192; ++i)
        m[i] = pattern(i, 5);

    if (strcmp(mode, "segv") == 0) {
        *(volatile int*)0 = 1;
    } else if (strcmp(mode, "oom") == 0) {
        touch_until_killed();
    } else if (strcmp(mode, "panic") == 0) {
        int p = open("/proc/sys/vm/panic_on_oom", O_WRONLY);
        check(p >= 0 && write(p, "1", 1) == 1, "panic_on_oom");
        touch_until_killed();
    } else if (strcmp(mode, "spin") == 0) {
        printf("ready\n");
        fflush(stdout);
        for (volatile unsigned long n = 0;; ++n) {
        }
    }
    return 0;
}
