#include "kernel/ProcFs.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <sstream>

#include "base/Number.h"
#include "hw/Machine.h"
#include "kernel/Cgroups.h"
#include "kernel/HugetlbFs.h"
#include "kernel/Kernel.h"
#include "kernel/KernelConfig.h"
#include "kernel/KernelLayout.h"
#include "kernel/Mounts.h"
#include "kernel/OomKiller.h"
#include "kernel/ProcCompaction.h"
#include "kernel/Process.h"
#include "kernel/Syscalls.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/slab/SlabAllocator.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

using namespace isa;

namespace {

// The directory of the transparent huge page settings, served with /proc's text files.
constexpr std::string_view THP_SYSFS = "/sys/kernel/mm/transparent_hugepage/";

constexpr u64 KB_PER_PAGE = PAGE_SIZE / 1024;

std::optional<i64> parse_int(const std::string& text)
{
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
        t.pop_back();
    return parse_i64(t);
}

} // namespace

MeminfoValues ProcFs::meminfo()
{
    MemoryManager& mm = m_kernel.mm();
    const VmStat& vs = mm.vmstat();
    const Lru& lru = mm.lru();
    MeminfoValues v;
    u64 free_pages = mm.allocator().free_pages();
    v.mem_total = mm.total_ram_pages() * KB_PER_PAGE;
    v.mem_free = free_pages * KB_PER_PAGE;
    v.active_anon = lru.size(LruList::ActiveAnon) * KB_PER_PAGE;
    v.inactive_anon = lru.size(LruList::InactiveAnon) * KB_PER_PAGE;
    v.active_file = lru.size(LruList::ActiveFile) * KB_PER_PAGE;
    v.inactive_file = lru.size(LruList::InactiveFile) * KB_PER_PAGE;
    v.unevictable = lru.size(LruList::Unevictable) * KB_PER_PAGE;
    v.mlocked = vs[VmItem::NrMlock] * KB_PER_PAGE;
    v.active = v.active_anon + v.active_file;
    v.inactive = v.inactive_anon + v.inactive_file;
    // Linux's Cached is the file pages less the buffer cache (and the swap cache, which is not
    // counted in NrFilePages here).
    v.buffers = mm.page_cache().nr_blockdev() * KB_PER_PAGE;
    v.cached = (vs[VmItem::NrFilePages] - mm.page_cache().nr_blockdev()) * KB_PER_PAGE;
    v.dirty = mm.page_cache().nr_dirty() * KB_PER_PAGE;
    v.writeback = mm.vmstat()[VmItem::NrWriteback] * KB_PER_PAGE;
    v.anon_pages = vs[VmItem::NrAnonPages] * KB_PER_PAGE;
    v.anon_huge_pages = vs[VmItem::NrAnonTransparentHugepages] * KB_PER_PAGE;
    v.mapped = vs[VmItem::NrMapped] * KB_PER_PAGE;
    v.shmem = vs[VmItem::NrShmem] * KB_PER_PAGE;
    v.page_tables = mm.page_table_pages() * KB_PER_PAGE;
    v.sreclaimable = vs[VmItem::NrSlabReclaimable] * KB_PER_PAGE;
    v.sunreclaim = vs[VmItem::NrSlabUnreclaimable] * KB_PER_PAGE;
    v.slab = v.sreclaimable + v.sunreclaim;
    v.kreclaimable = v.sreclaimable; // no other reclaimable kernel memory is modelled
    v.commit_limit = mm.commit_limit_pages() * KB_PER_PAGE;
    v.committed_as = mm.committed_pages() * KB_PER_PAGE;
    // riscv64's VMALLOC_SIZE is half the kernel's virtual half: 64 TiB on Sv48, 128 GiB on Sv39.
    v.vmalloc_total = vmalloc_bytes(mm.paging_mode()) / 1024; // KernelLayout.h
    hugetlb_meminfo(mm, v); // HugePages_*, Hugepagesize, Hugetlb (HugetlbFs.cpp)
    v.swap_total = mm.total_swap_pages() * KB_PER_PAGE;
    v.swap_free = mm.swap().free_pages() * KB_PER_PAGE;
    v.swap_cached = mm.swap().cached_pages() * KB_PER_PAGE;

    // si_mem_available: free memory above the reserves, plus the page cache and reclaimable slab
    // that could be reclaimed without dipping under the low watermarks.
    u64 wmark_low = 0, reserve = 0;
    for (auto& zone : mm.allocator().zones()) {
        wmark_low += zone->watermarks().low;
        u64 max_reserve = 0;
        for (u8 c = 0; c < MAX_NR_ZONES; ++c)
            max_reserve = std::max(max_reserve, zone->lowmem_reserve(c));
        reserve += std::min(zone->managed_pages(), zone->watermarks().high + max_reserve);
    }
    i64 available = static_cast<i64>(free_pages) - static_cast<i64>(reserve);
    u64 pagecache = lru.size(LruList::ActiveFile) + lru.size(LruList::InactiveFile);
    pagecache -= std::min(pagecache / 2, wmark_low);
    available += static_cast<i64>(pagecache);
    // Reclaimable slab counts the same way.
    u64 reclaimable = vs[VmItem::NrSlabReclaimable];
    available += static_cast<i64>(reclaimable - std::min(reclaimable / 2, wmark_low));
    v.mem_available = static_cast<u64>(std::max<i64>(available, 0)) * KB_PER_PAGE;
    return v;
}

