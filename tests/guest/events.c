// Readiness system calls over pipes, eventfds and regular files: epoll (level- and
// edge-triggered, EPOLLONESHOT, EPERM for a regular file), eventfd2 (semaphore and non-blocking
// modes), ppoll and pselect6. Prints facts only, the same on any Linux.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

static int wait_ready(int ep, int timeout)
{
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, timeout);
    if (n < 0)
        return -errno;
    int sum = 0;
    for (int i = 0; i < n; ++i)
        sum += (int)ev[i].data.u32;
    return n * 100 + sum;
}

static void epoll_pipe(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    int lt = epoll_create1(EPOLL_CLOEXEC);
    int et = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    printf("lt add: %d\n", epoll_ctl(lt, EPOLL_CTL_ADD, p[0], &ev));
    printf("lt add again: %d errno %d\n", epoll_ctl(lt, EPOLL_CTL_ADD, p[0], &ev), errno);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u32 = 9;
    epoll_ctl(et, EPOLL_CTL_ADD, p[0], &ev);
    printf("empty: lt %d et %d\n", wait_ready(lt, 0), wait_ready(et, 0));
    write(p[1], "ab", 2);
    printf("after write: lt %d et %d\n", wait_ready(lt, 0), wait_ready(et, 0));
    printf("again: lt %d et %d\n", wait_ready(lt, 0), wait_ready(et, 0));
    write(p[1], "c", 1);
    printf("second write: et %d\n", wait_ready(et, 0));
    char buf[8];
    read(p[0], buf, 1);
    printf("after partial read: lt %d et %d\n", wait_ready(lt, 0), wait_ready(et, 0));
    read(p[0], buf, sizeof buf);
    printf("drained: lt %d\n", wait_ready(lt, 0));
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u32 = 3;
    printf("mod oneshot: %d\n", epoll_ctl(lt, EPOLL_CTL_MOD, p[0], &ev));
    write(p[1], "d", 1);
    printf("oneshot: %d then %d\n", wait_ready(lt, 0), wait_ready(lt, 0));
    epoll_ctl(lt, EPOLL_CTL_MOD, p[0], &ev);
    printf("rearmed: %d\n", wait_ready(lt, 0));
    close(p[1]);
    ev.events = EPOLLIN;
    epoll_ctl(lt, EPOLL_CTL_MOD, p[0], &ev);
    struct epoll_event got;
    int n = epoll_wait(lt, &got, 1, 0);
    printf("writer closed: n %d in %d hup %d\n", n, !!(got.events & EPOLLIN), !!(got.events & EPOLLHUP));
    printf("del: %d, del again: %d errno %d\n", epoll_ctl(lt, EPOLL_CTL_DEL, p[0], NULL),
           epoll_ctl(lt, EPOLL_CTL_DEL, p[0], NULL), errno);
    printf("timeout wait: %d\n", wait_ready(lt, 20));
    printf("bad maxevents: %d errno %d\n", epoll_wait(lt, &got, 0, 0), errno);
    printf("self add: %d errno %d\n", epoll_ctl(lt, EPOLL_CTL_ADD, lt, &ev), errno);
    printf("not epoll: %d errno %d\n", epoll_wait(p[0], &got, 1, 0), errno);
    printf("cloexec: %d %d\n", fcntl(lt, F_GETFD), fcntl(et, F_GETFD));
    int f = open("/tmp/events.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);
    printf("regular file: %d errno %d\n", epoll_ctl(et, EPOLL_CTL_ADD, f, &ev), errno);
    close(f);
    unlink("/tmp/events.txt");
    close(p[0]);
    close(lt);
    close(et);
}

static void eventfds(void)
{
    int e = eventfd(3, EFD_NONBLOCK);
    uint64_t v = 0;
    printf("eventfd read: %zd value %llu\n", read(e, &v, 8), (unsigned long long)v);
    printf("empty read: %zd errno %d\n", read(e, &v, 8), errno);
    printf("short read: %zd errno %d\n", read(e, &v, 4), errno);
    v = 0xffffffffffffffffull;
    printf("write ~0: %zd errno %d\n", write(e, &v, 8), errno);
    v = 0xfffffffffffffffeull;
    printf("write max: %zd\n", write(e, &v, 8));
    v = 1;
    printf("overflow: %zd errno %d\n", write(e, &v, 8), errno);
    close(e);
    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    for (int i = 0; i < 3; ++i) {
        ssize_t n = read(s, &v, 8);
        printf("semaphore read %d: %zd value %llu\n", i, n, n > 0 ? (unsigned long long)v : 0ull);
    }
    printf("semaphore cloexec: %d\n", fcntl(s, F_GETFD));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    struct epoll_event got;
    int n = epoll_wait(ep, &got, 1, 0);
    printf("eventfd epoll: n %d in %d out %d\n", n, !!(got.events & EPOLLIN), !!(got.events & EPOLLOUT));
    v = 5;
    write(s, &v, 8);
    n = epoll_wait(ep, &got, 1, 0);
    printf("after write: n %d in %d out %d\n", n, !!(got.events & EPOLLIN), !!(got.events & EPOLLOUT));
    printf("bad flags: %d errno %d\n", eventfd(0, 0x10), errno);
    close(ep);
    close(s);
}

static void polls(void)
{
    int p[2];
    pipe(p);
    int e = eventfd(0, 0);
    int f = open("/tmp/poll.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);
    struct pollfd fds[5] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {e, POLLIN, 0}, {f, POLLIN | POLLOUT, 0}, {99, POLLIN, 0}};
    struct timespec ts = {0, 0};
    int n = ppoll(fds, 5, &ts, NULL);
    printf("ppoll: %d revents %x %x %x %x %x\n", n, fds[0].revents, fds[1].revents, fds[2].revents, fds[3].revents,
           fds[4].revents);
    uint64_t one = 1;
    write(e, &one, 8);
    write(p[1], "x", 1);
    n = poll(fds, 3, 50);
    printf("poll: %d revents %x %x %x\n", n, fds[0].revents, fds[1].revents, fds[2].revents);
    struct timespec wait = {0, 30 * 1000 * 1000};
    struct pollfd none = {-1, POLLIN, 0};
    n = ppoll(&none, 1, &wait, NULL);
    printf("ppoll timeout: %d left %ld\n", n, wait.tv_nsec);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(e, &r);
    FD_SET(p[1], &w);
    FD_SET(f, &w);
    struct timespec zero = {0, 0};
    n = pselect(f + 1, &r, &w, NULL, &zero, NULL);
    printf("pselect: %d r %d %d w %d %d\n", n, FD_ISSET(p[0], &r), FD_ISSET(e, &r), FD_ISSET(p[1], &w),
           FD_ISSET(f, &w));
    FD_ZERO(&r);
    FD_SET(50, &r);
    printf("pselect bad fd: %d errno %d\n", pselect(51, &r, NULL, NULL, &zero, NULL), errno);
    struct timeval tv = {0, 10000};
    FD_ZERO(&r);
    char c;
    read(p[0], &c, 1);
    FD_SET(p[0], &r);
    printf("select timeout: %d\n", select(p[0] + 1, &r, NULL, NULL, &tv));
    close(f);
    unlink("/tmp/poll.txt");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    epoll_pipe();
    eventfds();
    polls();
    return 0;
}
