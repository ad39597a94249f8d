/* flock between processes, fallocate's modes, fadvise64, statfs of the pseudo filesystems and of
 * shmem, and the nice value through getpriority/setpriority, with Linux's errors. Files live in
 * /tmp, which is ext4 where the expected output was recorded (kioku's root disk is ext4 to statfs
 * too). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* e(int r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ESPIPE: return "ESPIPE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    default: return strerror(errno);
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
    setvbuf(stdout, NULL, _IONBF, 0);
    const char* path = "/tmp/kioku-file-calls";
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);

    /* flock */
    printf("flock LOCK_EX: %s\n", e(flock(fd, LOCK_EX)));
    pid_t c = fork();
    if (c == 0) {
        int mine = open(path, O_RDWR);
        printf("child: LOCK_EX|LOCK_NB: %s\n", e(flock(mine, LOCK_EX | LOCK_NB)));
        printf("child: LOCK_SH|LOCK_NB: %s\n", e(flock(mine, LOCK_SH | LOCK_NB)));
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        printf("child: fcntl F_SETLK beside it: %s\n", e(fcntl(mine, F_SETLK, &fl)));
        printf("child: the inherited descriptor shares the lock: %s\n", e(flock(fd, LOCK_EX | LOCK_NB)));
        printf("child: LOCK_EX waits for the parent: %s\n", e(flock(mine, LOCK_EX)));
        _exit(0);
    }
    usleep(100000);
    printf("parent: LOCK_UN\n");
    int unlocked = flock(fd, LOCK_UN);
    waitpid(c, NULL, 0);
    printf("parent: it was %s\n", e(unlocked));
    printf("flock bad operation: %s\n", e(flock(fd, 77)));
    printf("flock bad descriptor: %s\n", e(flock(99, LOCK_SH)));

    /* fallocate */
    printf("fallocate 0, 10000 bytes: %s", e(fallocate(fd, 0, 0, 10000)));
    printf(", size %ld\n", size_of(fd));
    printf("KEEP_SIZE to 20000: %s", e(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000)));
    printf(", size %ld\n", size_of(fd));
    char buf[10000];
    memset(buf, 'x', sizeof buf);
    pwrite(fd, buf, sizeof buf, 0);
    printf("PUNCH_HOLE|KEEP_SIZE 100..5100: %s",
           e(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000)));
    pread(fd, buf, sizeof buf, 0);
    int zeros = 0;
    for (int i = 0; i < 10000; ++i)
        zeros += buf[i] == 0;
    printf(", size %ld, %d zero bytes, byte 99 '%c', byte 5100 '%c'\n", size_of(fd), zeros, buf[99],
           buf[5100]);
    printf("PUNCH_HOLE without KEEP_SIZE: %s\n", e(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10)));
    printf("ZERO_RANGE 0..200 past the end: %s", e(fallocate(fd, FALLOC_FL_ZERO_RANGE, 9900, 200)));
    printf(", size %ld\n", size_of(fd));
    printf("length 0: %s\n", e(fallocate(fd, 0, 0, 0)));
    printf("offset -1: %s\n", e(fallocate(fd, 0, -1, 10)));
    printf("unknown mode bit: %s\n", e(fallocate(fd, 0x1000, 0, 10)));
    int ro = open(path, O_RDONLY);
    printf("read-only descriptor: %s\n", e(fallocate(ro, 0, 0, 10)));
    int p[2];
    pipe(p);
    printf("pipe: %s\n", e(fallocate(p[1], 0, 0, 10)));
    int m = memfd_create("fc", 0);
    printf("memfd 0, 3 pages: %s", e(fallocate(m, 0, 0, 3 * 4096)));
    struct stat st;
    fstat(m, &st);
    printf(", size %ld, blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
    printf("memfd ZERO_RANGE: %s\n", e(fallocate(m, FALLOC_FL_ZERO_RANGE, 0, 10)));

    /* fadvise64 */
    printf("fadvise DONTNEED: %s\n", e(-posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) ? -1 : 0));
    int r = posix_fadvise(fd, 0, 0, 99);
    printf("fadvise bad advice: %s\n", r == EINVAL ? "EINVAL" : strerror(r));
    r = posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL);
    printf("fadvise on a pipe: %s\n", r == ESPIPE ? "ESPIPE" : strerror(r));

    /* statfs */
    struct statfs sf;
    r = statfs("/proc", &sf);
    printf("statfs /proc: %s, PROC_SUPER_MAGIC %d\n", e(r), sf.f_type == 0x9fa0);
    r = statfs("/dev/shm", &sf);
    printf("statfs /dev/shm: %s, TMPFS_MAGIC %d\n", e(r), sf.f_type == 0x01021994);
    r = statfs("/tmp", &sf);
    printf("statfs /tmp: %s, EXT4 %d, block size %ld\n", e(r), sf.f_type == 0xEF53, (long)sf.f_bsize);
    printf("statfs of a missing path: %s\n", e(statfs("/no/such/place", &sf)));
    r = fstatfs(m, &sf);
    printf("fstatfs memfd: %s, TMPFS_MAGIC %d\n", e(r), sf.f_type == 0x01021994);
    r = fstatfs(p[0], &sf);
    printf("fstatfs pipe: %s, PIPEFS_MAGIC %d\n", e(r), sf.f_type == 0x50495045);
    printf("fstatfs bad descriptor: %s\n", e(fstatfs(99, &sf)));

    /* nice */
    errno = 0;
    printf("getpriority: %d\n", getpriority(PRIO_PROCESS, 0));
    printf("setpriority 5: %s\n", e(setpriority(PRIO_PROCESS, 0, 5)));
    printf("getpriority: %d\n", getpriority(PRIO_PROCESS, 0));
    c = fork();
    if (c == 0) {
        printf("child inherits: %d\n", getpriority(PRIO_PROCESS, 0));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    r = setpriority(PRIO_PROCESS, 0, 99);
    printf("setpriority 99 (clamped): %s, now %d\n", e(r), getpriority(PRIO_PROCESS, 0));
    printf("setpriority -5 as root: %s\n", e(setpriority(PRIO_PROCESS, 0, -5)));
    printf("getpriority of no such process: %s\n",
           e(getpriority(PRIO_PROCESS, 999999) == -1 && errno ? -1 : 0));
    printf("getpriority bad which: %s\n", e(getpriority(7, 0) == -1 && errno ? -1 : 0));
    unlink(path);
    return 0;
}
