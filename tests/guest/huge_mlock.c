/* mlockall over a 1 TiB MAP_NORESERVE mapping on a 128 MiB machine: what it populates is bounded
 * by the machine, not by the virtual size. A writable mapping fills memory with locked pages and
 * a read-only one with page tables (each maps the zero page); either way the OOM killer ends the
 * process, in host time proportional to the machine. With MCL_ONFAULT nothing is populated, and
 * a PROT_NONE mapping is never populated. Run with --mem 128M. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIB (1ULL << 40)

static void try_case(const char* name, int prot, int flags)
{
    pid_t pid = fork();
    if (pid == 0) {
        char* p = mmap(NULL, TIB, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            _exit(10);
        _exit(mlockall(flags) == 0 ? 0 : 20 + errno);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", name, WTERMSIG(status));
    else
        printf("%s: exited %d\n", name, WEXITSTATUS(status));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    try_case("read-write, MCL_CURRENT", PROT_READ | PROT_WRITE, MCL_CURRENT);
    try_case("read-only, MCL_CURRENT", PROT_READ, MCL_CURRENT);
    try_case("read-write, MCL_CURRENT|MCL_ONFAULT", PROT_READ | PROT_WRITE, MCL_CURRENT | MCL_ONFAULT);
    try_case("PROT_NONE, MCL_CURRENT", PROT_NONE, MCL_CURRENT);
    return 0;
}
