// Misaligned LR and AMO addresses raise SIGBUS with si_code BUS_ADRALN and si_addr at the
// misaligned address, as on RISC-V Linux; an aligned AMO on the same buffer works.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf back;
static volatile int code;
static volatile uintptr_t where;

static void on_bus(int sig, siginfo_t* info, void* ctx)
{
    (void)sig;
    (void)ctx;
    code = info->si_code;
    where = (uintptr_t)info->si_addr;
    siglongjmp(back, 1);
}

static _Alignas(8) unsigned char buffer[32];

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    int* aligned = (int*)(buffer + 8);
    int old;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(aligned), "r"(5) : "memory");
    printf("aligned amoadd: old %d now %d\n", old, *aligned);
    int* odd = (int*)(buffer + 9);
    if (!sigsetjmp(back, 1)) {
        __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(odd), "r"(1) : "memory");
        printf("misaligned amoadd did not trap\n");
    } else {
        printf("amoadd.w: si_code %d at offset %d\n", code, (int)(where - (uintptr_t)buffer));
    }
    long* odd8 = (long*)(buffer + 4);
    if (!sigsetjmp(back, 1)) {
        long v;
        __asm__ volatile("lr.d %0, (%1)" : "=r"(v) : "r"(odd8) : "memory");
        printf("misaligned lr.d did not trap\n");
    } else {
        printf("lr.d: si_code %d at offset %d\n", code, (int)(where - (uintptr_t)buffer));
    }
    printf("buffer untouched: %d\n", buffer[9] == 0 && buffer[10] == 0);
    return 0;
}
