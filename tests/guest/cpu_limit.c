// RLIMIT_CPU: a child that computes with a soft limit of 1 second and a hard one of 2 gets
// SIGXCPU once a second from the soft limit on (getrlimit shows the soft limit moved on), then
// SIGKILL at the hard limit. A child that sleeps uses no CPU time and is not signalled.
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int* xcpu;
static volatile rlim_t* soft_seen;

static void on_xcpu(int sig)
{
    (void)sig;
    struct rlimit r;
    getrlimit(RLIMIT_CPU, &r);
    soft_seen[*xcpu] = r.rlim_cur;
    ++*xcpu;
}

int main(void)
{
    xcpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    soft_seen = (volatile rlim_t*)(xcpu + 8);
    signal(SIGXCPU, on_xcpu);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit r = {1, 2};
        setrlimit(RLIMIT_CPU, &r);
        alarm(60);
        for (;;)
            ;
    }
    int status;
    waitpid(pid, &status, 0);
    printf("spinning child: killed by %s\n",
           WIFSIGNALED(status) ? (WTERMSIG(status) == SIGKILL ? "SIGKILL" : "another signal") : "nothing");
    printf("SIGXCPU signals: %d\n", *xcpu);
    for (int i = 0; i < *xcpu && i < 4; ++i)
        printf("soft limit seen in handler %d: %lu\n", i, (unsigned long)soft_seen[i]);

    *xcpu = 0;
    pid = fork();
    if (pid == 0) {
        struct rlimit r = {1, 2};
        setrlimit(RLIMIT_CPU, &r);
        struct timespec ts = {3, 0};
        nanosleep(&ts, NULL);
        _exit(7);
    }
    waitpid(pid, &status, 0);
    printf("sleeping child: exit %d, SIGXCPU signals %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1, *xcpu);
    return 0;
}
