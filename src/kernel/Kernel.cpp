#include "kernel/Kernel.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "abi/Signal.h"
#include "hw/Machine.h"
#include "kernel/Cgroups.h"
#include "kernel/HugetlbFs.h"
#include "kernel/Mounts.h"
#include "kernel/OomKiller.h"
#include "kernel/ProcFs.h"
#include "kernel/Process.h"
#include "kernel/Realtime.h"
#include "kernel/Vfs.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/swap/SwapArea.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"

namespace kioku {

using namespace isa;

namespace {

// A spawned process looks like a tiny static program: its heap starts here and its stack is the
// 128 KiB plus one page that Linux's setup_arg_pages leaves after execve.
constexpr u64 SPAWN_BRK_START = 0x40'0000;
constexpr u64 INITIAL_STACK = (u64{128} << 10) + PAGE_SIZE;

constexpr int SWAP_PRIORITY_MAX = 0x7fff; // SWAP_FLAG_PRIO_MASK

} // namespace

Kernel::Kernel(const MachineConfig& config)
    : m_config(config)
{
}

Kernel::~Kernel()
{
    shutdown();
    m_processes.clear();
    m_shm.reset();     // after the processes, whose attaches it observes
    m_mounts->clear(); // their files' pages go back before the pools they came from
    m_vdso.reset();    // its page too, before the page cache goes
    m_disk.reset();    // and the block devices' buffer caches
    m_swap_nodes.clear();
    if (m_mm)
        m_mm->page_cache().set_contents_hook({}); // it tells the Vfs
    m_vfs.reset();
    m_cgroups.reset(); // it observes the memory manager's stalls
    m_mm.reset();
    m_machine.reset();
}

Result<std::unique_ptr<Kernel>> Kernel::create(const MachineConfig& config)
{
    if (config.mem_bytes < (u64{8} << 20) || !is_page_aligned(config.mem_bytes))
        return Error::from_errno(EINVAL, "memory size must be a multiple of 4 KiB and at least 8 MiB");
    if (config.mem_bytes > (u64{64} << 30))
        return Error::from_errno(EINVAL, "memory size above 64 GiB is not supported");
    if (config.tlb.ways == 0 || config.tlb.entries % config.tlb.ways != 0 ||
        ((config.tlb.entries / config.tlb.ways) & (config.tlb.entries / config.tlb.ways - 1)) != 0)
        return Error::from_errno(EINVAL, "TLB sets (entries / ways) must be a power of two");
    std::unique_ptr<Kernel> kernel(new Kernel(config));
    MachineShape shape;
    shape.mem_bytes = config.mem_bytes;
    shape.tlb = config.tlb;
    kernel->m_machine = std::make_unique<Machine>(shape);
    Machine& m = *kernel->m_machine;
    kernel->m_mm = std::make_unique<MemoryManager>(m.memory(), m.tlb(), m.clock(), config.paging);
    kernel->m_mm->page_cache().set_disk(&m.disk());
    kernel->m_oom = std::make_unique<OomKiller>(*kernel);
    kernel->m_shm = std::make_unique<SysvShm>(*kernel);
    kernel->m_mounts = std::make_unique<MemoryMounts>(*kernel->m_mm);
    kernel->m_cgroups = std::make_unique<Cgroups>(*kernel);
    kernel->m_mm->set_oom_handler(kernel->m_oom.get());
    kernel->m_vfs = TRY(Vfs::create(kernel->m_mm->page_cache(), config.root_dir));
    Kernel* k = kernel.get();
    kernel->m_vfs->set_clock([k] { return REALTIME_EPOCH_S * NS_PER_SEC + k->now_ns(); });
    kernel->m_mm->page_cache().set_contents_hook([k](Inode& inode) {
        if (k->m_vfs)
            k->m_vfs->changed(inode);
    });
    // set_max_threads: RAM / (8 * THREAD_SIZE), THREAD_SIZE being 16 KiB on riscv64, within
    // [MIN_THREADS, FUTEX_TID_MASK].
    kernel->m_threads_max =
        std::clamp<u64>(kernel->m_mm->total_ram_pages() * PAGE_SIZE / (8 * 16384), 20, 0x3fffffff);
    if (config.disk_limit)
        kernel->m_vfs->set_disk_limit(config.disk_limit);
    if (!config.disk_image.empty() || config.disk_bytes)
        TRY(kernel->attach_disk(config));
    return kernel;
}

// /dev/vda: an inode over the image file, marked as a block device, so that its page cache is the
// buffer cache. Its size is the image's, in whole 512-byte sectors; a scratch image is made in
// the host's temporary directory and unlinked at once, so it goes with the machine.
Result<void> Kernel::attach_disk(const MachineConfig& config)
{
    int fd = -1;
    if (!config.disk_image.empty()) {
        fd = ::open(config.disk_image.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return Error::from_errno(errno, "cannot open the disk image");
    } else {
        char name[] = "/tmp/kioku-disk-XXXXXX";
        fd = ::mkstemp(name);
        if (fd < 0)
            return Error::from_errno(errno, "cannot make a scratch disk image");
        ::unlink(name);
        if (::ftruncate(fd, static_cast<off_t>(config.disk_bytes)) != 0) {
            ::close(fd);
            return Error::from_errno(errno, "cannot size the scratch disk image");
        }
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 512) {
        ::close(fd);
        return Error::from_errno(EINVAL, "the disk image must be a regular file of at least 512 bytes");
    }
    u64 size = static_cast<u64>(st.st_size) & ~u64{511};
    m_disk = m_mm->page_cache().create_host(fd, 1, DISK_PATH, size);
    m_disk->set_block_device();
    m_disk->set_device(DISK_MAJOR, 0);
    return {};
}

Process* Kernel::process(Pid pid)
{
    auto it = m_processes.find(pid);
    return it == m_processes.end() ? nullptr : it->second.get();
}

bool Kernel::is_alive(Pid pid)
{
    Process* p = process(pid);
    return p && p->alive();
}

std::vector<Pid> Kernel::pids() const
{
    std::vector<Pid> out;
    for (auto& [pid, proc] : m_processes)
        if (proc->alive())
            out.push_back(pid);
    return out;
}

u64 Kernel::now_ns() const
{
    return m_machine->clock().now_ns();
}

void Kernel::log(const std::string& line)
{
    m_log.push_back(line);
    if (m_log_sink)
        *m_log_sink << line << '\n';
}

void Kernel::panic(const std::string& reason)
{
    if (m_panicked)
        return;
    log("Kernel panic - not syncing: " + reason);
    m_panicked = true;
    halt_processes();
}

void Kernel::halt_processes()
{
    // Nothing runs after a panic, so every process ends here with the status of SIGKILL. The one
    // whose fault or call is being served still has its memory in use: it is marked, as an OOM
    // victim would be, and dies of SIGKILL when that returns.
    for (auto& [pid, p] : m_processes) {
        if (!p->alive())
            continue;
        if (pid == m_serving)
            p->oom_victim = true;
        else
            p->terminate(0, SIGKILL);
    }
}

Result<void> Kernel::swapon(u64 bytes, std::optional<int> priority, const std::string& host_file)
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    if (priority && (*priority < 0 || *priority > SWAP_PRIORITY_MAX))
        return Error::from_errno(EINVAL, "a swap priority is 0 to 32767");
    u32 type = TRY(m_mm->swapon(bytes, priority, host_file));
    // A swap partition (a device of the machine, not a host file) is a block device node too:
    // reading it goes through its buffer cache, as reading Linux's /dev/zram0 or /dev/sdb2 does.
    SwapArea* area = m_mm->swap().area(type);
    if (area && area->kind() == SwapArea::Kind::Partition) {
        auto node = m_mm->page_cache().create_host(-1, 0x100 + type, area->name(),
                                                   area->device().block_count() * PAGE_SIZE);
        node->set_block_device();
        node->set_backing_device(&area->device());
        node->set_device(SWAP_MAJOR, type);
        m_swap_nodes[area->name()] = std::move(node);
    }
    return {};
}

std::shared_ptr<Inode> Kernel::block_device(const std::string& path)
{
    if (path == DISK_PATH)
        return m_disk;
    auto it = m_swap_nodes.find(path);
    return it == m_swap_nodes.end() ? nullptr : it->second;
}

bool Kernel::swap_in_use(const std::string& path)
{
    return m_swap_nodes.count(path) != 0;
}

std::vector<std::pair<std::string, Inode*>> Kernel::block_devices()
{
    std::vector<std::pair<std::string, Inode*>> out;
    if (m_disk)
        out.emplace_back("vda", m_disk.get());
    for (auto& [path, node] : m_swap_nodes)
        out.emplace_back(path.substr(5), node.get());
    return out;
}

Result<void> Kernel::swapoff(const std::string& name)
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    auto node = m_swap_nodes.find(name);
    if (node != m_swap_nodes.end()) {
        // Its buffer cache reaches the device before the device goes.
        (void)m_mm->page_cache().writeback(*node->second);
        m_mm->page_cache().flusher().wait_all();
    }
    TRY(m_mm->swapoff(name));
    if (node != m_swap_nodes.end()) {
        // The partition is gone: its cached pages with it, and a descriptor still open on it
        // reads EIO.
        m_mm->page_cache().truncate(*node->second, 0);
        node->second->set_size(0);
        node->second->detach_device();
        m_swap_nodes.erase(node);
    }
    after_operation();
    return {};
}

