// The kernel configuration kioku publishes at /boot/config-RELEASE tells the truth: each option
// checked here is compared with what the running kernel shows (a file in /proc or /sys, or a
// system call that exists or is ENOSYS). Prints one line per option; "agrees" is the verdict.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static char config[16384];

// 1 for =y (or a value), 0 for "is not set" or absent.
static int option(const char* name)
{
    char set[128], unset[128];
    snprintf(set, sizeof set, "\nCONFIG_%s=", name);
    snprintf(unset, sizeof unset, "\n# CONFIG_%s is not set", name);
    if (strstr(config, set))
        return 1;
    return 0;
}

static int exists(const char* path)
{
    return access(path, F_OK) == 0;
}

static int has_call(long nr)
{
    errno = 0;
    long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
    return !(r == -1 && errno == ENOSYS);
}

static int file_has(const char* path, const char* text)
{
    static char buf[8192];
    FILE* f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strstr(buf, text) != NULL;
}

static void check(const char* name, int shown)
{
    int set = option(name);
    printf("CONFIG_%s %s: %s\n", name, set ? "y" : "not set", set == shown ? "agrees" : "DISAGREES");
}

int main(void)
{
    struct utsname u;
    uname(&u);
    char path[256];
    snprintf(path, sizeof path, "/boot/config-%s", u.release);
    FILE* f = fopen(path, "r");
    if (!f) {
        printf("no %s\n", path);
        return 1;
    }
    config[0] = '\n';
    size_t n = fread(config + 1, 1, sizeof config - 2, f);
    config[n + 1] = 0;
    fclose(f);
    printf("the configuration is at /boot/config-RELEASE: yes\n");

    check("SWAP", exists("/proc/swaps"));
    check("SYSVIPC", exists("/proc/sysvipc/shm"));
    check("CHECKPOINT_RESTORE",
          exists("/proc/sys/kernel/ns_last_pid") && exists("/proc/sys/kernel/shm_next_id"));
    check("TRANSPARENT_HUGEPAGE", exists("/sys/kernel/mm/transparent_hugepage/enabled"));
    check("TRANSPARENT_HUGEPAGE_MADVISE",
          file_has("/sys/kernel/mm/transparent_hugepage/enabled", "[madvise]"));
    check("HUGETLBFS", file_has("/proc/filesystems", "hugetlbfs"));
    check("TMPFS", file_has("/proc/filesystems", "tmpfs"));
    check("PROC_PAGE_MONITOR", exists("/proc/self/pagemap") && exists("/proc/self/smaps"));
    check("MEMFD_CREATE", has_call(SYS_memfd_create));
    check("MEMBARRIER", has_call(SYS_membarrier));
    check("KSM", exists("/sys/kernel/mm/ksm"));
    check("USERFAULTFD", has_call(282));
    check("NUMA", has_call(235));                // mbind
    check("CROSS_MEMORY_ATTACH", has_call(270)); // process_vm_readv
    check("SIGNALFD", has_call(74));
    check("INOTIFY_USER", has_call(26));
    check("AIO", has_call(0)); // io_setup
    check("IO_URING", has_call(425));
    check("POSIX_MQUEUE", has_call(180)); // mq_open
    check("RSEQ", has_call(293));
    check("PSI", exists("/proc/pressure"));
    check("CGROUPS", exists("/proc/self/cgroup"));
    check("MEMCG", exists("/sys/fs/cgroup/cgroup.controllers"));
    check("IKCONFIG", exists("/proc/config.gz"));
    check("SMP", sysconf(_SC_NPROCESSORS_CONF) > 1);
    return 0;
}