std::string ProcFs::free_text(bool human)
{
    return format_free(meminfo(), human);
}

std::string ProcFs::tlb()
{
    const TlbStats& s = m_kernel.machine().tlb().stats();
    std::ostringstream out;
    out << "hits " << s.hits << "\nmisses " << s.misses << "\nwalks " << s.walks << "\nwalk_steps "
        << s.walk_steps << "\nflushes " << s.flushes << "\nevictions " << s.evictions << "\nentries "
        << m_kernel.machine().tlb().config().entries << "\nways " << m_kernel.machine().tlb().config().ways
        << "\n";
    return out.str();
}

static MapsEntry maps_entry(Process& p, const Vma& vma)
{
    AddressSpace& space = p.space();
    MapsEntry e;
    e.start = vma.start.value();
    e.end = vma.end.value();
    set_maps_permissions(e, vma.flags);
    if (!vma.name.empty()) {
        e.path = vma.name; // a special mapping ([vdso]), whatever backs it
    } else if (vma.file) {
        e.offset = vma.pgoff << PAGE_SHIFT;
        e.dev_major = vma.file->dev_major();
        e.dev_minor = vma.file->dev_minor();
        e.inode = vma.file->ino();
        e.path = vma.file->name();
    } else if (vma.start.value() <= space.current_brk() && vma.end.value() >= space.start_brk()) {
        e.path = "[heap]";
    } else if (vma.start.value() <= space.start_stack() && vma.end.value() >= space.start_stack()) {
        e.path = "[stack]";
    }
    return e;
}

static SmapsValues smaps_values(MemoryManager& mm, AddressSpace& space, const Vma& vma)
{
    SmapsValues s;
    s.size = vma.size();
    s.vm_flags = vma.flags;
    if (Hstate* h = hugetlb_hstate(mm, vma)) { // smaps_hugetlb_range: never in Rss
        HugetlbUsage u = hugetlb_usage(mm, space, vma);
        s.shared_hugetlb = u.shared;
        s.private_hugetlb = u.private_;
        s.kernel_page_size = s.mmu_page_size = h->bytes();
        return s;
    }
    // THPeligible as hugepage_vma_check answers for smaps: the VMA may hold THPs and has room
    // for an aligned 2 MiB range.
    s.thp_eligible = vma.size() >= HPAGE_PMD_SIZE &&
                     mm.thp().fault_allowed(space, vma, VirtAddr(vma.end.value() - HPAGE_PMD_SIZE));
    if (vma.file && vma.file->is_shmem()) {
        // shmem_swap_usage: the inode's entries in the mapped range (smap_gather_stats counts
        // them for shared or read-only mappings; private writable ones count their PTEs below).
        u64 swapped = 0;
        auto& entries = vma.file->swapped();
        for (auto it = entries.lower_bound(vma.pgoff);
             it != entries.end() && it->first < vma.pgoff + vma.pages(); ++it)
            ++swapped;
        if ((vma.flags & VM_SHARED) || !(vma.flags & VM_WRITE))
            s.swap += swapped * PAGE_SIZE; // SwapPss leaves shmem out, as Linux's does
    }
    // smaps_account for a page of `size` bytes (4 KiB, or a whole THP under a huge leaf).
    auto account = [&](const Frame& f, u64 pte, u64 size) {
        s.rss += size;
        bool dirty = (pte & PTE_D) || f.has(FF_DIRTY);
        bool young = (pte & PTE_A) || f.has(FF_REFERENCED);
        bool locked = vma.flags & VM_LOCKED;
        if (f.has(FF_ANON))
            s.anonymous += size;
        if (f.has(FF_ANON) && !f.has(FF_SWAPBACKED) && !dirty)
            s.lazyfree += size; // MADV_FREE'd and not written since
        if (young)
            s.referenced += size;
        u64 share = f.refcount == 1 || f.mapcount < 2 ? (size << PSS_SHIFT) : pss_share(size, f.mapcount);
        bool priv = f.refcount == 1 || f.mapcount < 2;
        s.pss += share;
        if (f.has(FF_ANON))
            s.pss_anon += share;
        else if (f.has(FF_SWAPBACKED))
            s.pss_shmem += share;
        else
            s.pss_file += share;
        if (locked)
            s.locked += share;
        if (dirty) {
            (priv ? s.private_dirty : s.shared_dirty) += size;
            s.pss_dirty += share;
        } else {
            (priv ? s.private_clean : s.shared_clean) += size;
        }
    };
    // smaps_pmd_entry: a THP counts whole, and in AnonHugePages; the huge zero page not at all.
    auto huge = [&](VirtAddr, unsigned level, PageSlot slot) {
        u64 entry = *slot;
        Pfn head = pte_pfn(entry);
        if (level != 1 || !pte_present(entry) || (vma.flags & VM_HUGETLB) || mm.thp().is_huge_zero(head))
            return;
        account(mm.frames()[head], entry, HPAGE_PMD_SIZE);
        s.anon_huge_pages += HPAGE_PMD_SIZE;
    };
    space.page_table().for_each(
        vma.start, vma.end,
        [&](VirtAddr, PageSlot slot) {
            u64 pte = *slot;
            if (pte_is_swap(pte)) {
                // smaps_pte_entry: a swap entry shared by n references counts 1/n in SwapPss.
                u64 refs = std::max<u64>(mm.swap().count(swap_entry_of(pte)), 1);
                s.swap += PAGE_SIZE;
                s.swap_pss += refs >= 2 ? pss_share(PAGE_SIZE, refs) : (PAGE_SIZE << PSS_SHIFT);
                return;
            }
            if (!pte_present(pte))
                return;
            Pfn pfn = pte_pfn(pte);
            if (mm.is_zero_pfn(pfn))
                return;
            account(mm.frames()[pfn], pte, PAGE_SIZE);
        },
        huge);
    return s;
}

