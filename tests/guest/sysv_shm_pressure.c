/* System V shared memory under memory pressure (run with --mem 32M --swap 64M): a segment larger
 * than memory goes partly to swap and every byte reads back; a segment under SHM_LOCK keeps all
 * its pages in memory while another one is pushed out, and after SHM_UNLOCK it can go too. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#define MB (1024 * 1024)

/* The rss and swap columns of /proc/sysvipc/shm for one segment, in bytes. */
static void usage(int id, unsigned long long* rss, unsigned long long* swap)
{
    char line[512];
    FILE* f = fopen("/proc/sysvipc/shm", "r");
    *rss = *swap = ~0ull;
    fgets(line, sizeof line, f);
    while (fgets(line, sizeof line, f)) {
        int key, shmid;
        unsigned long long v[16];
        if (sscanf(line, "%d %d %*o %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &key,
                   &shmid, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                   &v[11], &v[12]) == 15 &&
            shmid == id) {
            *rss = v[11];
            *swap = v[12];
        }
    }
    fclose(f);
}

static int check(const unsigned char* p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 512)
        if (p[i] != (unsigned char)(i / 512 * 7 + seed))
            return 0;
    return 1;
}

static void fill(unsigned char* p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 512)
        p[i] = (unsigned char)(i / 512 * 7 + seed);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned long long rss, swap;

    int big = shmget(IPC_PRIVATE, 48 * MB, 0600);
    unsigned char* b = shmat(big, NULL, 0);
    fill(b, 48 * MB, 1);
    usage(big, &rss, &swap);
    printf("48 MiB segment in 32 MiB: some on swap %d, all bytes back %d\n", swap > 0, check(b, 48 * MB, 1));
    shmdt(b);
    shmctl(big, IPC_RMID, NULL);

    int locked = shmget(IPC_PRIVATE, 8 * MB, 0600);
    printf("SHM_LOCK: %d\n", shmctl(locked, SHM_LOCK, NULL));
    unsigned char* l = shmat(locked, NULL, 0);
    fill(l, 8 * MB, 2);
    int other = shmget(IPC_PRIVATE, 40 * MB, 0600);
    unsigned char* o = shmat(other, NULL, 0);
    fill(o, 40 * MB, 3);
    fill(o, 40 * MB, 3);
    usage(locked, &rss, &swap);
    printf("locked segment: all resident %d, none on swap %d\n", rss == 8ull * MB, swap == 0);
    usage(other, &rss, &swap);
    printf("the other one: some on swap %d, all bytes back %d\n", swap > 0, check(o, 40 * MB, 3));

    printf("SHM_UNLOCK: %d\n", shmctl(locked, SHM_UNLOCK, NULL));
    shmdt(o);
    shmctl(other, IPC_RMID, NULL);
    int third = shmget(IPC_PRIVATE, 40 * MB, 0600);
    o = shmat(third, NULL, 0);
    fill(o, 40 * MB, 4);
    fill(o, 40 * MB, 4);
    usage(locked, &rss, &swap);
    printf("unlocked segment: some on swap now %d, all bytes back %d\n", swap > 0, check(l, 8 * MB, 2));
    return 0;
}
