// The ELF loader's header checks and the initial stack layout, without running any code.
#include <gtest/gtest.h>

#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel/ElfLoader.h"

namespace kioku::test {

namespace {

// A minimal valid static riscv64 executable header with one PT_LOAD covering the headers.
std::vector<u8> minimal_elf()
{
    std::vector<u8> file(4096, 0);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_RISCV;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x10078;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_X;
    ph.p_offset = 0;
    ph.p_vaddr = 0x10000;
    ph.p_filesz = 4096;
    ph.p_memsz = 8192;
    ph.p_align = 4096;
    std::memcpy(file.data(), &eh, sizeof eh);
    std::memcpy(file.data() + sizeof eh, &ph, sizeof ph);
    return file;
}

Elf64_Ehdr& ehdr(std::vector<u8>& f)
{
    return *reinterpret_cast<Elf64_Ehdr*>(f.data());
}
Elf64_Phdr& phdr(std::vector<u8>& f)
{
    return *reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr));
}

Result<ElfImage> parse(const std::vector<u8>& f)
{
    ElfReader read = [&](u64 off, u64 len, u8* out) {
        if (off > f.size() || f.size() - off < len)
            return false;
        std::memcpy(out, f.data() + off, len);
        return true;
    };
    return parse_elf(read, f.size());
}

int parse_errno(const std::vector<u8>& f)
{
    auto r = parse(f);
    return r.is_error() ? r.error().code : 0;
}

u64 word_at(const InitialStack& s, u64 addr)
{
    u64 v;
    std::memcpy(&v, s.bytes.data() + (addr - s.sp), 8);
    return v;
}

std::string string_at(const InitialStack& s, u64 addr)
{
    return reinterpret_cast<const char*>(s.bytes.data() + (addr - s.sp));
}

} // namespace

TEST(RunElf, MinimalExecutableParses)
{
    auto r = parse(minimal_elf());
    ASSERT_FALSE(r.is_error());
    EXPECT_FALSE(r.value().position_independent);
    EXPECT_EQ(r.value().entry, 0x10078u);
    ASSERT_EQ(r.value().loads.size(), 1u);
    EXPECT_EQ(r.value().loads[0].memsz, 8192u);
    ASSERT_TRUE(r.value().phdr_vaddr.has_value());
    EXPECT_EQ(*r.value().phdr_vaddr, 0x10000u + sizeof(Elf64_Ehdr));
}

TEST(RunElf, GarbageIsNotExecutable)
{
    std::vector<u8> f(100, 'x');
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    EXPECT_EQ(parse_errno({}), ENOEXEC);
}

TEST(RunElf, WrongClassMachineOrTypeIsRefused)
{
    auto f = minimal_elf();
    ehdr(f).e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    ehdr(f).e_machine = EM_X86_64;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    ehdr(f).e_type = ET_REL;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    ehdr(f).e_ident[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
}

TEST(RunElf, BrokenProgramHeadersAreRefused)
{
    auto f = minimal_elf();
    ehdr(f).e_phnum = 0;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    ehdr(f).e_phoff = 1u << 20; // beyond the end of the file
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    ehdr(f).e_phentsize = 40;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    phdr(f).p_filesz = 3 * 4096; // more file than memory
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    phdr(f).p_offset = 1u << 30;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    phdr(f).p_vaddr = 0x10010; // not congruent with the offset modulo the page size
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    phdr(f).p_type = PT_NOTE; // nothing to load
    EXPECT_EQ(parse_errno(f), ENOEXEC);
}

// A second program header, PT_INTERP, naming `path` (written with its terminating NUL, or
// without one when `terminated` is false) at offset 0x800 of the file.
void add_interp(std::vector<u8>& f, const std::string& path, bool terminated = true)
{
    ehdr(f).e_phnum = 2;
    Elf64_Phdr ph{};
    ph.p_type = PT_INTERP;
    ph.p_offset = 0x800;
    ph.p_filesz = path.size() + (terminated ? 1 : 0);
    std::memcpy(f.data() + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), &ph, sizeof ph);
    std::memcpy(f.data() + 0x800, path.c_str(), path.size() + 1);
}

TEST(RunElf, DynamicallyLinkedProgramNamesItsInterpreter)
{
    auto f = minimal_elf();
    add_interp(f, "/lib/ld-linux-riscv64-lp64d.so.1");
    auto r = parse(f);
    ASSERT_FALSE(r.is_error());
    ASSERT_TRUE(r.value().interpreter.has_value());
    EXPECT_EQ(*r.value().interpreter, "/lib/ld-linux-riscv64-lp64d.so.1");
    f = minimal_elf();
    EXPECT_FALSE(parse(f).value().interpreter.has_value());
}

