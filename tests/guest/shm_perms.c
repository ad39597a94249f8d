/* System V shared memory permissions, as a process that gave up root sees them: the segment's
 * owner and creator ids come from the creator's effective ids; shmget of an existing key, shmat
 * and IPC_STAT need the mode's bits (EACCES); IPC_SET, IPC_RMID, SHM_LOCK and SHM_UNLOCK need
 * ownership (EPERM); the owner's and others' bits are told apart. Run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err_name(int e)
{
    return e == 0 ? "ok" : e == EACCES ? "EACCES" : e == EPERM ? "EPERM" : e == EINVAL ? "EINVAL" : strerror(e);
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (long)(call);                                                                           \
        printf("%s: %s\n", what, r_ == -1 ? err_name(errno) : "ok");                                      \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    key_t key = 0x6b696f6b;
    int root_id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    int open_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0644);
    struct shmid_ds ds;
    shmctl(root_id, IPC_STAT, &ds);
    printf("root's segment: uid %d cuid %d gid %d mode %o\n", (int)ds.shm_perm.uid, (int)ds.shm_perm.cuid,
           (int)ds.shm_perm.gid, ds.shm_perm.mode & 0777);
    pid_t child = fork();
    if (child == 0) {
        setgid(65534);
        setuid(65534);
        struct shmid_ds d;
        SHOW("shmget of root's 0600 key", shmget(key, 4096, 0600));
        SHOW("shmget of it asking nothing", shmget(key, 4096, 0));
        SHOW("shmat of root's 0600 segment", shmat(root_id, NULL, 0) == (void*)-1 ? -1 : 0);
        SHOW("IPC_STAT of it", shmctl(root_id, IPC_STAT, &d));
        SHOW("SHM_STAT_ANY needs nothing", shmctl(root_id & 0xffff, SHM_STAT_ANY, &d) < 0 ? -1 : 0);
        SHOW("IPC_SET of it", shmctl(root_id, IPC_SET, &d));
        SHOW("SHM_LOCK of it", shmctl(root_id, SHM_LOCK, NULL));
        SHOW("SHM_UNLOCK of it", shmctl(root_id, SHM_UNLOCK, NULL));
        SHOW("IPC_RMID of it", shmctl(root_id, IPC_RMID, NULL));
        SHOW("shmat read-only of a 0644 segment", shmat(open_id, NULL, SHM_RDONLY) == (void*)-1 ? -1 : 0);
        SHOW("shmat read-write of it", shmat(open_id, NULL, 0) == (void*)-1 ? -1 : 0);
        int mine = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        shmctl(mine, IPC_STAT, &d);
        printf("my segment: uid %d cuid %d gid %d\n", (int)d.shm_perm.uid, (int)d.shm_perm.cuid, (int)d.shm_perm.gid);
        SHOW("shmat of my own", shmat(mine, NULL, 0) == (void*)-1 ? -1 : 0);
        d.shm_perm.mode = 0400;
        SHOW("IPC_SET of my own to 0400", shmctl(mine, IPC_SET, &d));
        SHOW("shmat read-write of it now", shmat(mine, NULL, 0) == (void*)-1 ? -1 : 0);
        SHOW("IPC_RMID of my own", shmctl(mine, IPC_RMID, NULL));
        _exit(0);
    }
    waitpid(child, NULL, 0);
    SHOW("root removes its segment", shmctl(root_id, IPC_RMID, NULL));
    SHOW("and the other", shmctl(open_id, IPC_RMID, NULL));
    return 0;
}
