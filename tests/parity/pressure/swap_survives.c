/* Data written by a process larger than the memory it may use survives swap.
 *
 * Run in a 32 MiB memory cgroup with a swap file on (natively), or on a 32 MiB kioku machine with
 * a swap area. The program writes a pattern into every 8-byte word of 48 MiB of anonymous memory
 * (so at least 16 MiB must go to swap), then reads it all back twice, in order and in reverse
 * page order, and compares each word and the checksums. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define PAGE 4096UL
#define WORDS_PER_PAGE (PAGE / sizeof(uint64_t))

static uint64_t pattern(uint64_t i)
{
    return (i * 0x9e3779b97f4a7c15ULL) ^ (i >> 7);
}

/* A field of /proc/self/status in kB, or -1. */
static long status_kb(const char* name)
{
    static char text[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    size_t len = strlen(name);
    for (char* line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, name, len) && line[len] == ':')
            return strtol(line + len + 1, NULL, 10);
    return -1;
}

/* Checks one page; returns 1 when every word holds its pattern, and adds the words to *sum. */
static int page_intact(const uint64_t* words, size_t page, uint64_t* sum)
{
    int intact = 1;
    for (size_t w = 0; w < WORDS_PER_PAGE; ++w) {
        uint64_t i = page * WORDS_PER_PAGE + w;
        intact &= words[i] == pattern(i);
        *sum += words[i];
    }
    return intact;
}

int main(int argc, char** argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 48;
    size_t pages = mib * MIB / PAGE;
    uint64_t* words = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (words == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    madvise(words, mib * MIB, MADV_NOHUGEPAGE);
    uint64_t written = 0;
    for (uint64_t i = 0; i < pages * WORDS_PER_PAGE; ++i) {
        words[i] = pattern(i);
        written += words[i];
    }
    long swap_kb = status_kb("VmSwap");
    long rss_kb = status_kb("VmRSS");

    uint64_t forward = 0, backward = 0;
    size_t bad_forward = 0, bad_backward = 0;
    for (size_t p = 0; p < pages; ++p)
        bad_forward += !page_intact(words, p, &forward);
    for (size_t p = pages; p-- > 0;)
        bad_backward += !page_intact(words, p, &backward);

    printf("mib_written %zu\n", mib);
    printf("swapped_while_writing %d\n", swap_kb > 0);
    printf("resident_below_size %d\n", rss_kb >= 0 && (size_t)rss_kb < mib * 1024);
    printf("pages_bad_forward %zu\n", bad_forward);
    printf("pages_bad_backward %zu\n", bad_backward);
    printf("checksum_forward_matches %d\n", forward == written);
    printf("checksum_backward_matches %d\n", backward == written);
    return 0;
}
