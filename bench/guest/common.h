/* Shared by the guest benchmark programs: the size argument, a deterministic generator and the
 * checksum line. Each program is built three ways from the same source (riscv64 static for kioku
 * and qemu-riscv64, and for the host), so nothing here may depend on the word size, the byte
 * order beyond little-endian, the C library's own algorithms, or floating-point contraction. */
#ifndef KIOKU_BENCH_GUEST_COMMON_H
#define KIOKU_BENCH_GUEST_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The program's work scale: argv[1] if given, else the measuring default. A scale of 1 is the
 * tiny size the tests use. */
static long bench_size(int argc, char** argv, long measuring_default)
{
    if (argc < 2)
        return measuring_default;
    long size = strtol(argv[1], NULL, 10);
    if (size < 1) {
        fprintf(stderr, "%s: the size must be a positive integer\n", argv[0]);
        exit(2);
    }
    return size;
}

/* xorshift64*: fast, and the same sequence on every platform. */
static inline uint64_t bench_next(uint64_t* state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

/* Folds one value into a running checksum (the 64-bit FNV-1a step over a whole word). */
static inline uint64_t bench_mix(uint64_t sum, uint64_t value)
{
    return (sum ^ value) * UINT64_C(1099511628211);
}

#define BENCH_CHECKSUM_SEED UINT64_C(14695981039346656037)

static void bench_report(const char* name, long size, uint64_t checksum)
{
    printf("%s size=%ld checksum=%016" PRIx64 "\n", name, size, checksum);
}

#endif