// The GNU build ID of an ELF file (build_id_parse): the NT_GNU_BUILD_ID note of a PT_NOTE segment,
// read through the page cache; empty when the file has none.
static std::vector<u8> elf_build_id(MemoryManager& mm, Inode& file)
{
    auto read = [&](u64 offset, u64 len, void* out) {
        return offset <= file.size() && file.size() - offset >= len &&
               !mm.page_cache().read(file, offset, len, static_cast<u8*>(out)).is_error();
    };
    Elf64_Ehdr eh{};
    if (!read(0, sizeof eh, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
        return {};
    for (u16 i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        if (!read(eh.e_phoff + u64{i} * sizeof ph, sizeof ph, &ph) || ph.p_type != PT_NOTE ||
            ph.p_filesz > 4096)
            continue;
        std::vector<u8> notes(ph.p_filesz);
        if (!read(ph.p_offset, notes.size(), notes.data()))
            continue;
        for (u64 at = 0; at + sizeof(Elf64_Nhdr) <= notes.size();) {
            Elf64_Nhdr nh{};
            std::memcpy(&nh, notes.data() + at, sizeof nh);
            u64 name_at = at + sizeof nh, desc_at = name_at + ((u64{nh.n_namesz} + 3) & ~u64{3});
            u64 next = desc_at + ((u64{nh.n_descsz} + 3) & ~u64{3});
            if (next > notes.size() || next <= at)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                std::memcmp(notes.data() + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 && nh.n_descsz <= 20)
                return std::vector<u8>(notes.begin() + static_cast<long>(desc_at),
                                       notes.begin() + static_cast<long>(desc_at + nh.n_descsz));
            at = next;
        }
    }
    return {};
}

Result<ProcmapAnswer> ProcFs::procmap_query(int pid, u64 addr, bool or_next,
                                            const std::function<bool(const ProcmapAnswer&)>& accept)
{
    Process* p = m_kernel.process(pid);
    if (!p || !p->alive() || !p->has_space())
        return Error::from_errno(ESRCH, "no such process");
    AddressSpace& space = p->space();
    for (Vma* vma = space.find_vma(VirtAddr(addr)); vma; vma = space.find_vma(vma->end)) {
        if (!or_next && vma->start.value() > addr)
            break;
        ProcmapAnswer a;
        a.entry = maps_entry(*p, *vma);
        a.file_backed = vma->file != nullptr;
        Hstate* h = hugetlb_hstate(m_kernel.mm(), *vma);
        a.page_size = h ? h->bytes() : PAGE_SIZE;
        if (accept(a)) {
            if (vma->file)
                a.build_id = elf_build_id(m_kernel.mm(), *vma->file);
            return a;
        }
        if (!or_next)
            break;
    }
    return Error::from_errno(ENOENT, "no such VMA");
}

std::string ProcFs::maps(Process& p, bool smaps)
{
    std::string out;
    for (auto& [start, vma] : p.space().vmas()) {
        MapsEntry e = maps_entry(p, *vma);
        if (smaps)
            out += format_smaps_entry(e, smaps_values(m_kernel.mm(), p.space(), *vma));
        else
            out += format_maps_line(e);
    }
    return out;
}

std::string ProcFs::smaps_rollup(Process& p)
{
    SmapsValues total;
    u64 first = 0, last = 0;
    for (auto& [start, vma] : p.space().vmas()) {
        SmapsValues s = smaps_values(m_kernel.mm(), p.space(), *vma);
        if (!first)
            first = vma->start.value();
        last = vma->end.value();
        total.rss += s.rss;
        total.pss += s.pss;
        total.pss_dirty += s.pss_dirty;
        total.pss_anon += s.pss_anon;
        total.pss_file += s.pss_file;
        total.pss_shmem += s.pss_shmem;
        total.shared_clean += s.shared_clean;
        total.shared_dirty += s.shared_dirty;
        total.private_clean += s.private_clean;
        total.private_dirty += s.private_dirty;
        total.referenced += s.referenced;
        total.anonymous += s.anonymous;
        total.anon_huge_pages += s.anon_huge_pages;
        total.swap += s.swap;
        total.swap_pss += s.swap_pss;
        total.locked += s.locked;
    }
    return format_smaps_rollup(first, last, total);
}

std::string ProcFs::status(Process& p)
{
    Kernel::TaskView view = m_kernel.task_view(p, m_tid);
    StatusValues v;
    v.name = p.name();
    v.state = view.state;
    v.tgid = v.pid = static_cast<u64>(p.pid());
    v.ppid = static_cast<u64>(view.ppid);
    v.pgid = static_cast<u64>(view.pgid);
    v.sid = static_cast<u64>(view.sid);
    v.threads = view.threads;
    const Credentials& c = p.creds;
    u32 uids[4] = {c.uid, c.euid, c.suid, c.fsuid}, gids[4] = {c.gid, c.egid, c.sgid, c.fsgid};
    std::copy(uids, uids + 4, v.uid);
    std::copy(gids, gids + 4, v.gid);
    v.groups = c.groups;
    v.cap_inh = c.cap_inheritable;
    v.cap_prm = c.cap_permitted;
    v.cap_eff = c.cap_effective;
    v.cap_bnd = c.cap_bounding;
    v.cap_amb = c.cap_ambient;
    v.sigq_limit = default_sigpending_limit(m_kernel.mm().total_ram_pages());
    if (!p.alive() || !p.has_space()) {
        v.has_mm = false; // a zombie's memory is gone: no Vm* lines, as Linux
        return format_status(v);
    }
    AddressSpace& space = p.space();
    const RssStat& rss = space.rss();
    v.vm_peak = space.hiwater_vm() * KB_PER_PAGE;
    v.vm_size = space.total_vm() * KB_PER_PAGE;
    v.vm_lck = space.locked_vm() * KB_PER_PAGE;
    v.vm_hwm = space.hiwater_rss() * KB_PER_PAGE;
    v.vm_rss = static_cast<u64>(rss.total()) * KB_PER_PAGE;
    v.rss_anon = static_cast<u64>(rss.anon) * KB_PER_PAGE;
    v.rss_file = static_cast<u64>(rss.file) * KB_PER_PAGE;
    v.rss_shmem = static_cast<u64>(rss.shmem) * KB_PER_PAGE;
    v.vm_data = space.data_vm() * KB_PER_PAGE;
    v.vm_stk = space.stack_vm() * KB_PER_PAGE;
    v.vm_exe = 0;
    v.vm_lib = space.exec_vm() * KB_PER_PAGE;
    v.vm_pte = space.page_table().table_pages() * KB_PER_PAGE;
    v.vm_swap = static_cast<u64>(rss.swapents) * KB_PER_PAGE;
    v.hugetlb_pages = hugetlb_status_kb(m_kernel.mm(), space);
    v.thp_enabled = !space.thp_disabled(); // prctl(PR_SET_THP_DISABLE) clears it, as MMF_DISABLE_THP
    return format_status(v);
}

std::string ProcFs::statm(Process& p)
{
    AddressSpace& space = p.space();
    const RssStat& rss = space.rss();
    u64 shared = static_cast<u64>(rss.file + rss.shmem);
    return format_statm(space.total_vm(), static_cast<u64>(rss.total()), shared, 0,
                        space.data_vm() + space.stack_vm());
}

std::string ProcFs::stat(Process& p)
{
    // /proc/PID/stat (fs/proc/array.c do_task_stat): the fields a memory model can fill, the
    // process's CPU time as user time, and Linux's values for an idle single-threaded root task
    // for the rest.
    Kernel::TaskView view = m_kernel.task_view(p, m_tid);
    bool mm = p.alive() && p.has_space(); // a zombie's memory fields are 0
    std::ostringstream out;
    u64 clk_tck = 100;
    u64 start_ticks = p.start_time_ns / (1'000'000'000 / clk_tck);
    out << p.pid() << " (" << p.name() << ") " << task_state_text(view.state)[0] << ' ' << view.ppid << ' '
        << view.pgid << ' ' << view.sid << " 0 -1 4194304 " << p.faults().min_flt << " 0 "
        << p.faults().maj_flt << " 0 " << view.cpu_ns / (1'000'000'000 / clk_tck) << " 0 0 0 20 0 "
        << view.threads << " 0 " << start_ticks << ' ' << (mm ? p.space().total_vm() * PAGE_SIZE : 0) << ' '
        << (mm ? p.space().rss().total() : 0) << " 18446744073709551615 0 0 "
        << (mm ? p.space().start_stack() : 0) << " 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        << (p.alive() ? 0 : p.exit_status_word()) << '\n';
    return out.str();
}

std::string ProcFs::mounts()
{
    // What kioku's guest has mounted, as /proc/mounts (and /proc/PID/mounts) list it: the root's
    // disk, the kernel's own filesystems at their usual places, then the tmpfs and hugetlbfs
    // mounts (/dev/shm, /dev/hugepages and the guest's) in mount order. One mount namespace.
    return "/dev/root / ext4 rw,noatime 0 0\n"
           "devtmpfs /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
           "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
           "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
           "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n" +
           m_kernel.mounts().proc_mounts();
}

Result<std::string> ProcFs::read_pid(Process& p, const std::string& what)
{
    if (what == "mounts")
        return mounts();
    if (what == "clear_refs")
        return std::string(); // write-only: opened, it reads as EINVAL (SyscallsFile.cpp)
    if (what == "oom_score_adj")
        return std::to_string(p.oom_score_adj) + "\n";
    if (what == "cgroup") // one line per hierarchy: only the v2 one here
        return "0::" + (p.cgroup ? p.cgroup->path() : std::string("/")) + "\n";
    if (what == "oom_score")
        return std::to_string(OomKiller::oom_score(m_kernel, p)) + "\n";
    if (what == "comm") // the task's name, cut at TASK_COMM_LEN - 1
        return p.name().substr(0, 15) + "\n";
    if (what == "status")
        return status(p);
    if (what == "stat")
        return stat(p);
    if (!p.alive())
        return std::string(); // a zombie has no memory to show
    if (what == "maps")
        return maps(p, false);
    if (what == "smaps")
        return maps(p, true);
    if (what == "smaps_rollup")
        return smaps_rollup(p);
    if (what == "statm")
        return statm(p);
    return Error::from_errno(ENOENT, "no such /proc file");
}

VmStat ProcFs::vmstat()
{
    // The counters the memory manager keeps, with the ones Linux reads off the lists and the
    // allocator at the time of reading filled in.
    MemoryManager& mm = m_kernel.mm();
    VmStat snapshot = mm.vmstat();
    snapshot[VmItem::NrFreePages] = mm.allocator().free_pages();
    snapshot[VmItem::NrInactiveAnon] = snapshot[VmItem::NrZoneInactiveAnon] =
        mm.lru().size(LruList::InactiveAnon);
    snapshot[VmItem::NrActiveAnon] = snapshot[VmItem::NrZoneActiveAnon] = mm.lru().size(LruList::ActiveAnon);
    snapshot[VmItem::NrInactiveFile] = snapshot[VmItem::NrZoneInactiveFile] =
        mm.lru().size(LruList::InactiveFile);
    snapshot[VmItem::NrActiveFile] = snapshot[VmItem::NrZoneActiveFile] = mm.lru().size(LruList::ActiveFile);
    snapshot[VmItem::NrUnevictable] = snapshot[VmItem::NrZoneUnevictable] =
        mm.lru().size(LruList::Unevictable);
    snapshot[VmItem::NrDirty] = mm.page_cache().nr_dirty();
    snapshot[VmItem::NrSwapcached] = mm.swap().cached_pages();
    DirtyLimits limits = mm.page_cache().flusher().limits();
    snapshot[VmItem::NrDirtyThreshold] = limits.threshold;
    snapshot[VmItem::NrDirtyBackgroundThreshold] = limits.background;
    snapshot[VmItem::NrPageTablePages] = mm.page_table_pages();
    snapshot[VmItem::PgallocDma32] = mm.allocator().pgalloc(ZONE_DMA32);
    snapshot[VmItem::PgallocNormal] = mm.allocator().pgalloc(ZONE_NORMAL);
    snapshot[VmItem::Pgfree] = mm.allocator().pgfree();
    return snapshot;
}

Result<std::string> ProcFs::read(int viewer, const std::string& path)
{
    if (path == kernel_config_path())
        return kernel_config_text();
    if (path == "/proc/meminfo")
        return format_meminfo(meminfo());
    if (path == "/proc/vmstat")
        return vmstat().format();
    if (path == "/proc/swaps")
        return m_kernel.mm().swap().proc_swaps();
    if (path == "/proc/partitions") {
        // show_partition: the block devices and their size in 1 KiB blocks.
        std::string out = "major minor  #blocks  name\n\n";
        for (auto& [name, device] : m_kernel.block_devices()) {
            char line[96];
            std::snprintf(line, sizeof line, "%4u  %7u %10llu %s\n", device->dev_major(), device->dev_minor(),
                          static_cast<unsigned long long>(device->size() / 1024), name.c_str());
            out += line;
        }
        return out;
    }
    if (path == "/proc/mounts")
        return mounts();
    if (path == "/proc/filesystems")
        return std::string("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\n"
                           "nodev\tdevtmpfs\nnodev\thugetlbfs\nnodev\tpipefs\nnodev\tsockfs\n\text4\n");
    if (path == "/proc/slabinfo")
        return m_kernel.mm().slab().slabinfo();
    if (path == "/proc/buddyinfo")
        return m_kernel.mm().allocator().buddyinfo();
    if (is_compaction_view(path))
        return compaction_view(m_kernel.mm(), path);
    if (path == "/proc/kioku/tlb")
        return tlb();
    if (path == "/proc/kioku/layout") {
        const FrameTable& frames = m_kernel.mm().frames();
        return layout_text(m_kernel.mm().paging_mode(), frames.first_pfn().value() << PAGE_SHIFT,
                           frames.size() << PAGE_SHIFT);
    }
    if (path == "/proc/kioku/clock")
        return "now_ns " + std::to_string(m_kernel.now_ns()) + "\n";
    if (path.rfind(THP_SYSFS, 0) == 0)
        return m_kernel.mm().thp().sysfs_read(path.substr(THP_SYSFS.size()));
    if (auto rel = Cgroups::relative(path))
        return m_kernel.cgroups().read(*rel);
    if (is_hugepages_sysfs(path))
        return hugepages_sysfs_read(m_kernel.mm(), path);
    const std::string sys = "/proc/sys/vm/";
    if (path.rfind(sys, 0) == 0)
        return read_sysctl(path.substr(sys.size()));
    // One hart: cpu 0 is the only one possible, present and online.
    if (path == "/sys/devices/system/cpu/online" || path == "/sys/devices/system/cpu/possible" ||
        path == "/sys/devices/system/cpu/present")
        return std::string("0\n");
    if (path == "/proc/cpuinfo") {
        // arch/riscv/kernel/cpu.c's c_show for the one hart, with the extensions kioku executes.
        const char* isa = "rv64imafdc_zicntr_zicsr_zifencei";
        return std::string("processor\t: 0\nhart\t\t: 0\nisa\t\t: ") + isa +
               "\nmmu\t\t: " + (m_kernel.config().paging == isa::SatpMode::Sv39 ? "sv39" : "sv48") +
               "\nmvendorid\t: 0x0\nmarchid\t\t: 0x0\nmimpid\t\t: 0x0\nhart isa\t: " + isa + "\n\n";
    }
    // Pipes' limits (fs/pipe.c): the largest F_SETPIPE_SZ without CAP_SYS_RESOURCE, and the
    // per-user page budgets, unlimited and 16384 as Linux boots with them.
    if (path == "/proc/sys/fs/pipe-max-size")
        return std::to_string(Pipe::MAX_SIZE) + "\n";
    if (path == "/proc/sys/fs/pipe-user-pages-hard")
        return std::string("0\n");
    if (path == "/proc/sys/fs/pipe-user-pages-soft")
        return std::string("16384\n");
    if (path == "/proc/sys/kernel/osrelease")
        return std::string(KERNEL_RELEASE) + "\n";
    if (path == "/proc/sys/kernel/ostype")
        return std::string("Linux\n");
    if (path == "/proc/sys/kernel/pid_max")
        return std::to_string(m_kernel.pids_space().pid_max()) + "\n";
    if (path == "/proc/sys/kernel/tainted")
        return std::string("0\n"); // nothing taints kioku's kernel: no modules, no oops
    if (path == "/proc/sys/kernel/ns_last_pid")
        return std::to_string(m_kernel.pids_space().last()) + "\n";
    if (path == "/proc/sys/kernel/threads-max")
        return std::to_string(m_kernel.threads_max()) + "\n";
    if (path == "/proc/sys/kernel/shmmax")
        return std::to_string(m_kernel.sysv_shm().limits().shmmax) + "\n";
    if (path == "/proc/sys/kernel/shmall")
        return std::to_string(m_kernel.sysv_shm().limits().shmall) + "\n";
    if (path == "/proc/sys/kernel/shmmni")
        return std::to_string(m_kernel.sysv_shm().limits().shmmni) + "\n";
    if (path == "/proc/sys/kernel/shm_next_id")
        return std::to_string(m_kernel.sysv_shm().limits().next_id) + "\n";
    if (path == "/proc/sysvipc/shm")
        return m_kernel.sysv_shm().proc_sysvipc_shm();
    if (path == "/proc/pressure/memory") // the root group's figures are the system's (Psi.h)
        return m_kernel.cgroups().pressure(m_kernel.cgroups().root());
    const std::string proc = "/proc/";
    if (path.rfind(proc, 0) == 0) {
        std::string rest = path.substr(proc.size());
        auto slash = rest.find('/');
        if (slash == std::string::npos)
            return Error::from_errno(ENOENT, "no such /proc file");
        std::string who = rest.substr(0, slash);
        std::string what = rest.substr(slash + 1);
        int pid = viewer;
        if (who != "self") {
            auto n = parse_int(who);
            if (!n)
                return Error::from_errno(ENOENT, "no such /proc file");
            pid = static_cast<int>(*n);
        }
        Process* p = m_kernel.process(pid);
        if (!p)
            return Error::from_errno(ENOENT, "no such process");
        // task/TID/FILE: a thread's own view; its state is the thread's, the rest the process's.
        if (what.starts_with("task/")) {
            std::string tail = what.substr(5);
            auto cut = tail.find('/');
            auto tid = cut == std::string::npos ? std::nullopt : parse_int(tail.substr(0, cut));
            if (!tid || !m_kernel.task_exists(pid, static_cast<int>(*tid)))
                return Error::from_errno(ENOENT, "no such thread");
            m_tid = static_cast<int>(*tid);
            what = tail.substr(cut + 1);
        }
        return read_pid(*p, what);
    }
    return Error::from_errno(ENOENT, "no such file");
}

Result<std::vector<u64>> ProcFs::pagemap(int pid, u64 start, u64 pages)
{
    Process* p = m_kernel.process(pid);
    if (!p || !p->alive())
        return Error::from_errno(ESRCH, "no such process");
    MemoryManager& mm = m_kernel.mm();
    AddressSpace& space = p->space();
    std::vector<u64> out;
    out.reserve(pages);
    for (u64 i = 0; i < pages; ++i) {
        VirtAddr va(start + i * PAGE_SIZE);
        Vma* vma = space.vma_containing(va);
        if (!vma) {
            out.push_back(pagemap_entry_none());
            continue;
        }
        u64 pte = space.page_table().read(va);
        bool soft_dirty = (vma->flags & VM_SOFTDIRTY) || (pte_present(pte) && (pte & PTE_SOFT_DIRTY));
        if (pte_present(pte)) {
            Pfn pfn = pte_pfn(pte);
            bool zero = mm.is_zero_pfn(pfn);
            // Under a huge leaf the counts are the THP head's (pagemap_pmd_range).
            const Frame& f = mm.frames()[compound_head(mm.frames(), pfn)];
            out.push_back(pagemap_entry_present(pfn.value(), soft_dirty, !zero && f.mapcount == 1,
                                                !zero && !f.has(FF_ANON)));
        } else if (pte_is_swap(pte)) {
            SwapEntry e = swap_entry_of(pte);
            out.push_back(pagemap_entry_swap(e.type, e.offset, soft_dirty));
        } else if (pte_is_guard(pte)) {
            out.push_back(pagemap_entry_none(soft_dirty) | PM_GUARD_REGION);
        } else {
            out.push_back(pagemap_entry_none(soft_dirty));
        }
    }
    return out;
}

Result<std::string> ProcFs::read_sysctl(const std::string& name)
{
    if (is_compaction_sysctl(name))
        return compaction_sysctl_read(m_kernel.mm(), name);
    if (name == "transparent_hugepage" || name == "transparent_hugepage_defrag")
        return m_kernel.mm().thp().sysfs_read(name == "transparent_hugepage" ? "enabled" : "defrag");
    MemoryManager& mm = m_kernel.mm();
    const VmSysctl& s = mm.sysctl();
    auto num = [](u64 v) { return std::to_string(v) + "\n"; };
    if (name == "nr_hugepages" || name == "nr_overcommit_hugepages")
        return hugetlb_sysctl_read(mm, name);
    if (name == "overcommit_memory")
        return num(static_cast<u64>(s.overcommit_memory));
    if (name == "overcommit_ratio")
        return num(s.overcommit_ratio);
    if (name == "overcommit_kbytes")
        return num(s.overcommit_kbytes);
    if (name == "min_free_kbytes")
        return num(mm.allocator().min_free_kbytes());
    if (name == "watermark_scale_factor")
        return num(s.watermark_scale_factor);
    if (name == "swappiness")
        return num(s.swappiness);
    if (name == "page-cluster")
        return num(s.page_cluster);
    if (name == "max_map_count")
        return num(s.max_map_count);
    if (name == "mmap_min_addr")
        return num(s.mmap_min_addr);
    if (name == "admin_reserve_kbytes")
        return num(s.admin_reserve_kbytes);
    if (name == "user_reserve_kbytes")
        return num(s.user_reserve_kbytes);
    if (name == "dirty_ratio")
        return num(s.dirty_ratio);
    if (name == "dirty_background_ratio")
        return num(s.dirty_background_ratio);
    if (name == "dirty_expire_centisecs")
        return num(s.dirty_expire_centisecs);
    if (name == "dirty_writeback_centisecs")
        return num(s.dirty_writeback_centisecs);
    if (name == "vfs_cache_pressure")
        return num(s.vfs_cache_pressure);
    if (name == "panic_on_oom")
        return num(s.panic_on_oom);
    if (name == "oom_kill_allocating_task")
        return num(s.oom_kill_allocating_task);
    if (name == "unprivileged_userfaultfd")
        return num(s.unprivileged_userfaultfd);
    if (name == "drop_caches")
        return num(0);
    return Error::from_errno(ENOENT, "no such sysctl");
}

Result<void> ProcFs::write_sysctl(const std::string& name, const std::string& value)
{
    if (name == "nr_hugepages" || name == "nr_overcommit_hugepages")
        return hugetlb_sysctl_write(m_kernel.mm(), name, value);
    // kioku's spelling of /sys/kernel/mm/transparent_hugepage/{enabled,defrag} for --sysctl and
    // the scenario language's sysctl command (Linux has no such sysctl).
    if (name == "transparent_hugepage" || name == "transparent_hugepage_defrag")
        return m_kernel.mm().thp().sysfs_write(name == "transparent_hugepage" ? "enabled" : "defrag", value);
    auto parsed = parse_int(value);
    if (!parsed)
        return Error::from_errno(EINVAL, "not a number");
    i64 v = *parsed;
    MemoryManager& mm = m_kernel.mm();
    VmSysctl& s = mm.sysctl();
    if (is_compaction_sysctl(name))
        return compaction_sysctl_write(mm, name, v);
    auto in_range = [&](i64 lo, i64 hi) -> Result<void> {
        if (v < lo || v > hi)
            return Error::from_errno(EINVAL, "value out of range");
        return {};
    };
    auto u = static_cast<u64>(v);
    if (name == "overcommit_memory") {
        TRY(in_range(0, 2));
        s.overcommit_memory = static_cast<OvercommitMode>(v);
    } else if (name == "overcommit_ratio") {
        TRY(in_range(0, INT32_MAX));
        s.overcommit_ratio = u;
    } else if (name == "overcommit_kbytes") {
        TRY(in_range(0, INT64_MAX));
        s.overcommit_kbytes = u;
    } else if (name == "min_free_kbytes") {
        TRY(in_range(0, INT32_MAX));
        mm.allocator().set_min_free_kbytes(u);
    } else if (name == "watermark_scale_factor") {
        TRY(in_range(1, 3000));
        s.watermark_scale_factor = u;
        mm.allocator().set_watermark_scale_factor(u);
    } else if (name == "swappiness") {
        TRY(in_range(0, 200));
        s.swappiness = u;
    } else if (name == "page-cluster") {
        TRY(in_range(0, 31));
        s.page_cluster = u;
    } else if (name == "max_map_count") {
        TRY(in_range(0, INT32_MAX));
        s.max_map_count = u;
    } else if (name == "unprivileged_userfaultfd") {
        TRY(in_range(0, 1));
        s.unprivileged_userfaultfd = u;
    } else if (name == "mmap_min_addr") {
        TRY(in_range(0, INT64_MAX));
        s.mmap_min_addr = u;
    } else if (name == "admin_reserve_kbytes" || name == "user_reserve_kbytes") {
        TRY(in_range(0, INT64_MAX));
        (name[0] == 'a' ? s.admin_reserve_kbytes : s.user_reserve_kbytes) = u;
    } else if (name == "dirty_ratio" || name == "dirty_background_ratio") {
        TRY(in_range(0, 100));
        (name == "dirty_ratio" ? s.dirty_ratio : s.dirty_background_ratio) = u;
    } else if (name == "dirty_expire_centisecs") {
        TRY(in_range(0, INT32_MAX));
        s.dirty_expire_centisecs = u;
    } else if (name == "dirty_writeback_centisecs") {
        TRY(in_range(0, INT32_MAX));
        // dirty_writeback_centisecs_handler: a new non-zero interval wakes the flusher at once.
        bool wake = u && u != s.dirty_writeback_centisecs;
        s.dirty_writeback_centisecs = u;
        if (wake)
            mm.page_cache().flusher().wakeup_all();
    } else if (name == "vfs_cache_pressure") {
        TRY(in_range(0, INT32_MAX));
        s.vfs_cache_pressure = u;
    } else if (name == "panic_on_oom") {
        TRY(in_range(0, 2));
        s.panic_on_oom = u;
    } else if (name == "oom_kill_allocating_task") {
        TRY(in_range(0, INT32_MAX));
        s.oom_kill_allocating_task = u;
    } else if (name == "drop_caches") {
        TRY(in_range(1, 4));
        if (v & 1) {
            mm.page_cache().drop_clean();
            mm.vmstat().add(VmItem::DropPagecache, 1);
        }
        if (v & 2)
            mm.vmstat().add(VmItem::DropSlab, 1);
    } else {
        return Error::from_errno(ENOENT, "no such sysctl");
    }
    return {};
}

Result<void> ProcFs::write(int viewer, const std::string& path, const std::string& value)
{
    if (path.rfind(THP_SYSFS, 0) == 0)
        return m_kernel.mm().thp().sysfs_write(path.substr(THP_SYSFS.size()), value);
    if (auto rel = Cgroups::relative(path))
        return m_kernel.cgroups().write(*rel, value, viewer);
    if (is_hugepages_sysfs(path))
        return hugepages_sysfs_write(m_kernel.mm(), path, value);
    const std::string sys = "/proc/sys/vm/";
    if (path.rfind(sys, 0) == 0)
        return write_sysctl(path.substr(sys.size()), value);
    if (path == "/proc/sys/kernel/pid_max" || path == "/proc/sys/kernel/threads-max" ||
        path == "/proc/sys/kernel/ns_last_pid") {
        // proc_dointvec_minmax: pid_max from 301 to 4194304, threads-max from 1 to FUTEX_TID_MASK,
        // ns_last_pid from 0 to pid_max - 1.
        auto v = parse_int(value.substr(std::min(value.size(), value.find_first_not_of(" \t\n"))));
        if (!v)
            return Error::from_errno(EINVAL, "not a number");
        if (path.ends_with("pid_max"))
            return m_kernel.pids_space().set_pid_max(*v);
        if (path.ends_with("ns_last_pid"))
            return m_kernel.pids_space().set_last(*v);
        if (*v < 1 || *v > 0x3fffffff)
            return Error::from_errno(EINVAL, "threads-max out of range");
        m_kernel.set_threads_max(static_cast<u64>(*v));
        return {};
    }
    if (path == "/proc/sys/kernel/shm_next_id") {
        // proc_dointvec_minmax from 0 to INT_MAX: only the kernel puts -1 back.
        auto v = parse_int(value.substr(std::min(value.size(), value.find_first_not_of(" \t\n"))));
        if (!v)
            return Error::from_errno(EINVAL, "not a number");
        if (*v < 0 || *v > 0x7fffffff)
            return Error::from_errno(EINVAL, "shm_next_id out of range");
        m_kernel.sysv_shm().limits().next_id = static_cast<i32>(*v);
        return {};
    }
    if (path == "/proc/sys/kernel/shmmax" || path == "/proc/sys/kernel/shmall" ||
        path == "/proc/sys/kernel/shmmni") {
        // shmmax and shmall: any unsigned long; shmmni: 0 to IPCMNI (32768).
        auto parsed = parse_u64(trim_number(value));
        if (!parsed)
            return Error::from_errno(EINVAL, "not a number");
        u64 v = *parsed;
        ShmLimits& limits = m_kernel.sysv_shm().limits();
        if (path.ends_with("shmmni")) {
            if (v > 32768)
                return Error::from_errno(EINVAL, "shmmni above IPCMNI");
            limits.shmmni = v;
        } else {
            (path.ends_with("shmmax") ? limits.shmmax : limits.shmall) = v;
        }
        return {};
    }
    const std::string proc = "/proc/";
    std::string rest = path.substr(std::min(path.size(), proc.size()));
    if (path.rfind(proc, 0) == 0 && rest.size() > 14 && rest.substr(rest.size() - 14) == "/oom_score_adj") {
        std::string who = rest.substr(0, rest.size() - 14);
        int pid = who == "self" ? viewer : static_cast<int>(parse_int(who).value_or(-1));
        Process* p = m_kernel.process(pid);
        if (!p || !p->alive())
            return Error::from_errno(ESRCH, "no such process");
        auto v = parse_int(value);
        if (!v || *v < -1000 || *v > 1000)
            return Error::from_errno(EINVAL, "oom_score_adj must be in -1000..1000");
        p->oom_score_adj = static_cast<int>(*v);
        return {};
    }
    if (path.rfind(proc, 0) == 0 && rest.size() > 11 && rest.substr(rest.size() - 11) == "/clear_refs") {
        std::string who = rest.substr(0, rest.size() - 11);
        auto type = parse_int(value.substr(std::min(value.size(), value.find_first_not_of(" \t\n"))));
        if (!type)
            return Error::from_errno(EINVAL, "clear_refs takes a number");
        return m_kernel.clear_refs(who == "self" ? viewer : static_cast<int>(parse_int(who).value_or(-1)),
                                   static_cast<int>(*type));
    }
    return Error::from_errno(EACCES, "read-only file");
}

} // namespace kioku
