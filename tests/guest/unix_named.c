/* Named AF_UNIX sockets: bind to a path (a socket node), to an abstract name and to an automatic
 * one; listen, connect and accept across fork, with a blocking accept; getsockname, getpeername,
 * SO_ACCEPTCONN and SO_PEERCRED; the backlog and the datagram queue limits; addresses on
 * received datagrams; connected datagram sockets; a listener closed with a connection pending;
 * and the errors of each call. Names are made from the pid so that a native run does not meet
 * another's; only facts that do not depend on them are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err_name(int e)
{
    switch (e) {
    case 0: return "";
    case EPIPE: return "EPIPE";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EISCONN: return "EISCONN";
    case ENOTCONN: return "ENOTCONN";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPROTOTYPE: return "EPROTOTYPE";
    case EFAULT: return "EFAULT";
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

static socklen_t path_addr(struct sockaddr_un* a, const char* path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un* a, const char* name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void show_name(const char* what, int fd, int peer)
{
    struct sockaddr_un a;
    memset(&a, 0x55, sizeof a);
    socklen_t len = sizeof a;
    errno = 0;
    int r = peer ? getpeername(fd, (struct sockaddr*)&a, &len) : getsockname(fd, (struct sockaddr*)&a, &len);
    int e = errno;
    if (r < 0) {
        printf("%s: -1 %s\n", what, err_name(e));
        return;
    }
    const char* kind = len <= offsetof(struct sockaddr_un, sun_path) ? "unnamed"
                       : a.sun_path[0] == 0                          ? "abstract"
                                                                     : "path";
    printf("%s: family %d, length %u, %s\n", what, a.sun_family, (unsigned)len, kind);
}

static int stream_server(const char* path, int backlog)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, path);
    if (bind(s, (struct sockaddr*)&a, len) < 0 || listen(s, backlog) < 0)
        perror("server");
    return s;
}

static int connect_to(int type, const char* path, int flags)
{
    int c = socket(AF_UNIX, type | flags, 0);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, path);
    errno = 0;
    int r = connect(c, (struct sockaddr*)&a, len);
    if (r < 0) {
        int e = errno;
        close(c);
        errno = e;
        return -1;
    }
    return c;
}

static void paths_and_streams(void)
{
    printf("-- a stream socket bound to a path\n");
    umask(022);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    show_name("getsockname unbound", s, 0);
    show_name("getpeername unconnected", s, 1);
    SHOW("listen unbound", listen(s, 5));
    SHOW("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
    char buf[64];
    SHOW("recv unconnected", recv(s, buf, sizeof buf, MSG_DONTWAIT));
    SHOW("accept not listening", accept(s, NULL, NULL));
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, "srv.sock");
    SHOW("bind", bind(s, (struct sockaddr*)&a, len));
    show_name("getsockname bound", s, 0);
    struct stat st;
    SHOW("stat", stat("srv.sock", &st));
    printf("a socket node: %d, mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
    SHOW("bind again", bind(s, (struct sockaddr*)&a, len));
    struct sockaddr_un other;
    socklen_t other_len = path_addr(&other, "other.sock");
    SHOW("bind a bound socket elsewhere", bind(s, (struct sockaddr*)&other, other_len));
    SHOW("access other.sock", access("other.sock", F_OK));
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("bind another to the same path", bind(s2, (struct sockaddr*)&a, len));
    close(s2);
    SHOW("connect before listen", connect_to(SOCK_STREAM, "srv.sock", 0));
    SHOW("listen", listen(s, 5));
    int on = -1;
    socklen_t ol = sizeof on;
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol);
    printf("SO_ACCEPTCONN: %d\n", on);
    SHOW("accept4 bad flags", accept4(s, NULL, NULL, 0x1));
    fcntl(s, F_SETFL, O_NONBLOCK);
    SHOW("accept with nobody waiting", accept(s, NULL, NULL));
    fcntl(s, F_SETFL, 0);
    SHOW("connect to a missing path", connect_to(SOCK_STREAM, "missing.sock", 0));
    int reg = open("plain", O_CREAT | O_WRONLY, 0644);
    close(reg);
    SHOW("connect to a regular file", connect_to(SOCK_STREAM, "plain", 0));
    SHOW("connect with another type", connect_to(SOCK_SEQPACKET, "srv.sock", 0));
    struct sockaddr bad = {.sa_family = AF_INET};
    int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("connect with another family", connect(c0, &bad, sizeof bad));
    SHOW("connect with a huge length", connect(c0, (struct sockaddr*)&a, 200));
    close(c0);

    int parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        // The child connects after the parent is already waiting in accept, and prints only
        // once the parent has answered (so that the two outputs do not interleave).
        usleep(20000);
        int c = connect_to(SOCK_STREAM, "srv.sock", 0);
        long sent = send(c, "hello", 5, 0);
        char reply[16] = {0};
        long got_reply = recv(c, reply, sizeof reply - 1, 0);
        printf("child: send: %ld, recv: %ld, got \"%s\"\n", sent, got_reply, reply);
        show_name("child: getpeername", c, 1);
        show_name("child: getsockname", c, 0);
        struct ucred cr;
        socklen_t cl = sizeof cr;
        getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
        printf("child: SO_PEERCRED is the listener's: %d (uid %u, length %u)\n", cr.pid == parent,
               (unsigned)cr.uid, (unsigned)cl);
        SHOW("child: connect again", connect(c, (struct sockaddr*)&a, len));
        close(c);
        _exit(0);
    }
    struct sockaddr_un peer;
    memset(&peer, 0x55, sizeof peer);
    socklen_t peer_len = sizeof peer;
    int conn = accept(s, (struct sockaddr*)&peer, &peer_len);
    printf("accept: %s, peer address length %u, family %d\n", conn >= 0 ? "a socket" : err_name(errno),
           (unsigned)peer_len, peer.sun_family);
    show_name("accepted: getsockname", conn, 0);
    show_name("accepted: getpeername", conn, 1);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("accepted: SO_PEERCRED is the child: %d\n", cr.pid == child);
    cl = sizeof cr;
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("listener: SO_PEERCRED is itself: %d\n", cr.pid == parent);
    char got[16] = {0};
    struct sockaddr_un from;
    socklen_t from_len = sizeof from;
    SHOW("recvfrom", recvfrom(conn, got, sizeof got - 1, 0, (struct sockaddr*)&from, &from_len));
    printf("got \"%s\", sender address length %u\n", got, (unsigned)from_len);
    long answered = send(conn, "world", 5, 0);
    int status;
    waitpid(child, &status, 0);
    printf("send: %ld, the child's status %#x\n", answered, status);
    SHOW("recv after the child closed", recv(conn, got, sizeof got, 0));
    close(conn);

    printf("-- the backlog\n");
    close(s);
    SHOW("connect after the listener closed", connect_to(SOCK_STREAM, "srv.sock", 0));
    SHOW("unlink", unlink("srv.sock"));
    s = stream_server("srv.sock", 0);
    struct pollfd p = {s, POLLIN, 0};
    SHOW("poll an idle listener", poll(&p, 1, 0));
    int c1 = connect_to(SOCK_STREAM, "srv.sock", SOCK_NONBLOCK);
    printf("first connect: %s\n", c1 >= 0 ? "connected" : err_name(errno));
    SHOW("poll the listener", poll(&p, 1, 0));
    printf("revents: %#x\n", p.revents);
    int c2 = connect_to(SOCK_STREAM, "srv.sock", SOCK_NONBLOCK);
    printf("second connect: %s\n", c2 >= 0 ? "connected" : err_name(errno));
    SHOW("send before accept", send(c1, "early", 5, 0));
    struct pollfd q = {c1, POLLIN | POLLOUT, 0};
    poll(&q, 1, 0);
    printf("client revents before accept: %#x\n", q.revents);
    close(s); // the pending connection is dropped
    q.revents = 0;
    poll(&q, 1, 0);
    printf("client revents after the listener closed: %#x\n", q.revents);
    SHOW("recv: reset", recv(c1, got, sizeof got, 0));
    SHOW("recv: then the end", recv(c1, got, sizeof got, 0));
    SHOW("send to a dropped connection", send(c1, "x", 1, MSG_NOSIGNAL));
    close(c1);
    unlink("srv.sock");
}

static void abstract_names(void)
{
    printf("-- abstract and automatic names\n");
    char name[64];
    snprintf(name, sizeof name, "kioku-unix-named-%d", getpid());
    struct sockaddr_un a;
    socklen_t len = abstract_addr(&a, name);
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    SHOW("bind abstract", bind(s, (struct sockaddr*)&a, len));
    struct sockaddr_un back;
    socklen_t back_len = sizeof back;
    getsockname(s, (struct sockaddr*)&back, &back_len);
    printf("the same name back: %d\n", back_len == len && memcmp(&back, &a, len) == 0);
    int s2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    SHOW("bind the name again", bind(s2, (struct sockaddr*)&a, len));
    SHOW("listen", listen(s, 4));
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    SHOW("connect", connect(c, (struct sockaddr*)&a, len));
    int conn = accept(s, NULL, NULL);
    SHOW("send 3", send(c, "abc", 3, 0));
    SHOW("send 2", send(c, "de", 2, 0));
    char buf[8];
    SHOW("recv one record", recv(conn, buf, sizeof buf, 0));
    SHOW("recv the next", recv(conn, buf, sizeof buf, 0));
    close(conn);
    close(c);
    close(s);
    SHOW("bind the name after its socket closed", bind(s2, (struct sockaddr*)&a, len));
    close(s2);

    int au = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW("autobind", bind(au, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX},
                          offsetof(struct sockaddr_un, sun_path)));
    struct sockaddr_un ab;
    socklen_t ab_len = sizeof ab;
    getsockname(au, (struct sockaddr*)&ab, &ab_len);
    int hex = ab_len == 8 && ab.sun_path[0] == 0;
    for (int i = 1; i < 6 && hex; ++i)
        hex = strchr("0123456789abcdef", ab.sun_path[i]) != NULL;
    printf("automatic name: length %u, NUL and five hex digits: %d\n", (unsigned)ab_len, hex);
    SHOW("autobind a bound socket", bind(au, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX},
                                         offsetof(struct sockaddr_un, sun_path)));
    close(au);
}

static void datagrams(void)
{
    printf("-- datagrams\n");
    int srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, "dgram.sock");
    SHOW("bind", bind(srv, (struct sockaddr*)&a, len));
    SHOW("listen on a datagram socket", listen(srv, 1));
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW("send unconnected", send(anon, "x", 1, 0));
    SHOW("sendto", sendto(anon, "one", 3, 0, (struct sockaddr*)&a, len));
    char buf[32];
    struct sockaddr_un from;
    memset(&from, 0x55, sizeof from);
    socklen_t from_len = sizeof from;
    SHOW("recvfrom", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr*)&from, &from_len));
    printf("from an unnamed sender: address length %u\n", (unsigned)from_len);
    int named = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un na;
    socklen_t na_len = path_addr(&na, "client.sock");
    bind(named, (struct sockaddr*)&na, na_len);
    SHOW("sendto from a named socket", sendto(named, "two", 3, 0, (struct sockaddr*)&a, len));
    from_len = sizeof from;
    SHOW("recvfrom", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr*)&from, &from_len));
    printf("from client.sock: length %u, same path %d\n", (unsigned)from_len,
           from_len == na_len && strcmp(from.sun_path, "client.sock") == 0);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    struct iovec iov = {buf, sizeof buf};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_name = &from;
    m.msg_namelen = 3; // room for part of the address only
    sendto(named, "three", 5, 0, (struct sockaddr*)&a, len);
    SHOW("recvmsg", recvmsg(srv, &m, 0));
    printf("recvmsg: msg_namelen %u (the full length)\n", (unsigned)m.msg_namelen);

    // The queue of a socket that is not its sender's peer holds max_dgram_qlen + 1 datagrams.
    int n = 0;
    while (sendto(anon, "q", 1, MSG_DONTWAIT, (struct sockaddr*)&a, len) == 1 && n < 100)
        ++n;
    printf("datagrams queued before EAGAIN: %d (%s)\n", n, err_name(errno));
    struct pollfd p = {anon, POLLOUT, 0};
    while (recv(srv, buf, sizeof buf, 0) > 0)
        ;

    // Connected datagram sockets.
    SHOW("connect named to srv", connect(named, (struct sockaddr*)&a, len));
    show_name("getpeername", named, 1);
    SHOW("connect srv to named", connect(srv, (struct sockaddr*)&na, na_len));
    SHOW("sendto srv from a third socket", sendto(anon, "no", 2, 0, (struct sockaddr*)&a, len));
    SHOW("send named -> srv", send(named, "yes", 3, 0));
    SHOW("recv", recv(srv, buf, sizeof buf, 0));
    SHOW("connect anon to srv", connect(anon, (struct sockaddr*)&a, len));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    SHOW("dissolve with AF_UNSPEC", connect(named, &unspec, sizeof unspec));
    SHOW("send after dissolving", send(named, "x", 1, 0));
    show_name("getpeername after dissolving", named, 1);
    SHOW("connect again", connect(named, (struct sockaddr*)&a, len));
    p.revents = 0;
    poll(&p, 1, 0);
    printf("anon writable: %d\n", (p.revents & POLLOUT) != 0);
    close(srv);
    SHOW("sendto a closed socket's path", sendto(anon, "x", 1, 0, (struct sockaddr*)&a, len));
    close(anon);
    close(named);
    unlink("dgram.sock");
    unlink("client.sock");
}

int main(void)
{
    char dir[] = "/tmp/unix-named-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        perror("mkdtemp");
        return 1;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    paths_and_streams();
    abstract_names();
    datagrams();
    unlink("plain");
    chdir("/");
    SHOW("rmdir the scratch directory", rmdir(dir));
    return 0;
}
