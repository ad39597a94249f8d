// kernel.shm_next_id: -1 until set; a new segment then gets that id (its slot and sequence number)
// and the value goes back to -1; a taken slot moves the new segment to the next free one; only
// 0 to INT_MAX may be written (-1 is the kernel's own). Needs root.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static long next_id(void)
{
    char buf[32] = {0};
    int fd = open("/proc/sys/kernel/shm_next_id", O_RDONLY);
    if (fd < 0)
        return -100;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    return strtol(buf, NULL, 10);
}

static int set_next_id(const char* v)
{
    int fd = open("/proc/sys/kernel/shm_next_id", O_WRONLY);
    int r = write(fd, v, strlen(v)) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int main(void)
{
    printf("shm_next_id at first: %ld\n", next_id());
    int a = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("without it, a segment: %s\n", a >= 0 ? "ok" : strerror(errno));
    // Slot 3000 with sequence number 5.
    char wanted[32];
    snprintf(wanted, sizeof wanted, "%d", (5 << 15) + 3000);
    int r = set_next_id(wanted);
    printf("set: %d, reads back the value: %d\n", r, next_id() == (5 << 15) + 3000);
    int b = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("the next segment gets that id: %d\n", b == (5 << 15) + 3000);
    printf("shm_next_id after it: %ld\n", next_id());
    // The same slot again: taken, so the next free one above it.
    set_next_id(wanted);
    int c = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("slot taken, the next one: %d\n", c == (5 << 15) + 3001);
    printf("IPC_STAT of it: %s\n", shmctl(c, IPC_STAT, &(struct shmid_ds){0}) == 0 ? "ok" : strerror(errno));
    printf("set -2: %s\n", set_next_id("-2") == -EINVAL ? "EINVAL" : "accepted");
    r = set_next_id("-1");
    printf("set -1: %s, reads %ld\n", r == -EINVAL ? "EINVAL" : "accepted", next_id());
    shmctl(a, IPC_RMID, NULL);
    shmctl(b, IPC_RMID, NULL);
    shmctl(c, IPC_RMID, NULL);
    return 0;
}