Result<void> Kernel::set_replacement_policy(const std::string& name)
{
    return m_mm->set_replacement_policy(name);
}

void Kernel::after_operation()
{
    m_mm->background_work();
    if (!m_config.check_invariants)
        return;
    std::string report = check_report();
    if (!report.empty()) {
        std::fprintf(stderr, "kioku: invariant check failed:\n%s", report.c_str());
        VERIFY(false && "memory-manager invariants broken");
    }
}

Kernel::Call::Call(Kernel& kernel, Process& process)
    : m_kernel(&kernel)
    , m_process(&process)
    , m_previous(kernel.m_serving)
{
    kernel.m_serving = process.pid();
    // What the call allocates is charged to the process's memory cgroup.
    m_previous_memcg = kernel.mm().memcg().active();
    kernel.mm().memcg().set_active(process.cgroup ? &process.cgroup->effective_memcg() : nullptr);
    // Faults are counted for the task running in the space (it may be shared).
    if (process.has_space())
        process.space().set_fault_counters(&process.faults());
}

Kernel::Call::Call(Call&& other) noexcept
    : m_kernel(std::exchange(other.m_kernel, nullptr))
    , m_process(other.m_process)
    , m_previous(other.m_previous)
    , m_previous_memcg(other.m_previous_memcg)
{
}

