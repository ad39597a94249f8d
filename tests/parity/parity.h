/*
 * Helpers shared by the parity programs in this folder.
 *
 * A parity program is built twice, natively (run on the host kernel) and for riscv64 (run on
 * kioku), and both outputs must match line for line. So every helper here observes the process
 * only through what a program on Linux can see (getrusage, /proc/self), prints "key value"
 * lines and never an address or a time.
 *
 * Measuring faults and RSS must not disturb what is measured: readers of /proc use a static
 * buffer and raw open/read (no stdio, no malloc), and each program calls every reader once
 * before its first baseline so that the buffer's own first-touch faults fall outside the window.
 *
 * Owned by the parity tests; C only, no dependency beyond libc.
 */
#ifndef KIOKU_PARITY_H
#define KIOKU_PARITY_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Both x86_64 and riscv64 Linux use 4 KiB base pages; the programs check it at start. */
#define PAGE 4096UL

/* Large enough for /proc/self/smaps of a small static program. */
static char parity_buffer[256 * 1024];
/* stdout's buffer: static and touched up front, so printing a fact between two measurements
 * neither allocates heap nor faults. */
static char parity_stdout_buffer[64 * 1024];

static inline void fact(const char* key, long value)
{
    printf("%s %ld\n", key, value);
}

static inline void fact_str(const char* key, const char* value)
{
    printf("%s %s\n", key, value);
}

/* A program whose setup failed prints why on stderr and exits non-zero, so a broken run never
 * looks like a run whose facts merely differ. */
static inline void die(const char* what)
{
    fprintf(stderr, "parity: %s failed: %s\n", what, strerror(errno));
    exit(2);
}

static inline void check_page_size(void)
{
    if ((unsigned long)sysconf(_SC_PAGESIZE) != PAGE) {
        fprintf(stderr, "parity: page size is not 4096\n");
        exit(2);
    }
}

static inline long minflt_now(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        die("getrusage");
    return usage.ru_minflt;
}

/* Reads a whole (small) file into parity_buffer and NUL-terminates it. */
static inline const char* read_small_file(const char* path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    size_t used = 0;
    for (;;) {
        ssize_t got = read(fd, parity_buffer + used, sizeof(parity_buffer) - 1 - used);
        if (got < 0)
            die("read");
        if (got == 0)
            break;
        used += (size_t)got;
        if (used == sizeof(parity_buffer) - 1)
            break;
    }
    close(fd);
    parity_buffer[used] = '\0';
    return parity_buffer;
}

/* Resident pages of the whole process: the second field of /proc/self/statm. */
static inline long rss_pages(void)
{
    const char* text = read_small_file("/proc/self/statm");
    long size = 0;
    long resident = 0;
    if (sscanf(text, "%ld %ld", &size, &resident) != 2)
        die("parse statm");
    return resident;
}

/* A "Name:   N kB" field of /proc/self/status, in kB; -1 when the field is absent. */
static inline long status_kb(const char* name)
{
    const char* text = read_small_file("/proc/self/status");
    size_t name_len = strlen(name);
    for (const char* line = text; *line != '\0';) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ':')
            return strtol(line + name_len + 1, NULL, 10);
        const char* next = strchr(line, '\n');
        if (next == NULL)
            break;
        line = next + 1;
    }
    return -1;
}

/* Every program calls this first: it checks the page size, gives stdout a pre-touched static
 * buffer and calls every reader once, so later measurements do not count the helpers' own
 * first-touch faults. Output is flushed at exit (or by fork_flushed). */
static inline void parity_begin(void)
{
    check_page_size();
    memset(parity_stdout_buffer, 0, sizeof(parity_stdout_buffer));
    setvbuf(stdout, parity_stdout_buffer, _IOFBF, sizeof(parity_stdout_buffer));
    memset(parity_buffer, 0, sizeof(parity_buffer));
    (void)minflt_now();
    (void)rss_pages();
    (void)status_kb("VmRSS");
}

/* fork() after flushing stdout, so buffered facts are not printed twice. */
static inline pid_t fork_flushed(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

/* Anonymous private memory with transparent huge pages turned off for it, so that every fault
 * maps exactly one base page whatever the host's THP settings are. */
static inline char* map_anon(size_t pages, int flags)
{
    void* p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap anon");
    /* Advice only: a kernel without THP may refuse it, which changes nothing here. */
    (void)madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
    return (char*)p;
}

/* Reserves an address range aligned to align bytes (a power of two), so that windows the kernel
 * aligns in virtual addresses (fault-around) start at the range's first page. */
static inline char* reserve_aligned(size_t len, size_t align)
{
    size_t span = len + align;
    char* base = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        die("mmap reserve");
    uintptr_t start = ((uintptr_t)base + align - 1) & ~(uintptr_t)(align - 1);
    char* aligned = (char*)start;
    if (aligned > base)
        munmap(base, (size_t)(aligned - base));
    size_t tail = (size_t)((base + span) - (aligned + len));
    if (tail > 0)
        munmap(aligned + len, tail);
    return aligned;
}

static inline const char* errno_name(int e)
{
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "E?";
    }
}

/* Prints the named fields of the smaps entry whose range starts at start, each as the fact
 * PREFIX_FIELD_kb (or PREFIX_FIELD for a field that is not in kB, such as THPeligible), or
 * PREFIX vma_not_found when no entry starts there. */
static inline void print_smaps_fields(const char* prefix, const char* start, const char* const* fields,
                                      size_t count)
{
    const char* text = read_small_file("/proc/self/smaps");
    const char* entry = NULL;
    for (const char* line = text; *line != '\0';) {
        unsigned long lo = 0;
        unsigned long hi = 0;
        const char* next = strchr(line, '\n');
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            if (entry != NULL)
                break;
            if (lo == (unsigned long)start)
                entry = line;
        } else if (entry != NULL) {
            for (size_t f = 0; f < count; f++) {
                size_t len = strlen(fields[f]);
                if (strncmp(line, fields[f], len) != 0 || line[len] != ':')
                    continue;
                const char* kb = strstr(line, " kB");
                char key[96];
                snprintf(key, sizeof(key), "%s_%s%s", prefix, fields[f],
                         kb != NULL && (next == NULL || kb < next) ? "_kb" : "");
                fact(key, strtol(line + len + 1, NULL, 10));
            }
        }
        if (next == NULL)
            break;
        line = next + 1;
    }
    if (entry == NULL)
        fact_str(prefix, "vma_not_found");
}

#endif
