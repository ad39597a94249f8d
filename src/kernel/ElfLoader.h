// The ELF loader (Linux: fs/binfmt_elf.c, load_elf_binary, load_elf_interp and create_elf_tables)
// for RISC-V ELF64 executables, static, static-pie or dynamically linked: it validates the headers,
// maps each PT_LOAD segment as a private file mapping of the executable through the page cache (so
// processes running the same program share its text pages), maps bss as anonymous memory the way
// vm_brk_flags does, puts the heap start after bss and builds the initial stack (strings, argc,
// argv, envp, auxv) in Linux's layout. A program that names an interpreter (PT_INTERP, such as
// /lib/ld-linux-riscv64-lp64d.so.1) gets it from the guest root, mapped the same way at the top
// of the mmap area, and starts there with AT_BASE telling the interpreter where it lies; shared
// libraries are then the interpreter's mmap calls, through the same page cache.
//
// A bad executable (or a missing or bad interpreter) is an error before anything of the process
// is touched; a failure after the old image is gone (the point of no return) is reported to the
// caller, who kills the process as Linux does.
//
// Stateless functions; the caller owns the process.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "abi/Auxv.h"
#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class Kernel;

struct ElfSegment {
    u64 vaddr = 0;
    u64 memsz = 0;
    u64 filesz = 0;
    u64 offset = 0;
    u32 flags = 0; // PF_R / PF_W / PF_X
};

// What the loader needs from a validated executable; addresses are before the load bias.
struct ElfImage {
    bool position_independent = false; // ET_DYN (static-pie)
    u64 entry = 0;
    u64 phoff = 0;
    u16 phentsize = 0;
    u16 phnum = 0;
    u64 max_align = PAGE_SIZE;
    std::vector<ElfSegment> loads;          // in file order, which the ELF spec makes ascending by vaddr
    std::optional<u64> phdr_vaddr;          // where the program headers are in memory, if loaded
    std::optional<std::string> interpreter; // PT_INTERP: the dynamic loader's path
};

// Reads `len` bytes at `offset` of the file into `out`; false when the file is shorter.
using ElfReader = std::function<bool(u64 offset, u64 len, u8* out)>;

// Validates the ELF header and program headers: ENOEXEC (with a message) for anything that is not
// a loadable riscv64 executable.
Result<ElfImage> parse_elf(const ElfReader& read, u64 file_size);

// The initial stack as create_elf_tables lays it out below stack_top: the execfn, envp and argv
// strings, 16 random bytes, then (16-byte aligned) argc, argv[], NULL, envp[], NULL and auxv.
// AT_RANDOM and AT_EXECFN in `auxv` are given their addresses here; AT_NULL is appended.
struct StackSpec {
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    std::string execfn;
    std::array<u8, 16> random{};
    std::vector<std::pair<u64, u64>> auxv;
};
struct InitialStack {
    u64 sp = 0;            // where argc lies; bytes[0] is at sp
    std::vector<u8> bytes; // the contents of [sp, stack_top)
    u64 arg_start = 0;     // argv strings
    u64 env_start = 0;     // envp strings
    u64 env_end = 0;
};
InitialStack build_initial_stack(u64 stack_top, const StackSpec& spec);

// Where a static-pie executable is placed (riscv64's ELF_ET_DYN_BASE: two thirds of the user
// address space) for a given TASK_SIZE.
constexpr u64 elf_et_dyn_base(u64 task_size)
{
    return ((task_size / 3) * 2) & PAGE_MASK;
}

// What exec needs after loading: where to start, and the registers' initial values.
struct LoadedProgram {
    u64 entry = 0;
    u64 sp = 0;
    u64 load_bias = 0;
};

// Replaces the image of process `pid` with the executable at guest path `path` (execve's work
// from the header check to start_thread). On an error before the point of no return the process
// is unchanged; `*past_no_return` tells the caller which case it is.
struct ExecRequest {
    std::string path;
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    std::array<u8, 16> random{};
};
Result<LoadedProgram> exec_elf(Kernel& kernel, i32 pid, ExecRequest request, bool* past_no_return);

} // namespace kioku
