/* Reading and writing cgroup files, for the memcg guest tests. */
#ifndef KIOKU_GUEST_CGROUP_FILES_H
#define KIOKU_GUEST_CGROUP_FILES_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* One write(2) of text to the file: 0, or the errno of the open or the write. */
static inline int put(const char* path, const char* text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return errno;
    int e = write(fd, text, strlen(text)) < 0 ? errno : 0;
    close(fd);
    return e;
}

/* The file's text (at most 4 KiB; empty when it cannot be read), in a buffer the next call reuses. */
static inline const char* text_of(const char* path)
{
    static char buf[4096];
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    return buf;
}

/* The number a one-value file holds ("max" reads as 0). */
static inline long number(const char* path)
{
    return atol(text_of(path));
}

/* The value of `key` in a flat-keyed file ("oom_kill 1"), or -1. */
static inline long field(const char* path, const char* key)
{
    const char* line = text_of(path);
    size_t len = strlen(key);
    while (*line) {
        if (!strncmp(line, key, len) && line[len] == ' ')
            return atol(line + len + 1);
        const char* next = strchr(line, '\n');
        line = next ? next + 1 : line + strlen(line);
    }
    return -1;
}

/* Runs a child that joins the group, writes every page of `mib` MiB of anonymous memory `rounds`
   times and reads it back; the child's wait status (exit 0 when every byte came back, 10 when it
   could not join, 11 when the mmap failed, 12 when a byte came back wrong). */
static inline int run_writer_in(const char* group, long mib, int rounds)
{
    char procs[256];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", group);
    long bytes = mib << 20;
    pid_t pid = fork();
    if (pid == 0) {
        if (put(procs, "0") != 0)
            _exit(10);
        char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(11);
        for (int round = 0; round < rounds; ++round)
            for (long i = 0; i < bytes; i += 4096)
                p[i] = (char)(i >> 12);
        for (long i = 0; i < bytes; i += 4096)
            if (p[i] != (char)(i >> 12))
                _exit(12);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

#endif
