/* A seeded storm of memory calls that checks every byte it wrote still reads back: mmap of
 * private and shared, anonymous and file memory, munmap, mprotect, writes, reads, MADV_DONTNEED,
 * msync and fsync, and fork, with more memory in use than a small machine has (run it with
 * --mem 32M --swap 128M, so pages go to swap and come back, and file pages are written back and
 * read again). Each page holds a pattern made from its region, its index and a generation number
 * the program remembers (two bytes a page), so no copy of the data is kept.
 *
 * A forked child checks a sample of every region, writes private pages (which its parent must
 * not see) and shared pages chosen by the parent beforehand (which the parent must see), then
 * exits; the parent checks both after waiting.
 *
 * Usage: random_syscalls SEED [STEPS]. Prints the operations done and "bytes wrong 0"; exits 1
 * when any byte was wrong. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_REGIONS 24
#define MAX_PAGES 2048 /* 8 MiB per region */
#define MAX_TOTAL_PAGES (64UL << 20) / PAGE

enum kind { ANON_PRIVATE, ANON_SHARED, FILE_SHARED, FILE_PRIVATE, KINDS };

struct region {
    int used;
    enum kind kind;
    unsigned char* addr;
    unsigned long pages;
    int writable;
    int fd;
    unsigned id;
    uint16_t* gen; /* per page; 0: the page reads as zeroes */
};

static struct region regions[MAX_REGIONS];
static unsigned long total_pages;
static unsigned long wrong;
static unsigned long ops[16];
static uint64_t rng_state;
static unsigned next_id = 1;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long below(unsigned long n)
{
    return n ? rnd() % n : 0;
}

static unsigned char byte_of(unsigned id, unsigned long page, uint16_t gen, unsigned long offset)
{
    if (gen == 0)
        return 0;
    return (unsigned char)(id * 131 + page * 31 + gen * 7 + offset * 13);
}

static void fill(struct region* r, unsigned long page, uint16_t gen)
{
    unsigned char* p = r->addr + page * PAGE;
    for (unsigned long i = 0; i < PAGE; i += 64)
        memset(p + i, byte_of(r->id, page, gen, i), 64);
    r->gen[page] = gen;
}

static int page_ok(const struct region* r, unsigned long page)
{
    /* Word by word: every byte is still compared, in an eighth of the guest instructions. */
    const uint64_t* p = (const uint64_t*)(r->addr + page * PAGE);
    for (unsigned long i = 0; i < PAGE; i += 64) {
        uint64_t want = byte_of(r->id, page, r->gen[page], i) * 0x0101010101010101ULL;
        for (unsigned long j = 0; j < 64 / 8; ++j)
            if (p[i / 8 + j] != want)
                return 0;
    }
    return 1;
}

static void check_page(const struct region* r, unsigned long page)
{
    if (!page_ok(r, page)) {
        ++wrong;
        if (wrong <= 5)
            printf("wrong: region %u (kind %d) page %lu\n", r->id, r->kind, page);
    }
}

static void check_region(const struct region* r, unsigned long step)
{
    for (unsigned long page = 0; page < r->pages; page += step)
        check_page(r, page);
}

static struct region* pick(void)
{
    unsigned start = (unsigned)below(MAX_REGIONS);
    for (unsigned i = 0; i < MAX_REGIONS; ++i)
        if (regions[(start + i) % MAX_REGIONS].used)
            return &regions[(start + i) % MAX_REGIONS];
    return NULL;
}

static void op_map(void)
{
    struct region* r = NULL;
    for (int i = 0; i < MAX_REGIONS && !r; ++i)
        if (!regions[i].used)
            r = &regions[i];
    unsigned long pages = 1 + below(MAX_PAGES);
    if (!r || total_pages + pages > MAX_TOTAL_PAGES)
        return;
    memset(r, 0, sizeof *r);
    r->kind = (enum kind)below(KINDS);
    r->pages = pages;
    r->id = next_id++;
    r->fd = -1;
    int flags = (r->kind == ANON_SHARED || r->kind == FILE_SHARED) ? MAP_SHARED : MAP_PRIVATE;
    if (r->kind == FILE_SHARED || r->kind == FILE_PRIVATE) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/random-syscalls-%u", r->id);
        r->fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        unlink(path); /* lives on while open or mapped */
        if (r->fd < 0 || ftruncate(r->fd, (off_t)(pages * PAGE)) != 0) {
            printf("file set-up failed\n");
            exit(2);
        }
    } else {
        flags |= MAP_ANONYMOUS;
    }
    r->addr = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, flags, r->fd, 0);
    if (r->addr == MAP_FAILED) {
        if (r->fd >= 0)
            close(r->fd);
        return;
    }
    r->gen = calloc(pages, sizeof *r->gen);
    r->writable = 1;
    r->used = 1;
    total_pages += pages;
    ++ops[0];
}

static void op_unmap(void)
{
    struct region* r = pick();
    if (!r)
        return;
    check_region(r, 1 + below(8));
    munmap(r->addr, r->pages * PAGE);
    if (r->fd >= 0)
        close(r->fd);
    free(r->gen);
    total_pages -= r->pages;
    r->used = 0;
    ++ops[1];
}