Kernel::Call::~Call()
{
    if (!m_kernel)
        return;
    m_kernel->m_serving = m_previous;
    m_kernel->mm().memcg().set_active(m_previous_memcg);
    if (m_previous == 0) // the call returns to the program: memory.high is settled (Memcg.h)
        m_kernel->mm().handle_over_high();
    if (m_previous == 0)
        m_kernel->reap_oom_victims();
}

Result<Kernel::Call> Kernel::enter(Pid pid)
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    Process* p = process(pid);
    if (!p || !p->alive())
        return Error::from_errno(ESRCH, "no such process");
    return Call(*this, *p);
}

Process* Kernel::current()
{
    if (Process* p = process(m_serving); p && p->alive())
        return p;
    AddressSpace* space = m_mm->current_space();
    if (!space)
        return nullptr;
    for (auto& [pid, p] : m_processes)
        if (p->alive() && p->has_space() && &p->space() == space)
            return p.get();
    return nullptr;
}

void Kernel::reap_oom_victims()
{
    for (auto& [pid, p] : m_processes)
        if (p->alive() && p->oom_victim)
            p->terminate(0, SIGKILL);
}

Result<Pid> Kernel::spawn(const std::string& name, Pid parent)
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    // The new process starts in its parent's control group, and its space is charged there.
    Process* up = process(parent);
    Cgroup* group = up && up->cgroup ? up->cgroup : &m_cgroups->root();
    ActiveMemcg charge_to(m_mm->memcg(), &group->effective_memcg());
    auto space = TRY(m_mm->create_address_space());
    TRY(space->setup_stack(space->task_size(), INITIAL_STACK));
    space->set_brk_start(SPAWN_BRK_START);
    Pid pid = TRY(allocate_pid());
    auto proc = std::make_unique<Process>(pid, parent, name, std::move(space),
                                          ResourceLimits::initial(m_mm->total_ram_pages()));
    proc->cgroup = group;
    if (proc->charges_failed())
        return Error::from_errno(ENOMEM, "no memory for the task's kernel objects");
    proc->start_time_ns = now_ns();
    m_processes.emplace(pid, std::move(proc));
    after_operation();
    return pid;
}

bool Kernel::task_exists(Pid pid, Pid tid) const
{
    return m_task_exists ? m_task_exists(pid, tid) : tid == pid;
}

Kernel::TaskView Kernel::task_view(const Process& p, Pid tid) const
{
    if (m_task_view)
        if (auto v = m_task_view(tid ? tid : p.pid()))
            return *v;
    TaskView v;
    v.state = p.alive() ? TaskState::Running : TaskState::Zombie;
    v.ppid = p.ppid();
    v.pgid = v.sid = p.pid();
    return v;
}

Result<Pid> Kernel::allocate_pid()
{
    return m_pids.allocate(
        [this](Pid n) { return m_processes.contains(n) || (m_pid_named && m_pid_named(n)); });
}

Result<Pid> Kernel::fork(Pid parent_pid, ShareMemory share)
{
    Call call = TRY(enter(parent_pid));
    Process* parent = call.process();
    std::shared_ptr<AddressSpace> space = parent->shared_space();
    if (share == ShareMemory::No)
        space = TRY(parent->space().fork(m_mm->allocate_asid()));
    Pid pid = TRY(allocate_pid());
    auto child =
        std::make_unique<Process>(pid, parent_pid, parent->name(), std::move(space), parent->rlimits());
    if (child->charges_failed())
        return Error::from_errno(ENOMEM, "no memory for the task's kernel objects");
    child->files() = parent->files();
    child->oom_score_adj = parent->oom_score_adj;
    child->cgroup = parent->cgroup;
    child->creds = parent->creds;
    child->dumpable = parent->dumpable;
    child->limits_changed();
    child->start_time_ns = now_ns();
    m_processes.emplace(pid, std::move(child));
    after_operation();
    return pid;
}

Result<void> Kernel::exit(Pid pid, int status)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    p->terminate(status & 0xff, 0);
    after_operation();
    return {};
}

void Kernel::kill(Pid pid, int signal)
{
    Process* p = process(pid);
    if (!p || !p->alive())
        return;
    p->terminate(0, signal);
    after_operation();
}

Result<u64> Kernel::mmap(Pid pid, u64 addr, u64 length, int prot, int flags, int fd, u64 offset)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    // The order of sys_mmap: offset alignment, then the file descriptor, then do_mmap.
    if (!is_page_aligned(offset))
        return Error::from_errno(EINVAL, "offset not page aligned");
    std::shared_ptr<Inode> file;
    FileAccess access;
    if (!(flags & MAP_ANONYMOUS_)) {
        auto it = p->files().find(fd);
        if (it == p->files().end())
            return Error::from_errno(EBADF, "bad file descriptor");
        file = it->second->inode;
        // Only regular files, shmem and block devices have an mmap method; a directory has none.
        struct stat st {};
        if (!file->is_shmem() && !file->is_block_device() &&
            (::fstat(file->host_fd(), &st) != 0 || !S_ISREG(st.st_mode)))
            return Error::from_errno(ENODEV, "no mmap for this kind of file");
        // O_APPEND does not stop a shared writable mapping; only the append-only inode attribute
        // would, and guest files never carry it.
        access.readable = it->second->readable;
        access.writable = it->second->writable;
    }
    auto result = p->space().mmap(addr, length, prot, flags, std::move(file), offset, access);
    after_operation();
    return result;
}

