/* execve's limits on the argument and environment strings (Linux: bprm_stack_limits and
 * copy_strings): their bytes and pointers must fit a quarter of RLIMIT_STACK, capped at 6 MiB
 * and never below 128 KiB, and no one string may pass 32 pages; E2BIG otherwise, before the old
 * image is given up. A child re-executes this program, which prints its argc and the total size.
 * An empty argv reaches the program as one empty argument, as Linux has given it since 5.18. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char* big(size_t n)
{
    char* s = malloc(n + 1);
    memset(s, 'a', n);
    s[n] = 0;
    return s;
}

/* Runs this program again with `count` arguments of `len` bytes (after argv[0]) in a child with
 * the given stack limit; reports what execve did. */
static void try_exec(const char* what, size_t count, size_t len, rlim_t stack)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {stack, RLIM_INFINITY};
        setrlimit(RLIMIT_STACK, &rl);
        char** argv = calloc(count + 3, sizeof(char*));
        argv[0] = "exec_limits";
        argv[1] = "child";
        char* s = big(len);
        for (size_t i = 0; i < count; ++i)
            argv[i + 2] = s;
        char* envp[] = {NULL};
        execve("/proc/self/exe", argv, envp);
        printf("%s: %s\n", what, errno == E2BIG ? "E2BIG" : strerror(errno));
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
}

int main(int argc, char** argv)
{
    if (getenv("EXEC_LIMITS_EMPTY_ARGV")) {
        printf("  ran with argc %d, argv[0] \"%s\"\n", argc, argc ? argv[0] : "(none)");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "child")) {
        size_t total = 0;
        for (int i = 0; i < argc; ++i)
            total += strlen(argv[i]) + 1;
        printf("  ran with argc %d, %zu bytes of strings\n", argc, total);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    rlim_t eight = 8 << 20;
    try_exec("100 args of 1 KiB, 8 MiB stack", 100, 1024, eight);
    try_exec("one arg of 128 KiB - 1 with its NUL", 1, (128 << 10) - 1, eight);
    try_exec("one arg of 128 KiB with its NUL + 1", 1, 128 << 10, eight);
    try_exec("1400 args of 4 KiB (5.6 MiB), unlimited stack", 1400, 4096, RLIM_INFINITY);
    try_exec("1600 args of 4 KiB (6.4 MiB), unlimited stack", 1600, 4096, RLIM_INFINITY);
    try_exec("60 args of 4 KiB (240 KiB), 1 MiB stack", 60, 4096, 1 << 20);
    try_exec("70 args of 4 KiB (280 KiB), 1 MiB stack", 70, 4096, 1 << 20);
    try_exec("30 args of 4 KiB (120 KiB), 64 KiB stack", 30, 4096, 64 << 10);
    try_exec("34 args of 4 KiB (136 KiB), 64 KiB stack", 34, 4096, 64 << 10);
    pid_t pid = fork();
    if (pid == 0) {
        char* none[] = {NULL};
        char* env[] = {"EXEC_LIMITS_EMPTY_ARGV=1", NULL};
        execve("/proc/self/exe", none, env);
        _exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("an empty argv: exit %d\n", WEXITSTATUS(status));
    try_exec("20000 empty args", 20000, 0, eight);
    try_exec("200000 empty args", 200000, 0, eight);
    return 0;
}
