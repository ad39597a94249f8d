/* userfaultfd in missing mode: a handler thread serves the faults of another thread on anonymous,
 * shared anonymous (shmem) and hugetlb memory with UFFDIO_COPY and UFFDIO_ZEROPAGE; UFFDIO_WAKE
 * without a fill makes the access fault again; the SIGBUS, THREAD_ID and EXACT_ADDRESS features;
 * the errors of the calls; what fork, mremap, MADV_DONTNEED and closing the descriptor do to a
 * registration. Prints only facts that do not depend on the architecture or on the features a
 * newer kernel adds. Sets vm.nr_hugepages to 2 for the hugetlb part and puts it back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)

static int uffd_open(int flags, unsigned long long features)
{
    int fd = (int)syscall(SYS_userfaultfd, flags);
    if (fd < 0)
        return -1;
    struct uffdio_api api = {.api = UFFD_API, .features = features};
    if (ioctl(fd, UFFDIO_API, &api)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int do_register(int fd, void* addr, unsigned long len, unsigned long long* ioctls)
{
    struct uffdio_register reg = {.range = {(unsigned long)addr, len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    int r = ioctl(fd, UFFDIO_REGISTER, &reg);
    if (ioctls)
        *ioctls = reg.ioctls;
    return r ? errno : 0;
}

static const char* err(int e)
{
    switch (e) {
    case 0: return "OK";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

/* An ioctl's outcome, taken before the fields it writes are printed. */
static const char* try_ioctl(int fd, unsigned long request, void* arg)
{
    return ioctl(fd, request, arg) ? err(errno) : "OK";
}

static int vmflag_um(void* addr)
{
    FILE* f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (unsigned long)addr >= a && (unsigned long)addr < b;
        else if (in && !strncmp(line, "VmFlags:", 8))
            found = strstr(line, " um") != NULL;
    }
    fclose(f);
    return found;
}

/* ---- the handler thread: serves `expected` faults, filling each page with its index ---- */

struct handler {
    int fd;
    int expected;
    unsigned long base;
    unsigned long step; /* page size of the region */
    int wake_first;     /* answer the first fault with UFFDIO_WAKE only */
    int served;
    int writes;
    int messages;
    int zero_for_odd; /* UFFDIO_ZEROPAGE for odd pages */
    unsigned long last_address;
    char* src;
};

static void* serve(void* arg)
{
    struct handler* h = arg;
    while (h->served < h->expected) {
        struct pollfd p = {h->fd, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1)
            break;
        struct uffd_msg msg;
        if (read(h->fd, &msg, sizeof msg) != sizeof msg)
            continue;
        ++h->messages;
        if (msg.event != UFFD_EVENT_PAGEFAULT)
            continue;
        unsigned long addr = msg.arg.pagefault.address;
        h->last_address = addr;
        if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE)
            ++h->writes;
        unsigned long page = (addr - h->base) / h->step;
        unsigned long at = h->base + page * h->step;
        if (h->wake_first) {
            h->wake_first = 0;
            struct uffdio_range r = {at, h->step};
            ioctl(h->fd, UFFDIO_WAKE, &r);
            continue;
        }
        if (h->zero_for_odd && (page & 1)) {
            struct uffdio_zeropage z = {.range = {at, h->step}};
            if (ioctl(h->fd, UFFDIO_ZEROPAGE, &z) == 0)
                ++h->served;
            continue;
        }
        memset(h->src, (int)(page + 1), h->step);
        struct uffdio_copy c = {.dst = at, .src = (unsigned long)h->src, .len = h->step};
        if (ioctl(h->fd, UFFDIO_COPY, &c) == 0 && c.copy == (long long)h->step)
            ++h->served;
    }
    return NULL;
}

static pthread_t start(struct handler* h, int fd, void* base, unsigned long step, int expected)
{
    memset(h, 0, sizeof *h);
    h->fd = fd;
    h->base = (unsigned long)base;
    h->step = step;
    h->expected = expected;
    h->src = aligned_alloc(PAGE, step);
    pthread_t th;
    pthread_create(&th, NULL, serve, h);
    return th;
}