Result<u64> Kernel::mmap_zero(Pid pid, u64 addr, u64 length, int prot, int flags, bool readable,
                              bool writable)
{
    Call call = TRY(enter(pid));
    FileAccess access;
    access.readable = readable;
    access.writable = writable;
    access.zero_device = true;
    auto result =
        call.process()->space().mmap(addr, length, prot, flags | MAP_ANONYMOUS_, nullptr, 0, access);
    after_operation();
    return result;
}

Result<void> Kernel::munmap(Pid pid, u64 addr, u64 length)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().munmap(addr, length);
    after_operation();
    return result;
}

Result<void> Kernel::mprotect(Pid pid, u64 addr, u64 length, int prot)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().mprotect(addr, length, prot);
    after_operation();
    return result;
}

Result<void> Kernel::msync(Pid pid, u64 addr, u64 length, int flags)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    auto result = p->space().msync(addr, length, flags);
    after_operation();
    return result;
}

u64 Kernel::brk(Pid pid, u64 addr)
{
    auto call = enter(pid);
    if (call.is_error())
        return 0;
    Process* p = call.value().process();
    u64 result = p->space().brk(addr);
    after_operation();
    return result;
}

// Runs fn over [addr, addr+len) one page piece at a time, translating through the MMU and taking
// page faults as the CPU would. Returns the outcome of the first fault that could not be resolved.
AccessOutcome Kernel::user_access(Process& p, u64 addr, u64 len, AccessType access,
                                  const std::function<void(u8*, u64 done, u64 n)>& fn)
{
    AddressSpace& space = p.space();
    Mmu& mmu = m_machine->mmu();
    u64 done = 0;
    while (done < len) {
        u64 va = addr + done;
        u64 n = std::min(len - done, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        Translation t = mmu.translate(space.satp(), VirtAddr(va), access);
        if (t.faulted) {
            FaultOutcome outcome = m_mm->fault_handler().handle(space, VirtAddr(va), access);
            if (fault_resolved(outcome))
                continue;
            // The kernel's own access to a missing page of a userfaultfd range fails (EFAULT)
            // rather than waiting for the program to fill it, as with UFFD_USER_MODE_ONLY.
            if (outcome == FaultOutcome::Userfault)
                outcome = FaultOutcome::SegvMapErr;
            FaultSignal sig = fault_signal(outcome);
            AccessOutcome out;
            out.fault_addr = va;
            out.si_code = sig.code;
            out.kind = sig.signo == SIGSEGV_  ? AccessOutcome::Kind::Segv
                       : sig.signo == SIGBUS_ ? AccessOutcome::Kind::Bus
                                              : AccessOutcome::Kind::Oom;
            return out;
        }
        m_mm->page_accessed(pfn_of(t.pa));
        fn(m_machine->memory().ptr(t.pa), done, n);
        done += n;
    }
    return {};
}

Result<u64> Kernel::access_process_vm(Pid pid, u64 addr, std::span<u8> bytes, bool write)
{
    Process* p = process(pid);
    if (!p || !p->alive() || !p->has_space())
        return u64{0}; // no mm any more: nothing to read or write (mem_rw)
    AddressSpace& space = p->space();
    Mmu& mmu = m_machine->mmu();
    AccessType access = write ? AccessType::Write : AccessType::Read;
    u64 done = 0;
    while (done < bytes.size()) {
        u64 va = addr + done;
        if (va < addr)
            break; // wrapped
        u64 n = std::min<u64>(bytes.size() - done, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        Vma* vma = space.find_vma(VirtAddr(va));
        if (!vma || va < vma->start.value())
            break;
        // check_vma_flags with FOLL_FORCE.
        bool cow = (vma->flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
        bool forced = write ? !(vma->flags & VM_WRITE) : !(vma->flags & VM_READ);
        if (forced && (write ? !cow : !(vma->flags & VM_MAYREAD)))
            break;
        std::optional<PhysAddr> pa;
        if (!forced) {
            for (int tries = 0; tries < 3 && !pa; ++tries) {
                Translation t = mmu.translate(space.satp(), VirtAddr(va), access);
                if (!t.faulted)
                    pa = t.pa;
                else if (!fault_resolved(
                             m_mm->fault_handler().handle_in_vma(space, *vma, VirtAddr(va), access)))
                    break;
            }
        } else {
            // The page behind the PTE, faulted in (for a write: unshared) without the PTE ever
            // becoming writable or readable to the program. A transparent huge page there is split
            // first (the PMD copy-on-write falls back to PTEs, as do_huge_pmd_wp_page does);
            // forced access to hugetlb memory is not modelled.
            if (vma->flags & VM_HUGETLB)
                break;
            VirtAddr base(va & ~(HPAGE_PMD_SIZE - 1));
            for (int tries = 0; tries < 3 && !pa; ++tries) {
                m_mm->thp().split_range(space, base, VirtAddr(base.value() + HPAGE_PMD_SIZE));
                if (space.page_table().huge_leaf(base))
                    break; // could not be split
                PageSlot slot = space.page_table().slot(page_base(VirtAddr(va)), false);
                if (slot && pte_present(*slot)) {
                    Pfn pfn = pte_pfn(*slot);
                    bool own =
                        !write || (m_mm->frames().contains(pfn) && !m_mm->is_zero_pfn(pfn) &&
                                   m_mm->frames()[pfn].has(FF_ANON) && m_mm->frames()[pfn].mapcount == 1);
                    if (own) {
                        if (write)
                            slot.upgrade(PTE_D | PTE_A); // as the hardware would on a store
                        pa = PhysAddr((pfn.value() << PAGE_SHIFT) | (va & (PAGE_SIZE - 1)));
                        break;
                    }
                }
                if (!fault_resolved(m_mm->fault_handler().handle_in_vma(space, *vma, VirtAddr(va), access)))
                    break;
            }
        }
        if (!pa)
            break;
        u8* host = m_machine->memory().ptr(*pa);
        if (write) {
            std::memcpy(host, bytes.data() + done, n);
            m_mm->allocator().frames_changed(pfn_of(*pa), 1); // it may be mapped as code
        } else {
            std::memcpy(bytes.data() + done, host, n);
        }
        m_mm->page_accessed(pfn_of(*pa));
        done += n;
    }
    after_operation();
    if (done == 0 && !bytes.empty())
        return Error::from_errno(EIO, "no memory there to reach");
    return done;
}

AccessOutcome Kernel::deliver(Process& p, AccessOutcome outcome)
{
    switch (outcome.kind) {
    case AccessOutcome::Kind::Ok: break;
    case AccessOutcome::Kind::Segv: p.terminate(0, SIGSEGV); break;
    case AccessOutcome::Kind::Bus: p.terminate(0, SIGBUS); break;
    case AccessOutcome::Kind::Oom: p.terminate(0, SIGKILL); break;
    }
    after_operation();
    return outcome;
}

AccessOutcome Kernel::write_memory(Pid pid, u64 addr, std::span<const u8> bytes)
{
    auto call = enter(pid);
    if (call.is_error())
        return {AccessOutcome::Kind::Segv, addr, SEGV_MAPERR_};
    Process* p = call.value().process();
    auto out = user_access(*p, addr, bytes.size(), AccessType::Write,
                           [&](u8* host, u64 done, u64 n) { std::memcpy(host, bytes.data() + done, n); });
    return deliver(*p, out);
}

AccessOutcome Kernel::read_memory(Pid pid, u64 addr, std::span<u8> bytes)
{
    auto call = enter(pid);
    if (call.is_error())
        return {AccessOutcome::Kind::Segv, addr, SEGV_MAPERR_};
    Process* p = call.value().process();
    auto out = user_access(*p, addr, bytes.size(), AccessType::Read,
                           [&](u8* host, u64 done, u64 n) { std::memcpy(bytes.data() + done, host, n); });
    return deliver(*p, out);
}

AccessOutcome Kernel::fill_memory(Pid pid, u64 addr, u64 length, u8 byte)
{
    auto call = enter(pid);
    if (call.is_error())
        return {AccessOutcome::Kind::Segv, addr, SEGV_MAPERR_};
    Process* p = call.value().process();
    auto out = user_access(*p, addr, length, AccessType::Write,
                           [&](u8* host, u64, u64 n) { std::memset(host, byte, n); });
    return deliver(*p, out);
}

static Result<void> user_copy_result(const AccessOutcome& out)
{
    if (out.kind == AccessOutcome::Kind::Oom)
        return Error::from_errno(ENOMEM, "out of memory");
    if (!out.ok())
        return Error::from_errno(EFAULT, "bad address");
    return {};
}

Result<std::shared_ptr<Inode>> Kernel::vdso()
{
    if (m_vdso)
        return m_vdso;
    auto inode = m_mm->page_cache().create_shmem(PAGE_SIZE, "[vdso]");
    inode->unevictable = true;
    // The vDSO is part of the kernel image on Linux and charged to no group: here, to the root.
    ActiveMemcg nobody(m_mm->memcg(), nullptr);
    bool major = false;
    auto page = m_mm->page_cache().get_page(*inode, 0, 1, &major);
    if (page.is_error())
        return Error::from_errno(ENOMEM, "no memory for the vDSO");
    // __vdso_rt_sigreturn: li a7, 139 (addi a7, zero, 139); ecall.
    const u32 code[2] = {0x08b00893, 0x00000073};
    std::memcpy(m_machine->memory().frame(page.value()), code, sizeof code);
    m_mm->allocator().frames_changed(page.value(), 1);
    m_mm->put_page(page.value());
    m_vdso = inode;
    return m_vdso;
}

Result<void> Kernel::copy_from_user(Pid pid, u64 addr, std::span<u8> bytes)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    return user_copy_result(
        user_access(*p, addr, bytes.size(), AccessType::Read,
                    [&](u8* host, u64 done, u64 n) { std::memcpy(bytes.data() + done, host, n); }));
}

Result<void> Kernel::copy_to_user(Pid pid, u64 addr, std::span<const u8> bytes)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    return user_copy_result(
        user_access(*p, addr, bytes.size(), AccessType::Write,
                    [&](u8* host, u64 done, u64 n) { std::memcpy(host, bytes.data() + done, n); }));
}

Result<void> Kernel::clear_user(Pid pid, u64 addr, u64 length)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    return user_copy_result(user_access(*p, addr, length, AccessType::Write,
                                        [&](u8* host, u64, u64 n) { std::memset(host, 0, n); }));
}

