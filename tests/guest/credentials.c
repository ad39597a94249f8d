/* Credentials as root has them and as a process gives them up: set*id, supplementary groups,
 * capget/capset, the bounding set, and what they change: kill permission, RLIMIT_MEMLOCK once
 * CAP_IPC_LOCK is gone, raising a hard limit once CAP_SYS_RESOURCE is gone. Each change is made
 * in a child, the parent staying root. Run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err_name(int e)
{
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    default: return strerror(e);
    }
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (long)(call);                                                                           \
        int e_ = errno;                                                                                   \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? err_name(e_) : "");                                     \
    } while (0)

/* The Uid, Gid, Groups and Cap lines of /proc/self/status. */
static void status_lines(void)
{
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7) ||
            !strncmp(line, "CapPrm:", 7) || !strncmp(line, "CapEff:", 7) || !strncmp(line, "CapInh:", 7))
            printf("  %s", line);
    if (f)
        fclose(f);
}

static int capget_v3(pid_t pid, struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    return (int)syscall(SYS_capget, &h, data);
}

static int capset_v3(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    return (int)syscall(SYS_capset, &h, data);
}

static void in_child(const char* title, void (*body)(void))
{
    printf("-- %s\n", title);
    pid_t pid = fork();
    if (pid == 0) {
        body();
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
}

static void become_user(void)
{
    gid_t groups[] = {5, 3, 4};
    SHOW("setgroups 5 3 4", setgroups(3, groups));
    gid_t back[8];
    int n = getgroups(8, back);
    printf("getgroups: %d:", n);
    for (int i = 0; i < n; ++i)
        printf(" %d", (int)back[i]);
    printf("\n");
    SHOW("getgroups with a short list", getgroups(1, back));
    SHOW("setresgid 1000 1000 1000", setresgid(1000, 1000, 1000));
    SHOW("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
    status_lines();
    SHOW("setuid 0", setuid(0));
    SHOW("setgroups as a user", setgroups(0, NULL));
    SHOW("kill root's process", kill(getppid(), 0));
    SHOW("kill myself", kill(getpid(), 0));
    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SHOW("mlock a page within RLIMIT_MEMLOCK", mlock(page, 4096));
    munlock(page, 4096);
    struct rlimit none = {0, 0};
    SHOW("setrlimit MEMLOCK 0", setrlimit(RLIMIT_MEMLOCK, &none));
    SHOW("mlock with RLIMIT_MEMLOCK 0", mlock(page, 4096));
    struct rlimit more = {4096, 4096};
    SHOW("raise the hard limit again", setrlimit(RLIMIT_MEMLOCK, &more));
    SHOW("setfsuid 2000 (not mine)", setfsuid(2000));
    SHOW("setfsuid query", setfsuid(-1));
}

static void effective_only(void)
{
    SHOW("seteuid 1000", seteuid(1000));
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("resuid %d %d %d\n", (int)r, (int)e, (int)s);
    status_lines();
    SHOW("seteuid 0", seteuid(0));
    status_lines();
    SHOW("setreuid 1000 1000", setreuid(1000, 1000));
    getresuid(&r, &e, &s);
    printf("resuid %d %d %d\n", (int)r, (int)e, (int)s);
    SHOW("seteuid 0 after", seteuid(0));
}

static void keep_caps(void)
{
    SHOW("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    SHOW("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    SHOW("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
    SHOW("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
    status_lines();
}

static void drop_caps(void)
{
    struct __user_cap_data_struct d[2];
    capget_v3(0, d);
    d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
    d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
    SHOW("capset without CAP_SYS_RESOURCE", capset_v3(d));
    status_lines();
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);
    struct rlimit higher = {cur.rlim_cur, cur.rlim_max + 1};
    SHOW("raise RLIMIT_NOFILE's hard limit", setrlimit(RLIMIT_NOFILE, &higher));
    struct rlimit lower = {512, 1000};
    SHOW("lower it", setrlimit(RLIMIT_NOFILE, &lower));
    d[0].permitted |= 1u << CAP_SYS_RESOURCE;
    SHOW("capset to take it back", capset_v3(d));
    capget_v3(0, d);
    d[0].effective |= 1u << CAP_SYS_RESOURCE;
    SHOW("capset effective beyond permitted", capset_v3(d));
    SHOW("PR_CAPBSET_READ CAP_SYS_ADMIN", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
    SHOW("PR_CAPBSET_DROP CAP_SYS_ADMIN", prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
    SHOW("PR_CAPBSET_READ CAP_SYS_ADMIN", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
    SHOW("PR_CAPBSET_READ 64", prctl(PR_CAPBSET_READ, 64, 0, 0, 0));
    capget_v3(0, d);
    d[0].inheritable |= 1u << CAP_SYS_ADMIN;
    SHOW("capset inheritable outside the bounding set", capset_v3(d));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("uid %d euid %d resuid %d %d %d gid %d\n", (int)getuid(), (int)geteuid(), (int)r, (int)e, (int)s,
           (int)getgid());
    status_lines();
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    SHOW("capget v3", capget_v3(0, d));
    printf("effective %08x %08x permitted %08x %08x inheritable %08x\n", d[1].effective, d[0].effective,
           d[1].permitted, d[0].permitted, d[0].inheritable);
    struct __user_cap_header_struct h = {0x12345678, 0};
    SHOW("capget with a bad version", syscall(SYS_capget, &h, d));
    printf("version written back: %08x\n", h.version);
    h.version = 0x12345678;
    SHOW("capget with a bad version and no data", syscall(SYS_capget, &h, NULL));
    struct __user_cap_header_struct other = {_LINUX_CAPABILITY_VERSION_3, 999999};
    SHOW("capget of no such pid", syscall(SYS_capget, &other, d));
    struct __user_cap_header_struct neg = {_LINUX_CAPABILITY_VERSION_3, -5};
    SHOW("capget of pid -5", syscall(SYS_capget, &neg, d));
    SHOW("capset for another pid", syscall(SYS_capset, &(struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, getppid()}, d));
    SHOW("setuid -1", setuid(-1));
    in_child("a user", become_user);
    in_child("effective uid only", effective_only);
    in_child("keeping capabilities", keep_caps);
    in_child("dropping capabilities", drop_caps);
    status_lines();
    return 0;
}
