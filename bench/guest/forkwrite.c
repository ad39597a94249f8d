/* Fault-heavy: the parent fills an anonymous region, forks, and the child stores one byte to
 * every page (a copy-on-write fault each) and reports a checksum of what it saw through its exit
 * status; the parent then checks its own copy is unchanged. Size: MiB of the region. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define PAGE 4096

int main(int argc, char** argv)
{
    long mib = bench_size(argc, argv, 256);
    size_t length = (size_t)mib << 20;
    unsigned char* region = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("forkwrite: mmap");
        return 1;
    }
    for (size_t offset = 0; offset < length; offset += PAGE)
        region[offset] = (unsigned char)(offset / PAGE);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("forkwrite: fork");
        return 1;
    }
    if (child == 0) {
        unsigned char seen = 0;
        for (size_t offset = 0; offset < length; offset += PAGE) {
            seen ^= region[offset];
            region[offset] = (unsigned char)(region[offset] + 1);
        }
        _exit(seen & 0x7f);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
        printf("forkwrite: the child did not exit normally\n");
        return 1;
    }
    uint64_t sum = bench_mix(BENCH_CHECKSUM_SEED, (uint64_t)WEXITSTATUS(status));
    for (size_t offset = 0; offset < length; offset += PAGE)
        sum = bench_mix(sum, region[offset]);
    munmap(region, length);
    bench_report("forkwrite", mib, sum);
    return 0;
}
