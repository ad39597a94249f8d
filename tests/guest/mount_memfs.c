// mount(2) and umount2(2) of hugetlbfs and tmpfs on a directory: files made there live in memory
// (huge pages from the pool, shmem pages), /proc/mounts and statfs show the mount, a mount in use
// is busy unless detached, and the directory is plain again afterwards. Needs root; natively it
// is run inside `unshare -m` so that the host's mounts are left alone.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define HUGE (2UL << 20)
#define HUGETLBFS_MAGIC 0x958458f6
#define TMPFS_MAGIC 0x01021994

static const char* err(int r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case ENODEV: return "ENODEV";
    case EPERM: return "EPERM";
    default: return strerror(errno);
    }
}

static int mounted(const char* target)
{
    FILE* f = fopen("/proc/mounts", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        char src[128], dir[256], type[64], opts[256];
        if (sscanf(line, "%127s %255s %63s %255s", src, dir, type, opts) == 4 && strcmp(dir, target) == 0) {
            printf("  /proc/mounts: %s %s %s\n", src, type, opts);
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found;
}

static void set_pool(const char* v)
{
    int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
    if (fd < 0 || write(fd, v, strlen(v)) < 0)
        perror("nr_hugepages");
    close(fd);
}

static void list(const char* dir)
{
    DIR* d = opendir(dir);
    struct dirent* e;
    printf("  %s holds:", dir);
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            printf(" %s", e->d_name);
    printf("\n");
    if (d)
        closedir(d);
}

int main(void)
{
    const char* h = "/tmp/kioku-mount-huge";
    const char* t = "/tmp/kioku-mount-tmp";
    mkdir(h, 0755);
    mkdir(t, 0755);
    char old[32] = "0";
    int pool = open("/proc/sys/vm/nr_hugepages", O_RDONLY);
    ssize_t n = read(pool, old, sizeof old - 1);
    old[n > 0 ? n : 1] = 0;
    close(pool);
    set_pool("2");

    int r = mount("none", h, "hugetlbfs", 0, NULL);
    printf("mount hugetlbfs: %s\n", err(r));
    printf("listed: %d\n", mounted(h));
    struct statfs sf;
    statfs(h, &sf);
    printf("statfs: hugetlbfs %d, block 2 MiB %d\n", sf.f_type == HUGETLBFS_MAGIC, sf.f_bsize == (long)HUGE);
    char path[256];
    snprintf(path, sizeof path, "%s/file", h);
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    printf("create a file: %s\n", err(fd));
    char* p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("map it: %s\n", p == MAP_FAILED ? err(-1) : "ok");
    if (p != MAP_FAILED)
        memset(p, 'h', HUGE);
    struct stat st;
    fstat(fd, &st);
    printf("its size after the fault: %lld\n", (long long)st.st_size);
    list(h);
    r = umount2(h, 0);
    printf("umount2 while mapped: %s\n", err(r));
    munmap(p, HUGE);
    close(fd);
    r = mkdir("/tmp/kioku-mount-huge/sub", 0755);
    r = rmdir(h);
    printf("rmdir of the mount point: %s\n", err(r));
    unlink(path);
    r = umount2(h, 0);
    printf("umount2: %s\n", err(r));
    printf("listed after: %d\n", mounted(h));
    r = umount2(h, 0);
    printf("umount2 again: %s\n", err(r));

    r = mount("tmpfs", t, "tmpfs", MS_NOSUID, "mode=700");
    printf("mount tmpfs mode=700: %s\n", err(r));
    mounted(t);
    stat(t, &st);
    printf("directory mode: %o\n", st.st_mode & 07777);
    statfs(t, &sf);
    printf("statfs: tmpfs %d\n", sf.f_type == TMPFS_MAGIC);
    snprintf(path, sizeof path, "%s/a", t);
    fd = open(path, O_CREAT | O_RDWR, 0644);
    r = write(fd, "memory", 6);
    char moved[256];
    snprintf(moved, sizeof moved, "%s/b", t);
    r = rename(path, moved);
    printf("rename inside: %s\n", err(r));
    list(t);
    r = umount2(t, 0);
    printf("umount2 with a file open: %s\n", err(r));
    r = umount2(t, MNT_DETACH);
    printf("umount2 MNT_DETACH: %s\n", err(r));
    char buf[8] = {0};
    r = (int)pread(fd, buf, 6, 0);
    printf("the open file still reads: %s\n", buf);
    close(fd);
    printf("listed after: %d\n", mounted(t));
    r = access(moved, F_OK);
    printf("the file is gone from the directory: %d\n", r < 0 && errno == ENOENT);

    r = mount("none", "/tmp/kioku-mount-none", "tmpfs", 0, NULL);
    printf("mount on a missing directory: %s\n", err(r));
    r = mount("none", "/proc/self/status", "tmpfs", 0, NULL);
    printf("mount on a file: %s\n", err(r));
    r = mount("none", t, "nosuchfs", 0, NULL);
    printf("mount of an unknown type: %s\n", err(r));
    r = mount("none", h, "hugetlbfs", 0, "pagesize=3M");
    printf("hugetlbfs pagesize=3M: %s\n", err(r));
    r = mount("none", t, "tmpfs", 0, "nosuchoption=1");
    printf("tmpfs with an unknown option: %s\n", err(r));
    r = umount2(t, 0);
    printf("umount2 of a plain directory: %s\n", err(r));
    r = umount2(t, 0x100);
    printf("umount2 bad flags: %s\n", err(r));
    r = umount2("/tmp/kioku-mount-none", 0);
    printf("umount2 of a missing path: %s\n", err(r));
    printf("rmdir afterwards: %d %d\n", rmdir(h), rmdir(t));
    set_pool(old);
    return 0;
}
