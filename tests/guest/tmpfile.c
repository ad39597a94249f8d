/* open(DIR, O_TMPFILE): an unnamed regular file in a directory. It can be written, read back,
 * grown, mapped and shared with a child; it has no name (st_nlink 0) and the directory lists
 * nothing new; the errors of a read-only open, of a file that is no directory and of a missing
 * directory. Prints only facts that do not depend on the machine. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int entries(const char* dir)
{
    DIR* d = opendir(dir);
    int n = 0;
    while (d && readdir(d))
        ++n;
    if (d)
        closedir(d);
    return n;
}

static const char* err(int fd)
{
    return fd >= 0            ? "ok"
           : errno == EINVAL  ? "EINVAL"
           : errno == ENOTDIR ? "ENOTDIR"
           : errno == ENOENT  ? "ENOENT"
                              : strerror(errno);
}

int main(void)
{
    mkdir("/tmpfile-dir", 0755);
    int before = entries("/tmpfile-dir");
    int fd = open("/tmpfile-dir", O_TMPFILE | O_RDWR, 0600);
    printf("open O_TMPFILE|O_RDWR: %s\n", err(fd));
    struct stat st;
    fstat(fd, &st);
    printf("regular: %d, links: %ld, mode: %o\n", S_ISREG(st.st_mode), (long)st.st_nlink, st.st_mode & 0777);
    printf("write: %zd\n", write(fd, "hello, unnamed file", 19));
    char buf[32] = {0};
    printf("pread: %zd %s\n", pread(fd, buf, 19, 0), buf);
    printf("ftruncate 1M: %d\n", ftruncate(fd, 1 << 20));
    char* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap: %d\n", p != MAP_FAILED);
    pid_t child = fork();
    if (child == 0) {
        strcpy(p + 4096, "written by the child");
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    memset(buf, 0, sizeof buf);
    printf("pread what the child wrote: %zd %s\n", pread(fd, buf, 20, 4096), buf);
    fstat(fd, &st);
    printf("size: %lld\n", (long long)st.st_size);
    printf("directory unchanged: %d\n", entries("/tmpfile-dir") == before);
    munmap(p, 1 << 20);
    close(fd);
    printf("O_TMPFILE|O_RDONLY: %s\n", err(open("/tmpfile-dir", O_TMPFILE | O_RDONLY, 0600)));
    int file = open("/tmpfile-dir/plain", O_CREAT | O_WRONLY, 0600);
    close(file);
    printf("O_TMPFILE on a file: %s\n", err(open("/tmpfile-dir/plain", O_TMPFILE | O_RDWR, 0600)));
    printf("O_TMPFILE in a missing directory: %s\n",
           err(open("/tmpfile-dir/none", O_TMPFILE | O_RDWR, 0600)));
    unlink("/tmpfile-dir/plain");
    printf("rmdir: %d\n", rmdir("/tmpfile-dir"));
    return 0;
}
