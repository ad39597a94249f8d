/* Assorted system calls a program meets: /proc/self files, /dev/null and /dev/zero, directories,
 * time and sleeping, the alternate signal stack, mprotect, getrusage and uname. Every line is a
 * fact that holds on Linux, so the output is the same on any correct kernel. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static char altstack[65536];
static volatile int on_altstack;

static void on_usr1(int sig)
{
    int local = sig;
    on_altstack = (char*)&local >= altstack && (char*)&local < altstack + sizeof altstack;
}

static int file_contains(const char* path, const char* needle)
{
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

int main(void)
{
    printf("/proc/self/maps has [stack]: %d\n", file_contains("/proc/self/maps", "[stack]"));
    printf("/proc/self/status has VmRSS: %d\n", file_contains("/proc/self/status", "VmRSS:"));
    printf("/proc/meminfo has MemTotal: %d\n", file_contains("/proc/meminfo", "MemTotal:"));

    int null = open("/dev/null", O_WRONLY);
    printf("write to /dev/null: %zd\n", write(null, "abc", 3));
    close(null);
    int zero = open("/dev/zero", O_RDONLY);
    char z[8] = "xxxxxxx";
    printf("read from /dev/zero: %zd, first byte %d\n", read(zero, z, sizeof z), z[0]);
    close(zero);

    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/kioku-guest-dir-%d", (int)getpid());
    printf("mkdir: %d\n", mkdir(dir, 0755));
    char path[128];
    for (int i = 0; i < 3; ++i) {
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    DIR* d = opendir(dir);
    int entries = 0;
    for (struct dirent* e; (e = readdir(d));)
        entries += e->d_name[0] == 'f';
    closedir(d);
    printf("directory entries: %d\n", entries);
    for (int i = 0; i < 3; ++i) {
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        unlink(path);
    }
    printf("rmdir: %d\n", rmdir(dir));

    struct timespec a, b, pause = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long elapsed = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    printf("slept at least 20 ms: %d\n", elapsed >= 20 * 1000 * 1000);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler ran on the alternate stack: %d\n", on_altstack);

    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    printf("mprotect read-only: %d\n", mprotect(page, 4096, PROT_READ));
    printf("page still reads %d\n", page[0]);

    struct rusage r1, r2;
    getrusage(RUSAGE_SELF, &r1);
    char* more = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 64; ++i)
        more[i * 4096] = 1;
    getrusage(RUSAGE_SELF, &r2);
    printf("64 first touches fault at least 64 times: %d\n", r2.ru_minflt - r1.ru_minflt >= 64);

    struct utsname u;
    uname(&u);
    printf("uname: %s %s\n", u.sysname, u.machine);
    printf("getcwd works: %d\n", getcwd(path, sizeof path) != NULL);
    return 0;
}
