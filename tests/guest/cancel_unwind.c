/* Thread cancellation unwinds the cancelled thread's stack from inside the SIGCANCEL handler,
 * through the signal frame to the thread's start, running its cleanup handlers. The unwinder
 * reads the code at the handler's return address to recognise the signal frame, so that address
 * must hold the vDSO's rt_sigreturn (li a7, 139; ecall), as on Linux. Also: the [vdso] mapping
 * is in /proc/self/maps. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cleanups;
static int pipefd[2];
static volatile int spinning;

static void cleanup(void* arg)
{
    (void)arg;
    __atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST);
}

static void* blocked_in_read(void* arg)
{
    (void)arg;
    char c;
    pthread_cleanup_push(cleanup, NULL);
    ssize_t n = read(pipefd[0], &c, 1); /* a cancellation point, blocking */
    (void)n;
    pthread_cleanup_pop(0);
    return NULL;
}

static void* sleeping(void* arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    struct timespec ts = {100, 0};
    nanosleep(&ts, NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

static void* spinning_async(void* arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    pthread_cleanup_push(cleanup, NULL);
    spinning = 1;
    for (volatile unsigned long i = 0;; ++i)
        ;
    pthread_cleanup_pop(0);
    return NULL;
}

static void cancel_and_join(const char* what, void* (*fn)(void*), int wait_spin)
{
    pthread_t t;
    int before = cleanups;
    spinning = 0;
    pthread_create(&t, NULL, fn, NULL);
    if (wait_spin)
        while (!spinning)
            sched_yield();
    else
        usleep(20000); /* let it block */
    pthread_cancel(t);
    void* result = NULL;
    pthread_join(t, &result);
    printf("%s: cancelled %d, cleanup ran %d\n", what, result == PTHREAD_CANCELED, cleanups - before);
}

int main(void)
{
    if (pipe(pipefd))
        return 1;
    cancel_and_join("blocked in read", blocked_in_read, 0);
    cancel_and_join("in nanosleep", sleeping, 0);
    cancel_and_join("asynchronous, spinning", spinning_async, 1);
    FILE* f = fopen("/proc/self/maps", "r");
    char line[512];
    int vdso = 0;
    while (fgets(line, sizeof line, f))
        vdso += strstr(line, "[vdso]") != NULL;
    fclose(f);
    printf("[vdso] mappings: %d\n", vdso);
    return 0;
}
