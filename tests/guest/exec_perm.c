/* execve's permission check (generic_permission, MAY_EXEC): with CAP_DAC_OVERRIDE any x bit
 * will do, and none is EACCES; without it the group's bit counts for the file's group (even when
 * the others' is set), the others' for the rest. Run as root: the child drops to nobody with
 * setegid and seteuid. */
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
    /* Owners are left as they are (a chown would need the host's root): the file is the
     * running user's, never nobody's; its group is taken for the group cases. */
    struct stat st;
    stat(prog, &st);
    struct {
        unsigned mode;
        uid_t uid;
        gid_t gid;
        const char* what;
    } cases[] = {
        {0700, 0, 0, "root, 0700"},
        {0100, 0, 0, "root, 0100"},
        {0010, 0, 0, "root, 0010"},
        {0600, 0, 0, "root, 0600 (no x bit)"},
        {0700, 65534, 65534, "nobody, 0700"},
        {0701, 65534, 65534, "nobody, 0701"},
        {0710, 65534, st.st_gid, "nobody in the file's group, 0710"},
        {0701, 65534, st.st_gid, "nobody in the file's group, 0701"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        chmod(prog, cases[i].mode);
        printf("%s: %s\n", cases[i].what, try_exec(cases[i].uid, cases[i].gid));
    }
    unlink(prog);
    return 0;
}
