/* POSIX threads: clone with CLONE_THREAD and TLS, futex-based mutexes and joins. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 10000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_value;

static void* work(void* arg)
{
    tls_value = (int)(long)arg;
    for (int i = 0; i < ROUNDS; ++i) {
        pthread_mutex_lock(&lock);
        ++counter;
        pthread_mutex_unlock(&lock);
    }
    return (void*)(long)(tls_value * 10);
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; ++i)
        pthread_create(&t[i], NULL, work, (void*)(i + 1));
    long sum = 0;
    for (int i = 0; i < THREADS; ++i) {
        void* r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter %ld (expected %d)\n", counter, THREADS * ROUNDS);
    printf("join results sum %ld\n", sum);
    printf("main tls untouched: %d\n", tls_value);
    return 0;
}
