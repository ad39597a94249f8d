/* execve replaces the image (same pid, close-on-exec descriptors closed); the parent waits. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "again") == 0) {
        printf("exec'd image: argv[2]=%s, fd 5 %s, fd 6 %s\n", argv[2], fcntl(5, F_GETFD) < 0 ? "closed" : "open",
               fcntl(6, F_GETFD) < 0 ? "closed" : "open");
        return 3;
    }
    dup3(1, 5, O_CLOEXEC);
    dup2(1, 6);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {argv[0], "again", "hello", NULL};
        execve("/proc/self/exe", args, environ);
        perror("execve");
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child exit status %d\n", WEXITSTATUS(status));
    return 0;
}
