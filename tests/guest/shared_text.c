// A shared library's text is one copy in the page cache, mapped by every process that uses it.
// Dynamically linked (the test runs with --sysroot): the parent uses libc, then a forked child
// and a freshly executed copy of the program look at their own mapping of libc.so.6's text in
// /proc/self/smaps. Pages the parent has touched are shared with it (Shared_Clean), so each
// process's proportional share (Pss) is less than its resident size (Rss).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct text_usage {
    int found;
    long rss, pss, shared_clean;
};

static struct text_usage libc_text(void)
{
    struct text_usage u = {0, 0, 0, 0};
    FILE* f = fopen("/proc/self/smaps", "r");
    if (!f)
        return u;
    char line[512];
    int inside = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
            size_t n = strlen(line);
            if (n && line[n - 1] == '\n')
                line[--n] = 0;
            inside = strcmp(perms, "r-xp") == 0 && n >= 10 && strcmp(line + n - 10, "/libc.so.6") == 0;
            u.found |= inside;
            continue;
        }
        long kb;
        if (inside && sscanf(line, "Rss: %ld kB", &kb) == 1)
            u.rss += kb;
        else if (inside && sscanf(line, "Pss: %ld kB", &kb) == 1)
            u.pss += kb;
        else if (inside && sscanf(line, "Shared_Clean: %ld kB", &kb) == 1)
            u.shared_clean += kb;
    }
    fclose(f);
    return u;
}

static void report(const char* who)
{
    // Touch some of libc that the parent used too: formatting and string functions.
    char buf[64];
    snprintf(buf, sizeof buf, "%s %d %s", who, 42, "x");
    struct text_usage u = libc_text();
    printf("%s: libc.so.6 text mapped: %s\n", who, u.found ? "yes" : "no");
    printf("%s: resident: %s\n", who, u.rss > 0 ? "yes" : "no");
    printf("%s: shared with the parent: %s\n", who, u.shared_clean > 0 ? "yes" : "no");
    printf("%s: Pss below Rss: %s\n", who, u.pss < u.rss ? "yes" : "no");
    fflush(stdout);
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        report("executed copy");
        return 0;
    }
    struct text_usage parent = libc_text();
    printf("parent: libc.so.6 text mapped: %s\n", parent.found ? "yes" : "no");
    printf("parent: resident: %s\n", parent.rss > 0 ? "yes" : "no");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        report("forked child");
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char*)NULL);
        perror("execl");
        _exit(127);
    }
    waitpid(pid, &status, 0);
    printf("children exited: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
