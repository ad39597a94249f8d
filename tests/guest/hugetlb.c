// hugetlb as a program sees it: MAP_HUGETLB failing while the pool is empty, vm.nr_hugepages
// written and read back, the HugePages_* lines of /proc/meminfo following mmap, faults, fork's
// copy-on-write, madvise and munmap, smaps' KernelPageSize, and Linux's EINVAL for calls that
// would split a huge page. Prints facts that hold on any Linux 6.x with a free 8 MiB of memory,
// and leaves nr_hugepages at 0.
//
// hugetlb.expected is this program's output built natively and run on the host kernel (as root):
// qemu-riscv64 (7.2) refuses MAP_HUGETLB with EINVAL in its own mmap emulation, so qemu cannot be
// the reference here.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_field.h"

#define HUGE (2UL << 20)

static void set_nr_hugepages(const char* value)
{
    FILE* f = fopen("/proc/sys/vm/nr_hugepages", "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0)
        printf("writing nr_hugepages failed: %s\n", strerror(errno));
}

static long nr_hugepages(void)
{
    FILE* f = fopen("/proc/sys/vm/nr_hugepages", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}


static void meminfo(const char* when)
{
    printf("%s: HugePages_Total %ld Free %ld Rsvd %ld Surp %ld\n", when,
           proc_field("/proc/meminfo", "HugePages_Total"), proc_field("/proc/meminfo", "HugePages_Free"),
           proc_field("/proc/meminfo", "HugePages_Rsvd"), proc_field("/proc/meminfo", "HugePages_Surp"));
}

// A field of the smaps entry of the mapping that starts at addr.
static long smaps_field(void* addr, const char* name)
{
    FILE* f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
            inside = start == (unsigned long)addr;
            continue;
        }
        if (inside && !strncmp(line, name, n) && line[n] == ':')
            v = atol(line + n + 1);
    }
    if (f)
        fclose(f);
    return v;
}

static int hugetlbfs_mounted(void)
{
    FILE* f = fopen("/proc/mounts", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, " hugetlbfs "))
            found = 1;
    if (f)
        fclose(f);
    return found;
}

static void report(const char* what, int rc)
{
    printf("%s: %s\n", what, rc == 0 ? "ok" : strerror(errno));
}

static void hugetlbfs_file(void)
{
    // Only where /dev/hugepages is a hugetlbfs mount; the host running the reference may lack it.
    if (!hugetlbfs_mounted()) {
        printf("hugetlbfs: not mounted, skipped\n");
        return;
    }
    FILE* f = fopen("/dev/hugepages/kioku-guest", "w+");
    if (!f) {
        printf("hugetlbfs open: %s\n", strerror(errno));
        return;
    }
    report("hugetlbfs ftruncate 4096", ftruncate(fileno(f), 4096));
    report("hugetlbfs ftruncate 2 MiB", ftruncate(fileno(f), HUGE));
    char* p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(f), 0);
    printf("hugetlbfs mmap: %s\n", p == MAP_FAILED ? strerror(errno) : "ok");
    if (p != MAP_FAILED) {
        strcpy(p, "in the file");
        meminfo("hugetlbfs page");
        munmap(p, HUGE);
    }
    fclose(f);
    report("hugetlbfs unlink", unlink("/dev/hugepages/kioku-guest"));
    meminfo("hugetlbfs unlinked");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    set_nr_hugepages("0");
    void* none = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    printf("MAP_HUGETLB with an empty pool: %s\n", none == MAP_FAILED ? strerror(errno) : "mapped");

    set_nr_hugepages("4");
    printf("nr_hugepages: %ld\n", nr_hugepages());
    meminfo("pool of 4");

    char* p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap: %s\n", strerror(errno));
        set_nr_hugepages("0");
        return 1;
    }
    printf("aligned to 2 MiB: %d\n", ((unsigned long)p & (HUGE - 1)) == 0);
    meminfo("mapped");
    memset(p, 'a', HUGE);
    memset(p + HUGE, 'b', HUGE);
    meminfo("touched");
    printf("KernelPageSize %ld kB, MMUPageSize %ld kB, Private_Hugetlb %ld kB, Rss %ld kB\n",
           smaps_field(p, "KernelPageSize"), smaps_field(p, "MMUPageSize"), smaps_field(p, "Private_Hugetlb"),
           smaps_field(p, "Rss"));
    printf("HugetlbPages %ld kB\n", proc_field("/proc/self/status", "HugetlbPages"));
    printf("data: %c %c\n", p[HUGE - 1], p[HUGE]);

    pid_t child = fork();
    if (child == 0) {
        p[5] = 'c'; // copy-on-write of a whole huge page
        printf("child sees %c, free now %ld\n", p[5], proc_field("/proc/meminfo", "HugePages_Free"));
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("parent keeps %c after the child exited %d\n", p[5], WEXITSTATUS(status));
    meminfo("after fork");

    report("munmap at an unaligned address", munmap(p + 4096, HUGE));
    report("munmap of 4 KiB", munmap(p, 4096));
    report("mprotect of 4 KiB", mprotect(p, 4096, PROT_READ));
    report("madvise DONTNEED inside a huge page", madvise(p + 4096, HUGE, MADV_DONTNEED));
    report("madvise DONTNEED of the first huge page", madvise(p, HUGE + 4096, MADV_DONTNEED));
    meminfo("after DONTNEED");
    printf("refault reads %d\n", p[0]);
    void* grown = mremap(p, 2 * HUGE, 3 * HUGE, MREMAP_MAYMOVE);
    printf("mremap to grow: %s\n", grown == MAP_FAILED ? strerror(errno) : "moved");
    unsigned char vec[1024];
    report("mincore", mincore(p, 2 * HUGE, vec));
    printf("mincore: %d %d\n", vec[0], vec[1023]);
    report("munmap", munmap(p, 2 * HUGE));
    meminfo("unmapped");

    hugetlbfs_file();

    set_nr_hugepages("0");
    printf("nr_hugepages: %ld\n", nr_hugepages());
    meminfo("pool emptied");
    return 0;
}
