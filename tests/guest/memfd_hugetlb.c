// memfd_create with MFD_HUGETLB: an unlinked hugetlbfs file of the default or a named huge page
// size, sized in whole huge pages, mapped shared from the pool (reserved at mmap, taken at first
// touch), readable with pread, not writable with write(), shared with a forked child.
// Needs root: it sets /proc/sys/vm/nr_hugepages, and restores it at the end.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HUGE (2UL << 20)
#define MFD_HUGE_SHIFT_ 26

static const char* err(long r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    default: return strerror(errno);
    }
}

static long meminfo(const char* field)
{
    FILE* f = fopen("/proc/meminfo", "r");
    char line[128];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static void set_pool(const char* value)
{
    int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
    if (fd < 0 || write(fd, value, strlen(value)) < 0)
        perror("nr_hugepages");
    close(fd);
}

static int memfd(const char* name, unsigned flags)
{
    return (int)syscall(SYS_memfd_create, name, flags);
}

int main(void)
{
    char old[32] = "0";
    int pool = open("/proc/sys/vm/nr_hugepages", O_RDONLY);
    ssize_t n = read(pool, old, sizeof old - 1);
    old[n > 0 ? n : 1] = 0;
    close(pool);
    set_pool("0");

    int fd = memfd("huge", MFD_HUGETLB);
    printf("memfd_create MFD_HUGETLB: %s\n", err(fd));
    long r = memfd("huge", MFD_HUGETLB | (21u << MFD_HUGE_SHIFT_));
    printf("MFD_HUGE_2MB: %s\n", err(r));
    close((int)r);
    r = memfd("huge", MFD_HUGETLB | (16u << MFD_HUGE_SHIFT_));
    printf("MFD_HUGE_64KB: %s\n", err(r));
    r = memfd("huge", MFD_HUGETLB | (30u << MFD_HUGE_SHIFT_));
    int enodev = r < 0 && errno == ENODEV;
    int has_1g = access("/sys/kernel/mm/hugepages/hugepages-1048576kB", F_OK) == 0;
    printf("MFD_HUGE_1GB agrees with /sys/kernel/mm/hugepages: %d\n", has_1g ? r >= 0 : enodev);
    if (r >= 0)
        close((int)r);
    r = memfd("huge", 21u << MFD_HUGE_SHIFT_);
    printf("a size without MFD_HUGETLB: %s\n", err(r));

    r = ftruncate(fd, 4096);
    printf("ftruncate to 4096: %s\n", err(r));
    r = ftruncate(fd, HUGE);
    printf("ftruncate to 2 MiB: %s\n", err(r));
    void* m = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap with an empty pool: %s\n", m == MAP_FAILED ? err(-1) : "ok");

    set_pool("4");
    long free_before = meminfo("HugePages_Free");
    char* p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap with 4 huge pages: %s\n", p == MAP_FAILED ? err(-1) : "ok");
    if (p == MAP_FAILED)
        return 1;
    printf("reserved after mmap: %ld, free %ld\n", meminfo("HugePages_Rsvd"), free_before - meminfo("HugePages_Free"));
    memset(p, 'h', HUGE);
    printf("reserved after touch: %ld, taken %ld\n", meminfo("HugePages_Rsvd"), free_before - meminfo("HugePages_Free"));

    int named = 0;
    FILE* maps = fopen("/proc/self/maps", "r");
    char line[256];
    while (maps && fgets(line, sizeof line, maps))
        named |= strstr(line, "/memfd:huge (deleted)") != NULL;
    fclose(maps);
    printf("maps names it /memfd:huge (deleted): %d\n", named);

    char buf[4] = {0};
    r = pread(fd, buf, 3, HUGE - 3);
    printf("pread: %ld '%s'\n", r, buf);
    r = write(fd, "x", 1);
    printf("write: %s\n", err(r));

    pid_t child = fork();
    if (child == 0) {
        p[HUGE / 2] = 'c';
        _exit(p[0] == 'h' ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child saw the data: %d, its store reached the parent: %d\n", WEXITSTATUS(status) == 0, p[HUGE / 2] == 'c');

    munmap(p, HUGE);
    close(fd);
    printf("after close: taken %ld\n", free_before - meminfo("HugePages_Free"));
    set_pool(old);
    return 0;
}
