/* Which blocked calls a signal handler restarts under SA_RESTART, as signal(7) lists them:
 * a pipe read and wait4 are restarted; pause (ppoll), pselect6 and epoll_wait end with EINTR
 * whatever the flag. Without SA_RESTART the read ends with EINTR too. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_alarm(int sig)
{
    (void)sig;
    ++handled;
}

static void handler(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

static void arm(long usec)
{
    struct itimerval v = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &v, NULL);
}

static const char* outcome(long r)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%s", r >= 0 ? "returned" : errno == EINTR ? "EINTR" : strerror(errno));
    return buf;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    handler(SA_RESTART);

    arm(50000);
    long r = pause();
    printf("pause: %s, handler ran %d\n", outcome(r), handled);

    handled = 0;
    arm(50000);
    printf("ppoll with no descriptors: %s\n", outcome(ppoll(NULL, 0, NULL, NULL)));

    arm(50000);
    printf("pselect6: %s\n", outcome(pselect(0, NULL, NULL, NULL, NULL, NULL)));

    int ep = epoll_create1(0);
    struct epoll_event ev;
    arm(50000);
    printf("epoll_wait: %s\n", outcome(epoll_wait(ep, &ev, 1, -1)));

    /* A pipe read: the alarm comes first, a child writes later; the read is restarted. */
    int fds[2];
    pipe(fds);
    pid_t child = fork();
    if (child == 0) {
        usleep(150000);
        write(fds[1], "x", 1);
        _exit(0);
    }
    handled = 0;
    arm(50000);
    char c = 0;
    long n = read(fds[0], &c, 1);
    printf("pipe read with SA_RESTART: %s %ld byte, handler ran %d\n", outcome(n), n, handled);
    waitpid(child, NULL, 0);

    child = fork();
    if (child == 0) {
        usleep(150000);
        _exit(7);
    }
    arm(50000);
    int status = 0;
    long w = waitpid(child, &status, 0);
    printf("waitpid with SA_RESTART: %s, exit %d\n", outcome(w), WEXITSTATUS(status));

    handler(0);
    arm(50000);
    n = read(fds[0], &c, 1);
    printf("pipe read without SA_RESTART: %s\n", outcome(n));
    return 0;
}
