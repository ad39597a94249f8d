/* The first process of a run and init. By default the program is started by a minimal init
 * (PID 1) as a real system's first program is: its parent is 1, init ignores signals it has no
 * handler for, adopts orphans and reaps them. With "noinit" (kioku run --no-init) the program is
 * PID 1 itself: signals without a handler do not kill it, orphans become its children.
 * /proc/PID/stat shows the real state letter: S for a child in pause(), Z for one not yet waited
 * for, and the thread count. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The state letter, parent and thread count from /proc/PID/stat; 0 when it cannot be read. */
static char proc_state(pid_t pid, long* ppid, long* threads)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    char state = 0;
    long pp = 0, pgrp, sess, tty, tpgid, flags, f[9], nthreads = 0;
    sscanf(p + 2, "%c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &state, &pp,
           &pgrp, &sess, &tty, &tpgid, &flags, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
           &f[8], &f[8], &nthreads);
    if (ppid)
        *ppid = pp;
    if (threads)
        *threads = nthreads;
    return state;
}

static void* idle_thread(void* arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(int argc, char** argv)
{
    int noinit = argc > 1 && strcmp(argv[1], "noinit") == 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (noinit) {
        printf("I am pid 1: %s, my parent is %d\n", getpid() == 1 ? "yes" : "no", (int)getppid());
    } else {
        long ppid = -1;
        printf("I am pid 1: %s, my parent is %d\n", getpid() == 1 ? "yes" : "no", (int)getppid());
        char state = proc_state(1, &ppid, NULL);
        printf("pid 1 state %c, its parent %ld\n", state, ppid);
    }
    printf("kill(1, 0) = %d\n", kill(1, 0));
    printf("kill(1, SIGTERM) = %d\n", kill(1, SIGTERM));
    printf("kill(1, SIGKILL) = %d\n", kill(1, SIGKILL));
    printf("pid 1 still there: %s\n", kill(1, 0) == 0 ? "yes" : "no");

    /* An orphan: its parent exits; it reports its new parent through a pipe. */
    int fds[2];
    pipe(fds);
    pid_t middle = fork();
    if (middle == 0) {
        pid_t orphan = fork();
        if (orphan == 0) {
            while (getppid() != 1)
                usleep(1000);
            int pp = getppid();
            write(fds[1], &pp, sizeof pp);
            _exit(7);
        }
        write(fds[1], &orphan, sizeof orphan);
        _exit(0);
    }
    pid_t orphan = 0;
    int adopted = 0;
    read(fds[0], &orphan, sizeof orphan);
    waitpid(middle, NULL, 0);
    read(fds[0], &adopted, sizeof adopted);
    printf("the orphan's parent is now %d\n", adopted);
    usleep(100000);
    if (noinit) {
        /* init is the program: the orphan is its child, a zombie until it waits. */
        int status = 0;
        printf("the orphan's state before wait %c\n", proc_state(orphan, NULL, NULL));
        pid_t waited = waitpid(orphan, &status, 0);
        printf("wait for the orphan: %s, status %d\n", waited == orphan ? "ok" : "no", WEXITSTATUS(status));
    } else {
        printf("the orphan was reaped by init: %s\n", proc_state(orphan, NULL, NULL) == 0 ? "yes" : "no");
        errno = 0;
        pid_t waited = waitpid(orphan, NULL, WNOHANG);
        printf("waitpid for it: %d %s\n", (int)waited, strerror(errno));
    }

    /* A child that sleeps with a second thread, then a zombie. */
    pid_t sleeper = fork();
    if (sleeper == 0) {
        pthread_t t;
        pthread_create(&t, NULL, idle_thread, NULL);
        pause();
        _exit(0);
    }
    usleep(100000);
    long threads = 0, ppid = 0;
    char state = proc_state(sleeper, &ppid, &threads);
    printf("sleeping child: state %c, threads %ld, parent is me: %s\n", state, threads,
           ppid == getpid() ? "yes" : "no");
    kill(sleeper, SIGTERM);
    usleep(100000);
    printf("killed child before wait: state %c\n", proc_state(sleeper, NULL, NULL));
    int status = 0;
    waitpid(sleeper, &status, 0);
    printf("after wait: %s, killed by %d\n", proc_state(sleeper, NULL, NULL) ? "still there" : "gone",
           WTERMSIG(status));
    printf("my own state %c\n", proc_state(getpid(), NULL, NULL));
    return 3;
}
