/* Processes signalling each other: kill between processes, sigsuspend, SIGCHLD to the parent,
 * wait status of a child killed by a signal, and nanosleep in a child. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_chld;

static void on_usr1(int sig) { got_usr1 = sig; }
static void on_chld(int sig) { got_chld += sig == SIGCHLD; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    int ready[2];
    pipe(ready);
    fflush(stdout);
    pid_t waiter = fork();
    if (waiter == 0) {
        write(ready[1], "r", 1);
        sigset_t none;
        sigemptyset(&none);
        sigsuspend(&none);
        printf("child woke by signal %d\n", (int)got_usr1);
        fflush(stdout);
        _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    kill(waiter, SIGUSR1);
    int status;
    waitpid(waiter, &status, 0);
    printf("sigsuspend child exited %d\n", WEXITSTATUS(status));

    pid_t victim = fork();
    if (victim == 0) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        for (;;)
            nanosleep(&ts, NULL);
    }
    kill(victim, SIGTERM);
    waitpid(victim, &status, 0);
    printf("victim signalled %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));

    pid_t sleeper = fork();
    if (sleeper == 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(9);
    }
    waitpid(sleeper, &status, 0);
    printf("sleeper exited %d\n", WEXITSTATUS(status));
    printf("SIGCHLD handled at least once: %d\n", got_chld > 0);
    printf("kill of a reaped child: %d\n", kill(sleeper, 0));
    return 0;
}