Result<void> Kernel::reap(Pid pid)
{
    auto it = m_processes.find(pid);
    if (it == m_processes.end() || it->second->alive())
        return Error::from_errno(ECHILD, "no such zombie");
    m_processes.erase(it);
    return {};
}

Result<int> Kernel::open(Pid pid, const std::string& path, int flags, int mode)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    int accmode = flags & O_ACCMODE;
    if (accmode == 3)
        return Error::from_errno(EINVAL, "bad access mode");
    std::shared_ptr<Inode> inode;
    std::string name;
    if (auto device = block_device(path)) {
        // A block device: its own inode, never created, truncated or made anew. An exclusive open
        // of a swap partition in use is EBUSY: swapon holds it (O_EXCL on a block device).
        if ((flags & O_EXCL) && swap_in_use(path))
            return Error::from_errno(EBUSY, "the swap area holds the device");
        inode = std::move(device);
    } else if (MemoryMount* m = m_mounts->holding(path, &name)) {
        // A file of /dev/shm, /dev/hugepages or a tmpfs or hugetlbfs the guest mounted.
        inode = TRY(
            m_mounts->open(*m, name, path, flags, static_cast<u32>(mode), p->creds.fsuid, p->creds.fsgid));
        if (accmode != O_RDONLY && inode->write_denied())
            return Error::from_errno(ETXTBSY, "a program runs this file");
        if ((flags & O_TRUNC) && accmode != O_RDONLY)
            TRY(truncate_inode(*inode, 0));
    } else {
        inode = TRY(m_vfs->open(path, flags, mode)); // ETXTBSY before an O_TRUNC there
    }
    auto file = std::make_shared<OpenFile>();
    if (accmode != O_RDONLY) {
        TRY(inode->get_write_access());
        file->write_access = true;
    }
    if (inode->is_block_device()) {
        inode->block_opened();
        file->block_open = true;
    }
    file->inode = std::move(inode);
    file->path = path;
    file->readable = accmode == O_RDONLY || accmode == O_RDWR;
    file->writable = accmode == O_WRONLY || accmode == O_RDWR;
    file->append = flags & O_APPEND;
    int fd = TRY(p->install(std::move(file)));
    after_operation();
    return fd;
}

