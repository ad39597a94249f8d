/*
 * VMAs split and merge as /proc/self/maps shows them: mprotect on the middle of a mapping splits
 * it into three, restoring the protection merges them back into one; munmap of a middle page
 * leaves two, and mapping the hole again with the same protection merges all three back. The
 * 8-page region sits inside a PROT_NONE reservation so it can never merge with a neighbour.
 */
#include "parity.h"

#define PAGES 8
#define GUARD 4

static char* region_start;

/* The maps lines that overlap the region: their count, and their permissions joined by commas. */
static int region_vmas(char* perms, size_t perms_size) {
    uintptr_t lo = (uintptr_t)region_start;
    uintptr_t hi = lo + PAGES * PAGE;
    const char* text = read_small_file("/proc/self/maps");
    int count = 0;
    perms[0] = '\0';
    for (const char* line = text; *line != '\0';) {
        unsigned long start = 0;
        unsigned long end = 0;
        char p[8] = "";
        if (sscanf(line, "%lx-%lx %7s", &start, &end, p) == 3 && start < hi && end > lo) {
            if (count > 0)
                strncat(perms, ",", perms_size - strlen(perms) - 1);
            strncat(perms, p, perms_size - strlen(perms) - 1);
            count++;
        }
        const char* next = strchr(line, '\n');
        if (next == NULL)
            break;
        line = next + 1;
    }
    return count;
}

static void report(const char* step) {
    char perms[128];
    char key[96];
    int count = region_vmas(perms, sizeof(perms));
    snprintf(key, sizeof(key), "%s_vmas", step);
    fact(key, count);
    snprintf(key, sizeof(key), "%s_perms", step);
    fact_str(key, perms);
}

static void must(int result, const char* what) {
    if (result != 0)
        die(what);
}

int main(void) {
    parity_begin();

    char* reservation = mmap(NULL, (PAGES + 2 * GUARD) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reservation == MAP_FAILED)
        die("mmap reservation");
    region_start = mmap(reservation + GUARD * PAGE, PAGES * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (region_start == MAP_FAILED)
        die("mmap region");
    report("fresh");
    memset(region_start, 7, PAGES * PAGE);
    report("touched");

    must(mprotect(region_start + 3 * PAGE, 2 * PAGE, PROT_READ), "mprotect ro");
    report("middle_readonly");
    must(mprotect(region_start + 3 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE), "mprotect rw");
    report("middle_restored");

    must(mprotect(region_start + 6 * PAGE, 2 * PAGE, PROT_NONE), "mprotect none");
    report("tail_none");
    must(mprotect(region_start, 6 * PAGE, PROT_NONE), "mprotect head none");
    report("all_none");
    must(mprotect(region_start, PAGES * PAGE, PROT_READ | PROT_WRITE), "mprotect all rw");
    report("all_restored");

    must(munmap(region_start + 4 * PAGE, PAGE), "munmap middle");
    report("middle_unmapped");
    void* refill = mmap(region_start + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (refill == MAP_FAILED)
        die("mmap refill");
    report("hole_refilled");
    fact("data_kept_around_hole", region_start[3 * PAGE] == 7 && region_start[5 * PAGE] == 7);
    fact("refilled_page_zero", region_start[4 * PAGE] == 0);
    return 0;
}
