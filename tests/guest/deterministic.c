/* Prints values that depend on nothing but the run's inputs, so two runs of kioku must print the
 * same: inode numbers of pipes and sockets (and their /proc/self/fd names), the addresses of
 * mappings, the break and the stack, pids, the simulated clocks, getrandom's and AT_RANDOM's bytes
 * (seeded), a child's pid and its exit, /proc/self/stat's start time, and the identity and times of
 * files in the root, the program's own among them (devices, inode numbers, the three times, as
 * stat, readdir and /proc/self/maps show them), in a root made afresh for each run. None of these
 * is the same under Linux from run to run, so there is no expected file: deterministic.sh runs it
 * twice. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void fd_facts(const char* what, int fd)
{
    struct stat st;
    fstat(fd, &st);
    char path[64], link[128] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (readlink(path, link, sizeof link - 1) < 0)
        strcpy(link, "?");
    printf("%s: ino %lu, link %s\n", what, (unsigned long)st.st_ino, link);
}

static void file_facts(const char* path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("%s: missing\n", path);
        return;
    }
    printf("%s: dev %lx ino %lu nlink %lu atime %ld.%09ld mtime %ld.%09ld ctime %ld.%09ld\n", path,
           (unsigned long)st.st_dev, (unsigned long)st.st_ino, (unsigned long)st.st_nlink,
           (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

static void files(void)
{
    file_facts("/");
    file_facts("/tmp");
    file_facts("/proc/self/exe");
    struct stat exe;
    stat("/proc/self/exe", &exe);
    printf("the program: ino %lu, mode %o\n", (unsigned long)exe.st_ino, (unsigned)exe.st_mode);
    mkdir("/tmp/d", 0755);
    int fd = open("/tmp/d/f", O_CREAT | O_WRONLY, 0644);
    write(fd, "some bytes", 10);
    close(fd);
    symlink("f", "/tmp/d/l");
    link("/tmp/d/f", "/tmp/d/g");
    rename("/tmp/d/g", "/tmp/d/h");
    chmod("/tmp/d/h", 0600);
    fd = open("/tmp/d/m", O_CREAT | O_RDWR, 0644);
    ftruncate(fd, 4096);
    char* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[0] = 'x';
    msync(p, 4096, MS_SYNC);
    munmap(p, 4096);
    close(fd);
    struct timespec times[2] = {{1000, 5}, {0, UTIME_NOW}};
    utimensat(AT_FDCWD, "/tmp/d/l", times, AT_SYMLINK_NOFOLLOW);
    DIR* d = opendir("/tmp/d");
    struct dirent* e;
    while ((e = readdir(d))) {
        char path[300];
        snprintf(path, sizeof path, "/tmp/d/%s", e->d_name);
        printf("entry %s ino %lu: ", e->d_name, (unsigned long)e->d_ino);
        file_facts(path);
    }
    closedir(d);
    unlink("/tmp/d/h");
    file_facts("/tmp/d/f");
    file_facts("/tmp/d");
    char line[256] = {0};
    FILE* maps = fopen("/proc/self/maps", "r");
    if (maps && fgets(line, sizeof line, maps))
        printf("maps: %s", strchr(line, ' ') ? strchr(line, ' ') + 1 : line); /* past the address */
    if (maps)
        fclose(maps);
}

int main(void)
{
    files();
    int p[2], s[2];
    if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, s))
        return 1;
    fd_facts("pipe read end", p[0]);
    fd_facts("pipe write end", p[1]);
    fd_facts("socket 0", s[0]);
    fd_facts("socket 1", s[1]);
    void* m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap %p, brk %p, stack near %p\n", m, sbrk(0), (void*)&m);
    printf("pid %d, ppid %d\n", getpid(), getppid());
    struct timespec mono, real;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    printf("monotonic %ld.%09ld, realtime %ld.%09ld\n", (long)mono.tv_sec, mono.tv_nsec, (long)real.tv_sec,
           real.tv_nsec);
    unsigned char r[8];
    getrandom(r, sizeof r, 0);
    const unsigned char* at = (const unsigned char*)getauxval(AT_RANDOM);
    printf("getrandom %02x%02x%02x%02x%02x%02x%02x%02x, AT_RANDOM %02x%02x%02x%02x\n", r[0], r[1], r[2], r[3],
           r[4], r[5], r[6], r[7], at[0], at[1], at[2], at[3]);
    pid_t child = fork();
    if (child == 0)
        _exit(7);
    int status;
    waitpid(child, &status, 0);
    printf("child %d exited %d\n", child, WEXITSTATUS(status));
    char stat[512] = {0};
    int fd = open("/proc/self/stat", O_RDONLY);
    read(fd, stat, sizeof stat - 1);
    close(fd);
    char* field = stat;
    for (int i = 0; i < 21 && field; ++i) /* field 22: starttime */
        field = strchr(field + 1, ' ');
    printf("starttime %ld\n", field ? strtol(field + 1, NULL, 10) : -1L);
    return 0;
}
