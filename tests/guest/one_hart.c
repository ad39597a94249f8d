/* The machine has one hart, and says so where programs look: sysconf (from
 * /sys/devices/system/cpu), /proc/cpuinfo with the MMU's paging mode. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    printf("configured %ld, online %ld\n", sysconf(_SC_NPROCESSORS_CONF), sysconf(_SC_NPROCESSORS_ONLN));
    FILE* f = fopen("/proc/cpuinfo", "r");
    char line[256];
    int processors = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "processor", 9) == 0)
            ++processors;
        if (strncmp(line, "mmu", 3) == 0)
            printf("%s", line);
    }
    printf("processors in /proc/cpuinfo: %d\n", processors);
    return 0;
}
