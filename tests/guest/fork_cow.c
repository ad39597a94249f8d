/* fork: the child sees the parent's memory, its writes are private (copy-on-write), wait4
 * reports its exit status, and a pipe carries bytes between them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int global = 7;

int main(void)
{
    char* anon = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    strcpy(anon, "parent data");
    strcpy(shared, "before");
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        printf("child sees: %s, global %d\n", anon, global);
        strcpy(anon, "child data");
        global = 99;
        strcpy(shared, "written by child");
        const char msg[] = "through the pipe";
        write(fds[1], msg, sizeof msg);
        close(fds[1]);
        fflush(stdout);
        _exit(5);
    }
    close(fds[1]);
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf);
    int status = 0;
    pid_t waited = waitpid(pid, &status, 0);
    printf("read %zd bytes: %s\n", n, buf);
    printf("waited for the child: %s\n", waited == pid ? "yes" : "no");
    printf("child exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
    printf("parent still sees: %s, global %d\n", anon, global);
    printf("shared mapping: %s\n", shared);
    printf("second wait: %s\n", waitpid(-1, &status, WNOHANG) < 0 ? "ECHILD" : "child");
    return 0;
}
