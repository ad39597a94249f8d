/* AF_UNIX socket pairs: stream, datagram and seqpacket between a parent and its child, message
 * boundaries, MSG_PEEK and MSG_TRUNC, shutdown, EOF and EPIPE when the peer is gone, poll,
 * passing an open file (a memfd mapped by the receiver) with SCM_RIGHTS, and the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err_name(int e)
{
    switch (e) {
    case EPIPE: return "EPIPE";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOTSOCK: return "ENOTSOCK";
    case EBADF: return "EBADF";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    default: return strerror(e);
    }
}

#define SHOW(what, call)                                                                                  \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long r_ = (long)(call);                                                                           \
        int e_ = errno;                                                                                   \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? err_name(e_) : "");                                     \
    } while (0)

static void send_fd(int sock, int fd, const char* note)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    struct iovec iov = {(void*)note, strlen(note)};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    printf("sendmsg with a descriptor: %ld\n", (long)sendmsg(sock, &m, 0));
}

static int recv_fd(int sock, char* note, size_t size)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    struct iovec iov = {note, size - 1};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int))];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t n = recvmsg(sock, &m, 0);
    note[n > 0 ? n : 0] = 0;
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    int fd = -1;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    printf("recvmsg: %zd bytes \"%s\", a descriptor: %s, flags %d\n", n, note, fd >= 0 ? "yes" : "no", m.msg_flags);
    return fd;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];

    /* Stream between processes. */
    SHOW("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        write(sv[1], "hello ", 6);
        write(sv[1], "world", 5);
        _exit(0);
    }
    close(sv[1]);
    waitpid(child, NULL, 0); /* the child wrote twice and exited */
    char buf[64];
    ssize_t n = recv(sv[0], buf, 4, MSG_PEEK);
    printf("peek %zd: %.*s\n", n, (int)n, buf);
    n = read(sv[0], buf, sizeof buf);
    printf("read %zd: %.*s (two writes run together)\n", n, (int)n, buf);
    n = read(sv[0], buf, sizeof buf);
    printf("read after the peer exited: %zd\n", n);
    SHOW("write to a peer that is gone", write(sv[0], "x", 1));
    struct pollfd p = {sv[0], POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    printf("poll: in %d out %d hup %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLOUT), !!(p.revents & POLLHUP));
    close(sv[0]);

    /* Shutdown. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "before", 6);
    SHOW("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
    n = read(sv[1], buf, sizeof buf);
    printf("the peer reads %zd, then %zd\n", n, read(sv[1], buf, sizeof buf));
    SHOW("write after SHUT_WR", write(sv[0], "x", 1));
    SHOW("the peer can still write", write(sv[1], "back", 4));
    n = read(sv[0], buf, sizeof buf);
    printf("and it arrives: %zd\n", n);
    SHOW("shutdown with how 3", shutdown(sv[0], 3));
    close(sv[0]);
    close(sv[1]);

    /* Datagrams keep their boundaries; a short read cuts one. */
    SHOW("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    send(sv[0], "one", 3, 0);
    send(sv[0], "second", 6, 0);
    send(sv[0], "third message", 13, 0);
    n = recv(sv[1], buf, sizeof buf, 0);
    printf("dgram %zd: %.*s\n", n, (int)n, buf);
    n = recv(sv[1], buf, 3, MSG_TRUNC);
    printf("dgram cut to 3 with MSG_TRUNC: %zd, got %.3s\n", n, buf);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    struct iovec iov = {buf, 5};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    n = recvmsg(sv[1], &m, 0);
    printf("recvmsg into 5 bytes: %zd, MSG_TRUNC in flags: %d\n", n, !!(m.msg_flags & MSG_TRUNC));
    SHOW("nothing left, MSG_DONTWAIT", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    int sent = 0;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (send(sv[0], "x", 1, 0) == 1)
        ++sent;
    printf("datagrams queued before EAGAIN: %d (%s)\n", sent, err_name(errno));
    close(sv[1]);
    SHOW("send to a closed datagram peer", send(sv[0], "x", 1, 0));
    close(sv[0]);

    /* Seqpacket: boundaries and EOF. */
    SHOW("socketpair seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    send(sv[0], "ab", 2, 0);
    send(sv[0], "cde", 3, 0);
    close(sv[0]);
    n = recv(sv[1], buf, sizeof buf, 0);
    printf("seqpacket %zd", n);
    n = recv(sv[1], buf, sizeof buf, 0);
    printf(", %zd", n);
    n = recv(sv[1], buf, sizeof buf, 0);
    printf(", then %zd at the end\n", n);
    close(sv[1]);

    /* A memfd passed to a child, which maps it and writes through the mapping. */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    printf("SOCK_CLOEXEC: %d\n", fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
    child = fork();
    if (child == 0) {
        char note[64];
        int fd = recv_fd(sv[1], note, sizeof note);
        char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        strcpy(shared, "written by the child");
        write(sv[1], "done", 4);
        _exit(0);
    }
    int mfd = memfd_create("passed", 0);
    ftruncate(mfd, 4096);
    send_fd(sv[0], mfd, "a memfd");
    read(sv[0], buf, 4);
    char* mine = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
    printf("the parent's mapping reads: %s\n", mine);
    waitpid(child, NULL, 0);

    /* Options and names. */
    int type = 0;
    socklen_t len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
    printf("SO_TYPE %d (SOCK_STREAM %d), len %u\n", type, SOCK_STREAM, len);
    int domain = 0;
    len = sizeof domain;
    getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &domain, &len);
    printf("SO_DOMAIN %d\n", domain);
    SHOW("getsockopt SO_KEEPALIVE", getsockopt(sv[0], SOL_SOCKET, 9999, &type, &len));
    struct sockaddr_un addr;
    len = sizeof addr;
    memset(&addr, 0x55, sizeof addr);
    getsockname(sv[0], (struct sockaddr*)&addr, &len);
    printf("getsockname: family %d, length %u\n", addr.sun_family, len);
    struct stat st;
    fstat(sv[0], &st);
    printf("fstat: a socket %d\n", S_ISSOCK(st.st_mode));
    SHOW("lseek", lseek(sv[0], 0, SEEK_SET));

    /* Errors. */
    SHOW("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv));
    SHOW("socketpair type 99", socketpair(AF_UNIX, 99, 0, sv));
    SHOW("socketpair protocol 7", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
    SHOW("socketpair family 999", socketpair(999, SOCK_STREAM, 0, sv));
    SHOW("send on a pipe", send(mfd, "x", 1, 0));
    SHOW("shutdown of a bad descriptor", shutdown(77, SHUT_RD));
    return 0;
}
