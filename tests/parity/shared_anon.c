/*
 * Shared anonymous memory (shmem): a child's writes are seen by the parent, and the pages count
 * as RssShmem in whichever process maps them. The region is 64 KiB and 64 KiB-aligned so that
 * Linux's fault-around (which maps up to 16 cached pages around a read fault, in a window
 * aligned in virtual addresses) maps the whole region on the parent's first read.
 */
#include "parity.h"

#include <sys/wait.h>

#define PAGES 16
#define CHILD_VALUE 4242

struct child_report {
    long write_faults;
    long rss_shmem_delta_kb;
};

static void run_child(volatile int* region, int report_fd) {
    struct child_report report = {0, 0};
    long shmem0 = status_kb("RssShmem");
    long before = minflt_now();
    long after = minflt_now();
    before = minflt_now();
    for (size_t p = 0; p < PAGES; p++)
        region[p * PAGE / sizeof(int)] = CHILD_VALUE + (int)p;
    after = minflt_now();
    report.write_faults = after - before;
    report.rss_shmem_delta_kb = status_kb("RssShmem") - shmem0;
    if (write(report_fd, &report, sizeof(report)) != (ssize_t)sizeof(report))
        _exit(3);
    _exit(0);
}

int main(void) {
    parity_begin();

    char* where = reserve_aligned(PAGES * PAGE, PAGES * PAGE);
    void* p =
        mmap(where, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED)
        die("mmap shared");
    volatile int* region = p;
    long shmem0 = status_kb("RssShmem");

    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    pid_t pid = fork_flushed();
    if (pid == 0) {
        close(fds[0]);
        run_child(region, fds[1]);
    }
    close(fds[1]);
    struct child_report report;
    if (read(fds[0], &report, sizeof(report)) != (ssize_t)sizeof(report))
        die("read child report");
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");

    fact("child_exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    fact("child_write_minflt_delta", report.write_faults);
    fact("child_rss_shmem_delta_kb", report.rss_shmem_delta_kb);
    fact("parent_rss_shmem_delta_before_read_kb", status_kb("RssShmem") - shmem0);

    long flt0 = minflt_now();
    int first = region[0];
    long flt1 = minflt_now();
    int all_seen = 1;
    for (size_t i = 0; i < PAGES; i++)
        all_seen &= region[i * PAGE / sizeof(int)] == CHILD_VALUE + (int)i;
    long flt2 = minflt_now();
    fact("parent_reads_child_value", first);
    fact("parent_sees_all_child_writes", all_seen);
    fact("parent_first_read_minflt_delta", flt1 - flt0);
    fact("parent_other_reads_minflt_delta", flt2 - flt1);
    fact("parent_rss_shmem_delta_after_read_kb", status_kb("RssShmem") - shmem0);

    long flt3 = minflt_now();
    for (size_t i = 0; i < PAGES; i++)
        region[i * PAGE / sizeof(int)] = 1;
    fact("parent_write_after_read_minflt_delta", minflt_now() - flt3);
    return 0;
}
