/* Matrix multiply in double precision: C = A * B for 96x96 matrices, i-k-j order, repeated.
 * The entries are small integers, so every product and sum is exact and the result is the same
 * with or without fused multiply-add (riscv64 GCC contracts a*b+c into fmadd, x86-64 GCC at -O2
 * does not). Floating-point loads, multiplies and adds; kioku's F and D arithmetic is software.
 * Size: multiplications. */
#include <string.h>

#include "common.h"

#define N 96

static double a[N][N], b[N][N], c[N][N];

int main(int argc, char** argv)
{
    long rounds = bench_size(argc, argv, 12);
    uint64_t state = 0x3a7c1dULL;
    uint64_t sum = BENCH_CHECKSUM_SEED;
    for (long r = 0; r < rounds; ++r) {
        for (int i = 0; i < N; ++i) {
            for (int j = 0; j < N; ++j) {
                a[i][j] = (double)((int)(bench_next(&state) >> 60) - 8);
                b[i][j] = (double)((int)(bench_next(&state) >> 60) - 8);
            }
        }
        memset(c, 0, sizeof c);
        for (int i = 0; i < N; ++i)
            for (int k = 0; k < N; ++k) {
                double aik = a[i][k];
                for (int j = 0; j < N; ++j)
                    c[i][j] += aik * b[k][j];
            }
        double trace = 0;
        for (int i = 0; i < N; ++i)
            trace += c[i][i] + c[i][N - 1 - i];
        sum = bench_mix(sum, (uint64_t)(int64_t)trace);
        sum = bench_mix(sum, (uint64_t)(int64_t)c[r % N][(r * 7) % N]);
    }
    bench_report("matmul", rounds, sum);
    return 0;
}
