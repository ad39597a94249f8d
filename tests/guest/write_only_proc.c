// Write-only files of /proc: vm.compact_memory (a sysctl of mode 0200, which even root cannot
// open for reading) and /proc/self/clear_refs (mode 0200, which root opens but cannot read).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char* err(long r)
{
    return r >= 0 ? "ok" : errno == EACCES ? "EACCES" : errno == EINVAL ? "EINVAL" : strerror(errno);
}

int main(void)
{
    int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);
    printf("compact_memory open for writing: %s\n", err(fd));
    long r = write(fd, "1", 1);
    printf("write 1: %ld\n", r);
    close(fd);
    fd = open("/proc/sys/vm/compact_memory", O_RDONLY);
    printf("compact_memory open for reading: %s\n", err(fd));
    fd = open("/proc/self/clear_refs", O_WRONLY);
    printf("clear_refs open for writing: %s\n", err(fd));
    r = write(fd, "1", 1);
    printf("write 1: %ld\n", r);
    close(fd);
    fd = open("/proc/self/clear_refs", O_RDONLY);
    printf("clear_refs open for reading: %s\n", err(fd));
    char c;
    r = fd >= 0 ? read(fd, &c, 1) : -1;
    printf("read: %s\n", err(r));
    return 0;
}
