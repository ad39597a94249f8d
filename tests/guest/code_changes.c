/* Decoded code follows memory. The program writes instructions into a page and runs them, unmaps
 * it, maps a new page at the same address with other instructions and runs those (after fence.i,
 * then after riscv_flush_icache), and finally rewrites one function of a copy of itself on disk
 * with write(2) and runs the copy again: the new instructions run each time, never a stale decode
 * of what the frame held before. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define JIT_ADDR ((void*)0x40000000UL)

__attribute__((noinline)) int version(void)
{
    return 0x1234;
}

/* c.li a0, value; c.jr ra */
static void emit_return(uint16_t* code, int value)
{
    code[0] = (uint16_t)(0x4501 | ((value & 0x1f) << 2) | ((value & 0x20) << 7));
    code[1] = 0x8082;
}

static int run_jit(int value, int use_syscall)
{
    uint16_t* code = mmap(JIT_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (code == MAP_FAILED)
        return -1;
    emit_return(code, value);
    if (use_syscall)
        syscall(259, code, code + 2, 0); /* riscv_flush_icache */
    else
        __asm__ volatile("fence.i" ::: "memory");
    int result = ((int (*)(void))code)();
    munmap(code, 4096);
    return result;
}

static int copy_file(const char* from, const char* to)
{
    int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_TRUNC | O_WRONLY, 0755);
    if (in < 0 || out < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            return -1;
    close(in);
    close(out);
    return 0;
}

/* Where in the executable file the code at `vaddr` lies (a static, non-PIE program). */
static long file_offset_of(const char* path, uintptr_t vaddr)
{
    int fd = open(path, O_RDONLY);
    Elf64_Ehdr eh;
    if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh)
        return -1;
    for (int i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) != sizeof ph)
            break;
        if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
            close(fd);
            return (long)(vaddr - ph.p_vaddr + ph.p_offset);
        }
    }
    close(fd);
    return -1;
}

static void run_copy(const char* path, const char* label)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "child", (char*)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("%s: exit %d\n", label, WEXITSTATUS(status));
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("the copy's version() returns %d\n", version());
        fflush(stdout);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("first code at the page: %d\n", run_jit(1, 0));
    printf("other code at the same address after fence.i: %d\n", run_jit(2, 0));
    printf("other code again after riscv_flush_icache: %d\n", run_jit(3, 1));

    const char* copy = "/tmp/code-changes-copy";
    if (copy_file("/proc/self/exe", copy) != 0)
        return 1;
    run_copy(copy, "copy as built");
    long at = file_offset_of(copy, (uintptr_t)&version);
    uint16_t patch[2];
    emit_return(patch, 7);
    int fd = open(copy, O_WRONLY);
    if (at < 0 || fd < 0 || pwrite(fd, patch, sizeof patch, at) != sizeof patch)
        return 1;
    close(fd);
    run_copy(copy, "copy with version() rewritten");
    unlink(copy);
    return 0;
}
