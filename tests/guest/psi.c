/* Pressure stall information for memory (run with --mem 128M --swap 64M): /proc/pressure/memory
 * and each group's memory.pressure have Linux's two lines; a child that writes 32 MiB in a group
 * with memory.high = 8M stalls on memory (reclaim and throttling), its group shows "some" and,
 * with no other task of the group able to run, "full" stall time, the root (the system) at least
 * as much, and an idle sibling group none. Only facts that hold on any Linux 6.x with cgroup v2
 * and PSI are printed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_files.h"

struct pressure {
    int ok;
    double avg10[2];
    unsigned long long total[2];
};

/* Both lines, in psi_show's format exactly. */
static struct pressure read_pressure(const char* path)
{
    struct pressure p = {0};
    const char* text = text_of(path);
    unsigned a[2][6];
    char again[512];
    int n = sscanf(text,
                   "some avg10=%u.%u avg60=%u.%u avg300=%u.%u total=%llu\n"
                   "full avg10=%u.%u avg60=%u.%u avg300=%u.%u total=%llu\n",
                   &a[0][0], &a[0][1], &a[0][2], &a[0][3], &a[0][4], &a[0][5], &p.total[0], &a[1][0],
                   &a[1][1], &a[1][2], &a[1][3], &a[1][4], &a[1][5], &p.total[1]);
    if (n != 14)
        return p;
    for (int l = 0; l < 2; ++l)
        p.avg10[l] = a[l][0] + a[l][1] / 100.0;
    /* The same text printed back: two decimals everywhere, nothing after the second line. */
    snprintf(again, sizeof again,
             "some avg10=%u.%02u avg60=%u.%02u avg300=%u.%02u total=%llu\n"
             "full avg10=%u.%02u avg60=%u.%02u avg300=%u.%02u total=%llu\n",
             a[0][0], a[0][1], a[0][2], a[0][3], a[0][4], a[0][5], p.total[0], a[1][0], a[1][1], a[1][2],
             a[1][3], a[1][4], a[1][5], p.total[1]);
    p.ok = strcmp(again, text) == 0;
    return p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("/proc/pressure/memory: %d\n", read_pressure("/proc/pressure/memory").ok);
    printf("root memory.pressure: %d\n", read_pressure("/sys/fs/cgroup/memory.pressure").ok);
    if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory") != 0 || mkdir("/sys/fs/cgroup/calm", 0755) ||
        mkdir("/sys/fs/cgroup/busy", 0755) || put("/sys/fs/cgroup/busy/memory.high", "8M"))
        return 1;
    struct pressure fresh = read_pressure("/sys/fs/cgroup/busy/memory.pressure");
    printf("new group: %d some %llu full %llu\n", fresh.ok, fresh.total[0], fresh.total[1]);

    int status = run_writer_in("/sys/fs/cgroup/busy", 32, 2);
    printf("child: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

    struct pressure busy = read_pressure("/sys/fs/cgroup/busy/memory.pressure");
    struct pressure calm = read_pressure("/sys/fs/cgroup/calm/memory.pressure");
    struct pressure root = read_pressure("/sys/fs/cgroup/memory.pressure");
    struct pressure proc = read_pressure("/proc/pressure/memory");
    printf("busy: some > 0: %d, full > 0: %d, full <= some: %d\n", busy.total[0] > 0, busy.total[1] > 0,
           busy.total[1] <= busy.total[0]);
    printf("calm: some %llu full %llu\n", calm.total[0], calm.total[1]);
    printf("system >= busy: %d %d\n", root.total[0] >= busy.total[0], proc.total[0] >= busy.total[0]);
    printf("rmdir: %d %d\n", rmdir("/sys/fs/cgroup/calm"), rmdir("/sys/fs/cgroup/busy"));
    return 0;
}
