/* The block device /dev/vda and the buffer cache (run with --disk IMAGE, a 16 MiB image whose byte
 * i is i % 251; tests/guest/check_blockdev.py makes it and checks it after). Reading the device,
 * as dd does, fills the buffer cache: Buffers in /proc/meminfo grows by about the device's size
 * and Cached does not; reading a file grows Cached and not Buffers. A write to the device goes
 * through the buffer cache and fsync sends it to the image; a write at its end is ENOSPC. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "proc_field.h"

#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#define BLKSSZGET _IO(0x12, 104)

static long meminfo_kb(const char* field)
{
    return proc_field("/proc/meminfo", field);
}

static void drop_caches(void)
{
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd >= 0) {
        write(fd, "3", 1);
        close(fd);
    }
}

int main(void)
{
    static unsigned char buf[65536];
    struct stat st;
    if (stat("/dev/vda", &st) != 0) {
        perror("stat /dev/vda");
        return 1;
    }
    printf("block device: %s, size field %lld, rdev major %u minor %u\n", S_ISBLK(st.st_mode) ? "yes" : "no",
           (long long)st.st_size, major(st.st_rdev), minor(st.st_rdev));
    int fd = open("/dev/vda", O_RDWR);
    unsigned long long size = 0;
    int sector = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0 || ioctl(fd, BLKSSZGET, &sector) != 0) {
        perror("/dev/vda");
        return 1;
    }
    printf("BLKGETSIZE64 %llu MiB, sector %d bytes, SEEK_END %lld MiB\n", size >> 20, sector,
           (long long)lseek(fd, 0, SEEK_END) >> 20);
    lseek(fd, 0, SEEK_SET);

    drop_caches();
    long b0 = meminfo_kb("Buffers"), c0 = meminfo_kb("Cached");
    unsigned long long total = 0, bad = 0;
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; ++i)
            bad += buf[i] != (unsigned char)((total + (unsigned long long)i) % 251);
        total += (unsigned long long)got;
    }
    long b1 = meminfo_kb("Buffers"), c1 = meminfo_kb("Cached");
    printf("read the device: %llu MiB, %llu bytes not as written\n", total >> 20, bad);
    printf("Buffers grew by the device's size: %s; Cached grew by a tenth of it: %s\n",
           b1 - b0 >= (long)(size >> 10) * 9 / 10 ? "yes" : "no", c1 - c0 >= (long)(size >> 10) / 10 ? "yes" : "no");

    int file = open("/tmp/data", O_RDWR | O_CREAT | O_TRUNC, 0644);
    memset(buf, 0x5a, sizeof buf);
    for (int i = 0; i < 128; ++i)
        write(file, buf, sizeof buf);
    fsync(file);
    drop_caches();
    b0 = meminfo_kb("Buffers"), c0 = meminfo_kb("Cached");
    lseek(file, 0, SEEK_SET);
    while (read(file, buf, sizeof buf) > 0)
        ;
    b1 = meminfo_kb("Buffers"), c1 = meminfo_kb("Cached");
    printf("read an 8 MiB file: Cached grew by most of it: %s; Buffers grew by a tenth of it: %s\n",
           c1 - c0 >= 8192 * 9 / 10 ? "yes" : "no", b1 - b0 >= 8192 / 10 ? "yes" : "no");
    close(file);

    const char mark[] = "kioku-was-here";
    ssize_t wrote = pwrite(fd, mark, sizeof mark - 1, 4096);
    printf("pwrite at 4096: %zd, Dirty above zero: %s\n", wrote, meminfo_kb("Dirty") > 0 ? "yes" : "no");
    printf("fsync: %d\n", fsync(fd));
    errno = 0;
    wrote = pwrite(fd, mark, sizeof mark - 1, (off_t)size);
    printf("pwrite at the end: %zd %s\n", wrote, errno == ENOSPC ? "ENOSPC" : strerror(errno));
    wrote = pwrite(fd, mark, sizeof mark - 1, (off_t)size - 4);
    printf("pwrite over the end: %zd\n", wrote);
    printf("ftruncate: %d %s\n", ftruncate(fd, 4096), errno == EINVAL ? "EINVAL" : strerror(errno));
    errno = 0;
    printf("lseek to the end: %lld MiB; past it: %lld %s\n", (long long)lseek(fd, (off_t)size, SEEK_SET) >> 20,
           (long long)lseek(fd, (off_t)size + 4096, SEEK_SET), errno == EINVAL ? "EINVAL" : strerror(errno));
    long before_close = meminfo_kb("Buffers");
    close(fd);
    printf("the last close drops the buffer cache: %s\n",
           before_close > 0 && meminfo_kb("Buffers") == 0 ? "yes" : "no");

    FILE* parts = fopen("/proc/partitions", "r");
    char line[128];
    while (parts && fgets(line, sizeof line, parts))
        fputs(line, stdout);
    return 0;
}