static sigjmp_buf jump;
static volatile unsigned long bus_addr;
static volatile int bus_code;
static void on_bus(int sig, siginfo_t* si, void* ctx)
{
    (void)sig, (void)ctx;
    bus_addr = (unsigned long)si->si_addr;
    bus_code = si->si_code;
    siglongjmp(jump, 1);
}

static volatile pid_t fault_tid;
struct toucher {
    volatile char* p;
    char seen;
};
static void* touch(void* arg)
{
    struct toucher* t = arg;
    fault_tid = (pid_t)syscall(SYS_gettid);
    t->seen = t->p[0];
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* ---- the descriptor and UFFDIO_API ---- */
    errno = 0;
    printf("bad flags: %s\n", syscall(SYS_userfaultfd, 0x100) < 0 ? err(errno) : "OK");
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    printf("userfaultfd: %s\n", fd >= 0 ? "OK" : err(errno));
    char* probe = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("register before UFFDIO_API: %s\n", err(do_register(fd, probe, PAGE, NULL)));
    struct uffd_msg msg;
    printf("read before UFFDIO_API: %s\n", read(fd, &msg, sizeof msg) < 0 ? err(errno) : "OK");
    struct uffdio_api api = {.api = 0x55};
    printf("API with a wrong api: %s\n", ioctl(fd, UFFDIO_API, &api) ? err(errno) : "OK");
    api = (struct uffdio_api){.api = UFFD_API, .features = 1ULL << 62};
    const char* r = try_ioctl(fd, UFFDIO_API, &api);
    printf("API with an unknown feature: %s, features written back %llu\n", r, (unsigned long long)api.features);
    api = (struct uffdio_api){.api = UFFD_API};
    printf("API: %s\n", ioctl(fd, UFFDIO_API, &api) ? err(errno) : "OK");
    unsigned long long want = UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_SIGBUS |
                              UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS;
    printf("features offered include missing shmem/hugetlbfs, sigbus, thread id, exact address: %d\n",
           (api.features & want) == want);
    printf("ioctls: register %d unregister %d api %d\n", !!(api.ioctls & (1ULL << _UFFDIO_REGISTER)),
           !!(api.ioctls & (1ULL << _UFFDIO_UNREGISTER)), !!(api.ioctls & (1ULL << _UFFDIO_API)));
    printf("API again: %s\n", ioctl(fd, UFFDIO_API, &api) ? err(errno) : "OK");
    printf("read with no fault: %s\n", read(fd, &msg, sizeof msg) < 0 ? err(errno) : "OK");
    printf("read of 8 bytes: %s\n", read(fd, &msg, 8) < 0 ? err(errno) : "OK");
    printf("write: %s\n", write(fd, &msg, sizeof msg) < 0 ? err(errno) : "OK");

    /* ---- registering ---- */
    unsigned long long ioctls = 0;
    char* anon = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("register mode 0: %s\n", err(({
               struct uffdio_register r = {.range = {(unsigned long)anon, PAGE}, .mode = 0};
               ioctl(fd, UFFDIO_REGISTER, &r) ? errno : 0;
           })));
    printf("register unaligned: %s\n", err(do_register(fd, anon + 1, PAGE, NULL)));
    printf("register length 0: %s\n", err(do_register(fd, anon, 0, NULL)));
    printf("register anonymous: %s\n", err(do_register(fd, anon, 16 * PAGE, &ioctls)));
    printf("range ioctls: wake %d copy %d zeropage %d\n", !!(ioctls & (1ULL << _UFFDIO_WAKE)),
           !!(ioctls & (1ULL << _UFFDIO_COPY)), !!(ioctls & (1ULL << _UFFDIO_ZEROPAGE)));
    printf("VmFlags um: %d\n", vmflag_um(anon));
    int other = uffd_open(O_CLOEXEC, 0);
    printf("register with a second descriptor: %s\n", err(do_register(other, anon, PAGE, NULL)));
    close(other);
    char path[] = "/tmp/uffd-XXXXXX";
    int file = mkstemp(path);
    unlink(path);
    ftruncate(file, PAGE);
    char* filemap = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0);
    printf("register a private file mapping: %s\n", err(do_register(fd, filemap, PAGE, NULL)));
    char* readonly = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, open("/proc/self/exe", O_RDONLY), 0);
    printf("register a shared file mapping: %s\n", err(do_register(fd, readonly, PAGE, NULL)));
    int sealed = memfd_create("sealed", MFD_ALLOW_SEALING);
    ftruncate(sealed, PAGE);
    fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE);
    char* never_written = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, sealed, 0);
    printf("register a write-sealed memfd mapping: %s\n", err(do_register(fd, never_written, PAGE, NULL)));
    char* holes = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(holes + PAGE, PAGE);
    printf("register a hole: %s\n", err(do_register(fd, holes + PAGE, PAGE, NULL)));
    printf("register across a hole: %s\n", err(do_register(fd, holes, 3 * PAGE, NULL)));

    /* ---- anonymous memory: every page read once goes to the handler ---- */
    fcntl(fd, F_SETFL, 0);
    struct handler h;
    pthread_t th = start(&h, fd, anon, PAGE, 16);
    h.zero_for_odd = 1;
    int right = 0;
    for (int i = 0; i < 16; ++i)
        right += anon[i * PAGE + 5] == ((i & 1) ? 0 : i + 1);
    anon[3 * PAGE] = 77; /* the zero page of a UFFDIO_ZEROPAGE is copied on write, no fault */
    pthread_join(th, NULL);
    printf("anonymous: %d of 16 pages right, %d served, %d messages, %d writes\n", right, h.served,
           h.messages, h.writes);
    struct uffdio_copy c = {.dst = (unsigned long)anon, .src = (unsigned long)h.src, .len = PAGE};
    r = try_ioctl(fd, UFFDIO_COPY, &c);
    printf("copy onto a present page: %s, copy %lld\n", r, (long long)c.copy);
    c = (struct uffdio_copy){.dst = (unsigned long)probe, .src = (unsigned long)h.src, .len = PAGE};
    r = try_ioctl(fd, UFFDIO_COPY, &c);
    printf("copy into an unregistered range: %s, copy %lld\n", r, (long long)c.copy);
    c = (struct uffdio_copy){.dst = (unsigned long)anon + 1, .src = (unsigned long)h.src, .len = PAGE};
    printf("copy to an unaligned address: %s\n", ioctl(fd, UFFDIO_COPY, &c) ? err(errno) : "OK");
    c = (struct uffdio_copy){.dst = (unsigned long)anon, .src = (unsigned long)h.src, .len = PAGE, .mode = 8};
    printf("copy with an unknown mode: %s\n", ioctl(fd, UFFDIO_COPY, &c) ? err(errno) : "OK");
    c = (struct uffdio_copy){.dst = (unsigned long)anon + 15 * PAGE, .src = (unsigned long)h.src, .len = 2 * PAGE};
    printf("copy past the end of the mapping: %s\n", ioctl(fd, UFFDIO_COPY, &c) ? err(errno) : "OK");

    /* MADV_DONTNEED drops pages: their next access is missing again; the first fault is only
     * woken, so the thread faults a second time. */
    madvise(anon, 2 * PAGE, MADV_DONTNEED);
    th = start(&h, fd, anon, PAGE, 2);
    h.wake_first = 1;
    int after = anon[0] + anon[PAGE];
    pthread_join(th, NULL);
    printf("after MADV_DONTNEED: sum %d, %d served, %d messages\n", after, h.served, h.messages);

    /* Partial success: the second page is present, so one page is copied and EAGAIN returned. */
    madvise(anon + 4 * PAGE, PAGE, MADV_DONTNEED);
    c = (struct uffdio_copy){.dst = (unsigned long)anon + 4 * PAGE, .src = (unsigned long)h.src, .len = 2 * PAGE};
    r = try_ioctl(fd, UFFDIO_COPY, &c);
    printf("copy over a present second page: %s, copy %lld\n", r, (long long)c.copy);
    struct uffdio_zeropage z = {.range = {(unsigned long)anon + 4 * PAGE, PAGE}};
    r = try_ioctl(fd, UFFDIO_ZEROPAGE, &z);
    printf("zeropage onto a present page: %s, zeropage %lld\n", r, (long long)z.zeropage);
    struct uffdio_range wr = {(unsigned long)anon + 1, PAGE};
    printf("wake unaligned: %s\n", ioctl(fd, UFFDIO_WAKE, &wr) ? err(errno) : "OK");

    /* ---- a fork's child and an mremap move do not keep the registration ---- */
    char* fresh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    do_register(fd, fresh, 4 * PAGE, NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fresh[0] == 0 && !vmflag_um(fresh) ? 0 : 1);
    int status;
    waitpid(pid, &status, 0);
    printf("fork child reads zeroes unregistered: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char* target = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char* moved = mremap(fresh, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    printf("mremap moved: %d, VmFlags um %d, reads %d\n", moved != MAP_FAILED, vmflag_um(moved), moved[PAGE]);

    /* ---- shmem: a filled page stays in the file, so after MADV_DONTNEED no fault is missing ---- */
    char* shm = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("register shared anonymous: %s\n", err(do_register(fd, shm, 4 * PAGE, &ioctls)));
    th = start(&h, fd, shm, PAGE, 4);
    right = 0;
    for (int i = 0; i < 4; ++i) {
        shm[i * PAGE + 9] = (char)(i + 1 + shm[i * PAGE + 9]); /* read, then write */
        right += shm[i * PAGE + 9] == 2 * (i + 1);
    }
    pthread_join(th, NULL);
    printf("shmem: %d of 4 pages right, %d served, %d messages\n", right, h.served, h.messages);
    madvise(shm, 4 * PAGE, MADV_DONTNEED);
    th = start(&h, fd, shm, PAGE, 1);
    int kept = shm[2 * PAGE + 9] == 6;
    struct uffdio_range whole = {(unsigned long)shm, 4 * PAGE};
    ioctl(fd, UFFDIO_UNREGISTER, &whole);
    h.expected = 0;
    pthread_join(th, NULL);
    printf("shmem after MADV_DONTNEED: kept %d, %d messages\n", kept, h.messages);
    z = (struct uffdio_zeropage){.range = {(unsigned long)shm, PAGE}};
    printf("zeropage after unregister: %s\n", ioctl(fd, UFFDIO_ZEROPAGE, &z) ? err(errno) : "OK");

    /* ---- SIGBUS instead of waiting; exact address and thread id in the message ---- */
    int busfd = uffd_open(O_CLOEXEC, UFFD_FEATURE_SIGBUS);
    char* bus = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    do_register(busfd, bus, PAGE, NULL);
    struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
    sigaction(SIGBUS, &sa, NULL);
    int got_bus = 0;
    if (sigsetjmp(jump, 1) == 0)
        (void)*(volatile char*)(bus + 123);
    else
        got_bus = 1;
    printf("SIGBUS feature: signal %d, code BUS_ADRERR %d, at the address %d\n", got_bus, bus_code == BUS_ADRERR,
           bus_addr == (unsigned long)bus + 123);
    close(busfd);
    printf("after close: VmFlags um %d, reads %d\n", vmflag_um(bus), bus[0]);

    int exact = uffd_open(O_CLOEXEC, UFFD_FEATURE_EXACT_ADDRESS | UFFD_FEATURE_THREAD_ID);
    char* ex = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    do_register(exact, ex, PAGE, NULL);
    struct toucher tt = {ex + 100, 0};
    pthread_t toucher;
    pthread_create(&toucher, NULL, touch, &tt);
    struct pollfd p = {exact, POLLIN, 0};
    poll(&p, 1, 5000);
    read(exact, &msg, sizeof msg);
    printf("exact address: %d, thread id of the faulting thread: %d\n",
           msg.arg.pagefault.address == (unsigned long)ex + 100, msg.arg.pagefault.feat.ptid == (unsigned)fault_tid);
    /* Closing the descriptor wakes the waiter; its access then finds an ordinary zero page. */
    close(exact);
    pthread_join(toucher, NULL);
    printf("closing wakes the waiter, which reads %d\n", tt.seen);

    /* ---- /dev/userfaultfd makes descriptors by ioctl ---- */
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    struct stat st;
    fstat(dev, &st);
    printf("/dev/userfaultfd: open %s, character device %d, mode %o\n", dev >= 0 ? "OK" : err(errno),
           S_ISCHR(st.st_mode), st.st_mode & 0777);
    int made = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    api = (struct uffdio_api){.api = UFFD_API};
    r = made >= 0 ? try_ioctl(made, UFFDIO_API, &api) : err(errno);
    printf("USERFAULTFD_IOC_NEW: %s, its UFFDIO_API: %s\n", made >= 0 ? "OK" : err(errno), r);
    printf("USERFAULTFD_IOC_NEW with bad flags: %s\n", ioctl(dev, USERFAULTFD_IOC_NEW, 0x100) < 0 ? err(errno) : "OK");
    printf("another ioctl: %s\n", ioctl(dev, UFFDIO_API, &api) < 0 ? err(errno) : "OK");
    close(made);
    close(dev);

    /* ---- hugetlb: 2 MiB pages, copied whole; no zero page ---- */
    FILE* nr = fopen("/proc/sys/vm/nr_hugepages", "r+");
    long before = 0;
    if (nr && fscanf(nr, "%ld", &before) == 1) {
        fclose(nr);
        nr = fopen("/proc/sys/vm/nr_hugepages", "w");
        fprintf(nr, "%ld\n", before + 2);
        fclose(nr);
    }
    char* huge = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (huge == MAP_FAILED) {
        printf("hugetlb: no pool\n");
    } else {
        printf("register hugetlb unaligned end: %s\n", err(do_register(fd, huge, HUGE + PAGE, NULL)));
        printf("register hugetlb: %s\n", err(do_register(fd, huge, 2 * HUGE, &ioctls)));
        printf("range ioctls: wake %d copy %d zeropage %d\n", !!(ioctls & (1ULL << _UFFDIO_WAKE)),
               !!(ioctls & (1ULL << _UFFDIO_COPY)), !!(ioctls & (1ULL << _UFFDIO_ZEROPAGE)));
        z = (struct uffdio_zeropage){.range = {(unsigned long)huge, HUGE}};
        printf("hugetlb zeropage: %s\n", ioctl(fd, UFFDIO_ZEROPAGE, &z) ? err(errno) : "OK");
        th = start(&h, fd, huge, HUGE, 2);
        int sum = huge[5] + huge[HUGE + 4096 * 7];
        huge[HUGE - 1] = 9;
        pthread_join(th, NULL);
        printf("hugetlb: sum %d, %d served, %d messages, last byte %d\n", sum, h.served, h.messages, huge[HUGE - 1]);
        c = (struct uffdio_copy){.dst = (unsigned long)huge, .src = (unsigned long)h.src, .len = PAGE};
        printf("hugetlb copy of 4 KiB: %s\n", ioctl(fd, UFFDIO_COPY, &c) ? err(errno) : "OK");
        munmap(huge, 2 * HUGE);
    }
    if (nr) {
        nr = fopen("/proc/sys/vm/nr_hugepages", "w");
        fprintf(nr, "%ld\n", before);
        fclose(nr);
    }
    close(fd);
    return 0;
}
