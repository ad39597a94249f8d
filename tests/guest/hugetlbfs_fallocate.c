/* fallocate on a hugetlbfs file (a MFD_HUGETLB memfd): preallocation takes pool pages at once,
 * a punched hole gives whole huge pages back and zeroes the bytes of partly covered ones, the
 * size grows only without FALLOC_FL_KEEP_SIZE, other modes are EOPNOTSUPP and an empty pool is
 * ENOSPC. Sets vm.nr_hugepages to 4 more than it was and puts it back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUGE (2L << 20)

static long meminfo(const char* key)
{
    FILE* f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

static long pool(long set)
{
    long now = 0;
    FILE* f = fopen("/proc/sys/vm/nr_hugepages", "r");
    if (fscanf(f, "%ld", &now) != 1)
        now = 0;
    fclose(f);
    if (set >= 0) {
        f = fopen("/proc/sys/vm/nr_hugepages", "w");
        fprintf(f, "%ld\n", set);
        fclose(f);
    }
    return now;
}

static const char* err(int r)
{
    if (r == 0)
        return "OK";
    switch (errno) {
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOSPC: return "ENOSPC";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

static long size_of(int fd)
{
    struct stat st;
    fstat(fd, &st);
    return (long)st.st_size;
}

int main(void)
{
    long before = pool(-1);
    pool(before + 4);
    long free0 = meminfo("HugePages_Free");
    int fd = memfd_create("huge", MFD_HUGETLB);
    printf("memfd: %s\n", fd >= 0 ? "OK" : "failed");
    ftruncate(fd, 4 * HUGE);
    int r = fallocate(fd, 0, 0, HUGE);
    printf("fallocate first huge page: %s, free -%ld\n", err(r), free0 - meminfo("HugePages_Free"));
    r = fallocate(fd, 0, 100, 4096);
    printf("fallocate the same again: %s, free -%ld\n", err(r), free0 - meminfo("HugePages_Free"));
    r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 5 * HUGE, 4096);
    printf("fallocate past the end, keep size: %s, free -%ld, size %ld MiB\n", err(r),
           free0 - meminfo("HugePages_Free"), size_of(fd) >> 20);
    r = fallocate(fd, 0, 6 * HUGE, HUGE + 5);
    printf("fallocate past the end: %s, size %ld bytes past 12 MiB\n", err(r), size_of(fd) - 6 * HUGE);
    r = fallocate(fd, 0, 3 * HUGE, HUGE);
    printf("fallocate with the pool empty: %s\n", err(r));
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5 * HUGE, 3 * HUGE);
    printf("punch the pages past 10 MiB: %s, free -%ld\n", err(r), free0 - meminfo("HugePages_Free"));

    char* p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memset(p, 7, HUGE);
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192);
    printf("punch 8 KiB inside: %s, bytes %d %d %d %d, free -%ld\n", err(r), p[4095], p[4096], p[12287], p[12288],
           free0 - meminfo("HugePages_Free"));
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HUGE);
    printf("punch the whole first page: %s, free -%ld\n", err(r), free0 - meminfo("HugePages_Free"));
    munmap(p, HUGE);
    r = fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, HUGE);
    printf("zero range: %s\n", err(r));
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, HUGE);
    printf("punch without keep size: %s\n", err(r));
    close(fd);
    printf("after close, free -%ld\n", free0 - meminfo("HugePages_Free"));
    pool(before);
    return 0;
}
