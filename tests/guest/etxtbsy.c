/* ETXTBSY: a file open for writing cannot be executed, and a running program's file cannot be
 * opened for writing (nor truncated, nor opened with O_TRUNC, which leaves it whole) until no
 * process runs it any more; reading it is always allowed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* name_of(int e)
{
    return e == 0 ? "ok" : e == ETXTBSY ? "ETXTBSY" : strerror(e);
}

static const char* try_open(const char* path, int flags)
{
    int fd = open(path, flags);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return name_of(e);
}

int main(int argc, char** argv)
{
    if (argc == 3) {
        /* The copy, running: wait for the parent's word on the pipe, then end. */
        char c;
        read(atoi(argv[2]), &c, 1);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("this program's own file for writing: %s\n", try_open("/proc/self/exe", O_WRONLY));
    char prog[] = "/tmp/etxtbsy-XXXXXX";
    int out = mkstemp(prog);
    int in = open("/proc/self/exe", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, (size_t)n);
    close(in);
    fchmod(out, 0755);
    struct stat before;
    fstat(out, &before);

    /* Open for writing (out): an execve of it fails. */
    int report[2];
    pipe(report);
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {prog, "x", "0", NULL};
        execv(prog, args);
        int e = errno;
        write(report[1], &e, sizeof e);
        _exit(1);
    }
    int e = 0;
    read(report[0], &e, sizeof e);
    waitpid(pid, NULL, 0);
    printf("execve of a file open for writing: %s\n", name_of(e));
    close(out);

    /* Running: no writer may open it. */
    int gate[2];
    pipe(gate);
    pid = fork();
    if (pid == 0) {
        close(gate[1]);
        char fd_text[16];
        snprintf(fd_text, sizeof fd_text, "%d", gate[0]);
        char* args[] = {prog, "run", fd_text, NULL};
        execv(prog, args);
        _exit(127);
    }
    close(gate[0]);
    usleep(200000);
    printf("open for writing while it runs: %s\n", try_open(prog, O_WRONLY));
    printf("open for reading and writing while it runs: %s\n", try_open(prog, O_RDWR));
    printf("open for reading while it runs: %s\n", try_open(prog, O_RDONLY));
    printf("open with O_TRUNC while it runs: %s\n", try_open(prog, O_WRONLY | O_TRUNC));
    errno = 0;
    printf("truncate while it runs: %s\n", name_of(truncate(prog, 0) == 0 ? 0 : errno));
    struct stat during;
    stat(prog, &during);
    printf("its size unchanged: %d\n", during.st_size == before.st_size);
    close(gate[1]);
    int status;
    waitpid(pid, &status, 0);
    printf("the copy exited %d\n", WEXITSTATUS(status));
    printf("open for writing once it has ended: %s\n", try_open(prog, O_WRONLY));
    unlink(prog);
    return 0;
}
