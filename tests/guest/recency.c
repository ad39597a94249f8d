/* Recency (run with --mem 32M --swap 256M and each --policy): 4 MiB of hot pages touched again after
 * every MiB of a 96 MiB buffer that is written once and kept. The machine cannot hold the buffer, so
 * its older pages must go; the hot pages were among the first to come in but are always among the
 * last used. A policy that evicts by use (exact LRU, Linux's lists, CLOCK, S3-FIFO, OPT) keeps them;
 * FIFO, which evicts by arrival, sends them to swap again and again and reads them back. The program
 * prints only its checksum, the same under every policy and on any Linux;
 * tests/guest/check_policies.py compares the policies' swap-ins from their run reports. */
#include <stdio.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define HOT (4 * MIB)
#define BUFFER (96 * MIB)

int main(void)
{
    unsigned char* hot = mmap(NULL, HOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char* buffer = mmap(NULL, BUFFER, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hot == MAP_FAILED || buffer == MAP_FAILED)
        return 1;
    unsigned long sum = 0;
    for (long step = 0; step < BUFFER / MIB; ++step) {
        for (long i = 0; i < HOT; i += 4096) {
            hot[i] += 1;
            sum += hot[i];
        }
        for (long i = step * MIB; i < (step + 1) * MIB; i += 4096) {
            buffer[i] = (unsigned char)(i >> 12);
            sum += buffer[i];
        }
    }
    printf("checksum %lu\n", sum);
    return 0;
}