TEST(RunElf, BadInterpreterPathIsRefused)
{
    auto f = minimal_elf();
    add_interp(f, "/lib/ld.so", false); // no terminating NUL inside p_filesz
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    add_interp(f, "/lib/ld.so");
    reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr))[1].p_filesz = 8192; // longer than PATH_MAX
    EXPECT_EQ(parse_errno(f), ENOEXEC);
    f = minimal_elf();
    add_interp(f, "/lib/ld.so");
    reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr))[1].p_offset = 1u << 20;
    EXPECT_EQ(parse_errno(f), ENOEXEC);
}

TEST(RunElf, StaticPieIsPositionIndependent)
{
    auto f = minimal_elf();
    ehdr(f).e_type = ET_DYN;
    phdr(f).p_vaddr = 0;
    auto r = parse(f);
    ASSERT_FALSE(r.is_error());
    EXPECT_TRUE(r.value().position_independent);
    // riscv64 Sv48: TASK_SIZE 2^47, ELF_ET_DYN_BASE two thirds of it.
    EXPECT_EQ(elf_et_dyn_base(u64{1} << 47), ((u64{1} << 47) / 3 * 2) & PAGE_MASK);
}

#ifdef KIOKU_GUEST_BIN_DIR
TEST(RunElf, CrossCompiledProgramParses)
{
    std::ifstream in(std::string(KIOKU_GUEST_BIN_DIR) + "/hello", std::ios::binary);
    ASSERT_TRUE(in.good());
    std::vector<u8> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = parse(f);
    ASSERT_FALSE(r.is_error());
    EXPECT_FALSE(r.value().position_independent);
    EXPECT_GE(r.value().loads.size(), 2u); // text and data
    EXPECT_EQ(r.value().phentsize, sizeof(Elf64_Phdr));
    bool entry_in_text = false;
    for (auto& seg : r.value().loads)
        if ((seg.flags & PF_X) && r.value().entry >= seg.vaddr && r.value().entry < seg.vaddr + seg.memsz)
            entry_in_text = true;
    EXPECT_TRUE(entry_in_text);
}
#endif

TEST(RunStack, LayoutIsLinuxs)
{
    StackSpec spec;
    spec.argv = {"prog", "arg1"};
    spec.envp = {"A=1", "HOME=/"};
    spec.execfn = "/bin/prog";
    for (u8 i = 0; i < 16; ++i)
        spec.random[i] = i;
    spec.auxv = {{AT_PAGESZ_, 4096}, {AT_RANDOM_, 0}, {AT_EXECFN_, 0}};
    u64 top = u64{1} << 47;
    InitialStack s = build_initial_stack(top, spec);
    EXPECT_EQ(s.sp % 16, 0u);
    EXPECT_EQ(s.sp + s.bytes.size(), top);
    EXPECT_EQ(word_at(s, s.sp), 2u); // argc
    EXPECT_EQ(string_at(s, word_at(s, s.sp + 8)), "prog");
    EXPECT_EQ(string_at(s, word_at(s, s.sp + 16)), "arg1");
    EXPECT_EQ(word_at(s, s.sp + 24), 0u);
    EXPECT_EQ(string_at(s, word_at(s, s.sp + 32)), "A=1");
    EXPECT_EQ(string_at(s, word_at(s, s.sp + 40)), "HOME=/");
    EXPECT_EQ(word_at(s, s.sp + 48), 0u);
    u64 aux = s.sp + 56;
    EXPECT_EQ(word_at(s, aux), AT_PAGESZ_);
    EXPECT_EQ(word_at(s, aux + 8), 4096u);
    EXPECT_EQ(word_at(s, aux + 16), AT_RANDOM_);
    u64 random = word_at(s, aux + 24);
    EXPECT_EQ(s.bytes[random - s.sp + 15], 15);
    EXPECT_EQ(word_at(s, aux + 32), AT_EXECFN_);
    EXPECT_EQ(string_at(s, word_at(s, aux + 40)), "/bin/prog");
    EXPECT_EQ(word_at(s, aux + 48), AT_NULL_);
    // Strings sit at the top, argv lowest, execfn just under the last pointer-sized slot.
    EXPECT_EQ(s.arg_start, word_at(s, s.sp + 8));
    EXPECT_EQ(word_at(s, aux + 40) + std::strlen("/bin/prog") + 1, top - 8);
    EXPECT_LT(random, s.arg_start);
}

} // namespace kioku::test