Result<void> Kernel::close(Pid pid, int fd)
{
    Call call = TRY(enter(pid));
    if (!drop_fd(*call.process(), fd))
        return Error::from_errno(EBADF, "bad file descriptor");
    after_operation();
    return {};
}

bool Kernel::drop_fd(Process& p, int fd)
{
    auto it = p.files().find(fd);
    if (it == p.files().end())
        return false;
    if (it->second->inode)
        m_record_locks.release_posix(*it->second->inode, p.pid());
    p.files().erase(it);
    return true;
}

Result<OpenFile*> Kernel::file_of(Process& p, int fd)
{
    auto it = p.files().find(fd);
    if (it == p.files().end())
        return Error::from_errno(EBADF, "bad file descriptor");
    return it->second.get();
}

Result<u64> Kernel::file_read(Process& p, OpenFile& f, u64 buf, u64 count, u64 offset)
{
    if (!f.readable)
        return Error::from_errno(EBADF, "not open for reading");
    if (HugetlbFile* huge = m_mm->hugetlb().file_of(f.inode.get()))
        return hugetlbfs_read(p, *huge, f.inode->size(), buf, count, offset);
    Inode& inode = *f.inode;
    if (inode.device_gone())
        return Error::from_errno(EIO, "the device is gone (swapoff)");
    u64 size = inode.size();
    if (offset >= size || count == 0)
        return u64{0};
    count = std::min(count, size - offset);
    u64 ra_pages = m_mm->sysctl().read_ahead_kb >> (PAGE_SHIFT - 10);
    u64 done = 0;
    while (done < count) {
        u64 pos = offset + done;
        u64 n = std::min(count - done, PAGE_SIZE - (pos % PAGE_SIZE));
        Pfn page = TRY(m_mm->page_cache().get_page(inode, pos / PAGE_SIZE, ra_pages, nullptr));
        const u8* src = m_machine->memory().frame(page) + pos % PAGE_SIZE;
        auto out = user_access(p, buf + done, n, AccessType::Write,
                               [&](u8* host, u64 d, u64 k) { std::memcpy(host, src + d, k); });
        m_mm->put_page(page); // the pin taken by get_page
        if (!out.ok())
            return done ? Result<u64>(done) : Result<u64>(Error::from_errno(EFAULT, "bad buffer"));
        done += n;
    }
    return done;
}

