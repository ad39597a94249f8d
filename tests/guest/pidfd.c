// Process file descriptors: pidfd_open, pidfd_send_signal, waitid(P_PIDFD), poll on a pidfd,
// process_madvise on the caller and on a child, and the process-group forms of wait4 and waitid.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif

static int my_pidfd_open(pid_t pid, unsigned flags)
{
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int my_pidfd_send_signal(int fd, int sig, siginfo_t* info, unsigned flags)
{
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static long my_process_madvise(int fd, const struct iovec* iov, size_t n, int advice, unsigned flags)
{
    return syscall(SYS_process_madvise, fd, iov, n, advice, flags);
}

static const char* err(long r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    default: return strerror(errno);
    }
}

static volatile int usr1_code, usr1_value;

static void on_usr1(int sig, siginfo_t* info, void* ctx)
{
    (void)sig;
    (void)ctx;
    usr1_code = info->si_code;
    usr1_value = info->si_value.sival_int;
}

static pid_t sleeper(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static int ready(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 0);
    return n == 1 ? p.revents : 0;
}

int main(void)
{
    int self = my_pidfd_open(getpid(), 0);
    printf("pidfd_open self: %s, close-on-exec %d\n", err(self), (fcntl(self, F_GETFD) & FD_CLOEXEC) != 0);
    long r = my_pidfd_open(getpid(), 1);
    printf("pidfd_open bad flags: %s\n", err(r));
    r = my_pidfd_open(0, 0);
    printf("pidfd_open pid 0: %s\n", err(r));
    r = my_pidfd_open(4000000, 0);
    printf("pidfd_open no such pid: %s\n", err(r));
    char byte;
    r = read(self, &byte, 1);
    printf("read a pidfd: %s\n", err(r));
    printf("own pidfd polls: %d\n", ready(self));

    pid_t child = sleeper();
    int fd = my_pidfd_open(child, 0);
    printf("child pidfd polls before it exits: %d\n", ready(fd));
    r = my_pidfd_send_signal(fd, SIGTERM, NULL, 8);
    printf("pidfd_send_signal flags 8: %s\n", err(r));
    r = my_pidfd_send_signal(fd, SIGTERM, NULL, 3);
    printf("pidfd_send_signal flags 3: %s\n", err(r));
    r = my_pidfd_send_signal(1, SIGTERM, NULL, 0);
    printf("pidfd_send_signal on stdout: %s\n", err(r));
    r = my_pidfd_send_signal(fd, 0, NULL, 0);
    printf("pidfd_send_signal 0: %s\n", err(r));
    r = my_pidfd_send_signal(fd, SIGTERM, NULL, 0);
    printf("pidfd_send_signal SIGTERM: %s\n", err(r));
    siginfo_t info;
    memset(&info, 0, sizeof info);
    r = waitid(P_PIDFD, fd, &info, WEXITED | WNOWAIT);
    printf("waitid P_PIDFD WNOWAIT: %s, pid matches %d, code %s, status %d\n", err(r), info.si_pid == child,
           info.si_code == CLD_KILLED ? "CLD_KILLED" : "other", info.si_status);
    printf("zombie's pidfd polls: %d\n", ready(fd));
    r = my_pidfd_send_signal(fd, SIGTERM, NULL, 0);
    printf("pidfd_send_signal to a zombie: %s\n", err(r));
    r = kill(child, 0);
    printf("kill 0 to a zombie: %s\n", err(r));
    r = waitid(P_PIDFD, fd, &info, WEXITED);
    printf("waitid P_PIDFD: %s\n", err(r));
    printf("reaped child's pidfd polls: %d\n", ready(fd));
    r = my_pidfd_send_signal(fd, SIGTERM, NULL, 0);
    printf("pidfd_send_signal after reaping: %s\n", err(r));
    r = waitid(P_PIDFD, fd, &info, WEXITED);
    printf("waitid P_PIDFD again: %s\n", err(r));
    r = waitid(P_PIDFD, 1, &info, WEXITED);
    printf("waitid P_PIDFD on stdout: %s\n", err(r));
    close(fd);

    // A nonblocking pidfd: waitid does not wait for its child.
    child = sleeper();
    fd = my_pidfd_open(child, PIDFD_NONBLOCK);
    r = waitid(P_PIDFD, fd, &info, WEXITED);
    printf("waitid on a nonblocking pidfd of a running child: %s\n", err(r));
    my_pidfd_send_signal(fd, SIGKILL, NULL, 0);
    r = waitid(P_PIDFD, fd, &info, WEXITED);
    // The kill may still be on its way: wait for the exit, then reap.
    while (r < 0 && errno == EAGAIN) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, -1);
        r = waitid(P_PIDFD, fd, &info, WEXITED);
    }
    printf("after SIGKILL: %s, status %d\n", err(r), info.si_status);
    close(fd);

    // process_madvise: on the caller any advice, on another process only the hints.
    size_t len = 16 * 4096;
    char* mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(mem, 7, len);
    struct iovec iov = {mem, len};
    r = my_process_madvise(self, &iov, 1, MADV_DONTNEED, 0);
    printf("process_madvise self DONTNEED: %ld, memory reads %d\n", r, mem[4096]);
    r = my_process_madvise(self, &iov, 1, MADV_DONTNEED, 1);
    printf("process_madvise flags 1: %s\n", err(r));
    r = my_process_madvise(self, &iov, 1025, MADV_COLD, 0);
    printf("process_madvise 1025 vectors: %s\n", err(r));
    r = my_process_madvise(1, &iov, 1, MADV_COLD, 0);
    printf("process_madvise on stdout: %s\n", err(r));
    r = my_process_madvise(self, NULL, 0, MADV_COLD, 0);
    printf("process_madvise no vectors: %ld\n", r);
    memset(mem, 9, len);
    child = sleeper();
    fd = my_pidfd_open(child, 0);
    r = my_process_madvise(fd, &iov, 1, MADV_DONTNEED, 0);
    printf("process_madvise child DONTNEED: %s\n", err(r));
    r = my_process_madvise(fd, &iov, 1, MADV_COLD, 0);
    printf("process_madvise child COLD: %ld\n", r);
    struct iovec two[2] = {{mem, 4096}, {mem + 3, 4096}};
    r = my_process_madvise(fd, two, 2, MADV_COLD, 0);
    printf("process_madvise second range misaligned: %ld\n", r);
    my_pidfd_send_signal(fd, SIGKILL, NULL, 0);
    waitid(P_PIDFD, fd, &info, WEXITED);
    close(fd);

    // A /proc/PID directory descriptor serves pidfd_send_signal as a pidfd does, and a caller's
    // siginfo (SI_QUEUE) reaches the handler with its value.
    int dir = open("/proc/self", O_DIRECTORY | O_RDONLY);
    r = my_pidfd_send_signal(dir, 0, NULL, 0);
    printf("pidfd_send_signal on /proc/self: %s\n", err(r));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    siginfo_t queued;
    memset(&queued, 0, sizeof queued);
    queued.si_signo = SIGUSR1;
    queued.si_code = SI_QUEUE;
    queued.si_pid = getpid();
    queued.si_uid = getuid();
    queued.si_value.sival_int = 1234;
    r = my_pidfd_send_signal(dir, SIGUSR1, &queued, 0);
    printf("SI_QUEUE through it: %s, handler saw code SI_QUEUE %d, value %d\n", err(r), usr1_code == SI_QUEUE,
           usr1_value);
    close(dir);

    // Process groups: wait4(-pgid) and waitid(P_PGID).
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        _exit(3);
    }
    setpgid(child, child);
    memset(&info, 0, sizeof info);
    r = waitid(P_PGID, child, &info, WEXITED | WNOWAIT);
    printf("waitid P_PGID: %s, status %d\n", err(r), info.si_status);
    int status = 0;
    r = waitpid(-child, &status, 0);
    printf("waitpid -pgid: matches %d, status %d\n", r == child, WEXITSTATUS(status));
    r = waitpid(0, &status, WNOHANG);
    printf("waitpid 0 with no children: %s\n", err(r));
    r = waitid(P_PID, 0, &info, WEXITED);
    printf("waitid P_PID 0: %s\n", err(r));
    return 0;
}
