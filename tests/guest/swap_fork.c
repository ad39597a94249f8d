/* A process whose memory is partly out on swap forks 80 children that all live at once: every
 * swapped-out page's slot is then referenced by 81 page tables, more than the byte Linux keeps per
 * slot can count (SWAP_MAP_MAX, 62), so the count continues past it. Each child checks a sample of
 * the pages (swapping them in), then they exit and the parent checks everything. Run with
 * --mem 32M --swap 64M. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define SIZE (40 * MIB)
#define CHILDREN 80

static unsigned char value(unsigned long page)
{
    return (unsigned char)(page * 31 + 7);
}

static int check(const unsigned char* p, unsigned long first, unsigned long step)
{
    for (unsigned long page = first; page < SIZE / 4096; page += step)
        if (p[page * 4096] != value(page) || p[page * 4096 + 4095] != value(page))
            return 0;
    return 1;
}

int main(void)
{
    unsigned char* p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (unsigned long page = 0; page < SIZE / 4096; ++page)
        memset(p + page * 4096, value(page), 4096);
    int release[2];
    if (pipe(release) != 0)
        return 1;
    pid_t children[CHILDREN];
    for (int i = 0; i < CHILDREN; ++i) {
        children[i] = fork();
        if (children[i] < 0) {
            printf("fork %d failed\n", i);
            return 1;
        }
        if (children[i] == 0) {
            char c;
            if (read(release[0], &c, 1) != 1)
                _exit(2);
            _exit(check(p, i % 7, 97) ? 0 : 3);
        }
    }
    char go[CHILDREN];
    memset(go, 'g', sizeof go);
    if (write(release[1], go, sizeof go) != sizeof go)
        return 1;
    int good = 0;
    for (int i = 0; i < CHILDREN; ++i) {
        int status;
        waitpid(children[i], &status, 0);
        good += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    printf("%d of %d children saw their sample intact\n", good, CHILDREN);
    printf("parent's memory intact: %s\n", check(p, 0, 1) ? "yes" : "no");
    return 0;
}
