/*
 * Copy-on-write after fork: parent and child share the parent's written pages read-only. The
 * child's first write to each shared page takes one fault and gets its own copy; the parent keeps
 * its data. Once the child has exited, the parent's first write to each page still faults once
 * (its PTEs were write-protected at fork) but RSS does not grow: the frame is reused or the copy
 * replaces it.
 */
#include "parity.h"

#include <sys/wait.h>

#define PAGES 64
#define CHILD_WRITES 16

struct child_report {
    long cow_faults;
    long sees_own_writes;
    long sees_parent_data;
};

static char pattern_byte(size_t page, size_t offset) {
    return (char)(page * 31 + offset * 7 + 3);
}

static long checksum(volatile char* region) {
    long sum = 0;
    for (size_t i = 0; i < PAGES * PAGE; i += 64)
        sum = sum * 33 + region[i];
    return sum;
}

static void run_child(volatile char* region, int report_fd) {
    struct child_report report = {0, 1, 1};
    /* The child's stack is copy-on-write too: write the variables the measurement uses before
     * taking the baseline, so only the region's faults fall inside the window. */
    long before = minflt_now();
    long after = minflt_now();
    before = minflt_now();
    for (size_t p = 0; p < CHILD_WRITES; p++)
        region[p * 4 * PAGE] = (char)0x5a;
    after = minflt_now();
    report.cow_faults = after - before;
    for (size_t p = 0; p < PAGES; p++) {
        int written = p % 4 == 0 && p / 4 < CHILD_WRITES;
        if (written)
            report.sees_own_writes &= region[p * PAGE] == (char)0x5a;
        else
            report.sees_parent_data &= region[p * PAGE] == pattern_byte(p, 0);
    }
    if (write(report_fd, &report, sizeof(report)) != (ssize_t)sizeof(report))
        _exit(3);
    _exit(0);
}

int main(void) {
    parity_begin();

    volatile char* region = map_anon(PAGES, MAP_PRIVATE);
    for (size_t p = 0; p < PAGES; p++)
        for (size_t o = 0; o < PAGE; o += 64)
            region[p * PAGE + o] = pattern_byte(p, o);
    long sum_before = checksum(region);

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
    fact("child_cow_faults", report.cow_faults);
    fact("child_sees_own_writes", report.sees_own_writes);
    fact("child_sees_parent_data", report.sees_parent_data);
    fact("parent_data_intact", checksum(region) == sum_before);

    long rss0 = rss_pages();
    long flt0 = minflt_now();
    for (size_t p = 0; p < PAGES; p++)
        region[p * PAGE] = (char)p;
    long flt1 = minflt_now();
    long rss1 = rss_pages();
    fact("parent_write_after_child_exit_minflt_delta", flt1 - flt0);
    fact("parent_write_after_child_exit_rss_delta_pages", rss1 - rss0);
    return 0;
}
