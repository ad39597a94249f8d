/* A sleeper wakes on time while another process keeps making slow system calls: the scheduler's
 * turn is bounded in simulated time, not only in instructions, so a child populating and
 * unmapping 16 MiB again and again does not hold the processor past the parent's deadline. The
 * parent also receives its alarm on time. */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile sig_atomic_t rang;
static void on_alarm(int sig)
{
    (void)sig;
    rang = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t child = fork();
    if (child == 0) {
        for (;;) {
            void* p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                           -1, 0);
            if (p != MAP_FAILED)
                munmap(p, 16 << 20);
        }
    }
    double t0 = now();
    usleep(200000);
    double slept = now() - t0;
    printf("usleep(200 ms) beside a busy child: back within 50 ms of its deadline: %s\n",
           slept < 0.25 ? "yes" : "no");
    signal(SIGALRM, on_alarm);
    t0 = now();
    ualarm(100000, 0);
    while (!rang)
        pause();
    double waited = now() - t0;
    printf("SIGALRM after 100 ms: within 50 ms of it: %s\n", waited < 0.15 ? "yes" : "no");
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    printf("child killed by signal %d\n", WTERMSIG(status));
    return 0;
}
