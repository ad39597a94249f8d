/* Files' times follow the machine's own clock: a file made, written, truncated, re-moded or
 * re-linked takes the time of the change (the times a program reads with clock_gettime), and a
 * directory does when an entry in it is made or removed; times the program sets are kept; reading
 * moves no modification time. Every file's device is its directory's, and readdir's inode
 * numbers are stat's. Printed as relations to the clock, so that Linux and kioku print the same.
 * Access times are shown only where the mount's atime rule (relatime, noatime) cannot move them. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char* recent(struct timespec t)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long d = (long)(now.tv_sec - t.tv_sec);
    return d >= -1 && d <= 2 ? "recent" : "old";
}

static void show(const char* what, const char* path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: missing\n", what);
        return;
    }
    printf("%s: atime %s, mtime %s, ctime %s\n", what, recent(st.st_atim), recent(st.st_mtim),
           recent(st.st_ctim));
}

static void age(const char* path) /* both times far in the past */
{
    struct timespec old[2] = {{1000, 0}, {3000, 0}};
    utimensat(AT_FDCWD, path, old, 0);
}

int main(void)
{
    mkdir("ft.d", 0755);
    age("ft.d");
    int fd = open("ft.d/f", O_CREAT | O_RDWR, 0644);
    struct stat st;
    fstat(fd, &st);
    printf("made: all three times equal %d\n",
           st.st_atim.tv_sec == st.st_mtim.tv_sec && st.st_mtim.tv_sec == st.st_ctim.tv_sec &&
               st.st_atim.tv_nsec == st.st_mtim.tv_nsec && st.st_mtim.tv_nsec == st.st_ctim.tv_nsec);
    show("made", "ft.d/f");
    show("its directory", "ft.d");

    age("ft.d/f");
    show("times set", "ft.d/f");
    stat("ft.d/f", &st);
    printf("set: atime %ld, mtime %ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
    write(fd, "bytes", 5);
    show("written", "ft.d/f");

    age("ft.d/f");
    char buf[8];
    pread(fd, buf, sizeof buf, 0);
    stat("ft.d/f", &st);
    printf("read: mtime %ld\n", (long)st.st_mtim.tv_sec);

    age("ft.d/f");
    ftruncate(fd, 8192);
    show("truncated", "ft.d/f");

    age("ft.d/f");
    chmod("ft.d/f", 0600);
    show("chmod", "ft.d/f");

    age("ft.d/f");
    char* p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[4096] = 'x';
    msync(p, 8192, MS_SYNC);
    munmap(p, 8192);
    stat("ft.d/f", &st); /* mmap is a read (file_accessed): its atime is the mount's (relatime, noatime) */
    printf("stored through a mapping: mtime %s, ctime %s\n", recent(st.st_mtim), recent(st.st_ctim));

    struct timespec some[2] = {{5000, 7}, {6000, 9}};
    futimens(fd, some);
    fstat(fd, &st);
    printf("futimens: atime %ld.%ld, mtime %ld.%ld, ctime %s\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, recent(st.st_ctim));
    futimens(fd, NULL);
    show("futimens now", "ft.d/f");
    struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    age("ft.d/f");
    utimensat(AT_FDCWD, "ft.d/f", omit, 0);
    show("mtime now, atime kept", "ft.d/f");
    close(fd);

    age("ft.d/f");
    close(open("ft.d/f", O_WRONLY | O_TRUNC));
    show("O_TRUNC", "ft.d/f");

    age("ft.d/f");
    age("ft.d");
    link("ft.d/f", "ft.d/g");
    show("linked", "ft.d/f");
    show("its directory", "ft.d");
    age("ft.d");
    rename("ft.d/g", "ft.d/h");
    show("after a rename, the directory", "ft.d");
    age("ft.d");
    unlink("ft.d/h");
    show("after an unlink, the directory", "ft.d");
    age("ft.d");
    mkdir("ft.d/sub", 0755);
    show("after a mkdir, the directory", "ft.d");
    age("ft.d");
    symlink("f", "ft.d/l");
    show("after a symlink, the directory", "ft.d");

    struct stat dir;
    stat("ft.d", &dir);
    DIR* d = opendir("ft.d");
    struct dirent* e;
    int entries = 0, same_ino = 0, same_dev = 0;
    while ((e = readdir(d))) {
        char path[300];
        snprintf(path, sizeof path, "ft.d/%s", e->d_name);
        lstat(path, &st);
        entries++;
        same_ino += st.st_ino == e->d_ino;
        same_dev += st.st_dev == dir.st_dev;
    }
    closedir(d);
    printf("%d entries: %d with stat's inode, %d on the directory's device\n", entries, same_ino, same_dev);
    unlink("ft.d/l");
    rmdir("ft.d/sub");
    unlink("ft.d/f");
    rmdir("ft.d");
    return 0;
}
