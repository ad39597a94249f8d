/* A position-independent executable with no C library (ET_DYN, no interpreter): kioku loads it
 * at ELF_ET_DYN_BASE. It checks its argument vector and auxiliary vector by hand. */
#define AT_NULL 0
#define AT_PAGESZ 6
#define AT_ENTRY 9
#define AT_RANDOM 25

static long sys(long n, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static void say(const char* s)
{
    volatile long n = 0; /* volatile: keeps the compiler from calling strlen */
    while (s[n])
        ++n;
    sys(64, 1, (long)s, n);
}

void start_c(long* sp)
{
    long argc = sp[0];
    char** argv = (char**)(sp + 1);
    char** envp = argv + argc + 1;
    while (*envp)
        ++envp;
    unsigned long* auxv = (unsigned long*)(envp + 1);
    int pagesz = 0, entry_ok = 0, random_ok = 0;
    for (; auxv[0] != AT_NULL; auxv += 2) {
        if (auxv[0] == AT_PAGESZ)
            pagesz = auxv[1] == 4096;
        if (auxv[0] == AT_ENTRY)
            entry_ok = auxv[1] != 0;
        if (auxv[0] == AT_RANDOM)
            random_ok = auxv[1] != 0;
    }
    say(argc == 2 ? "argc ok\n" : "argc wrong\n");
    say(argv[1][0] == 'p' ? "argv ok\n" : "argv wrong\n");
    say(pagesz && entry_ok && random_ok ? "auxv ok\n" : "auxv wrong\n");
    say(((unsigned long)sp & 15) == 0 ? "sp aligned\n" : "sp misaligned\n");
    sys(93, 7, 0, 0);
}

__asm__(".globl _start\n"
        "_start:\n"
        "  mv a0, sp\n"
        "  call start_c\n");