Result<u64> Kernel::hugetlbfs_read(Process& p, HugetlbFile& file, u64 size, u64 buf, u64 count, u64 offset)
{
    // hugetlbfs_read_iter: the file's huge pages up to its size, a hole reading as zeros.
    if (offset >= size || count == 0)
        return u64{0};
    count = std::min(count, size - offset);
    u64 huge = file.hstate->bytes();
    static const std::array<u8, PAGE_SIZE> ZEROS{};
    u64 done = 0;
    while (done < count) {
        u64 pos = offset + done;
        u64 n = std::min(count - done, PAGE_SIZE - (pos % PAGE_SIZE));
        auto page = file.pages.find(pos / huge);
        const u8* src =
            page == file.pages.end()
                ? ZEROS.data()
                : m_machine->memory().frame(Pfn(page->second.value() + (pos % huge) / PAGE_SIZE)) +
                      pos % PAGE_SIZE;
        auto out = user_access(p, buf + done, n, AccessType::Write,
                               [&](u8* host, u64 d, u64 k) { std::memcpy(host, src + d, k); });
        if (!out.ok())
            return done ? Result<u64>(done) : Result<u64>(Error::from_errno(EFAULT, "bad buffer"));
        done += n;
    }
    return done;
}

Result<u64> Kernel::file_write(Process& p, OpenFile& f, u64 buf, u64 count, u64 offset)
{
    if (!f.writable)
        return Error::from_errno(EBADF, "not open for writing");
    if (is_hugetlbfs(*m_mm, f.inode.get()))
        return Error::from_errno(EINVAL, "hugetlbfs has no write()");
    Inode& inode = *f.inode;
    if (f.append)
        offset = inode.size();
    if (inode.seals & (Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE))
        return Error::from_errno(EPERM, "the file is sealed against writing");
    if (inode.device_gone())
        return Error::from_errno(EIO, "the device is gone (swapoff)");
    if (inode.swap_in_use())
        return Error::from_errno(ETXTBSY, "the swap area holds the device"); // blkdev_write_iter
    if (inode.is_block_device()) {
        // A device does not grow: a write stops at its end, and one that starts there is ENOSPC
        // (blkdev_write_iter).
        if (offset >= inode.size())
            return count ? Result<u64>(Error::from_errno(ENOSPC, "past the end of the device"))
                         : Result<u64>(0);
        count = std::min(count, inode.size() - offset);
    }
    inode.contents_changed();
    u64 done = 0;
    while (done < count) {
        u64 pos = offset + done;
        u64 n = std::min(count - done, PAGE_SIZE - (pos % PAGE_SIZE));
        u64 old_size = inode.size();
        // shmem_write_begin: a grow-sealed file takes no piece that ends past its size.
        if ((inode.seals & Inode::SEAL_GROW) && pos + n > old_size)
            return done ? Result<u64>(done)
                        : Result<u64>(Error::from_errno(EPERM, "the file is sealed against growing"));
        bool grows = pos + n > old_size && !inode.is_shmem();
        if (grows) {
            if (auto full = m_vfs->resize_charge(old_size, pos + n); full.is_error())
                return done ? Result<u64>(done) : Result<u64>(full.error());
        }
        auto got = m_mm->page_cache().get_page(inode, pos / PAGE_SIZE, 1, nullptr);
        if (got.is_error() && grows)
            (void)m_vfs->resize_charge(pos + n, old_size); // the room is given back
        Pfn page = TRY(std::move(got));
        u8* dst = m_machine->memory().frame(page) + pos % PAGE_SIZE;
        auto out = user_access(p, buf + done, n, AccessType::Read,
                               [&](u8* host, u64 d, u64 k) { std::memcpy(dst + d, host, k); });
        if (out.ok()) {
            m_mm->page_cache().set_page_dirty(page);
            m_mm->allocator().frames_changed(page, 1); // it may be mapped as code
        }
        m_mm->put_page(page); // the pin taken by get_page
        if (!out.ok()) {
            if (grows)
                (void)m_vfs->resize_charge(pos + n, old_size);
            return done ? Result<u64>(done) : Result<u64>(Error::from_errno(EFAULT, "bad buffer"));
        }
        done += n;
        if (pos + n > inode.size())
            inode.set_size(pos + n);
    }
    if (done)
        m_vfs->changed(inode); // file_modified
    return done;
}

Result<u64> Kernel::read(Pid pid, int fd, u64 buf, u64 count)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    u64 n = TRY(file_read(*p, *f, buf, count, f->position));
    f->position += n;
    after_operation();
    return n;
}

Result<u64> Kernel::write(Pid pid, int fd, u64 buf, u64 count)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    u64 n = TRY(file_write(*p, *f, buf, count, f->position));
    f->position = (f->append ? f->inode->size() : f->position + n);
    after_operation();
    return n;
}

Result<u64> Kernel::pread(Pid pid, int fd, u64 buf, u64 count, u64 offset)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    auto r = file_read(*p, *f, buf, count, offset);
    after_operation();
    return r;
}

Result<u64> Kernel::pwrite(Pid pid, int fd, u64 buf, u64 count, u64 offset)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    auto r = file_write(*p, *f, buf, count, offset);
    after_operation();
    return r;
}

