/* Prints values that depend on nothing but the run's inputs, so two runs of kioku must print the
 * same: inode numbers of pipes and sockets (and their /proc/self/fd names), the addresses of
 * mappings, the break and the stack, pids, the simulated clocks, getrandom's and AT_RANDOM's bytes
 * (seeded), a child's pid and its exit, /proc/self/stat's start time. None of these is the same
 * under Linux from run to run, so there is no expected file: deterministic.sh runs it twice. */
#define _GNU_SOURCE
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

int main(void)
{
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
