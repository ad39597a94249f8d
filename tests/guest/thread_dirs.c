/* /proc/self/task/TID exists while the thread lives and is gone once it has been joined. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static pid_t tid;
static pthread_barrier_t barrier;

static void* run(void* arg)
{
    tid = gettid();
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    return arg;
}

static void check(const char* when)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
    int r = stat(path, &st);
    printf("%-24s stat %s, access %s\n", when, r == 0 ? "ok" : strerror(errno),
           access(path, R_OK) == 0 ? "ok" : strerror(errno));
}

int main(void)
{
    pthread_t t;
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_create(&t, NULL, run, NULL);
    pthread_barrier_wait(&barrier);
    check("while it runs");
    pthread_barrier_wait(&barrier);
    pthread_join(t, NULL);
    check("after the join");
    return 0;
}
