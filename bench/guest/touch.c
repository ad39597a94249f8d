/* Fault-heavy: maps an anonymous private region, stores one byte to every 4 KiB page (a
 * first-touch fault each), reads the pages back and unmaps. Under kioku every fault is handled
 * by kioku's memory manager; under qemu-riscv64 and natively, by the host kernel's.
 * Size: MiB touched. */
#include <sys/mman.h>

#include "common.h"

#define PAGE 4096

int main(int argc, char** argv)
{
    long mib = bench_size(argc, argv, 1024);
    size_t length = (size_t)mib << 20;
    unsigned char* region = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("touch: mmap");
        return 1;
    }
    for (size_t offset = 0; offset < length; offset += PAGE)
        region[offset] = (unsigned char)(offset / PAGE * 31);
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (size_t offset = 0; offset < length; offset += PAGE * 64)
        sum = bench_mix(sum, region[offset] + region[offset + 1]);
    munmap(region, length);
    bench_report("touch", mib, sum);
    return 0;
}
