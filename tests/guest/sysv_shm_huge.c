// System V shared memory in huge pages (SHM_HUGETLB): the segment is whole huge pages reserved
// from the pool when it is made (unless SHM_NORESERVE), attached at a huge-page boundary, taken
// from the pool at first touch, shared with a child, and back in the pool once removed. Needs
// root: it sets vm.nr_hugepages and vm.nr_overcommit_hugepages and restores them. With a surplus
// page, the sysctl vm.nr_hugepages shows the persistent pool and sysfs every page.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define HUGE (2UL << 20)

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

static const char* err(long r)
{
    if (r >= 0)
        return "ok";
    return errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : errno == EPERM ? "EPERM" : strerror(errno);
}

// The length of the mapping that starts at addr, from /proc/self/maps.
static unsigned long mapped_length(unsigned long addr)
{
    FILE* f = fopen("/proc/self/maps", "r");
    char line[256];
    unsigned long start, end, len = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start == addr)
            len = end - start;
    if (f)
        fclose(f);
    return len;
}

int main(void)
{
    char old[32] = "0";
    int pool = open("/proc/sys/vm/nr_hugepages", O_RDONLY);
    ssize_t n = read(pool, old, sizeof old - 1);
    old[n > 0 ? n : 1] = 0;
    close(pool);
    set_pool("3");

    int id = shmget(IPC_PRIVATE, 3 << 20, SHM_HUGETLB | IPC_CREAT | 0600);
    printf("shmget 3 MiB SHM_HUGETLB: %s, reserved %ld\n", err(id), meminfo("HugePages_Rsvd"));
    long r = shmget(IPC_PRIVATE, 4 * HUGE, SHM_HUGETLB | IPC_CREAT | 0600);
    printf("4 more huge pages than the pool has: %s\n", err(r));
    r = shmget(IPC_PRIVATE, 4 * HUGE, SHM_HUGETLB | SHM_NORESERVE | IPC_CREAT | 0600);
    printf("the same with SHM_NORESERVE: %s, reserved %ld\n", err(r), meminfo("HugePages_Rsvd"));
    shmctl((int)r, IPC_RMID, NULL);
    r = shmget(IPC_PRIVATE, HUGE, SHM_HUGETLB | (16u << 26) | IPC_CREAT | 0600);
    printf("a 64 KiB huge page size: %s\n", err(r));

    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    printf("shm_segsz: %zu\n", (size_t)ds.shm_segsz);
    char* p = shmat(id, NULL, 0);
    printf("shmat: %s, at a huge page boundary %d, mapping length %lu MiB\n", p == (void*)-1 ? err(-1) : "ok",
           ((unsigned long)p % HUGE) == 0, mapped_length((unsigned long)p) >> 20);
    long free_before = meminfo("HugePages_Free");
    p[0] = 'x';
    printf("after the first touch: taken %ld, reserved %ld\n", free_before - meminfo("HugePages_Free"),
           meminfo("HugePages_Rsvd"));
    pid_t child = fork();
    if (child == 0) {
        char* q = shmat(id, NULL, 0);
        q[HUGE] = 'y';
        _exit(q[0] == 'x' ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child saw it: %d, its store in the second page: %d\n", WEXITSTATUS(status) == 0, p[HUGE] == 'y');
    r = (long)shmat(id, p + 4096, SHM_REMAP);
    printf("shmat at an address off a huge page boundary: %s\n", err(r == -1 ? -1 : 0));
    shmdt(p);
    shmctl(id, IPC_RMID, NULL);
    printf("after removal: free %ld of %ld, reserved %ld\n", meminfo("HugePages_Free"), meminfo("HugePages_Total"),
           meminfo("HugePages_Rsvd"));

    // A surplus page: the sysctl shows the persistent pool, sysfs and meminfo every page.
    int over = open("/proc/sys/vm/nr_overcommit_hugepages", O_WRONLY);
    if (write(over, "1", 1) < 0)
        perror("nr_overcommit_hugepages");
    set_pool("1");
    id = shmget(IPC_PRIVATE, 2 * HUGE, SHM_HUGETLB | IPC_CREAT | 0600);
    printf("2 huge pages with 1 in the pool and 1 to overcommit: %s, surplus %ld\n", err(id),
           meminfo("HugePages_Surp"));
    char text[32] = {0};
    int fd = open("/proc/sys/vm/nr_hugepages", O_RDONLY);
    n = read(fd, text, sizeof text - 1);
    close(fd);
    printf("vm.nr_hugepages: %ld\n", strtol(text, NULL, 10));
    memset(text, 0, sizeof text);
    fd = open("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", O_RDONLY);
    n = read(fd, text, sizeof text - 1);
    close(fd);
    printf("sysfs nr_hugepages: %ld, HugePages_Total: %ld\n", strtol(text, NULL, 10), meminfo("HugePages_Total"));
    shmctl(id, IPC_RMID, NULL);
    close(over);
    over = open("/proc/sys/vm/nr_overcommit_hugepages", O_WRONLY);
    if (write(over, "0", 1) < 0)
        perror("nr_overcommit_hugepages");
    close(over);
    set_pool(old);
    return 0;
}
