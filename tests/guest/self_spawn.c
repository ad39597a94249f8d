/* A program that starts itself again through argv[0], as many tools do: argv[0] must name a file
 * the guest can execute (kioku runs a program copied into the root as /bin/NAME). */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("the child runs\n");
        return 5;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("argv[0] can be executed: %s\n", access(argv[0], X_OK) == 0 ? "yes" : "no");
    char* args[] = {argv[0], "child", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, argv[0], NULL, NULL, args, environ);
    int status = 0;
    if (r == 0)
        waitpid(pid, &status, 0);
    printf("posix_spawn of argv[0]: %s, exit status %d\n", r == 0 ? "ok" : strerror(r), WEXITSTATUS(status));
    return 0;
}