Result<void> Kernel::ftruncate(Pid pid, int fd, u64 length)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    if (!f->writable)
        return Error::from_errno(EINVAL, "not open for writing");
    return truncate_inode(*f->inode, length);
}

Result<void> Kernel::truncate_inode(Inode& inode, u64 length)
{
    if (inode.is_block_device())
        return Error::from_errno(EINVAL, "a block device has no length to set");
    if (is_hugetlbfs(*m_mm, &inode)) {
        auto r = hugetlbfs_truncate(*m_mm, inode, length);
        after_operation();
        return r;
    }
    if (length > static_cast<u64>(std::numeric_limits<off_t>::max()))
        return Error::from_errno(EFBIG, "file too large");
    if ((length < inode.size() && (inode.seals & Inode::SEAL_SHRINK)) ||
        (length > inode.size() && (inode.seals & Inode::SEAL_GROW)))
        return Error::from_errno(EPERM, "the file is sealed against resizing");
    if (!inode.is_shmem()) {
        TRY(m_vfs->resize_charge(inode.size(), length));
        if (::ftruncate(inode.host_fd(), static_cast<off_t>(length)) != 0)
            return Error::from_errno(errno, "truncate failed");
    }
    m_mm->page_cache().truncate(inode, length);
    inode.contents_changed();
    m_vfs->changed(inode);
    after_operation();
    return {};
}

Result<void> Kernel::set_file_times(Inode& inode, const struct timespec* times)
{
    struct stat st {};
    if (inode.host_fd() < 0 || ::fstat(inode.host_fd(), &st) != 0)
        return inode.set_times(times);
    auto set = m_vfs->set_times(st, times); // on the guest's clock
    return inode.set_times(set.data());
}

Result<void> Kernel::fsync(Pid pid, int fd)
{
    Call call = TRY(enter(pid));
    Process* p = call.process();
    OpenFile* f = TRY(file_of(*p, fd));
    TRY(m_mm->page_cache().writeback(*f->inode));
    after_operation();
    return {};
}

Result<void> Kernel::sync()
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    write_back_everything();
    after_operation();
    return {};
}

void Kernel::write_back_everything()
{
    PageCache& cache = m_mm->page_cache();
    // ksys_sync: every inode's dirty pages (errors are the files' business, not sync's), then
    // everything still in flight.
    for (Inode* inode : std::vector<Inode*>(cache.inodes()))
        (void)cache.writeback(*inode);
    cache.flusher().wait_all();
}

void Kernel::shutdown()
{
    if (m_shut_down)
        return;
    m_shut_down = true;
    // Processes first: exiting unmaps their shared file mappings, which hands the pages they
    // dirtied to the page cache.
    for (auto& [pid, proc] : m_processes)
        if (proc->alive())
            proc->terminate(0, 0);
    // Then the page cache, also after a panic: the machine stops, but the run's files are the
    // user's, and a panic in the model must not become lost data on the host.
    write_back_everything();
}

Result<void> Kernel::sleep(u64 ns)
{
    if (m_panicked)
        return Error::from_errno(EIO, "the kernel has panicked");
    Clock& clock = m_machine->clock();
    Flusher& flusher = m_mm->page_cache().flusher();
    u64 until = ns > ~u64{0} - clock.now_ns() ? ~u64{0} : clock.now_ns() + ns;
    auto next_stop = [&] { return std::min(until, flusher.next_event_ns()); };
    while (clock.now_ns() < until) {
        u64 next = next_stop();
        if (next <= clock.now_ns()) {
            // Work already due: do it, and step on to what it schedules.
            after_operation();
            next = next_stop();
            if (next <= clock.now_ns())
                next = until;
        }
        clock.advance(next - clock.now_ns());
        after_operation();
    }
    return {};
}

Result<void> Kernel::create_file(const std::string& path, std::span<const u8> contents)
{
    TRY(m_vfs->create_file(path, contents.data(), contents.size()));
    after_operation();
    return {};
}

Result<std::string> Kernel::read_proc(Pid viewer, const std::string& path)
{
    ProcFs procfs(*this);
    return procfs.read(viewer, path);
}

Result<void> Kernel::write_proc(Pid viewer, const std::string& path, const std::string& value)
{
    ProcFs procfs(*this);
    auto r = procfs.write(viewer, path, value);
    after_operation();
    return r;
}

Result<std::vector<u64>> Kernel::pagemap(Pid pid, u64 addr, u64 pages)
{
    return ProcFs(*this).pagemap(pid, addr, pages);
}

Result<ProcmapAnswer> Kernel::procmap_query(Pid pid, u64 addr, bool or_next,
                                            const std::function<bool(const ProcmapAnswer&)>& accept)
{
    return ProcFs(*this).procmap_query(pid, addr, or_next, accept);
}

std::string Kernel::free_text(bool human)
{
    return ProcFs(*this).free_text(human);
}

std::string Kernel::check_report() const
{
    return InvariantChecker(*m_mm).report();
}

Result<void> Kernel::check() const
{
    if (!check_report().empty())
        return Error::from_errno(EUCLEAN, "invariants broken");
    return {};
}

} // namespace kioku
