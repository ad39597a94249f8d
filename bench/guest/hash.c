/* Hashing: an open-addressing hash table of 64-bit keys (linear probing, a multiplicative hash)
 * filled, probed for present and absent keys, and emptied again each round; then a byte-wise
 * FNV-1a pass over a buffer. Dependent loads, multiplies and unpredictable branches.
 * Size: rounds. */
#include <string.h>

#include "common.h"

#define TABLE_BITS 16
#define TABLE_SIZE (1u << TABLE_BITS)
#define ENTRIES (TABLE_SIZE / 2)
#define BYTES 65536

struct Entry {
    uint64_t key; /* 0 marks an empty slot; keys are made nonzero */
    uint64_t value;
};

static struct Entry table[TABLE_SIZE];
static unsigned char bytes[BYTES];

static unsigned slot_of(uint64_t key)
{
    return (unsigned)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - TABLE_BITS));
}

static void insert(uint64_t key, uint64_t value)
{
    unsigned i = slot_of(key);
    while (table[i].key != 0 && table[i].key != key)
        i = (i + 1) & (TABLE_SIZE - 1);
    table[i].key = key;
    table[i].value = value;
}

static int find(uint64_t key, uint64_t* value)
{
    for (unsigned i = slot_of(key); table[i].key != 0; i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].key == key) {
            *value = table[i].value;
            return 1;
        }
    }
    return 0;
}

int main(int argc, char** argv)
{
    long rounds = bench_size(argc, argv, 96);
    uint64_t state = 0x4a5b6c7dULL;
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (long r = 0; r < rounds; ++r) {
        uint64_t round_seed = state;
        for (unsigned i = 0; i < ENTRIES; ++i)
            insert(bench_next(&state) | 1, i);
        /* The same keys again (all present), then fresh ones (mostly absent). */
        uint64_t replay = round_seed, found = 0, value = 0;
        for (unsigned i = 0; i < ENTRIES; ++i)
            if (find(bench_next(&replay) | 1, &value))
                found += value;
        for (unsigned i = 0; i < ENTRIES; ++i)
            if (find(bench_next(&replay) | 1, &value))
                found += value + 1;
        sum = bench_mix(sum, found);
        memset(table, 0, sizeof table);

        for (unsigned i = 0; i < BYTES; ++i)
            bytes[i] = (unsigned char)(bench_next(&state) >> 56);
        uint64_t h = BENCH_CHECKSUM_SEED;
        for (unsigned i = 0; i < BYTES; ++i)
            h = (h ^ bytes[i]) * UINT64_C(1099511628211);
        sum = bench_mix(sum, h);
    }
    bench_report("hash", rounds, sum);
    return 0;
}
