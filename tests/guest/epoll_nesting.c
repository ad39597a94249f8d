/* epoll descriptors inside epoll descriptors: up to five levels, no loops. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void report(const char* what, int r)
{
    printf("%-40s %s\n", what, r == 0 ? "ok" : strerror(errno));
}

int main(void)
{
    int pipefd[2], ep[7];
    struct epoll_event ev = {.events = EPOLLIN};
    pipe(pipefd);
    for (int i = 0; i < 7; ++i)
        ep[i] = epoll_create1(0);
    report("ep0 watches the pipe", epoll_ctl(ep[0], EPOLL_CTL_ADD, pipefd[0], &ev));
    char what[64];
    for (int i = 1; i < 6; ++i) {
        snprintf(what, sizeof what, "ep%d watches ep%d (%d levels)", i, i - 1, i + 1);
        report(what, epoll_ctl(ep[i], EPOLL_CTL_ADD, ep[i - 1], &ev));
    }
    report("ep0 watches ep4 (a loop)", epoll_ctl(ep[0], EPOLL_CTL_ADD, ep[4], &ev));
    report("ep2 watches ep2 (itself)", epoll_ctl(ep[2], EPOLL_CTL_ADD, ep[2], &ev));
    report("ep6 watches ep3 (4 levels)", epoll_ctl(ep[6], EPOLL_CTL_ADD, ep[3], &ev));
    /* Below a watched epoll: ep5 is 5 levels high, so ep6 under ep0 would make 7. */
    report("ep0 watches ep6 (7 levels)", epoll_ctl(ep[0], EPOLL_CTL_ADD, ep[6], &ev));
    report("ep6 stops watching ep3", epoll_ctl(ep[6], EPOLL_CTL_DEL, ep[3], &ev));
    report("ep1 watches ep6 (5 levels)", epoll_ctl(ep[1], EPOLL_CTL_ADD, ep[6], &ev));
    return 0;
}
