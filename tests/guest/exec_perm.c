/* execve's permission check (generic_permission, MAY_EXEC): with CAP_DAC_OVERRIDE any x bit
 * will do, and none is EACCES; without it the owner's bit counts for the owner (even when the
 * others' is set), the group's for the group, the others' for the rest. Run as root: the child
 * drops to nobody with seteuid. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char prog[64];

/* Runs prog in a child as euid `uid` (and egid `gid`), returning what execve did: "ran" or the
 * errno's name. */
static const char* try_exec(uid_t uid, gid_t gid)
{
    int pipefd[2];
    pipe(pipefd);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        if (setegid(gid) != 0 || seteuid(uid) != 0)
            _exit(3);
        char* argv[] = {prog, "child", NULL};
        execv(prog, argv);
        int e = errno;
        write(pipefd[1], &e, sizeof e);
        _exit(2);
    }
    close(pipefd[1]);
    int e = 0;
    ssize_t n = read(pipefd[0], &e, sizeof e);
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (n != sizeof e)
        return WIFEXITED(status) && WEXITSTATUS(status) == 42 ? "ran" : "???";
    return e == EACCES ? "EACCES" : strerror(e);
}

int main(int argc, char** argv)
{
    if (argc == 2)
        return 42;
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(prog, "/tmp/exec-perm-XXXXXX");
    int out = mkstemp(prog);
    int in = open("/proc/self/exe", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, (size_t)n);
    close(in);
    close(out);
    struct {
        unsigned mode;
        uid_t owner;
        gid_t group;
        uid_t uid;
        gid_t gid;
        const char* what;
    } cases[] = {
        {0700, 0, 0, 0, 0, "root, 0700"},
        {0100, 0, 0, 0, 0, "root, 0100"},
        {0010, 65534, 65534, 0, 0, "root, 0010, owned by nobody"},
        {0600, 0, 0, 0, 0, "root, 0600 (no x bit)"},
        {0700, 0, 0, 65534, 65534, "nobody, 0700 owned by root"},
        {0701, 0, 0, 65534, 65534, "nobody, 0701 owned by root"},
        {0710, 0, 65534, 65534, 65534, "nobody in the group, 0710"},
        {0701, 0, 65534, 65534, 65534, "nobody in the group, 0701"},
        {0011, 65534, 0, 65534, 65534, "nobody the owner, 0011"},
        {0100, 65534, 0, 65534, 65534, "nobody the owner, 0100"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        chown(prog, cases[i].owner, cases[i].group);
        chmod(prog, cases[i].mode);
        printf("%s: %s\n", cases[i].what, try_exec(cases[i].uid, cases[i].gid));
    }
    unlink(prog);
    return 0;
}
