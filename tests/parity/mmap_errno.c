/*
 * The errno of each malformed memory call, checked by Linux in a fixed order (arguments first,
 * then the file, then the address space), and the brk facts a C library relies on.
 */
#include "parity.h"

#include <sys/syscall.h>

static int map_errno(void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
    errno = 0;
    void* p = mmap(addr, len, prot, flags, fd, offset);
    if (p != MAP_FAILED) {
        munmap(p, len);
        return 0;
    }
    return errno;
}

static int call_errno(int result) {
    return result == 0 ? 0 : errno;
}

static void errno_fact(const char* key, int e) {
    fact_str(key, errno_name(e));
}

/* Calls the brk system call directly: it returns the (possibly unchanged) break, never -1. */
static uintptr_t raw_brk(uintptr_t want) {
    return (uintptr_t)syscall(SYS_brk, want);
}

static void brk_facts(void) {
    char* start = sbrk(0);
    char* grown_from = sbrk(4 * PAGE);
    char* after_grow = sbrk(0);
    fact("sbrk_grow_returns_old_break", grown_from == start);
    fact("sbrk_grow_delta", (long)(after_grow - start));
    memset(grown_from, 1, 4 * PAGE);
    fact("grown_heap_writable", grown_from[4 * PAGE - 1] == 1);
    char* shrunk_from = sbrk(-(intptr_t)(2 * PAGE));
    fact("sbrk_shrink_returns_old_break", shrunk_from == after_grow);
    fact("sbrk_shrink_delta", (long)((char*)sbrk(0) - after_grow));

    uintptr_t now = raw_brk(0);
    fact("brk_query_matches_sbrk", now == (uintptr_t)sbrk(0));
    uintptr_t refused = raw_brk(now + ((uintptr_t)1 << 46));
    fact("brk_too_far_returns_old_break", refused == now);
    fact("brk_below_start_returns_old_break", raw_brk(1 * PAGE) == now);
    (void)sbrk(-(intptr_t)(2 * PAGE));
    fact("brk_back_to_start", (char*)sbrk(0) == start);
}

int main(void) {
    parity_begin();

    const int rw = PROT_READ | PROT_WRITE;
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
    char dir[] = "/tmp/kioku-parity-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    char path[64];
    snprintf(path, sizeof(path), "%s/file", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4 * PAGE) != 0)
        die("create file");
    close(fd);
    int ro_fd = open(path, O_RDONLY);
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (ro_fd < 0 || dir_fd < 0)
        die("open");

    char* mapped = map_anon(4, MAP_PRIVATE);
    char* gone = map_anon(1, MAP_PRIVATE);
    munmap(gone, PAGE);

    errno_fact("mmap_len_zero", map_errno(NULL, 0, rw, anon, -1, 0));
    errno_fact("mmap_fixed_unaligned", map_errno(mapped + 1, PAGE, rw, anon | MAP_FIXED, -1, 0));
    errno_fact("mmap_no_share_type", map_errno(NULL, PAGE, rw, MAP_ANONYMOUS, -1, 0));
    errno_fact("mmap_both_share_types",
               map_errno(NULL, PAGE, rw, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    errno_fact("mmap_bad_fd", map_errno(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0));
    errno_fact("mmap_shared_write_readonly_fd", map_errno(NULL, PAGE, rw, MAP_SHARED, ro_fd, 0));
    errno_fact("mmap_private_write_readonly_fd", map_errno(NULL, PAGE, rw, MAP_PRIVATE, ro_fd, 0));
    errno_fact("mmap_offset_unaligned", map_errno(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro_fd, 100));
    errno_fact("mmap_directory", map_errno(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir_fd, 0));
    errno_fact("mmap_huge_length", map_errno(NULL, (size_t)1 << 60, rw, anon, -1, 0));
    errno_fact("mmap_length_overflows", map_errno(NULL, SIZE_MAX - 10, rw, anon, -1, 0));
    errno_fact("mmap_fixed_noreplace_existing",
               map_errno(mapped + PAGE, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0));
    errno_fact("mmap_fixed_noreplace_free", map_errno(gone, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0));

    errno_fact("munmap_unaligned", call_errno(munmap(mapped + 1, PAGE)));
    errno_fact("munmap_len_zero", call_errno(munmap(mapped, 0)));
    errno_fact("munmap_unmapped_range", call_errno(munmap(gone, PAGE)));
    errno_fact("mprotect_unmapped", call_errno(mprotect(gone, PAGE, PROT_READ)));
    errno_fact("mprotect_unaligned", call_errno(mprotect(mapped + 1, PAGE, PROT_READ)));
    errno_fact("mprotect_bad_prot", call_errno(mprotect(mapped, PAGE, 0x100)));
    errno_fact("madvise_bad_advice", call_errno(madvise(mapped, PAGE, 12345)));

    char* shared_ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro_fd, 0);
    if (shared_ro == MAP_FAILED)
        die("mmap shared read-only");
    errno_fact("mprotect_write_shared_readonly_file", call_errno(mprotect(shared_ro, PAGE, rw)));
    char* private_ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro_fd, 0);
    if (private_ro == MAP_FAILED)
        die("mmap private read-only");
    errno_fact("mprotect_write_private_readonly_file", call_errno(mprotect(private_ro, PAGE, rw)));

    brk_facts();

    close(ro_fd);
    close(dir_fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
