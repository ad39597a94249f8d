/* ru_maxrss as getrusage reports it: RUSAGE_CHILDREN holds the largest RSS of the children waited
 * for (and of their own waited-for children), nothing before a child is waited for and nothing of
 * a child reaped unwaited because SIGCHLD is ignored; wait4's rusage has the child's; RUSAGE_SELF
 * keeps the largest RSS of the image an execve left. */
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static long maxrss(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_maxrss; /* kB */
}

static void touch_mib(int mib)
{
    size_t n = (size_t)mib << 20;
    char* p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 1, n);
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2) {
        /* After the execve: the old image's 48 MiB still counts for RUSAGE_SELF. */
        printf("after execve, self >= 48 MiB: %d\n", maxrss(RUSAGE_SELF) >= 48 * 1024);
        return 0;
    }
    printf("children before any wait: %ld\n", maxrss(RUSAGE_CHILDREN));
    pid_t a = fork();
    if (a == 0) {
        touch_mib(40);
        _exit(0);
    }
    sleep(1);
    printf("a child exited but not waited for, children: %ld\n", maxrss(RUSAGE_CHILDREN));
    waitpid(a, NULL, 0);
    long one = maxrss(RUSAGE_CHILDREN);
    printf("after waiting, children >= 40 MiB: %d, < 64 MiB: %d\n", one >= 40 * 1024, one < 64 * 1024);
    pid_t b = fork();
    if (b == 0) {
        pid_t g = fork();
        if (g == 0) {
            touch_mib(80);
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(b, NULL, 0);
    long two = maxrss(RUSAGE_CHILDREN);
    printf("a grandchild waited for by its parent counts, >= 80 MiB: %d\n", two >= 80 * 1024);
    pid_t c = fork();
    if (c == 0) {
        touch_mib(48);
        execl("/proc/self/exe", argv[0], "1", (char*)NULL);
        _exit(127);
    }
    int status;
    waitpid(c, &status, 0);
    printf("the execed child exited %d\n", WEXITSTATUS(status));
    printf("self is below 40 MiB: %d\n", maxrss(RUSAGE_SELF) < 40 * 1024);

    signal(SIGCHLD, SIG_IGN);
    pid_t d = fork();
    if (d == 0) {
        touch_mib(120);
        _exit(0);
    }
    int gone = waitpid(d, NULL, 0) < 0; /* ECHILD once it is released */
    printf("a child released unwaited: waitpid fails %d, children still < 100 MiB: %d\n", gone,
           maxrss(RUSAGE_CHILDREN) < 100 * 1024);
    signal(SIGCHLD, SIG_DFL);
    pid_t e = fork();
    if (e == 0) {
        touch_mib(24);
        _exit(0);
    }
    struct rusage ru;
    wait4(e, &status, 0, &ru);
    printf("wait4's rusage of a 24 MiB child: >= 24 MiB %d, < 40 MiB %d\n", ru.ru_maxrss >= 24 * 1024,
           ru.ru_maxrss < 40 * 1024);
    return 0;
}
