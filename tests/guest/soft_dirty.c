/* Soft-dirty (pagemap bit 55, cleared by writing 4 to clear_refs): set by a write, kept by
 * mprotect, and while it is tracked a page made writable again still faults on its next write so
 * that the write marks it, as the kernel's mm selftest soft-dirty (test_mprotect) checks, for an
 * anonymous and a shared file page. Also mremap and a new mapping start soft-dirty. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int pm;
static long page;

static int soft_dirty(void* addr)
{
    uint64_t e = 0;
    if (pread(pm, &e, 8, (off_t)((uintptr_t)addr / page * 8)) != 8)
        return -1;
    return (int)(e >> 55 & 1);
}

static void clear_refs(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    write(fd, "4", 1);
    close(fd);
}

static void mprotect_case(const char* kind, char* map)
{
    *map = 1;
    printf("%s written: %d\n", kind, soft_dirty(map));
    clear_refs();
    printf("%s after clear_refs: %d\n", kind, soft_dirty(map));
    mprotect(map, page, PROT_READ);
    printf("%s read-only: %d\n", kind, soft_dirty(map));
    mprotect(map, page, PROT_READ | PROT_WRITE);
    printf("%s writable again: %d\n", kind, soft_dirty(map));
    *map = 2;
    printf("%s rewritten: %d\n", kind, soft_dirty(map));
    mprotect(map, page, PROT_READ);
    printf("%s read-only after the write keeps it: %d\n", kind, soft_dirty(map));
}

int main(void)
{
    page = sysconf(_SC_PAGESIZE);
    pm = open("/proc/self/pagemap", O_RDONLY);
    char* anon = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect_case("anon", anon);
    int fd = memfd_create("soft-dirty", 0);
    ftruncate(fd, page);
    char* file = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    mprotect_case("file", file);

    /* Moved by mremap, a page is soft-dirty again; so is a new mapping's first write. */
    clear_refs();
    char* big = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    big[0] = 1;
    clear_refs();
    printf("before mremap: %d\n", soft_dirty(big));
    char* moved = mremap(big, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, anon + 64 * page);
    printf("mremap moved it: %s, soft-dirty %d\n", moved == MAP_FAILED ? "no" : "yes", soft_dirty(moved));
    return 0;
}
