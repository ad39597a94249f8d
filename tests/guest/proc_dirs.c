/* The directories of /proc and /sys: each opens, lists "." and "..", and holds the entries a
 * program looks for (its own pid in /proc, its threads in task, its descriptors in fd, the huge
 * page sizes, the THP settings, the CPU lists); access() and stat() see them as directories.
 * /proc/mounts and /proc/self/mounts list the root and the kernel's filesystems. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int has(const char* dir, const char* name)
{
    DIR* d = opendir(dir);
    if (!d)
        return -1;
    int found = 0;
    struct dirent* e;
    while ((e = readdir(d)))
        found |= strcmp(e->d_name, name) == 0;
    closedir(d);
    return found;
}

static volatile pid_t idle_tid;

static void* idle(void* arg)
{
    (void)arg;
    idle_tid = gettid();
    pause();
    return NULL;
}

int main(void)
{
    char pid[16], tid_dir[64];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    printf("/proc has self: %d, my pid: %d, \".\": %d, \"..\": %d\n", has("/proc", "self"), has("/proc", pid),
           has("/proc", "."), has("/proc", ".."));
    printf("/proc/self has maps: %d, status: %d, fd: %d, task: %d\n", has("/proc/self", "maps"),
           has("/proc/self", "status"), has("/proc/self", "fd"), has("/proc/self", "task"));
    snprintf(tid_dir, sizeof tid_dir, "/proc/%s/task", pid);
    printf("task has my pid: %d\n", has(tid_dir, pid));
    DIR* d = opendir("/proc/self/task");
    int threads = 0;
    struct dirent* e;
    while (d && (e = readdir(d)))
        threads += e->d_name[0] != '.';
    if (d)
        closedir(d);
    printf("threads listed: %d\n", threads);
    while (!idle_tid)
        usleep(1000);
    usleep(50000);
    char path[96], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)idle_tid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    char* close_paren = strrchr(buf, ')');
    printf("the idle thread's own stat: state %c\n", close_paren ? close_paren[2] : '?');
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)getpid());
    printf("the main thread's status opens: %d\n", access(path, R_OK) == 0);
    printf("/proc/self/fd has 0, 1, 2: %d %d %d\n", has("/proc/self/fd", "0"), has("/proc/self/fd", "1"),
           has("/proc/self/fd", "2"));
    printf("/sys/kernel/mm/hugepages has hugepages-2048kB: %d\n", has("/sys/kernel/mm/hugepages", "hugepages-2048kB"));
    printf("/sys/kernel/mm/transparent_hugepage has enabled: %d\n", has("/sys/kernel/mm/transparent_hugepage", "enabled"));
    printf("/sys/devices/system/cpu has online: %d\n", has("/sys/devices/system/cpu", "online"));
    printf("/proc/sys/vm has overcommit_memory: %d\n", has("/proc/sys/vm", "overcommit_memory"));
    const char* dirs[] = {"/proc", "/proc/self", "/sys/kernel/mm/hugepages", "/sys/kernel/mm/transparent_hugepage"};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; ++i) {
        struct stat st;
        int r = stat(dirs[i], &st);
        printf("%s: access %d, stat %d, a directory %d\n", dirs[i], access(dirs[i], F_OK), r, S_ISDIR(st.st_mode));
    }
    FILE* m = setmntent("/proc/self/mounts", "r");
    struct mntent* me;
    int root = 0, proc = 0, sys = 0, shm = 0;
    while (m && (me = getmntent(m))) {
        root |= !strcmp(me->mnt_dir, "/");
        proc |= !strcmp(me->mnt_dir, "/proc") && !strcmp(me->mnt_type, "proc");
        sys |= !strcmp(me->mnt_dir, "/sys") && !strcmp(me->mnt_type, "sysfs");
        shm |= !strcmp(me->mnt_dir, "/dev/shm") && !strcmp(me->mnt_type, "tmpfs");
    }
    printf("mounts: / %d, proc %d, sysfs %d, /dev/shm tmpfs %d\n", root, proc, sys, shm);
    printf("/proc/mounts readable: %d\n", access("/proc/mounts", R_OK) == 0);
    return 0;
}
