/* Fault-heavy: writes a file in /tmp, maps it private and read-only, and loads one word from
 * every page, several times over (page-cache hits, with fault-around), then removes it.
 * Size: MiB of the file. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define PAGE 4096
#define PASSES 4

/* Only the words the passes read differ from page to page, so making the contents costs little
 * next to writing and mapping them. */
static int write_file(int fd, size_t length)
{
    static unsigned char chunk[1 << 16];
    uint64_t state = 0x6d617066ULL;
    for (size_t done = 0; done < length; done += sizeof chunk) {
        for (size_t page = 0; page < sizeof chunk; page += PAGE) {
            for (size_t word = 0; word < PASSES; ++word) {
                uint64_t v = bench_next(&state);
                memcpy(chunk + page + word * 8, &v, 8);
            }
        }
        if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            return -1;
    }
    return 0;
}

int main(int argc, char** argv)
{
    long mib = bench_size(argc, argv, 256);
    size_t length = (size_t)mib << 20;
    char path[64];
    snprintf(path, sizeof path, "/tmp/kioku-bench-mapfile-%ld", (long)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write_file(fd, length) != 0) {
        perror("mapfile: writing the file");
        return 1;
    }
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (int pass = 0; pass < PASSES; ++pass) {
        const unsigned char* map = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            perror("mapfile: mmap");
            return 1;
        }
        uint64_t h = BENCH_CHECKSUM_SEED;
        for (size_t offset = (size_t)pass * 8; offset < length; offset += PAGE) {
            uint64_t word;
            memcpy(&word, map + offset, 8);
            h = bench_mix(h, word);
        }
        sum = bench_mix(sum, h);
        munmap((void*)map, length);
    }
    close(fd);
    unlink(path);
    bench_report("mapfile", mib, sum);
    return 0;
}
