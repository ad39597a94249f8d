/* fcntl record locks between processes, as SQLite and other databases use them: F_GETLK reports
 * F_UNLCK when nothing conflicts and the holder's range and pid when something does; shared locks
 * coexist, an exclusive one is refused (F_SETLK: EAGAIN) or waited for (F_SETLKW); two processes
 * waiting on each other get EDEADLK; closing any descriptor of the file, or exiting, releases a
 * process's locks; OFD locks belong to the open file description. The last part follows SQLite's
 * WAL start-up on its -shm file: the first connection finds the "DMS" byte unlocked (F_GETLK), a
 * second one finds it held shared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* type_name(short type)
{
    return type == F_UNLCK ? "F_UNLCK" : type == F_RDLCK ? "F_RDLCK" : type == F_WRLCK ? "F_WRLCK" : "?";
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

static const char* err_name(int e)
{
    return e == 0 ? "ok" : e == EAGAIN ? "EAGAIN" : e == EACCES ? "EACCES" : e == EDEADLK ? "EDEADLK" : e == EBADF ? "EBADF" : e == EINVAL ? "EINVAL" : "other";
}

/* F_GETLK (or F_OFD_GETLK) of a write lock on [start, start+len): prints what conflicts. */
static void probe(const char* what, int fd, int cmd, off_t start, off_t len, pid_t expected_holder)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0) {
        printf("%s: GETLK failed: %s\n", what, err_name(errno));
        return;
    }
    if (fl.l_type == F_UNLCK) {
        printf("%s: %s\n", what, type_name(fl.l_type));
        return;
    }
    printf("%s: %s start %lld len %lld holder %s\n", what, type_name(fl.l_type), (long long)fl.l_start,
           (long long)fl.l_len, fl.l_pid == expected_holder ? "as expected" : fl.l_pid == -1 ? "-1" : "other");
}

static void signal_pipe(int fd)
{
    if (write(fd, "x", 1) != 1)
        exit(9);
}

static void await_pipe(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        exit(9);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char* path = "/tmp/record-locks.db";
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;
    pid_t me = getpid();
    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0)
        return 1;

    probe("nothing held", fd, F_GETLK, 100, 1, 0);
    printf("parent read lock 0-9: %s\n", err_name(lock(fd, F_SETLK, F_RDLCK, 0, 10)));
    printf("parent write lock 20-29: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 20, 10)));
    printf("parent write lock 40: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 40, 1)));
    probe("own locks never conflict", fd, F_GETLK, 0, 100, 0);

    pid_t child = fork();
    if (child == 0) {
        probe("child sees the read lock", fd, F_GETLK, 5, 1, me);
        printf("child write lock 5: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 5, 1)));
        printf("child read lock 5: %s\n", err_name(lock(fd, F_SETLK, F_RDLCK, 5, 1)));
        printf("child write lock 50: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 50, 1)));
        signal_pipe(to_parent[1]);
        /* Waits for the parent's write lock on 20-29, which the parent drops after a while. */
        printf("child waits for 20-29: %s\n", err_name(lock(fd, F_SETLKW, F_WRLCK, 25, 1)));
        /* Now waits for byte 40 while the parent asks for 50, which the child holds. */
        signal_pipe(to_parent[1]);
        int r = lock(fd, F_SETLKW, F_WRLCK, 40, 1);
        printf("child got 40 after the parent's deadlock: %s\n", err_name(r));
        await_pipe(to_child[0]);
        _exit(0);
    }
    await_pipe(to_parent[0]);
    probe("parent sees the child's lock on 50", fd, F_GETLK, 50, 1, child);
    usleep(100000);
    printf("parent unlocks 20-29\n"); /* printed first: the child may run as soon as it is done */
    if (lock(fd, F_SETLK, F_UNLCK, 20, 10) != 0)
        printf("unlock failed\n");
    await_pipe(to_parent[0]);
    usleep(100000); /* the child is asleep on byte 40 by now */
    printf("parent waits for 50: %s\n", err_name(lock(fd, F_SETLKW, F_WRLCK, 50, 1)));
    printf("parent unlocks 40\n");
    if (lock(fd, F_SETLK, F_UNLCK, 40, 1) != 0)
        printf("unlock failed\n");
    signal_pipe(to_child[1]);
    int status;
    waitpid(child, &status, 0);
    probe("after the child exited", fd, F_GETLK, 0, 0, 0);

    /* Closing any descriptor of the file drops the process's locks on it. */
    printf("parent write lock 60: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 60, 1)));
    int other = open(path, O_RDONLY);
    close(other);
    child = fork();
    if (child == 0) {
        probe("after the parent closed another descriptor", fd, F_GETLK, 60, 1, me);
        _exit(0);
    }
    waitpid(child, &status, 0);

    /* OFD locks: owned by the description, shared by a forked child, not by a new open. */
    struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 1};
    printf("OFD write lock 200: %s\n", fcntl(fd, F_OFD_SETLK, &ofd) == 0 ? "ok" : err_name(errno));
    printf("POSIX lock on 200 in the same process: %s\n", err_name(lock(fd, F_SETLK, F_WRLCK, 200, 1)));
    child = fork();
    if (child == 0) {
        probe("child, same description", fd, F_OFD_GETLK, 200, 1, 0);
        int mine = open(path, O_RDWR);
        probe("child, its own description", mine, F_OFD_GETLK, 200, 1, 0);
        _exit(0);
    }
    waitpid(child, &status, 0);

    /* SQLite's WAL start-up on the -shm file: F_GETLK of the DMS byte, then a shared lock on it. */
    int shm = open("/tmp/record-locks.db-shm", O_CREAT | O_RDWR | O_TRUNC, 0600);
    const off_t DMS = 128 + 8;
    probe("first connection: DMS byte", shm, F_GETLK, DMS, 1, 0);
    printf("first connection: DMS exclusive: %s\n", err_name(lock(shm, F_SETLK, F_WRLCK, DMS, 1)));
    printf("first connection: DMS shared: %s\n", err_name(lock(shm, F_SETLK, F_RDLCK, DMS, 1)));
    child = fork();
    if (child == 0) {
        int second = open("/tmp/record-locks.db-shm", O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = DMS, .l_len = 1};
        fcntl(second, F_GETLK, &fl);
        printf("second connection: DMS is %s, so it is not the first\n", type_name(fl.l_type));
        printf("second connection: DMS shared: %s\n", err_name(lock(second, F_SETLK, F_RDLCK, DMS, 1)));
        _exit(0);
    }
    waitpid(child, &status, 0);
    unlink("/tmp/record-locks.db-shm");
    unlink(path);
    return 0;
}
