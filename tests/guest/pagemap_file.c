/* /proc/self/pagemap through open, lseek, read and pread: 64-bit entries, bit 63 present, 62 on
 * swap, 61 file page or shared anonymous, 56 mapped exactly once; reads must be whole aligned
 * entries; nothing past the user space; it has no write. (Bit 55, soft-dirty, is not printed:
 * kernels built without CONFIG_MEM_SOFT_DIRTY leave it clear.) clear_refs opens for writing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int pm;
static long page;

static uint64_t entry(void* addr)
{
    uint64_t e = 0;
    if (pread(pm, &e, 8, (off_t)((uintptr_t)addr / page * 8)) != 8)
        return ~0ull;
    return e;
}

static void show(const char* what, void* addr)
{
    uint64_t e = entry(addr);
    printf("%-34s present %d, swap %d, file/shared %d, exclusive %d\n", what, (int)(e >> 63 & 1),
           (int)(e >> 62 & 1), (int)(e >> 61 & 1), (int)(e >> 56 & 1));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    page = sysconf(_SC_PAGESIZE);
    pm = open("/proc/self/pagemap", O_RDONLY);
    printf("open: %s\n", pm < 0 ? strerror(errno) : "ok");
    char* anon = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("untouched anonymous page:", anon);
    anon[0] = 1;
    show("written anonymous page:", anon);
    char* shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = 1;
    show("written shared anonymous page:", shared);

    int fd = open("/proc/self/clear_refs", O_WRONLY);
    printf("clear_refs 4: %s\n", write(fd, "4", 1) == 1 ? "ok" : strerror(errno));
    close(fd);
    show("after clear_refs:", anon);
    anon[0] = 2;
    show("written again:", anon);

    uint64_t four[4];
    lseek(pm, (off_t)((uintptr_t)anon / page * 8), SEEK_SET);
    printf("read of 4 entries: %zd bytes\n", read(pm, four, sizeof four));
    printf("read of 5 bytes: %s\n", read(pm, four, 5) < 0 && errno == EINVAL ? "EINVAL" : "no error");
    lseek(pm, 3, SEEK_SET);
    printf("read at offset 3: %s\n", read(pm, four, 8) < 0 && errno == EINVAL ? "EINVAL" : "no error");
    printf("pread far past the user address space: %zd\n", pread(pm, four, 8, (off_t)1 << 60));
    int w = open("/proc/self/pagemap", O_WRONLY);
    printf("open for writing as root: %s\n", w < 0 ? strerror(errno) : "ok");
    printf("write: %s\n", write(w, four, 8) < 0 && errno == EINVAL ? "EINVAL" : "no error");
    return 0;
}
