/* remap_file_pages, as Linux emulates it since 4.0: a page of a shared file mapping shows another
 * page of the file, across several VMAs of one file; EINVAL for a protection, a private or
 * anonymous mapping, a range past the mapping; and a System V segment marked for removal: the
 * remap drops its last attach, the segment goes, the call fails and leaves the range unmapped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static const char* err_name(int e)
{
    return e == EINVAL ? "EINVAL" : e == ENOMEM ? "ENOMEM" : e == EIDRM ? "EIDRM" : strerror(e);
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (long)(call);                                                                           \
        int e_ = errno;                                                                                   \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? err_name(e_) : "");                                     \
    } while (0)

static int mapped(void* p)
{
    unsigned char v;
    return mincore(p, 1, &v) == 0;
}

int main(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    int fd = memfd_create("pages", 0);
    ftruncate(fd, 8 * ps);
    char* p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    for (int i = 0; i < 4; ++i)
        p[i * ps] = (char)('a' + i);
    SHOW("page 0 shows file page 3", remap_file_pages(p, ps, 0, 3, 0));
    printf("page 0 now holds '%c', page 3 still '%c'\n", p[0], p[3 * ps]);
    p[0] = 'X';
    printf("a write through page 0 reaches page 3: '%c'\n", p[3 * ps]);
    SHOW("pages 1-2 show file pages 6-7", remap_file_pages(p + ps, 2 * ps, 0, 6, 0));
    p[ps] = '6';
    char back;
    pread(fd, &back, 1, 6 * ps);
    printf("the file's page 6 holds '%c'\n", back);
    SHOW("a range across the remapped VMAs", remap_file_pages(p, 4 * ps, 0, 0, 0));
    printf("in order again: %c%c%c%c\n", p[0], p[ps], p[2 * ps], p[3 * ps]);
    SHOW("unaligned start and size are rounded down", remap_file_pages(p + 5, ps + 7, 0, 1, 0));
    printf("page 0 holds '%c'\n", p[0]);
    SHOW("a protection", remap_file_pages(p, ps, PROT_READ, 1, 0));
    SHOW("an empty range", remap_file_pages(p, 0, 0, 1, 0));
    SHOW("past the mapping", remap_file_pages(p, 8 * ps, 0, 0, 0));
    SHOW("an offset that wraps", remap_file_pages(p, 2 * ps, 0, ~0ul, 0));
    char* priv = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    SHOW("a private file mapping", remap_file_pages(priv, ps, 0, 0, 0));
    char* anon = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SHOW("private anonymous memory", remap_file_pages(anon, ps, 0, 0, 0));
    SHOW("nothing mapped", remap_file_pages((void*)(4 * ps), ps, 0, 0, 0));

    int id = shmget(IPC_PRIVATE, 2 * ps, 0600 | IPC_CREAT);
    char* s = shmat(id, NULL, 0);
    s[0] = 's';
    s[ps] = 't';
    SHOW("a System V segment", remap_file_pages(s, ps, 0, 1, 0));
    printf("page 0 of the segment holds '%c'\n", s[0]);
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    printf("attaches: %lu\n", (unsigned long)ds.shm_nattch);
    SHOW("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL));
    SHOW("remap of the removed segment's whole attach", remap_file_pages(s, 2 * ps, 0, 0, 0));
    printf("the range is mapped: %d %d\n", mapped(s), mapped(s + ps));
    SHOW("the segment", shmctl(id, IPC_STAT, &ds));
    return 0;
}
