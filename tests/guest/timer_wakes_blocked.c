// Every task blocked, with no deadline of its own, and a timer armed after they blocked: the
// timer still fires and wakes them. A thread waits in sigsuspend(); the main thread arms a
// one-second timer and then waits for the thread in pthread_join. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;
static volatile int waiting;

static void on_alarm(int sig)
{
    (void)sig;
    ++alarms;
}

static void* sleeper(void* arg)
{
    (void)arg;
    waiting = 1;
    sigset_t none;
    sigemptyset(&none);
    int r = sigsuspend(&none);
    printf("sigsuspend returned %d errno %s\n", r, errno == EINTR ? "EINTR" : strerror(errno));
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    // The main thread blocks SIGALRM so that the sleeping thread is the one to take it.
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    while (!waiting)
        sched_yield();
    usleep(1000); // let the thread reach sigsuspend()
    // A POSIX timer this time (alarm() behaves the same): SIGALRM to the process in 1 s.
    timer_t timer;
    timer_create(CLOCK_MONOTONIC, NULL, &timer);
    struct itimerspec in = {.it_value = {.tv_sec = 1}};
    timer_settime(timer, 0, &in, NULL);
    pthread_join(t, NULL);
    printf("joined, alarms %d\n", alarms);
    return 0;
}