static void op_write(void)
{
    struct region* r = pick();
    if (!r || !r->writable)
        return;
    unsigned long first = below(r->pages), n = 1 + below(64);
    for (unsigned long page = first; page < r->pages && page < first + n; ++page)
        fill(r, page, (uint16_t)(1 + below(60000)));
    ++ops[2];
}

static void op_read(void)
{
    struct region* r = pick();
    if (!r)
        return;
    unsigned long first = below(r->pages), n = 1 + below(128);
    for (unsigned long page = first; page < r->pages && page < first + n; ++page)
        check_page(r, page);
    ++ops[3];
}

static void op_protect(void)
{
    struct region* r = pick();
    if (!r)
        return;
    r->writable = !r->writable;
    mprotect(r->addr, r->pages * PAGE, r->writable ? PROT_READ | PROT_WRITE : PROT_READ);
    ++ops[4];
}

static void op_dontneed(void)
{
    struct region* r = pick();
    if (!r || r->kind != ANON_PRIVATE)
        return;
    unsigned long first = below(r->pages), n = 1 + below(32);
    if (first + n > r->pages)
        n = r->pages - first;
    madvise(r->addr + first * PAGE, n * PAGE, MADV_DONTNEED);
    for (unsigned long page = first; page < first + n; ++page)
        r->gen[page] = 0; /* a private anonymous page reads as zeroes again */
    ++ops[5];
}

static void op_sync(void)
{
    struct region* r = pick();
    if (!r || r->fd < 0)
        return;
    if (r->kind == FILE_SHARED) {
        msync(r->addr, r->pages * PAGE, MS_SYNC);
        /* What read() of the file returns must be what the mapping shows. */
        unsigned long page = below(r->pages);
        static unsigned char buf[PAGE];
        if (pread(r->fd, buf, PAGE, (off_t)(page * PAGE)) != (ssize_t)PAGE ||
            memcmp(buf, r->addr + page * PAGE, PAGE) != 0) {
            ++wrong;
            printf("wrong: read() of region %u page %lu differs from its mapping\n", r->id, page);
        }
    }
    fsync(r->fd);
    ++ops[6];
}

static void op_fork(void)
{
    /* The pages the child will write in shared regions, and with what, chosen beforehand. */
    struct { struct region* r; unsigned long page; uint16_t gen; } shared_writes[16];
    int n_shared = 0;
    for (int i = 0; i < 16; ++i) {
        struct region* r = pick();
        if (r && r->writable && (r->kind == ANON_SHARED || r->kind == FILE_SHARED)) {
            shared_writes[n_shared].r = r;
            shared_writes[n_shared].page = below(r->pages);
            shared_writes[n_shared].gen = (uint16_t)(1 + below(60000));
            ++n_shared;
        }
    }
    uint64_t child_seed = rnd();
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        rng_state = child_seed;
        for (int i = 0; i < MAX_REGIONS; ++i)
            if (regions[i].used)
                check_region(&regions[i], 1 + below(16));
        for (int i = 0; i < 32; ++i) {
            struct region* r = pick();
            if (r && r->writable && (r->kind == ANON_PRIVATE || r->kind == FILE_PRIVATE))
                fill(r, below(r->pages), (uint16_t)(1 + below(60000))); /* the parent must not see it */
        }
        for (int i = 0; i < n_shared; ++i)
            fill(shared_writes[i].r, shared_writes[i].page, shared_writes[i].gen);
        _exit(wrong ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ++wrong;
        printf("wrong: the child found bad bytes or died (status 0x%x)\n", status);
    }
    for (int i = 0; i < n_shared; ++i)
        shared_writes[i].r->gen[shared_writes[i].page] = shared_writes[i].gen;
    for (int i = 0; i < MAX_REGIONS; ++i)
        if (regions[i].used)
            check_region(&regions[i], 1 + below(4));
    ++ops[7];
}

int main(int argc, char** argv)
{
    if (argc < 2)
        return 2;
    rng_state = strtoull(argv[1], NULL, 0);
    unsigned long steps = argc > 2 ? strtoul(argv[2], NULL, 0) : 300;
    for (unsigned long step = 0; step < steps; ++step) {
        switch (below(16)) {
        case 0: case 1: case 2: op_map(); break;
        case 3: op_unmap(); break;
        case 4: case 5: case 6: case 7: op_write(); break;
        case 8: case 9: case 10: op_read(); break;
        case 11: op_protect(); break;
        case 12: op_dontneed(); break;
        case 13: op_sync(); break;
        default: if (below(4) == 0) op_fork(); else op_write(); break;
        }
    }
    for (int i = 0; i < MAX_REGIONS; ++i)
        if (regions[i].used)
            check_region(&regions[i], 1);
    printf("maps %lu unmaps %lu writes %lu reads %lu protects %lu dontneeds %lu syncs %lu forks %lu\n", ops[0],
           ops[1], ops[2], ops[3], ops[4], ops[5], ops[6], ops[7]);
    printf("bytes wrong %lu\n", wrong);
    return wrong ? 1 : 0;
}
