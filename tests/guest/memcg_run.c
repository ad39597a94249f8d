/* kioku run --cgroup: the program starts in a memory cgroup of its own, /kioku, with the limit
 * given (run with --mem 128M --cgroup memory.max=16M). It prints its group and the group's limit,
 * then grows 1 MiB at a time: the group's OOM killer must stop it near 16 MiB with SIGKILL, on a
 * machine with plenty of free memory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char* label, const char* path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
    dprintf(1, "%s: %s", label, n > 0 ? buf : "(missing)\n");
}

int main(void)
{
    show("cgroup", "/proc/self/cgroup");
    show("memory.max", "/sys/fs/cgroup/kioku/memory.max");
    show("root subtree_control", "/sys/fs/cgroup/cgroup.subtree_control");
    for (int mib = 1; mib <= 100; ++mib) {
        char* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 1;
        memset(p, 1, 1 << 20);
        if (mib == 8)
            dprintf(1, "8 MiB touched\n");
        if (mib == 32)
            dprintf(1, "32 MiB touched: the limit did not hold\n");
    }
    return 0;
}
