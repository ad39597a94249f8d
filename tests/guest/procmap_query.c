// The ioctl PROCMAP_QUERY on /proc/self/maps (Linux 6.11 on): the VMA covering an address, or the
// next one, filtered by its permissions and by file backing; its name, offset, inode, device,
// page size and build ID; and the errors for a bad query.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct procmap_query_ {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_ _IOWR('f', 17, struct procmap_query_)
#define READABLE 1
#define WRITABLE 2
#define EXECUTABLE 4
#define COVERING_OR_NEXT 0x10
#define FILE_BACKED 0x20

static int maps;
static char name[256];

static long query(uint64_t addr, uint64_t flags, struct procmap_query_* q)
{
    memset(q, 0, sizeof *q);
    q->size = sizeof *q;
    q->query_addr = addr;
    q->query_flags = flags;
    q->vma_name_addr = (uintptr_t)name;
    q->vma_name_size = sizeof name;
    memset(name, 0, sizeof name);
    return ioctl(maps, PROCMAP_QUERY_, q);
}

static const char* err(long r)
{
    return r == 0 ? "ok"
           : errno == ENOENT ? "ENOENT"
           : errno == EINVAL ? "EINVAL"
           : errno == E2BIG ? "E2BIG"
           : errno == ENOTTY ? "ENOTTY"
           : errno == ENAMETOOLONG ? "ENAMETOOLONG"
                                   : strerror(errno);
}

int main(void)
{
    maps = open("/proc/self/maps", O_RDONLY);
    // Six pages: a hole, a PROT_NONE page, ours (three read-write pages), a PROT_NONE page, so
    // that ours merges with nothing.
    char* room = mmap(NULL, 6 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(room, 4096);
    char* a = room + 2 * 4096;
    mprotect(a, 3 * 4096, PROT_READ | PROT_WRITE);
    struct procmap_query_ q;
    long r = query((uintptr_t)a + 4096, 0, &q);
    printf("covering: %s, bounds %d, flags rw %d, page size %lu, offset %lu, inode %lu, name size %u\n", err(r),
           q.vma_start == (uintptr_t)a && q.vma_end == (uintptr_t)a + 3 * 4096, q.vma_flags == (READABLE | WRITABLE),
           (unsigned long)q.vma_page_size, (unsigned long)q.vma_offset, (unsigned long)q.inode, q.vma_name_size);
    r = query((uintptr_t)room, 0, &q);
    printf("a hole: %s\n", err(r));
    r = query((uintptr_t)room, COVERING_OR_NEXT, &q);
    printf("a hole, or the next: %s, the PROT_NONE page %d\n", err(r), q.vma_start == (uintptr_t)room + 4096);
    r = query((uintptr_t)room, COVERING_OR_NEXT | READABLE, &q);
    printf("a hole, or the next readable: %s, ours %d\n", err(r), q.vma_start == (uintptr_t)a);
    r = query((uintptr_t)a, EXECUTABLE, &q);
    printf("ours, executable only: %s\n", err(r));

    char path[] = "/tmp/procmap-XXXXXX";
    int fd = mkstemp(path);
    char page[4096];
    memset(page, 'x', sizeof page);
    for (int i = 0; i < 3; ++i)
        write(fd, page, sizeof page);
    struct stat st;
    fstat(fd, &st);
    char* m = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    r = query((uintptr_t)m, FILE_BACKED | READABLE, &q);
    printf("file-backed: %s, offset %lu, inode agrees %d, device agrees %d, named %d, name size right %d\n", err(r),
           (unsigned long)q.vma_offset, q.inode == st.st_ino, q.dev_major == major(st.st_dev) &&
           q.dev_minor == minor(st.st_dev), strcmp(name, path) == 0, q.vma_name_size == strlen(path) + 1);
    r = query((uintptr_t)a, FILE_BACKED, &q);
    printf("anonymous memory, file-backed only: %s\n", err(r));
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = (uintptr_t)m;
    q.vma_name_addr = (uintptr_t)name;
    q.vma_name_size = 4;
    r = ioctl(maps, PROCMAP_QUERY_, &q);
    printf("a name buffer too small: %s\n", err(r));

    int on_heap = 0, on_stack = 0;
    char* small = malloc(64);
    if (query((uintptr_t)small, 0, &q) == 0)
        on_heap = strcmp(name, "[heap]") == 0;
    if (query((uintptr_t)&q, 0, &q) == 0)
        on_stack = strcmp(name, "[stack]") == 0;
    printf("names: [heap] %d, [stack] %d\n", on_heap, on_stack);

    unsigned char id[64];
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = (uintptr_t)&main;
    q.build_id_addr = (uintptr_t)id;
    q.build_id_size = sizeof id;
    r = ioctl(maps, PROCMAP_QUERY_, &q);
    printf("the program's build ID: %s, %u bytes, executable %d\n", err(r), q.build_id_size,
           (q.vma_flags & EXECUTABLE) != 0);

    memset(&q, 0, sizeof q);
    q.size = 16;
    printf("size 16: %s\n", err(ioctl(maps, PROCMAP_QUERY_, &q)));
    q.size = 8192;
    printf("size 8192: %s\n", err(ioctl(maps, PROCMAP_QUERY_, &q)));
    q.size = sizeof q;
    q.query_flags = 0x40;
    printf("unknown flags: %s\n", err(ioctl(maps, PROCMAP_QUERY_, &q)));
    q.query_flags = 0;
    q.query_addr = (uintptr_t)a;
    q.vma_name_size = 16;
    printf("a name size without a buffer: %s\n", err(ioctl(maps, PROCMAP_QUERY_, &q)));
    int status = open("/proc/self/status", O_RDONLY);
    q.vma_name_size = 0;
    printf("on /proc/self/status: %s\n", err(ioctl(status, PROCMAP_QUERY_, &q)));
    unlink(path);
    return 0;
}
