/* Touches MiB of anonymous memory (argument, default 1024) and checks it reads back. With more
 * than the machine's RAM and swap, the fault that finds no page kills the program with SIGKILL
 * ("Killed", status 137); with enough swap it completes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char** argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    size_t size = mib << 20;
    char* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    printf("touching %zu MiB\n", mib);
    fflush(stdout);
    for (size_t i = 0; i < size; i += 4096)
        p[i] = (char)(i >> 12);
    size_t bad = 0;
    for (size_t i = 0; i < size; i += 4096)
        bad += p[i] != (char)(i >> 12);
    printf("pages that lost their data: %zu\n", bad);
    return 0;
}
