/* Job control: SIGSTOP stops a process (state T in /proc/PID/stat) until SIGCONT; the parent
 * learns both through waitpid(WUNTRACED / WCONTINUED), waitid(WSTOPPED / WCONTINUED) and
 * SIGCHLD (CLD_STOPPED, CLD_CONTINUED; none with SA_NOCLDSTOP); a process stops itself with
 * raise(SIGSTOP), and one stopped while it sleeps stops too; SIGKILL ends a stopped process. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int chld_code[8];
static volatile int chld_count;

static void on_chld(int sig, siginfo_t* si, void* ctx)
{
    (void)sig;
    (void)ctx;
    if (chld_count < 8)
        chld_code[chld_count++] = si->si_code;
}

static char state_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char* p = strrchr(buf, ')');
    return p ? p[2] : '?';
}

static char wait_state(pid_t pid, char want)
{
    for (int i = 0; i < 1000; ++i) {
        char s = state_of(pid);
        if (s == want)
            return s;
        usleep(1000);
    }
    return state_of(pid);
}

static const char* code_name(int code)
{
    return code == CLD_STOPPED ? "CLD_STOPPED" : code == CLD_CONTINUED ? "CLD_CONTINUED" : code == CLD_EXITED ? "CLD_EXITED" : code == CLD_KILLED ? "CLD_KILLED" : "?";
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    /* A child that stops itself. */
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(3);
    }
    int status = 0;
    pid_t r = waitpid(child, &status, WUNTRACED);
    printf("waitpid WUNTRACED: %s, stopped %d by %d\n", r == child ? "the child" : "?", WIFSTOPPED(status),
           WSTOPSIG(status));
    printf("its state: %c\n", wait_state(child, 'T'));
    printf("a second WUNTRACED|WNOHANG reports nothing more: %d\n", (int)waitpid(child, &status, WUNTRACED | WNOHANG));
    kill(child, SIGCONT);
    r = waitpid(child, &status, WCONTINUED);
    printf("waitpid WCONTINUED: %s, continued %d\n", r == child ? "the child" : "?", WIFCONTINUED(status));
    r = waitpid(child, &status, 0);
    printf("then it exits: %d\n", WEXITSTATUS(status));
    /* SIGCHLD does not queue: the exit's may merge with a continuation's still pending. */
    int stopped_seen = 0, continued_seen = 0;
    for (int i = 0; i < chld_count; ++i) {
        stopped_seen |= chld_code[i] == CLD_STOPPED;
        continued_seen |= chld_code[i] == CLD_CONTINUED;
    }
    printf("SIGCHLD told of the stop: %d, of the continuation: %d, first %s\n", stopped_seen, continued_seen,
           code_name(chld_code[0]));

    /* A sleeping child stopped from outside, seen through waitid, then killed while stopped. */
    chld_count = 0;
    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    printf("sleeping: %c\n", wait_state(child, 'S'));
    kill(child, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, child, &si, WSTOPPED);
    printf("waitid WSTOPPED: %s, status %d\n", code_name(si.si_code), si.si_status);
    printf("stopped: %c\n", wait_state(child, 'T'));
    kill(child, SIGCONT);
    memset(&si, 0, sizeof si);
    waitid(P_PID, child, &si, WCONTINUED);
    printf("waitid WCONTINUED: %s, status %d\n", code_name(si.si_code), si.si_status);
    printf("sleeping again: %c\n", wait_state(child, 'S'));
    kill(child, SIGSTOP);
    waitpid(child, &status, WUNTRACED);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    printf("killed while stopped: %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));

    /* SA_NOCLDSTOP: no SIGCHLD for stops and continuations. */
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    chld_count = 0;
    child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(0);
    }
    waitpid(child, &status, WUNTRACED);
    kill(child, SIGCONT);
    waitpid(child, &status, 0);
    printf("with SA_NOCLDSTOP, SIGCHLD codes: %d:", chld_count);
    for (int i = 0; i < chld_count; ++i)
        printf(" %s", code_name(chld_code[i]));
    printf("\n");

    /* A handler for SIGTSTP runs instead of stopping. */
    child = fork();
    if (child == 0) {
        signal(SIGTSTP, SIG_IGN);
        raise(SIGTSTP);
        _exit(9);
    }
    waitpid(child, &status, WUNTRACED);
    printf("ignored SIGTSTP: exited %d, status %d\n", WIFEXITED(status), WEXITSTATUS(status));
    return 0;
}
