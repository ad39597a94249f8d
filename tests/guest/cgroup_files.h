/* Reading and writing cgroup files, for the memcg guest tests. */
#ifndef KIOKU_GUEST_CGROUP_FILES_H
#define KIOKU_GUEST_CGROUP_FILES_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

#endif
