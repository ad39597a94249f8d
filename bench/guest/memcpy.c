/* memcpy-heavy: copies, moves and fills between two 1 MiB buffers in blocks of 8 bytes to 64 KiB
 * at varying alignments, through the C library's memcpy, memmove and memset (glibc's riscv64
 * generic versions under kioku and qemu, its vector versions natively). Size: rounds. */
#include <string.h>

#include "common.h"

#define BUFFER (1 << 20)

static unsigned char src[BUFFER], dst[BUFFER];

int main(int argc, char** argv)
{
    long rounds = bench_size(argc, argv, 12);
    uint64_t state = 0x6d656d63ULL;
    for (long i = 0; i < BUFFER; i += 8) {
        uint64_t v = bench_next(&state);
        memcpy(src + i, &v, 8);
    }
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (long r = 0; r < rounds; ++r) {
        unsigned long moved = 0;
        for (unsigned len = 8; len <= 65536; len *= 2) {
            unsigned long count = (BUFFER / 2) / len;
            for (unsigned long k = 0; k < count; ++k) {
                unsigned long from = (bench_next(&state) % (BUFFER - len - 8)) & ~7ul;
                unsigned long to = bench_next(&state) % (BUFFER - len - 8);
                memcpy(dst + to, src + from + (r & 7), len);
                moved += len;
            }
        }
        memmove(dst + 3, dst, BUFFER / 2);
        memmove(dst, dst + 5, BUFFER / 2);
        memset(dst + (r * 4099) % (BUFFER / 2), (int)r, BUFFER / 4);
        uint64_t h = BENCH_CHECKSUM_SEED;
        for (long i = 0; i < BUFFER; i += 4096 + 8)
            h = bench_mix(h, dst[i] | (uint64_t)dst[i + 1] << 8);
        sum = bench_mix(sum, h ^ moved);
    }
    bench_report("memcpy", rounds, sum);
    return 0;
}
