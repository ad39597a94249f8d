/* Answers Linux gives that kioku once got wrong, and /dev/shm as a tmpfs: a read-only shared
 * mapping of /dev/zero cannot become writable; mremap refuses a new length larger than the
 * address space; a forked child's new mapping next to an inherited one stays separate (its
 * anon_vma has a parent) while the parent's merges; fstat of a memfd; shm_open, ftruncate,
 * mmap between processes, the directory's listing, stat and shm_unlink. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int maps_lines(void)
{
    char b[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    int n = read(fd, b, sizeof b - 1);
    close(fd);
    int c = 0;
    for (int i = 0; i < n; i++)
        c += b[i] == '\n';
    return c;
}

static const char* e(int failed)
{
    return failed ? (errno == EACCES   ? "EACCES"
                     : errno == EINVAL ? "EINVAL"
                     : errno == ENOENT ? "ENOENT"
                     : errno == EEXIST ? "EEXIST"
                                       : strerror(errno))
                  : "ok";
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    int z = open("/dev/zero", O_RDONLY);
    char* p = mmap(NULL, page, PROT_READ, MAP_SHARED, z, 0);
    printf("read-only /dev/zero, MAP_SHARED, PROT_READ: %s\n", e(p == MAP_FAILED));
    printf("  mprotect to PROT_WRITE: %s\n", e(mprotect(p, page, PROT_READ | PROT_WRITE) != 0));
    printf("  MAP_SHARED with PROT_WRITE: %s\n",
           e(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0) == MAP_FAILED));

    char* q = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mremap to a length of -4096: %s\n",
           e(mremap(q, 2 * page, (size_t)-4096, MREMAP_MAYMOVE) == MAP_FAILED));
    printf("mremap to a length of 0: %s\n", e(mremap(q, 2 * page, 0, MREMAP_MAYMOVE) == MAP_FAILED));

    char* a = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(a, 8 * page);
    a = mmap(a, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    a[0] = 1;
    pid_t c = fork();
    if (c == 0) {
        int before = maps_lines();
        char* b =
            mmap(a + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        b[0] = 1;
        printf("child: a new mapping next to an inherited one: %s\n",
               maps_lines() == before + 1 ? "separate" : "merged");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    int before = maps_lines();
    char* b = mmap(a + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    b[0] = 1;
    printf("parent: a new mapping next to its own: %s\n", maps_lines() == before + 1 ? "separate" : "merged");

    struct stat st;
    int m = memfd_create("kioku", 0);
    ftruncate(m, 10000);
    int r = fstat(m, &st);
    printf("memfd fstat: %s, size %ld, mode %o, links %ld\n", e(r != 0), (long)st.st_size, st.st_mode,
           (long)st.st_nlink);

    printf("access(/dev/shm, W_OK): %s\n", e(access("/dev/shm", W_OK) != 0));
    int s = open("/dev/shm/kioku-shm-files", O_CREAT | O_EXCL | O_RDWR, 0640);
    printf("create /dev/shm/kioku-shm-files: %s\n", e(s < 0));
    printf("create it again with O_EXCL: %s\n",
           e(open("/dev/shm/kioku-shm-files", O_CREAT | O_EXCL | O_RDWR, 0640) < 0));
    ftruncate(s, 3 * page);
    char* shared = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
    c = fork();
    if (c == 0) {
        int fd = open("/dev/shm/kioku-shm-files", O_RDWR);
        char* mine = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        strcpy(mine + 2 * page, "written by the child");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("the parent reads: %s\n", shared + 2 * page);
    r = stat("/dev/shm/kioku-shm-files", &st);
    printf("stat: %s, size %ld, mode %o, links %ld\n", e(r != 0), (long)st.st_size, st.st_mode,
           (long)st.st_nlink);
    int listed = 0;
    DIR* d = opendir("/dev/shm");
    struct dirent* de;
    while (d && (de = readdir(d)))
        listed |= strcmp(de->d_name, "kioku-shm-files") == 0;
    if (d)
        closedir(d);
    printf("listed in /dev/shm: %s\n", listed ? "yes" : "no");
    printf("fchmod 0400: %s", e(fchmod(s, 0400) != 0));
    printf(", fchown 12:34: %s", e(fchown(s, 12, 34) != 0));
    fstat(s, &st);
    printf(", now mode %o, owner %d:%d\n", st.st_mode, (int)st.st_uid, (int)st.st_gid);
    /* By path, as LTP's library does with its /dev/shm file. */
    printf("chmod by path 0666: %s", e(chmod("/dev/shm/kioku-shm-files", 0666) != 0));
    printf(", chown by path 0:0: %s", e(chown("/dev/shm/kioku-shm-files", 0, 0) != 0));
    stat("/dev/shm/kioku-shm-files", &st);
    printf(", now mode %o, owner %d:%d\n", st.st_mode, (int)st.st_uid, (int)st.st_gid);
    printf("chmod of a missing one: %s\n", e(chmod("/dev/shm/kioku-no-such", 0666) != 0));
    printf("unlink: %s\n", e(unlink("/dev/shm/kioku-shm-files") != 0));
    printf("unlink again: %s\n", e(unlink("/dev/shm/kioku-shm-files") != 0));
    printf("open after unlink: %s\n", e(open("/dev/shm/kioku-shm-files", O_RDWR) < 0));
    fstat(s, &st);
    printf("still mapped after unlink: %s, links %ld\n", shared[2 * page] == 'w' ? "yes" : "no",
           (long)st.st_nlink);
    return 0;
}
