/*
 * /proc/self/smaps of one anonymous private VMA of 32 pages, of which 20 were written and 5 only
 * read. Pages only read map the shared zero page, which smaps does not count. While a forked
 * child is alive the 20 written pages are mapped by both processes: they show as Shared_Dirty
 * and each adds half a page to Pss. Once the child has exited they are Private_Dirty again.
 * The VMA sits inside a PROT_NONE reservation so it cannot merge with a neighbour.
 */
#include "parity.h"

#include <sys/wait.h>

#define PAGES 32
#define WRITTEN 20
#define READ_ONLY 5
#define GUARD 2

static const char* const FIELDS[] = {
    "Size",          "Rss",           "Pss",        "Shared_Clean", "Shared_Dirty",
    "Private_Clean", "Private_Dirty", "Referenced", "Anonymous",    "AnonHugePages",
    "Swap",          "SwapPss",       "Locked",
};

static void print_smaps(const char* prefix, const char* start)
{
    print_smaps_fields(prefix, start, FIELDS, sizeof(FIELDS) / sizeof(FIELDS[0]));
}

int main(void) {
    parity_begin();

    char* reservation = mmap(NULL, (PAGES + 2 * GUARD) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reservation == MAP_FAILED)
        die("mmap reservation");
    char* region = mmap(reservation + GUARD * PAGE, PAGES * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (region == MAP_FAILED)
        die("mmap region");
    (void)madvise(region, PAGES * PAGE, MADV_NOHUGEPAGE);

    volatile char* v = region;
    for (size_t p = 0; p < WRITTEN; p++)
        v[p * PAGE] = (char)(p + 1);
    int sum = 0;
    for (size_t p = WRITTEN; p < WRITTEN + READ_ONLY; p++)
        sum += v[p * PAGE];
    fact("read_only_pages_sum", sum);
    print_smaps("alone", region);

    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    pid_t pid = fork_flushed();
    if (pid == 0) {
        char c;
        close(fds[1]);
        /* Waits for the parent to close the pipe; touches nothing. */
        while (read(fds[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(fds[0]);
    print_smaps("shared_with_child", region);
    close(fds[1]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    fact("child_exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    print_smaps("after_child_exit", region);
    return 0;
}
