/* System V shared memory: shmget/shmat/shmdt/shmctl between processes, the attach count through
 * fork, split and detach, IPC_RMID while attached, SHM_RDONLY, SHM_RND, SHM_LOCK, the errors of
 * bad arguments, and what /proc shows. Prints only facts that do not depend on the host (no ids,
 * no addresses). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY 0x6b696f6b

static const char* err(int r)
{
    static char buf[32];
    if (r != -1)
        return "ok";
    snprintf(buf, sizeof buf, "%s",
             errno == EINVAL   ? "EINVAL"
             : errno == ENOENT ? "ENOENT"
             : errno == EEXIST ? "EEXIST"
                               : strerror(errno));
    return buf;
}

static struct shmid_ds st(int id)
{
    struct shmid_ds ds;
    memset(&ds, 0, sizeof ds);
    if (shmctl(id, IPC_STAT, &ds) != 0)
        ds.shm_perm.mode = 0xffff;
    return ds;
}

static int in_file(const char* path, const char* needle)
{
    char buf[65536];
    FILE* f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    int id = shmget(IPC_PRIVATE, 3 * page + 100, IPC_CREAT | 0600);
    printf("shmget private: %s\n", id >= 0 ? "ok" : err(-1));
    struct shmid_ds ds = st(id);
    printf("new: size %zu, nattch %lu, mode %o, cpid is me %d, lpid %d, ctime set %d, atime %ld\n",
           (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 07777,
           ds.shm_cpid == getpid(), ds.shm_lpid, ds.shm_ctime != 0, (long)ds.shm_atime);

    char* p = shmat(id, NULL, 0);
    printf("shmat: %s, page aligned %d\n", p == (void*)-1 ? err(-1) : "ok", ((long)p % page) == 0);
    memset(p, 'a', 3 * page + 100);
    ds = st(id);
    printf("attached: nattch %lu, lpid is me %d, atime set %d\n", (unsigned long)ds.shm_nattch,
           ds.shm_lpid == getpid(), ds.shm_atime != 0);

    char needle[64];
    snprintf(needle, sizeof needle, " %d ", id);
    printf("/proc/sysvipc/shm lists it: %s\n", in_file("/proc/sysvipc/shm", needle) ? "yes" : "no");
    printf("/proc/self/maps names it: %s\n",
           in_file("/proc/self/maps", "/SYSV00000000 (deleted)") ? "yes" : "no");

    pid_t child = fork();
    if (child == 0) {
        struct shmid_ds c = st(id);
        printf("child: nattch %lu\n", (unsigned long)c.shm_nattch);
        p[0] = 'c';
        p[3 * page] = 'C';
        _exit(0);
    }
    waitpid(child, NULL, 0);
    ds = st(id);
    printf("after the child: nattch %lu, its writes seen %d, lpid is the child %d\n",
           (unsigned long)ds.shm_nattch, p[0] == 'c' && p[3 * page] == 'C', ds.shm_lpid == child);

    munmap(p + page, page);
    printf("after munmap of the second page: nattch %lu\n", (unsigned long)st(id).shm_nattch);
    printf("shmdt inside the attach: %s\n", err(shmdt(p + page)));
    printf("shmdt unaligned: %s\n", err(shmdt(p + 1)));
    printf("shmdt: %s", err(shmdt(p)));
    printf(", nattch %lu, dtime set %d\n", (unsigned long)st(id).shm_nattch, st(id).shm_dtime != 0);
    printf("shmdt again: %s\n", err(shmdt(p)));

    char* q = shmat(id, NULL, SHM_RDONLY);
    printf("contents kept while detached: %d\n", q[0] == 'c' && q[1] == 'a' && q[3 * page + 99] == 'a');
    child = fork();
    if (child == 0) {
        q[0] = 'x';
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("store to a SHM_RDONLY attach: %s\n",
           WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "no signal");
    shmdt(q);

    /* A free stretch of eight pages to attach in. */
    char* want = (char*)mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(want, 8 * page);
    printf("shmat unaligned address: %s\n", shmat(id, want + 10, 0) == (void*)-1 ? err(-1) : "ok");
    char* r = shmat(id, want + 10, SHM_RND);
    printf("shmat SHM_RND: rounded down %d\n", r == want);
    mmap(want + 4 * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    shmdt(r);
    printf("shmat over a mapping: %s\n", shmat(id, want + 2 * page, 0) == (void*)-1 ? err(-1) : "ok");
    char* s2 = shmat(id, want + 2 * page, SHM_REMAP);
    printf("shmat SHM_REMAP over a mapping: %s\n", s2 == want + 2 * page ? "ok" : err(-1));
    shmdt(s2);
    printf("shmat SHM_REMAP without an address: %s\n",
           shmat(id, NULL, SHM_REMAP) == (void*)-1 ? err(-1) : "ok");
    printf("shmat id -1: %s\n", shmat(-1, NULL, 0) == (void*)-1 ? err(-1) : "ok");

    printf("shmget size 0: %s\n", err(shmget(IPC_PRIVATE, 0, 0600)));
    printf("shmget missing key: %s\n", err(shmget(KEY, 100, 0600)));
    int k = shmget(KEY, 2 * page, IPC_CREAT | IPC_EXCL | 0640);
    printf("shmget key, IPC_CREAT|IPC_EXCL: %s\n", k >= 0 ? "ok" : err(-1));
    printf("again with IPC_EXCL: %s\n", err(shmget(KEY, 2 * page, IPC_CREAT | IPC_EXCL | 0640)));
    printf("again, same id: %d\n", shmget(KEY, 0, 0) == k);
    printf("again, larger: %s\n", err(shmget(KEY, 3 * page, 0)));

    struct shmid_ds set = st(k);
    set.shm_perm.mode = 0604;
    printf("IPC_SET mode 0604: %s", err(shmctl(k, IPC_SET, &set)));
    printf(", mode now %o\n", st(k).shm_perm.mode & 07777);
    printf("SHM_LOCK: %s", err(shmctl(k, SHM_LOCK, NULL)));
    printf(", mode %o\n", st(k).shm_perm.mode & 07777);
    printf("SHM_UNLOCK: %s", err(shmctl(k, SHM_UNLOCK, NULL)));
    printf(", mode %o\n", st(k).shm_perm.mode & 07777);

    char* kp = shmat(k, NULL, 0);
    kp[0] = 'k';
    printf("IPC_RMID while attached: %s\n", err(shmctl(k, IPC_RMID, NULL)));
    ds = st(k);
    printf("marked: key %d, mode %o, nattch %lu, still usable %d\n", ds.shm_perm.__key,
           ds.shm_perm.mode & 07777, (unsigned long)ds.shm_nattch, kp[0] == 'k');
    printf("the key is free again: %s\n", err(shmget(KEY, page, 0600)));
    shmdt(kp);
    printf("after the last detach: IPC_STAT %s\n", err(shmctl(k, IPC_STAT, &ds)));

    printf("shmctl bad command: %s\n", err(shmctl(id, 999, &ds)));
    printf("shmctl id -1: %s\n", err(shmctl(-1, IPC_STAT, &ds)));
    /* glibc copies a whole struct shmid_ds back for every command: give it room. */
    union {
        struct shmid_ds ds;
        struct shminfo info;
        struct shm_info sinfo;
    } u;
    int top = shmctl(0, IPC_INFO, &u.ds);
    printf("IPC_INFO: returns >= 0 %d, shmmin %lu, shmmni %lu\n", top >= 0, u.info.shmmin, u.info.shmmni);
    top = shmctl(0, SHM_INFO, &u.ds);
    printf("SHM_INFO: used_ids >= 1 %d, rss counts our pages %d\n", u.sinfo.used_ids >= 1,
           u.sinfo.shm_rss >= 4);
    printf("IPC_RMID: %s", err(shmctl(id, IPC_RMID, NULL)));
    printf(", then IPC_STAT %s\n", err(shmctl(id, IPC_STAT, &ds)));
    return 0;
}
