/* memfd seals: F_ADD_SEALS and F_GET_SEALS, and what each seal forbids (write, growing,
 * shrinking, shared writable mappings, a read-only shared mapping becoming writable, holes),
 * EBUSY while a writable shared mapping exists, F_SEAL_SEAL, MFD_NOEXEC_SEAL, and files that
 * take no seals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static const char* err_name(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
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

static long map_result(void* p)
{
    return p == MAP_FAILED ? -1 : 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    SHOW("F_GET_SEALS of a new sealable memfd", fcntl(fd, F_GET_SEALS));
    SHOW("ftruncate 16K", ftruncate(fd, 16384));
    SHOW("F_ADD_SEALS unknown bit", fcntl(fd, F_ADD_SEALS, 0x100));

    /* Shrink and grow seals. */
    SHOW("F_ADD_SEALS SHRINK|GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
    SHOW("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    SHOW("ftruncate 8K (shrink)", ftruncate(fd, 8192));
    SHOW("ftruncate 32K (grow)", ftruncate(fd, 32768));
    SHOW("ftruncate 16K (same size)", ftruncate(fd, 16384));
    char buf[4096];
    memset(buf, 'a', sizeof buf);
    SHOW("pwrite inside", pwrite(fd, buf, 100, 0));
    SHOW("pwrite across the end", pwrite(fd, buf, 100, 16384 - 50));
    SHOW("pwrite past the end", pwrite(fd, buf, 100, 16384));
    SHOW("fallocate past the end", fallocate(fd, 0, 16384, 4096));
    SHOW("fallocate KEEP_SIZE past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 16384, 4096));
    SHOW("fallocate inside", fallocate(fd, 0, 0, 4096));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);

    /* Write seal: refused while a writable shared mapping exists. */
    char* shared = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    SHOW("F_ADD_SEALS WRITE with a writable mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    char* priv = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    SHOW("munmap the shared mapping", munmap(shared, 16384));
    SHOW("F_ADD_SEALS WRITE with only a private mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    SHOW("write", write(fd, buf, 10));
    SHOW("pwrite", pwrite(fd, buf, 10, 0));
    SHOW("mmap shared writable", map_result(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
    char* ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    SHOW("mmap shared read-only", map_result(ro));
    SHOW("mprotect it writable", mprotect(ro, 4096, PROT_READ | PROT_WRITE));
    priv[0] = 'p';
    printf("private copy written: %c, file still: %c\n", priv[0], ro[0]);
    SHOW("mmap private writable", map_result(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)));
    SHOW("punch a hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    SHOW("read", pread(fd, buf, 10, 0));
    SHOW("F_ADD_SEALS SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    SHOW("F_ADD_SEALS after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    SHOW("F_GET_SEALS", fcntl(fd, F_GET_SEALS));

    /* Future-write seal: mappings made before keep writing. */
    int fw = memfd_create("future", MFD_ALLOW_SEALING);
    ftruncate(fw, 4096);
    char* before = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fw, 0);
    SHOW("F_ADD_SEALS FUTURE_WRITE with a writable mapping", fcntl(fw, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    before[0] = 'x';
    char c = 0;
    pread(fw, &c, 1, 0);
    printf("the earlier mapping still writes: %c\n", c);
    SHOW("write", write(fw, "y", 1));
    SHOW("new shared writable mapping", map_result(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fw, 0)));

    /* Seals need a writable descriptor and a memfd that allows them. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fw);
    int rd = open(path, O_RDONLY);
    SHOW("F_ADD_SEALS on a read-only descriptor", fcntl(rd, F_ADD_SEALS, F_SEAL_GROW));
    SHOW("F_GET_SEALS on it", fcntl(rd, F_GET_SEALS));
    int plain = memfd_create("plain", 0);
    SHOW("F_GET_SEALS without MFD_ALLOW_SEALING", fcntl(plain, F_GET_SEALS));
    SHOW("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(plain, F_ADD_SEALS, F_SEAL_GROW));
    int pipes[2];
    pipe(pipes);
    SHOW("F_GET_SEALS on a pipe", fcntl(pipes[0], F_GET_SEALS));
    SHOW("F_ADD_SEALS on a pipe", fcntl(pipes[1], F_ADD_SEALS, F_SEAL_GROW));

    /* MFD_NOEXEC_SEAL: sealable, F_SEAL_EXEC set, no exec bits. */
    int nx = memfd_create("noexec", MFD_NOEXEC_SEAL);
    SHOW("F_GET_SEALS of MFD_NOEXEC_SEAL", fcntl(nx, F_GET_SEALS));
    fstat(nx, &st);
    printf("its mode %o\n", st.st_mode & 07777);
    /* F_SEAL_EXEC on an executable memfd brings the write seals with it. */
    int ex = memfd_create("exec", MFD_ALLOW_SEALING);
    fstat(ex, &st);
    printf("an ordinary memfd's mode %o\n", st.st_mode & 07777);
    SHOW("F_ADD_SEALS EXEC", fcntl(ex, F_ADD_SEALS, F_SEAL_EXEC));
    SHOW("F_GET_SEALS", fcntl(ex, F_GET_SEALS));
    return 0;
}
