/* Touches far more memory than the machine has: with no swap and no OOM killer yet, the fault
 * that finds no free page kills the program with SIGKILL ("Killed", status 137). */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    size_t size = (size_t)1 << 30;
    char* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    printf("touching 1 GiB\n");
    fflush(stdout);
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 1;
    printf("not reached\n");
    return 0;
}
