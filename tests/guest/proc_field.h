/* A "Name: value" line of a /proc file (meminfo, status), read as a guest program reads it. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The number on the line `name: ...` of the file (kB for meminfo's sizes), or -1. */
static inline long proc_field(const char* path, const char* name)
{
    FILE* f = fopen(path, "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}
