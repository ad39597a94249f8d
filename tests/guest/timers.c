// Timers and job control: timerfd (relative, absolute, periodic, blocking read), setitimer with
// SIGALRM (alarm then pause, a periodic timer), process groups and sessions (setpgid, getpgid,
// setsid, getsid, kill of a process group), and memfd_create. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;

static void on_alarm(int sig)
{
    (void)sig;
    ++alarms;
}

static void timerfds(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    uint64_t n = 0;
    printf("unarmed read: %zd errno %d\n", read(t, &n, 8), errno);
    struct itimerspec spec = {{0, 0}, {0, 20 * 1000 * 1000}};
    printf("settime: %d\n", timerfd_settime(t, 0, &spec, NULL));
    struct itimerspec cur;
    timerfd_gettime(t, &cur);
    printf("armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0);
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
    printf("one-shot read: %zd count %llu\n", read(t, &n, 8), (unsigned long long)n);
    timerfd_gettime(t, &cur);
    printf("disarmed after: %ld %ld\n", cur.it_value.tv_sec, cur.it_value.tv_nsec);
    close(t);

    int b = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    spec.it_interval.tv_nsec = 10 * 1000 * 1000;
    spec.it_value.tv_sec = now.tv_sec + 1;
    spec.it_value.tv_nsec = 0;
    timerfd_settime(b, TFD_TIMER_ABSTIME, &spec, NULL);
    // Under load the host may run the reader a period or more after the first expiry, so only
    // "at least one" is a fact on every machine.
    ssize_t got = read(b, &n, 8);
    printf("blocking read: %zd count >= 1: %d\n", got, n >= 1);
    nanosleep(&nap, NULL);
    read(b, &n, 8);
    printf("periodic count >= 4: %d\n", n >= 4);
    printf("bad clock: %d errno %d\n", timerfd_create(12345, 0), errno);
    printf("not a timerfd: %d errno %d\n", timerfd_gettime(0, &cur), errno);
    close(b);
}

static void itimers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    pause();
    printf("alarm then pause: alarms %d\n", alarms);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms < 4)
        pause();
    struct itimerval old;
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, &old);
    printf("periodic: alarms %d interval %ld\n", alarms, old.it_interval.tv_usec);
    getitimer(ITIMER_REAL, &old);
    printf("disarmed: %ld %ld\n", old.it_value.tv_sec, old.it_value.tv_usec);
    printf("bad which: %d errno %d\n", setitimer(7, &it, NULL), errno);
    alarm(5);
    printf("alarm remaining: %u\n", alarm(0));
}

static void groups(void)
{
    pid_t me = getpid();
    pid_t child = fork();
    if (child == 0) {
        printf("child pgid is parent's: %d\n", getpgid(0) == getpgid(getppid()));
        printf("child sid is parent's: %d\n", getsid(0) == getsid(getppid()));
        pid_t sid = setsid();
        printf("setsid: %d pgid %d sid %d\n", sid == getpid(), getpgid(0) == getpid(), getsid(0) == getpid());
        printf("setsid again: %d errno %d\n", setsid(), errno);
        printf("setpgid as session leader: %d errno %d\n", setpgid(0, 0), errno);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    child = fork();
    if (child == 0) {
        pause();
        _exit(1);
    }
    printf("setpgid child: %d\n", setpgid(child, child));
    printf("child leads its group: %d\n", getpgid(child) == child);
    printf("setpgid to missing group: %d errno %d\n", setpgid(child, 999999), errno);
    printf("getpgid missing: %d errno %d\n", getpgid(999999), errno);
    printf("kill group: %d\n", kill(-child, SIGTERM));
    int status;
    waitpid(child, &status, 0);
    printf("child killed by %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    printf("kill empty group: %d errno %d\n", kill(-child, SIGTERM), errno);
    printf("setpgid bad: %d errno %d\n", setpgid(0, -1), errno);
    printf("self pgid unchanged: %d\n", getpgid(0) == getpgid(me));
}

static void memfds(void)
{
    int fd = memfd_create("kioku", MFD_CLOEXEC);
    printf("memfd: %d cloexec %d\n", fd >= 0, fcntl(fd, F_GETFD));
    ftruncate(fd, 8192);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    strcpy(p + 4096, "shared page");
    char buf[16] = {0};
    pread(fd, buf, 11, 4096);
    printf("memfd read: %s\n", buf);
    char link[64] = {0};
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("memfd link: %s\n", link);
    printf("bad flags: %d errno %d\n", memfd_create("x", 0x100), errno);
    munmap(p, 8192);
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    timerfds();
    itimers();
    groups();
    memfds();
    return 0;
}
