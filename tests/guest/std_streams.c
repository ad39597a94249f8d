/* Copies /dev/stdin to /dev/stdout, opened by those names, and says what /dev/stdin is: whatever
 * the host gave the run as standard input and output (a pipe, a file), the names open it again.
 * std_streams.sh gives it each. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    int in = open("/dev/stdin", O_RDONLY);
    int out = open("/dev/stdout", O_WRONLY | O_APPEND);
    if (in < 0 || out < 0) {
        printf("open /dev/stdin: %d, /dev/stdout: %d\n", in, out);
        return 1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, (size_t)n);
    struct stat st;
    stat("/dev/stdin", &st);
    dprintf(out, "/dev/stdin is a %s\n",
            S_ISFIFO(st.st_mode)  ? "pipe"
            : S_ISREG(st.st_mode) ? "file"
            : S_ISCHR(st.st_mode) ? "character device"
                                  : "other");
    return n < 0;
}
