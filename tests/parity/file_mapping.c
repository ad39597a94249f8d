/*
 * File mappings share the page cache: a store through a MAP_SHARED mapping is seen by read()
 * at once (before msync) and reaches the file; a store through a MAP_PRIVATE mapping makes a
 * private anonymous copy and never reaches the file; a page wholly beyond end of file raises
 * SIGBUS, while the tail of the last page reads as zeroes.
 *
 * Fault counts: Linux answers a read fault on a cached file page with fault-around, mapping up
 * to 16 cached pages (fault_around_bytes, 64 KiB) in a window aligned in virtual addresses, so
 * the 16-page mappings here are 64 KiB-aligned and the first read maps them all. Those pages are
 * mapped read-only when the file system tracks dirty pages (ext4 and most disk file systems:
 * page_mkwrite), so the first store to each then takes one more fault; on tmpfs it would not.
 */
#include "parity.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/stat.h>

#define PAGES 16

static sigjmp_buf fault_jump;
static volatile int fault_signal;
static volatile int fault_code;
static void* volatile fault_addr;

static void on_fault(int sig, siginfo_t* info, void* context) {
    (void)context;
    fault_signal = sig;
    fault_code = info->si_code;
    fault_addr = info->si_addr;
    siglongjmp(fault_jump, 1);
}

static char pattern_byte(size_t offset) {
    return (char)('a' + offset % 23);
}

static int make_file(const char* path, size_t size) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("open file");
    static char chunk[PAGE];
    for (size_t done = 0; done < size;) {
        size_t n = size - done < PAGE ? size - done : PAGE;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern_byte(done + i);
        if (write(fd, chunk, n) != (ssize_t)n)
            die("write file");
        done += n;
    }
    return fd;
}

static char* map_file_aligned(int fd, int prot, int flags) {
    char* where = reserve_aligned(PAGES * PAGE, PAGES * PAGE);
    void* p = mmap(where, PAGES * PAGE, prot, flags | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap file");
    return p;
}

static char file_byte(int fd, off_t offset) {
    char c = 0;
    if (pread(fd, &c, 1, offset) != 1)
        die("pread");
    return c;
}

static void shared_mapping_facts(int fd) {
    volatile char* shared = map_file_aligned(fd, PROT_READ | PROT_WRITE, MAP_SHARED);
    long file0 = status_kb("RssFile");
    long flt0 = minflt_now();
    char first = shared[0];
    long flt1 = minflt_now();
    int matches = first == pattern_byte(0);
    for (size_t i = 0; i < PAGES * PAGE; i += 97)
        matches &= shared[i] == pattern_byte(i);
    long flt2 = minflt_now();
    long file2 = status_kb("RssFile");
    fact("shared_read_matches_file", matches);
    fact("shared_first_read_minflt_delta", flt1 - flt0);
    fact("shared_other_reads_minflt_delta", flt2 - flt1);
    fact("shared_read_rss_file_delta_kb", file2 - file0);

    long flt3 = minflt_now();
    for (size_t p = 0; p < PAGES; p++)
        shared[p * PAGE + 5] = 'Z';
    fact("shared_write_after_read_minflt_delta", minflt_now() - flt3);
    fact("read_sees_store_before_msync", file_byte(fd, 3 * PAGE + 5) == 'Z');
    fact("msync_result", msync((void*)shared, PAGES * PAGE, MS_SYNC));
    int all = 1;
    for (size_t p = 0; p < PAGES; p++)
        all &= file_byte(fd, (off_t)(p * PAGE + 5)) == 'Z';
    fact("read_after_msync_sees_all_stores", all);
    munmap((void*)shared, PAGES * PAGE);
}

static void private_mapping_facts(int fd) {
    volatile char* priv = map_file_aligned(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    long anon0 = status_kb("RssAnon");
    long flt0 = minflt_now();
    for (size_t p = 0; p < 4; p++)
        priv[p * PAGE + 9] = 'P';
    long flt1 = minflt_now();
    long anon1 = status_kb("RssAnon");
    fact("private_write_minflt_delta", flt1 - flt0);
    fact("private_write_rss_anon_delta_kb", anon1 - anon0);
    fact("private_write_reaches_file", file_byte(fd, 2 * PAGE + 9) == 'P');
    fact("private_sees_own_write", priv[2 * PAGE + 9] == 'P');

    /* A later store to the file shows through pages the private mapping never wrote, but not
     * through the pages it copied. */
    char z = 'Q';
    if (pwrite(fd, &z, 1, 8 * PAGE + 9) != 1 || pwrite(fd, &z, 1, 2 * PAGE + 9) != 1)
        die("pwrite");
    fact("private_sees_file_update_on_unwritten_page", priv[8 * PAGE + 9] == 'Q');
    fact("private_keeps_copy_on_written_page", priv[2 * PAGE + 9] == 'P');
    munmap((void*)priv, PAGES * PAGE);
}

static void beyond_eof_facts(const char* path) {
    int fd = make_file(path, 100);
    volatile char* map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        die("mmap short file");
    fact("tail_of_last_page_reads_zero", map[200] == 0 && map[PAGE - 1] == 0);
    map[300] = 'T';
    struct stat st;
    if (fstat(fd, &st) != 0)
        die("fstat");
    fact("file_size_after_store_past_eof", (long)st.st_size);

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &action, NULL);
    fault_signal = 0;
    volatile char* target = map + PAGE + 10;
    if (sigsetjmp(fault_jump, 1) == 0)
        (void)*target;
    fact("sigbus", fault_signal == SIGBUS);
    fact_str("sigbus_code", fault_code == BUS_ADRERR ? "BUS_ADRERR" : "other");
    fact("sigbus_addr_matches", fault_addr == (void*)target);

    if (ftruncate(fd, 2 * PAGE) != 0)
        die("ftruncate");
    fault_signal = 0;
    volatile int reads_zero = 0;
    if (sigsetjmp(fault_jump, 1) == 0)
        reads_zero = *target == 0;
    fact("after_extend_no_signal", fault_signal == 0);
    fact("after_extend_reads_zero", reads_zero);
    munmap((void*)map, 2 * PAGE);
    close(fd);
}

int main(void) {
    parity_begin();

    char dir[] = "/tmp/kioku-parity-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    char data_path[64];
    char short_path[64];
    snprintf(data_path, sizeof(data_path), "%s/data", dir);
    snprintf(short_path, sizeof(short_path), "%s/short", dir);

    int fd = make_file(data_path, PAGES * PAGE);
    shared_mapping_facts(fd);
    private_mapping_facts(fd);
    close(fd);
    beyond_eof_facts(short_path);

    unlink(data_path);
    unlink(short_path);
    rmdir(dir);
    return 0;
}
