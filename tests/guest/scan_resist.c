/* A working set and a scan (run with --mem 32M --swap 256M and each --policy): 8 MiB of hot pages
 * read and written again and again, and between those passes a stream of new 32 MiB buffers, each
 * written once and unmapped, 32 MiB at a time, so that the machine cannot hold both: the stream's
 * pages go to swap and never come back, the hot ones come back if they were sent. A policy that keeps the hot
 * pages while the stream passes (scan resistance) reads fewer pages back from swap. The program prints only
 * its own checksum, the same under every policy and on any Linux; tests/guest/check_policies.py compares the
 * policies' swap-ins from their run reports. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define HOT (8 * MIB)
#define STREAM (256 * MIB)
#define ROUNDS 6

int main(void)
{
    unsigned char* hot = mmap(NULL, HOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hot == MAP_FAILED)
        return 1;
    unsigned long sum = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        /* The hot set, several passes per round, with a slice of the stream between them. */
        for (long part = 0; part < 8; ++part) {
            for (long i = 0; i < HOT; i += 4096) {
                hot[i] += (unsigned char)(round + 1);
                sum += hot[i];
            }
            unsigned char* stream =
                mmap(NULL, STREAM / 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (stream == MAP_FAILED)
                return 1;
            for (long i = 0; i < STREAM / 8; i += 4096) {
                stream[i] = (unsigned char)((part * (STREAM / 8) + i) >> 12);
                sum += stream[i];
            }
            munmap(stream, STREAM / 8);
        }
    }
    printf("checksum %lu\n", sum);
    return 0;
}
