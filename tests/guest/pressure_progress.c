/* Workloads that must keep making progress on a small machine (run with --mem 64M --swap 128M;
 * the swappiness case also with --sysctl vm.swappiness=0): each prints what it checked and
 * finishes in bounded time instead of spinning in reclaim.
 *   swappiness0  dirty pages of a 40 MiB shared file mapping and 40 MiB of anonymous memory,
 *                rewritten round after round: with swappiness 0 reclaim must still write back
 *                and evict the file pages, and swap when nothing else is left
 *   brkchurn     two processes grow their heaps by 1 MiB at a time to 40 MiB and shrink them back
 *   mlock        56 MiB locked, then 24 MiB more touched: the locked pages stay, the rest swaps
 *   mappings     30000 small mappings made, checked and unmapped */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define PAGE 4096UL

static unsigned long bad;

static void fill(unsigned char* p, unsigned long len, unsigned seed)
{
    for (unsigned long off = 0; off < len; off += PAGE)
        memset(p + off, (int)((off / PAGE + seed) & 0xff), PAGE);
}

static void check(const unsigned char* p, unsigned long len, unsigned seed)
{
    for (unsigned long off = 0; off < len; off += PAGE)
        if (p[off] != ((off / PAGE + seed) & 0xff) || p[off + PAGE - 1] != ((off / PAGE + seed) & 0xff))
            ++bad;
}

static void swappiness0(void)
{
    int fd = open("/tmp/progress-file", O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 40 * MIB) != 0)
        exit(2);
    unsigned char* file = mmap(NULL, 40 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char* anon = mmap(NULL, 40 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (unsigned round = 1; round <= 4; ++round) {
        fill(file, 40 * MIB, round);
        fill(anon, 40 * MIB, round + 100);
        check(file, 40 * MIB, round);
        check(anon, 40 * MIB, round + 100);
    }
    msync(file, 40 * MIB, MS_SYNC);
    static unsigned char page[PAGE];
    for (unsigned long off = 0; off < 40 * MIB; off += 5 * MIB)
        if (pread(fd, page, PAGE, (off_t)off) != (ssize_t)PAGE || page[0] != ((off / PAGE + 4) & 0xff))
            ++bad;
    unlink("/tmp/progress-file");
    printf("swappiness 0: 4 rounds over 40 MiB of file and 40 MiB of anonymous memory\n");
}

static void churn(unsigned seed)
{
    char* base = sbrk(0);
    for (int round = 0; round < 6; ++round) {
        for (int mib = 0; mib < 40; ++mib) {
            char* p = sbrk((intptr_t)MIB);
            if (p == (void*)-1) {
                ++bad;
                return;
            }
            fill((unsigned char*)p, MIB, seed + (unsigned)mib);
        }
        for (int mib = 0; mib < 40; ++mib)
            check((const unsigned char*)base + (unsigned long)mib * MIB, MIB, seed + (unsigned)mib);
        if (brk(base) != 0)
            ++bad;
    }
}

static void brkchurn(void)
{
    pid_t child = fork();
    if (child == 0) {
        churn(7);
        _exit(bad ? 1 : 0);
    }
    churn(3);
    int status;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ++bad;
    printf("brk churn: two processes, 6 rounds of 40 MiB each\n");
}

static void mlock_near_limit(void)
{
    unsigned char* locked = mmap(NULL, 56 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (locked == MAP_FAILED || mlock(locked, 56 * MIB) != 0) {
        printf("mlock failed\n");
        ++bad;
        return;
    }
    fill(locked, 56 * MIB, 9);
    unsigned char* more = mmap(NULL, 24 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill(more, 24 * MIB, 11);
    check(more, 24 * MIB, 11);
    check(locked, 56 * MIB, 9);
    unsigned char vec[56 * MIB / PAGE];
    mincore(locked, 56 * MIB, vec);
    unsigned long resident = 0;
    for (unsigned long i = 0; i < sizeof vec; ++i)
        resident += vec[i] & 1;
    printf("mlock: 56 MiB locked, all resident: %s; 24 MiB more written and read back\n",
           resident == sizeof vec ? "yes" : "no");
}

static void mappings(void)
{
    enum { COUNT = 30000 };
    static unsigned char* maps[COUNT];
    for (int i = 0; i < COUNT; ++i) {
        /* Alternating protections keep neighbours from merging into one VMA. */
        maps[i] = mmap(NULL, PAGE, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (maps[i] == MAP_FAILED) {
            printf("mmap %d failed\n", i);
            ++bad;
            return;
        }
        maps[i][0] = (unsigned char)i;
    }
    for (int i = 0; i < COUNT; ++i)
        if (maps[i][0] != (unsigned char)i)
            ++bad;
    for (int i = 0; i < COUNT; ++i)
        munmap(maps[i], PAGE);
    printf("mappings: %d made, checked and unmapped\n", COUNT);
}

int main(int argc, char** argv)
{
    const char* mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "swappiness0") == 0)
        swappiness0();
    else if (strcmp(mode, "brkchurn") == 0)
        brkchurn();
    else if (strcmp(mode, "mlock") == 0)
        mlock_near_limit();
    else if (strcmp(mode, "mappings") == 0)
        mappings();
    else
        return 2;
    printf("pages wrong: %lu\n", bad);
    return bad ? 1 : 0;
}
