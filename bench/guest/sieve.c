/* A sieve of Eratosthenes over a byte array, then a sum over the primes found. Tight loops of
 * byte stores with large strides. Size: sieves of the numbers below 1,000,000. */
#include <string.h>

#include "common.h"

#define LIMIT 1000000

static unsigned char composite[LIMIT];

int main(int argc, char** argv)
{
    long rounds = bench_size(argc, argv, 40);
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (long r = 0; r < rounds; ++r) {
        long limit = LIMIT - (r % 512) * 1000;
        memset(composite, 0, (size_t)limit);
        for (long i = 2; i * i < limit; ++i)
            if (!composite[i])
                for (long j = i * i; j < limit; j += i)
                    composite[j] = 1;
        uint64_t count = 0, total = 0;
        for (long i = 2; i < limit; ++i) {
            if (!composite[i]) {
                ++count;
                total += (uint64_t)i;
            }
        }
        sum = bench_mix(bench_mix(sum, count), total);
    }
    bench_report("sieve", rounds, sum);
    return 0;
}
