/* vfork, posix_spawn and CLONE_PARENT as programs use them. vfork's child runs in its parent's
 * memory while the parent waits: what the child stores, the parent sees, and the parent resumes
 * only when the child has exited. glibc's posix_spawn is clone(CLONE_VM | CLONE_VFORK): its child
 * reports a failed exec through the shared memory, so spawning a missing program fails with
 * ENOENT; spawning a real one runs it. A child made with CLONE_PARENT is its caller's sibling:
 * the caller's parent waits for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int clone_child(void* arg)
{
    (void)arg;
    return 5;
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "spawned") == 0) {
        printf("spawned child runs with argument %s\n", argv[2]);
        return 7;
    }
    setvbuf(stdout, NULL, _IONBF, 0);

    volatile int shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        shared = 42;
        write(1, "vfork child runs first\n", 23);
        _exit(3);
    }
    printf("vfork parent resumes after the child; sees the child's store: %d\n", shared);
    int status;
    waitpid(pid, &status, 0);
    printf("vfork child exited %d\n", WEXITSTATUS(status));

    char* missing[] = {"/no/such/program", NULL};
    int r = posix_spawn(&pid, missing[0], NULL, NULL, missing, environ);
    printf("posix_spawn of a missing program: %s\n", r == ENOENT ? "ENOENT" : r == 0 ? "success" : "other");

    char* args[] = {"self", "spawned", "x", NULL};
    r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ);
    if (r == 0) {
        waitpid(pid, &status, 0);
        printf("posix_spawn of itself: child exited %d\n", WEXITSTATUS(status));
    } else {
        printf("posix_spawn of itself failed: %s\n", strerror(r));
    }

    pid_t middle = fork();
    if (middle == 0) {
        static char stack[64 * 1024];
        pid_t sibling = clone(clone_child, stack + sizeof stack, CLONE_PARENT | SIGCHLD, NULL);
        _exit(sibling > 0 ? 0 : 1);
    }
    int seen = 0, sibling_status = -1;
    for (int i = 0; i < 2; ++i) {
        pid_t who = wait(&status);
        if (who < 0)
            break;
        ++seen;
        if (who != middle)
            sibling_status = WEXITSTATUS(status);
    }
    printf("CLONE_PARENT: the parent reaped %d children; the sibling exited %d\n", seen, sibling_status);
    return 0;
}
