/* Sorting: each round fills an array of 32-bit keys from the generator and sorts it with a
 * quicksort (median of three, insertion sort below 16 elements), then checks the order and folds
 * sampled keys into the checksum. Branchy integer code with loads and stores all over the array.
 * Size: rounds of 64 Ki keys. */
#include "common.h"

#define KEYS 65536

static void insertion_sort(uint32_t* a, long n)
{
    for (long i = 1; i < n; ++i) {
        uint32_t v = a[i];
        long j = i;
        for (; j > 0 && a[j - 1] > v; --j)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void swap(uint32_t* a, uint32_t* b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void quick_sort(uint32_t* a, long n)
{
    while (n > 16) {
        long mid = n / 2;
        if (a[mid] < a[0])
            swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0])
            swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid])
            swap(&a[n - 1], &a[mid]);
        uint32_t pivot = a[mid];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                ++i;
            while (a[j] > pivot)
                --j;
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
            ++i;
            --j;
        }
        /* Recurse into the smaller side, loop on the larger: the stack stays shallow. */
        if (j + 1 < n - j - 1) {
            quick_sort(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            quick_sort(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion_sort(a, n);
}

int main(int argc, char** argv)
{
    long rounds = bench_size(argc, argv, 32);
    static uint32_t keys[KEYS];
    uint64_t state = 0x5eed5eedULL;
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (long r = 0; r < rounds; ++r) {
        for (long i = 0; i < KEYS; ++i)
            keys[i] = (uint32_t)(bench_next(&state) >> 32);
        quick_sort(keys, KEYS);
        for (long i = 1; i < KEYS; ++i) {
            if (keys[i - 1] > keys[i]) {
                printf("sort: out of order at %ld\n", i);
                return 1;
            }
        }
        for (long i = 0; i < KEYS; i += 997)
            sum = bench_mix(sum, keys[i]);
    }
    bench_report("sort", rounds, sum);
    return 0;
}
