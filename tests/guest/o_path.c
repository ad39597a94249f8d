/* O_PATH descriptors: a name alone. fstat, fstatat with AT_EMPTY_PATH, the *at calls through it
 * as a directory, fcntl, dup and /proc/self/fd's reopening take it; read, write, mmap, ioctl,
 * fchmod, fchown, ftruncate, fsync and getdents refuse it (EBADF). With O_NOFOLLOW it names a
 * link itself, which readlinkat reads with an empty path. Only O_CLOEXEC, O_DIRECTORY and
 * O_NOFOLLOW count with it. fchdir takes one of a directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

static void show(const char* what, long r)
{
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

int main(void)
{
    mkdir("o_path.dir", 0755);
    int w = open("o_path.dir/file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(w, "contents", 8);
    close(w);
    symlink("file", "o_path.dir/link");

    int f = open("o_path.dir/file", O_PATH | O_RDWR | O_CREAT | O_TRUNC, 0600);
    show("O_PATH open", f);
    struct stat st;
    show("fstat", fstat(f, &st));
    printf("regular %d, size %ld\n", S_ISREG(st.st_mode), (long)st.st_size);
    show("fstatat AT_EMPTY_PATH", fstatat(f, "", &st, AT_EMPTY_PATH));
    char buf[32] = {0};
    show("read", read(f, buf, sizeof buf));
    show("write", write(f, "x", 1));
    show("pread", pread(f, buf, 4, 0));
    show("mmap", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, f, 0) == -1 ? -1 : 0);
    int n;
    show("ioctl FIONREAD", ioctl(f, FIONREAD, &n));
    show("fchmod", fchmod(f, 0600));
    show("fchown", fchown(f, 0, 0));
    show("ftruncate", ftruncate(f, 0));
    show("fsync", fsync(f));
    show("lseek", lseek(f, 0, SEEK_SET));
    int fl = fcntl(f, F_GETFL);
    printf("F_GETFL has O_PATH %d, access mode %d\n", (fl & O_PATH) != 0, fl & O_ACCMODE);
    int d = dup(f);
    show("dup", d);
    close(d);
    struct statfs sf;
    show("fstatfs", fstatfs(f, &sf));
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", f);
    int again = open(self, O_RDONLY);
    show("reopen through /proc/self/fd", again);
    memset(buf, 0, sizeof buf);
    read(again, buf, sizeof buf - 1);
    printf("it reads '%s'\n", buf);
    close(again);
    close(f);

    int dir = open("o_path.dir", O_PATH | O_DIRECTORY);
    show("O_PATH directory", dir);
    show("fstatat through it", fstatat(dir, "file", &st, 0));
    int at = openat(dir, "file", O_RDONLY);
    show("openat through it", at);
    close(at);
    show("getdents", syscall(SYS_getdents64, dir, buf, sizeof buf));
    show("fchdir through it", fchdir(dir));
    show("then a relative stat", stat("file", &st));
    show("chdir back", chdir(".."));
    show("fchdir to a file", fchdir(at = open("o_path.dir/file", O_RDONLY)));
    close(at);
    show("fchdir to a closed fd", fchdir(99));
    show("O_PATH|O_DIRECTORY of a file", open("o_path.dir/file", O_PATH | O_DIRECTORY));
    show("O_PATH of nothing", open("o_path.dir/none", O_PATH));

    int l = open("o_path.dir/link", O_PATH | O_NOFOLLOW);
    show("O_PATH|O_NOFOLLOW of a link", l);
    fstat(l, &st);
    printf("a link %d\n", S_ISLNK(st.st_mode));
    memset(buf, 0, sizeof buf);
    ssize_t k = readlinkat(l, "", buf, sizeof buf - 1);
    printf("readlinkat empty path: %zd '%s'\n", k, k > 0 ? buf : "");
    int lf = open("o_path.dir/link", O_PATH);
    fstat(lf, &st);
    printf("without O_NOFOLLOW, regular %d\n", S_ISREG(st.st_mode));
    errno = 0;
    k = readlinkat(lf, "", buf, sizeof buf - 1);
    show("readlinkat empty path of the file", k);
    show("open of a link, O_NOFOLLOW alone", open("o_path.dir/link", O_RDONLY | O_NOFOLLOW));
    close(l);
    close(lf);
    close(dir);
    unlink("o_path.dir/link");
    unlink("o_path.dir/file");
    rmdir("o_path.dir");
    return 0;
}
