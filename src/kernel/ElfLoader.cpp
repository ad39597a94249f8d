#include "kernel/ElfLoader.h"

#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/Cgroups.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Vfs.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

// Linux's initial stack VMA after execve: 128 KiB plus a page (setup_arg_pages).
constexpr u64 INITIAL_STACK_BYTES = (u64{128} << 10) + PAGE_SIZE;
// More program headers than fit in 64 KiB is refused, as load_elf_phdrs does.
constexpr u64 MAX_PHDRS_BYTES = 65536;

Error noexec(const char* why)
{
    return Error::from_errno(ENOEXEC, why);
}

Result<void> check_ehdr(const Elf64_Ehdr& eh, u64 file_size)
{
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return noexec("not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64)
        return noexec("not a 64-bit ELF file");
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return noexec("not a little-endian ELF file");
    if (eh.e_ident[EI_VERSION] != EV_CURRENT)
        return noexec("unknown ELF version");
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return noexec("not an executable (ELF type is neither EXEC nor DYN)");
    if (eh.e_machine != EM_RISCV)
        return noexec("not a RISC-V executable");
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return noexec("bad program header size");
    if (eh.e_phnum == 0 || u64{eh.e_phnum} * sizeof(Elf64_Phdr) > MAX_PHDRS_BYTES)
        return noexec("bad program header count");
    if (eh.e_phoff > file_size || file_size - eh.e_phoff < u64{eh.e_phnum} * sizeof(Elf64_Phdr))
        return noexec("program headers lie beyond the end of the file");
    return {};
}

Result<void> check_load(const Elf64_Phdr& ph, u64 file_size)
{
    if (ph.p_filesz > ph.p_memsz)
        return noexec("PT_LOAD segment with filesz > memsz");
    if (ph.p_offset > file_size || file_size - ph.p_offset < ph.p_filesz)
        return noexec("PT_LOAD segment beyond the end of the file");
    if ((ph.p_vaddr & (PAGE_SIZE - 1)) != (ph.p_offset & (PAGE_SIZE - 1)))
        return noexec("PT_LOAD segment whose address and offset disagree modulo the page size");
    if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
        return noexec("PT_LOAD segment wraps around the address space");
    return {};
}

int prot_of(u32 flags)
{
    int prot = 0;
    if (flags & PF_R)
        prot |= PROT_READ_;
    if (flags & PF_W)
        prot |= PROT_WRITE_;
    if (flags & PF_X)
        prot |= PROT_EXEC_;
    return prot;
}

std::string comm_of(const std::string& path)
{
    auto slash = path.find_last_of('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    return base.substr(0, 15); // TASK_COMM_LEN - 1
}

// The interpreter's path (load_elf_binary): a NUL-terminated string of 2 to PATH_MAX bytes.
Result<std::string> read_interpreter(const ElfReader& read, const Elf64_Phdr& ph, u64 file_size)
{
    constexpr u64 PATH_MAX_ = 4096;
    if (ph.p_filesz < 2 || ph.p_filesz > PATH_MAX_)
        return noexec("bad interpreter path size");
    if (ph.p_offset > file_size || file_size - ph.p_offset < ph.p_filesz)
        return noexec("interpreter path beyond the end of the file");
    std::string path(ph.p_filesz, '\0');
    if (!read(ph.p_offset, ph.p_filesz, reinterpret_cast<u8*>(path.data())))
        return noexec("cannot read the interpreter path");
    if (path.back() != '\0')
        return noexec("interpreter path not terminated");
    path.resize(std::strlen(path.c_str()));
    if (path.empty())
        return noexec("empty interpreter path");
    return path;
}

} // namespace

Result<ElfImage> parse_elf(const ElfReader& read, u64 file_size)
{
    Elf64_Ehdr eh{};
    if (file_size < sizeof eh || !read(0, sizeof eh, reinterpret_cast<u8*>(&eh)))
        return noexec("file too short for an ELF header");
    TRY(check_ehdr(eh, file_size));
    std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
    if (!read(eh.e_phoff, phdrs.size() * sizeof(Elf64_Phdr), reinterpret_cast<u8*>(phdrs.data())))
        return noexec("cannot read the program headers");
    ElfImage image;
    image.position_independent = eh.e_type == ET_DYN;
    image.entry = eh.e_entry;
    image.phoff = eh.e_phoff;
    image.phentsize = eh.e_phentsize;
    image.phnum = eh.e_phnum;
    for (auto& ph : phdrs) {
        if (ph.p_type == PT_INTERP && !image.interpreter)
            image.interpreter = TRY(read_interpreter(read, ph, file_size));
        if (ph.p_type == PT_PHDR)
            image.phdr_vaddr = ph.p_vaddr;
        if (ph.p_type != PT_LOAD)
            continue;
        TRY(check_load(ph, file_size));
        if (!image.loads.empty() && ph.p_vaddr < image.loads.back().vaddr + image.loads.back().memsz)
            return noexec("PT_LOAD segments overlap or are out of order");
        image.loads.push_back({ph.p_vaddr, ph.p_memsz, ph.p_filesz, ph.p_offset, ph.p_flags});
        if (ph.p_align > image.max_align && (ph.p_align & (ph.p_align - 1)) == 0)
            image.max_align = ph.p_align;
    }
    if (image.loads.empty())
        return noexec("no loadable segment");
    if (!image.phdr_vaddr) {
        // As Linux 6.x does: the headers are in memory when a PT_LOAD covers their file offset.
        for (auto& seg : image.loads) {
            if (image.phoff >= seg.offset && image.phoff < seg.offset + seg.filesz) {
                image.phdr_vaddr = seg.vaddr + (image.phoff - seg.offset);
                break;
            }
        }
    }
    return image;
}

InitialStack build_initial_stack(u64 stack_top, const StackSpec& spec)
{
    // Strings first, top down from one pointer below the top: execfn, then envp and argv, each
    // list copied last string first so that argv[0] ends lowest (copy_strings). Laid out here in
    // address order in one pass: argv, envp, execfn.
    u64 total = spec.execfn.size() + 1;
    for (const auto* list : {&spec.argv, &spec.envp})
        for (const auto& s : *list)
            total += s.size() + 1;
    std::vector<u8> strings;
    strings.reserve(total);
    auto append = [&](const std::string& s) {
        const u8* bytes = reinterpret_cast<const u8*>(s.c_str());
        strings.insert(strings.end(), bytes, bytes + s.size() + 1); // with its NUL
    };
    for (const auto& a : spec.argv)
        append(a);
    u64 argv_bytes = strings.size();
    for (const auto& e : spec.envp)
        append(e);
    u64 env_bytes = strings.size() - argv_bytes;
    append(spec.execfn);
    u64 top = stack_top - sizeof(u64);
    u64 arg_start = top - strings.size();
    u64 env_start = arg_start + argv_bytes;
    u64 execfn_addr = env_start + env_bytes;

    u64 p = arg_start & ~u64{15};
    p -= spec.random.size();
    u64 random_addr = p;

    std::vector<std::pair<u64, u64>> auxv = spec.auxv;
    for (auto& [key, value] : auxv) {
        if (key == AT_RANDOM_)
            value = random_addr;
        if (key == AT_EXECFN_)
            value = execfn_addr;
    }
    auxv.emplace_back(AT_NULL_, 0);
    u64 words = 1 + (spec.argv.size() + 1) + (spec.envp.size() + 1) + 2 * auxv.size();
    u64 sp = (p - words * sizeof(u64)) & ~u64{15};

    InitialStack out;
    out.sp = sp;
    out.arg_start = arg_start;
    out.env_start = env_start;
    out.env_end = execfn_addr;
    out.bytes.assign(stack_top - sp, 0);
    auto put = [&](u64 addr, const void* src, u64 n) { std::memcpy(out.bytes.data() + (addr - sp), src, n); };
    put(arg_start, strings.data(), strings.size());
    put(random_addr, spec.random.data(), spec.random.size());
    u64 cursor = sp;
    auto word = [&](u64 v) {
        put(cursor, &v, sizeof v);
        cursor += sizeof v;
    };
    word(spec.argv.size());
    u64 s = arg_start;
    for (auto& a : spec.argv) {
        word(s);
        s += a.size() + 1;
    }
    word(0);
    for (auto& e : spec.envp) {
        word(s);
        s += e.size() + 1;
    }
    word(0);
    for (auto& [key, value] : auxv) {
        word(key);
        word(value);
    }
    return out;
}

namespace {

struct OpenedExecutable {
    std::shared_ptr<Inode> inode;
    ElfImage image;
};

// generic_permission for MAY_EXEC: the owner's x bit for the file's owner, else the group's for
// a member of its group, else the others'; CAP_DAC_OVERRIDE runs a file any x bit is set on.
bool may_exec(const struct stat& st, const Credentials& c)
{
    if (c.capable(CAP_DAC_OVERRIDE))
        return st.st_mode & 0111;
    if (c.fsuid == st.st_uid)
        return st.st_mode & S_IXUSR;
    if (c.in_group(st.st_gid))
        return st.st_mode & S_IXGRP;
    return st.st_mode & S_IXOTH;
}

Result<OpenedExecutable> open_executable(Kernel& kernel, const std::string& path, const Credentials& creds)
{
    auto inode = TRY(kernel.vfs().open(path, O_RDONLY, 0));
    struct stat st {};
    if (::fstat(inode->host_fd(), &st) != 0)
        return Error::from_errno(EACCES, "cannot stat the executable");
    if (S_ISDIR(st.st_mode))
        return Error::from_errno(EACCES, "is a directory");
    if (!S_ISREG(st.st_mode) || !may_exec(st, creds))
        return Error::from_errno(EACCES, "not an executable file, or not for this user");
    // Through the page cache, as kernel_read: a program just written may not be on the host yet.
    ElfReader read = [&kernel, &inode](u64 offset, u64 len, u8* out) {
        return !kernel.mm().page_cache().read(*inode, offset, len, out).is_error();
    };
    auto image = TRY(parse_elf(read, inode->size()));
    return OpenedExecutable{std::move(inode), std::move(image)};
}

// Maps one PT_LOAD segment (elf_map and the bss part of load_elf_binary).
Result<void> map_segment(Kernel& kernel, Process& p, const std::shared_ptr<Inode>& file,
                         const ElfSegment& seg, u64 bias)
{
    AddressSpace& space = p.space();
    int prot = prot_of(seg.flags);
    u64 start = (seg.vaddr + bias) & PAGE_MASK;
    u64 lead = (seg.vaddr + bias) - start;
    if (seg.filesz) {
        u64 len = page_round_up(lead + seg.filesz);
        TRY(space.mmap(start, len, prot, MAP_PRIVATE_ | MAP_FIXED_ | MAP_DENYWRITE_, file, seg.offset - lead,
                       FileAccess{true, false}));
    }
    if (seg.memsz <= seg.filesz)
        return {};
    // The rest of the last file page is zeroed to the page's end (padzero), not only up to memsz:
    // the dynamic loader's first allocations take the room after its bss there and count on the
    // zeros. Then anonymous pages up to memsz.
    u64 file_end = seg.vaddr + bias + seg.filesz;
    u64 mem_end = seg.vaddr + bias + seg.memsz;
    u64 zero_end = page_round_up(file_end);
    if (seg.filesz && zero_end > file_end && (prot & PROT_WRITE_))
        TRY(kernel.clear_user(p.pid(), file_end, zero_end - file_end));
    u64 anon_start = page_round_up(file_end);
    u64 anon_end = page_round_up(mem_end);
    if (anon_end > anon_start) {
        // vm_brk_flags: a heap-like anonymous VMA, which a growing heap later merges with.
        space.set_brk_start(anon_start);
        if (space.brk(anon_end) != anon_end)
            return Error::from_errno(ENOMEM, "no room for bss");
        if (prot & PROT_EXEC_)
            TRY(space.mprotect(anon_start, anon_end - anon_start, prot | PROT_READ_ | PROT_WRITE_));
    }
    return {};
}

u64 load_bias_for(const ElfImage& image, u64 task_size)
{
    if (!image.position_independent)
        return 0;
    u64 base = elf_et_dyn_base(task_size) & ~(image.max_align - 1);
    return (base - image.loads.front().vaddr) & PAGE_MASK;
}

// The interpreter of a dynamically linked program, opened before the point of no return as
// load_elf_binary does: a missing one fails execve with ENOENT, a bad one with ENOEXEC or EACCES.
Result<OpenedExecutable> open_interpreter(Kernel& kernel, const std::string& path, const Credentials& creds)
{
    auto interp = open_executable(kernel, path, creds);
    if (interp.is_error()) {
        if (interp.error().code == ENOENT)
            return Error::from_errno(ENOENT, "the program's interpreter (dynamic loader) is not in the guest "
                                             "root; kioku run --sysroot DIR provides one");
        return interp.error();
    }
    return interp;
}

// Maps the interpreter (load_elf_interp): the first segment is mapped with room for the whole
// image wherever get_unmapped_area puts it (top down from mmap_base), the room beyond that
// segment is given back, and the other segments follow at their offsets from it. Returns the load
// bias, which AT_BASE reports.
Result<u64> map_interpreter(Kernel& kernel, Process& p, const OpenedExecutable& interp)
{
    AddressSpace& space = p.space();
    const auto& loads = interp.image.loads;
    u64 first = loads.front().vaddr & PAGE_MASK;
    u64 total = page_round_up(loads.back().vaddr + loads.back().memsz) - first;
    u64 bias = 0;
    if (interp.image.position_independent) {
        const ElfSegment& seg = loads.front();
        u64 offset = seg.offset & PAGE_MASK;
        u64 at = TRY(space.mmap(0, total, prot_of(seg.flags), MAP_PRIVATE_ | MAP_DENYWRITE_, interp.inode,
                                offset, FileAccess{true, false}));
        u64 first_len = page_round_up((seg.vaddr & ~PAGE_MASK) + seg.filesz);
        if (total > first_len)
            TRY(space.munmap(at + first_len, total - first_len));
        bias = at - first;
    }
    for (auto& seg : loads)
        TRY(map_segment(kernel, p, interp.inode, seg, bias));
    return bias;
}

} // namespace

Result<LoadedProgram> exec_elf(Kernel& kernel, i32 pid, ExecRequest request, bool* past_no_return)
{
    *past_no_return = false;
    Process* p = kernel.process(pid);
    if (!p || !p->alive())
        return Error::from_errno(ESRCH, "no such process");
    // The new image is charged to the process's memory cgroup, whoever asked for the exec.
    ActiveMemcg charge_to(kernel.mm().memcg(), p->cgroup ? &p->cgroup->effective_memcg() : nullptr);
    auto exe = TRY(open_executable(kernel, request.path, p->creds));
    std::optional<OpenedExecutable> interp;
    if (exe.image.interpreter)
        interp = TRY(open_interpreter(kernel, *exe.image.interpreter, p->creds));
    auto space = TRY(kernel.mm().create_address_space());
    TRY(space->set_exe_file(exe.inode)); // ETXTBSY while it is open for writing
    u64 task_size = space->task_size();
    for (const OpenedExecutable* image : {&exe, interp ? &*interp : nullptr}) {
        if (!image)
            continue;
        for (auto& seg : image->image.loads)
            if (seg.vaddr + seg.memsz > task_size)
                return noexec("segment beyond the user address space");
    }

    // Point of no return: the old image goes.
    *past_no_return = true;
    p->exec(std::move(space), comm_of(request.path));
    AddressSpace& as = p->space();
    TRY(as.setup_stack(task_size, INITIAL_STACK_BYTES));
    u64 bias = load_bias_for(exe.image, task_size);
    u64 bss_end = 0;
    for (auto& seg : exe.image.loads) {
        TRY(map_segment(kernel, *p, exe.inode, seg, bias));
        bss_end = std::max(bss_end, seg.vaddr + bias + seg.memsz);
    }
    u64 entry = exe.image.entry + bias;
    u64 interp_base = 0;
    if (interp) {
        u64 interp_bias = TRY(map_interpreter(kernel, *p, *interp));
        interp_base = interp_bias + (interp->image.loads.front().vaddr & PAGE_MASK);
        entry = interp->image.entry + interp_bias;
    }
    // After the interpreter, whose bss is placed the way the program's is: the heap is the program's.
    as.set_brk_start(page_round_up(bss_end));
    // arch_setup_additional_pages: the vDSO goes where the next mmap would, below the interpreter.
    FileAccess read_only;
    read_only.readable = true;
    u64 vdso =
        TRY(as.mmap(0, PAGE_SIZE, PROT_READ_ | PROT_EXEC_, MAP_PRIVATE_, TRY(kernel.vdso()), 0, read_only));
    Vma* vdso_vma = as.vma_containing(VirtAddr(vdso));
    vdso_vma->name = "[vdso]";
    vdso_vma->flags |= VM_DONTEXPAND;
    as.set_vdso_base(vdso);

    StackSpec spec;
    spec.argv = std::move(request.argv);
    spec.envp = std::move(request.envp);
    spec.execfn = request.path;
    spec.random = request.random;
    u64 phdr = exe.image.phdr_vaddr ? *exe.image.phdr_vaddr + bias : 0;
    spec.auxv = {
        {AT_MINSIGSTKSZ_, 1104},
        {AT_HWCAP_, RISCV_HWCAP_IMAFDC},
        {AT_PAGESZ_, PAGE_SIZE},
        {AT_CLKTCK_, 100},
        {AT_PHDR_, phdr},
        {AT_PHENT_, exe.image.phentsize},
        {AT_PHNUM_, exe.image.phnum},
        {AT_BASE_, interp_base},
        {AT_FLAGS_, 0},
        {AT_ENTRY_, exe.image.entry + bias},
        {AT_UID_, p->creds.uid},
        {AT_EUID_, p->creds.euid},
        {AT_GID_, p->creds.gid},
        {AT_EGID_, p->creds.egid},
        {AT_SECURE_, 0},
        {AT_RANDOM_, 0},
        {AT_EXECFN_, 0},
    };
    InitialStack stack = build_initial_stack(task_size, spec);
    TRY(kernel.copy_to_user(pid, stack.sp, stack.bytes));
    as.set_start_stack(stack.sp);
    return LoadedProgram{entry, stack.sp, bias};
}

} // namespace kioku
