/*
 * Bad accesses raise SIGSEGV with the reason in si_code: SEGV_MAPERR where no mapping covers the
 * address (here a page just unmapped), SEGV_ACCERR where a mapping exists but forbids the access
 * (a store to a read-only page, a load from a PROT_NONE page). si_addr is the faulting address.
 * After the handler the program carries on; mprotect then makes the same store succeed.
 */
#include "parity.h"

#include <setjmp.h>
#include <signal.h>

static sigjmp_buf fault_jump;
static volatile int fault_signal;
static volatile int fault_code;
static void* volatile fault_addr;

static void on_fault(int sig, siginfo_t* info, void* context) {
    (void)context;
    fault_signal = sig;
    fault_code = info->si_code;
    fault_addr = info->si_addr;
    siglongjmp(fault_jump, 1);
}

static const char* segv_code_name(int code) {
    switch (code) {
    case SEGV_MAPERR:
        return "SEGV_MAPERR";
    case SEGV_ACCERR:
        return "SEGV_ACCERR";
    default:
        return "other";
    }
}

enum access { LOAD, STORE };

/* Performs one access and reports what signal, if any, it raised. */
static void probe(const char* name, volatile char* address, enum access kind) {
    char key[96];
    fault_signal = 0;
    fault_code = 0;
    fault_addr = NULL;
    if (sigsetjmp(fault_jump, 1) == 0) {
        if (kind == LOAD)
            (void)*address;
        else
            *address = 1;
    }
    snprintf(key, sizeof(key), "%s_signal", name);
    fact_str(key, fault_signal == SIGSEGV ? "SIGSEGV" : fault_signal == 0 ? "none" : "other");
    if (fault_signal == 0)
        return;
    snprintf(key, sizeof(key), "%s_si_code", name);
    fact_str(key, segv_code_name(fault_code));
    snprintf(key, sizeof(key), "%s_si_addr_matches", name);
    fact(key, fault_addr == (void*)address);
}

int main(void) {
    parity_begin();

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);

    char* gone = map_anon(1, MAP_PRIVATE);
    if (munmap(gone, PAGE) != 0)
        die("munmap");
    probe("unmapped_load", gone + 123, LOAD);
    probe("unmapped_store", gone + 8, STORE);

    char* ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ro == MAP_FAILED)
        die("mmap ro");
    probe("readonly_load", ro + 16, LOAD);
    probe("readonly_store", ro + 16, STORE);

    char* none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (none == MAP_FAILED)
        die("mmap none");
    probe("protnone_load", none + 40, LOAD);

    if (mprotect(ro, PAGE, PROT_READ | PROT_WRITE) != 0)
        die("mprotect");
    probe("after_mprotect_store", ro + 16, STORE);
    fact("after_mprotect_value", ro[16]);

    /* A null pointer is below mmap_min_addr: never mapped. It goes through a volatile so the
     * compiler cannot see a constant null dereference and replace it with a trap. */
    volatile uintptr_t null_address = 0;
    probe("null_load", (volatile char*)null_address, LOAD);
    return 0;
}
