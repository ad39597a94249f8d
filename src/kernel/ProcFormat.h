// Text formats of kioku's /proc views and of the procps tools that read them, as pure functions
// of plain values. Nothing here looks at the memory manager: procfs (and the demo and report
// drivers) gather the numbers into the structs below and call a formatter. Keeping the bytes
// apart from the bookkeeping lets tests compare whole files against Linux's layout.
//
// The reference is Linux 6.1 on riscv64 (fs/proc/meminfo.c, fs/proc/task_mmu.c,
// fs/proc/array.c, mm/hugetlb.c) with CONFIG_SWAP, CONFIG_TRANSPARENT_HUGEPAGE and
// CONFIG_HUGETLB_PAGE on; CONFIG_HIGHMEM, CONFIG_ZSWAP, CONFIG_CMA, CONFIG_SHADOW_CALL_STACK,
// CONFIG_MEMORY_FAILURE (kioku models no hardware memory errors) and
// CONFIG_MEM_SOFT_DIRTY off; CONFIG_PID_NS, CONFIG_SECCOMP_FILTER and CONFIG_CPUSETS on; no
// protection keys. So /proc/meminfo has no HighTotal, Zswap, CmaTotal, HardwareCorrupted or
// DirectMap* lines, and smaps has no ProtectionKey line. The user tools are procps-ng 4.0.2's
// `free` and `vmstat` (Debian 12).
//
// Every function is stateless; allocation is the only side effect. None fails on valid input;
// VERIFY guards the few inputs that cannot come from a correct caller (a mask wider than 64 bits,
// a swap type above 31).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/Types.h"

namespace kioku {

// ---------------------------------------------------------------------------------------------
// /proc/meminfo
// ---------------------------------------------------------------------------------------------

// One field per line Linux 6.1 prints, in its order. All values are in kB except the four
// HugePages_* counts, which count huge pages. Linux derives some lines from others; the filler
// must keep them consistent as Linux does:
//   active = active_anon + active_file, inactive = inactive_anon + inactive_file,
//   slab = sreclaimable + sunreclaim, kreclaimable = sreclaimable + misc reclaimable kernel memory,
//   cached = file pages - swap cache - buffers (never below 0),
//   hugetlb = sum over all huge page sizes of size * total pages (kB).
// vmalloc_total is (VMALLOC_END - VMALLOC_START) >> 10 of the kernel layout the model follows
// for its paging mode (KernelLayout.h: 64 GiB with Sv39, 32 TiB with Sv48). nfs_unstable is always 0
// since 5.8.
struct MeminfoValues {
    u64 mem_total = 0;
    u64 mem_free = 0;
    u64 mem_available = 0;
    u64 buffers = 0;
    u64 cached = 0;
    u64 swap_cached = 0;
    u64 active = 0;
    u64 inactive = 0;
    u64 active_anon = 0;
    u64 inactive_anon = 0;
    u64 active_file = 0;
    u64 inactive_file = 0;
    u64 unevictable = 0;
    u64 mlocked = 0;
    u64 swap_total = 0;
    u64 swap_free = 0;
    u64 dirty = 0;
    u64 writeback = 0;
    u64 anon_pages = 0;
    u64 mapped = 0;
    u64 shmem = 0;
    u64 kreclaimable = 0;
    u64 slab = 0;
    u64 sreclaimable = 0;
    u64 sunreclaim = 0;
    u64 kernel_stack = 0;
    u64 page_tables = 0;
    u64 sec_page_tables = 0; // KVM's secondary page tables (added in 6.0); always 0 here
    u64 nfs_unstable = 0;
    u64 bounce = 0;
    u64 writeback_tmp = 0;
    u64 commit_limit = 0;
    u64 committed_as = 0;
    u64 vmalloc_total = 0;
    u64 vmalloc_used = 0;
    u64 vmalloc_chunk = 0; // Linux prints 0 since 4.0
    u64 percpu = 0;
    u64 anon_huge_pages = 0;
    u64 shmem_huge_pages = 0;
    u64 shmem_pmd_mapped = 0;
    u64 file_huge_pages = 0;
    u64 file_pmd_mapped = 0;
    u64 hugepages_total = 0; // count
    u64 hugepages_free = 0;  // count
    u64 hugepages_rsvd = 0;  // count
    u64 hugepages_surp = 0;  // count
    u64 hugepagesize = 0;    // kB, the default huge page size (2048 on riscv64)
    u64 hugetlb = 0;
};

// The text of /proc/meminfo: "Name:" padded to 16 columns, the value right-aligned in 8, " kB";
// the HugePages_* counts as "HugePages_Total:   %5lu".
std::string format_meminfo(const MeminfoValues& values);

// A JSON object with the meminfo names as keys in Linux order: {"MemTotal": 1024, ...}. Values
// are in kB, the HugePages_* ones are counts.
std::string meminfo_json(const MeminfoValues& values);

// ---------------------------------------------------------------------------------------------
// /proc/PID/maps, smaps, smaps_rollup
// ---------------------------------------------------------------------------------------------

// One line of /proc/PID/maps. `shared` is Linux's 's' column, which shows VM_MAYSHARE (not
// VM_SHARED: a read-only shared file mapping still shows 's'). `offset` is in bytes
// (vm_pgoff << PAGE_SHIFT) and, with dev and inode, is zero for anonymous mappings. `path` is
// the file path (with " (deleted)" appended by the caller if need be), a name such as "[heap]",
// "[stack]", "[vdso]" or "[anon:name]", or empty.
struct MapsEntry {
    u64 start = 0;
    u64 end = 0;
    bool r = false;
    bool w = false;
    bool x = false;
    bool shared = false;
    u64 offset = 0;
    u32 dev_major = 0;
    u32 dev_minor = 0;
    u64 inode = 0;
    std::string path;
};

// PROCMAP_QUERY's answer for one VMA (the ioctl on /proc/PID/maps, Linux 6.11 on): the line of
// maps, the VMA's page size, and the build ID of its file when it has one.
struct ProcmapAnswer {
    MapsEntry entry;
    u64 page_size = 0;
    bool file_backed = false;
    std::vector<u8> build_id;
};

// Sets r, w, x and shared from vm_flags the way show_map_vma() reads them.
void set_maps_permissions(MapsEntry& entry, u64 vm_flags);

// "start-end perms offset major:minor inode", then, when there is a name, spaces up to column 73
// and the name. A line without a name ends with the space after the inode. Newlines in the path
// print as "\012", as seq_file_path() escapes them.
std::string format_maps_line(const MapsEntry& entry);

// Linux sums proportional set sizes in fixed point: bytes << PSS_SHIFT, so that a page shared by
// three processes adds (4096 << 12) / 3 to each and the sum is truncated only when printed.
inline constexpr u64 PSS_SHIFT = 12;
// The share of a page (or huge page) of `bytes` mapped `mapcount` times, in PSS fixed point.
constexpr u64 pss_share(u64 bytes, u64 mapcount)
{
    return (bytes << PSS_SHIFT) / mapcount;
}

// The numbers of one smaps entry (Linux: struct mem_size_stats, plus the VMA's own facts). Sizes
// are in bytes; the fields marked "pss" are in PSS fixed point (bytes << PSS_SHIFT).
struct SmapsValues {
    u64 size = 0; // vm_end - vm_start
    u64 kernel_page_size = PAGE_SIZE;
    u64 mmu_page_size = PAGE_SIZE;
    u64 rss = 0;
    u64 pss = 0;       // pss
    u64 pss_dirty = 0; // pss
    u64 pss_anon = 0;  // pss; printed only by smaps_rollup
    u64 pss_file = 0;  // pss; printed only by smaps_rollup
    u64 pss_shmem = 0; // pss; printed only by smaps_rollup
    u64 shared_clean = 0;
    u64 shared_dirty = 0;
    u64 private_clean = 0;
    u64 private_dirty = 0;
    u64 referenced = 0;
    u64 anonymous = 0;
    u64 lazyfree = 0;
    u64 anon_huge_pages = 0;
    u64 shmem_pmd_mapped = 0;
    u64 file_pmd_mapped = 0;
    u64 shared_hugetlb = 0;
    u64 private_hugetlb = 0;
    u64 swap = 0;
    u64 swap_pss = 0;          // pss
    u64 locked = 0;            // pss (Linux prints pss_locked)
    bool thp_eligible = false; // smaps only
    u64 vm_flags = 0;          // smaps only: VmFlag bits (mm/vm/Vma.h)
};

// The two-letter VmFlags mnemonics of show_smap_vma_flags(), in bit order, each followed by one
// space, exactly as Linux prints them after "VmFlags: " (so "rd wr mr mw me ac "). A set bit that
// Linux has no name for prints "??", as Linux does.
std::string vm_flags_mnemonics(u64 vm_flags);

// One /proc/PID/smaps entry: the maps line, Size/KernelPageSize/MMUPageSize, the counters,
// THPeligible and VmFlags.
std::string format_smaps_entry(const MapsEntry& entry, const SmapsValues& values);

// /proc/PID/smaps_rollup: a header line "start-end ---p 00000000 00:00 0" padded to column 73
// and "[rollup]", where start is the first VMA's start and end the last VMA's end (both 0 for an
// empty address space), then the summed counters including Pss_Anon, Pss_File and Pss_Shmem.
std::string format_smaps_rollup(u64 start, u64 end, const SmapsValues& totals);

// ---------------------------------------------------------------------------------------------
// /proc/PID/status and /proc/PID/statm
// ---------------------------------------------------------------------------------------------

// The task states of fs/proc/array.c, printed as "R (running)", "S (sleeping)", ...
enum class TaskState : u8 { Running, Sleeping, DiskSleep, Stopped, TracingStop, Dead, Zombie, Parked, Idle };
const char* task_state_text(TaskState state);

// Capability sets of root on 6.1: every capability up to CAP_CHECKPOINT_RESTORE (40).
inline constexpr u64 CAP_FULL_SET = (u64{1} << 41) - 1;

// The RLIMIT_SIGPENDING Linux gives init (and so every task that does not change it): half of
// max_threads, which set_max_threads() derives from RAM and THREAD_SIZE (16 KiB on riscv64).
u64 default_sigpending_limit(u64 totalram_pages);

// The lines of /proc/PID/status. Defaults are what a root task that changed nothing shows on the
// reference configuration: ids 0, umask 022, full capabilities, no signals, one CPU and one
// memory node, seccomp off, speculation controls that riscv does not implement
// ("unknown" / "unsupported"). kioku fills what it knows: name, state, ids, memory, threads.
// The memory block (VmPeak .. THP_enabled) is printed only when has_mm is true, as Linux skips it
// for a task without an mm (a zombie or a kernel thread).
struct StatusValues {
    std::string name; // comm; truncated to 15 bytes, '\n' and '\\' escaped as Linux does
    u32 umask = 022;
    TaskState state = TaskState::Running;
    u64 tgid = 0;
    u64 ngid = 0; // NUMA group id; 0 without NUMA balancing
    u64 pid = 0;
    u64 ppid = 0;
    u64 tracer_pid = 0;
    u64 pgid = 0;
    u64 sid = 0;
    u32 uid[4] = {0, 0, 0, 0}; // real, effective, saved, filesystem
    u32 gid[4] = {0, 0, 0, 0};
    u64 fd_size = 64;        // fdtable max_fds; 64 (BITS_PER_LONG) until a task opens more
    std::vector<u32> groups; // supplementary groups

    bool has_mm = true;
    // In kB. Linux: VmPeak = max(hiwater_vm, total_vm), VmHWM = max(hiwater_rss, rss),
    // VmRSS = RssAnon + RssFile + RssShmem, VmExe = text size, VmLib = exec_vm - text,
    // VmPTE = page-table bytes >> 10, VmSwap = swap entries.
    u64 vm_peak = 0;
    u64 vm_size = 0;
    u64 vm_lck = 0;
    u64 vm_pin = 0;
    u64 vm_hwm = 0;
    u64 vm_rss = 0;
    u64 rss_anon = 0;
    u64 rss_file = 0;
    u64 rss_shmem = 0;
    u64 vm_data = 0;
    u64 vm_stk = 0;
    u64 vm_exe = 0;
    u64 vm_lib = 0;
    u64 vm_pte = 0;
    u64 vm_swap = 0;
    u64 hugetlb_pages = 0;
    bool core_dumping = false;
    bool thp_enabled = true; // false after prctl(PR_SET_THP_DISABLE)

    u64 threads = 1;
    u64 sigq_queued = 0;
    u64 sigq_limit = 0; // see default_sigpending_limit()
    u64 sig_pnd = 0;    // signal masks: bit n is signal n + 1
    u64 shd_pnd = 0;
    u64 sig_blk = 0;
    u64 sig_ign = 0;
    u64 sig_cgt = 0;
    u64 cap_inh = 0;
    u64 cap_prm = CAP_FULL_SET;
    u64 cap_eff = CAP_FULL_SET;
    u64 cap_bnd = CAP_FULL_SET;
    u64 cap_amb = 0;
    bool no_new_privs = false;
    u32 seccomp = 0;
    u32 seccomp_filters = 0;
    std::string speculation_store_bypass = "unknown";
    std::string speculation_indirect_branch = "unsupported";
    u64 cpus_allowed = 1; // bit n: CPU n
    u32 nr_cpu_ids = 1;   // width of the CPU mask (Linux: nr_cpu_ids)
    u64 mems_allowed = 1; // bit n: memory node n
    u32 nr_mem_nodes = 1; // width of the node mask (Linux: MAX_NUMNODES, 1 without NUMA)
    u64 voluntary_ctxt_switches = 0;
    u64 nonvoluntary_ctxt_switches = 0;
};

std::string format_status(const StatusValues& values);

// Linux's "%*pb" (hex words of 32 bits, comma separated) and "%*pbl" ("0-3,5") for a mask of
// `nbits` bits (at most 64).
std::string bitmap_hex(u64 mask, u32 nbits);
std::string bitmap_list(u64 mask, u32 nbits);

// /proc/PID/statm, all in pages: "size resident shared text 0 data 0\n" (the lib and dirty
// columns have been 0 since 2.6).
std::string format_statm(u64 size, u64 resident, u64 shared, u64 text, u64 data);

// ---------------------------------------------------------------------------------------------
// /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst): one u64 per virtual page.
// ---------------------------------------------------------------------------------------------

inline constexpr u64 PM_PFRAME_MASK = (u64{1} << 55) - 1; // bits 0-54: PFN, or swap type/offset
inline constexpr u64 PM_SOFT_DIRTY = u64{1} << 55;
inline constexpr u64 PM_MMAP_EXCLUSIVE = u64{1} << 56;
inline constexpr u64 PM_UFFD_WP = u64{1} << 57;
inline constexpr u64 PM_GUARD_REGION = u64{1} << 58; // a guard marker (MADV_GUARD_INSTALL)
inline constexpr u64 PM_FILE = u64{1} << 61;         // file page or shared anonymous (shmem)
inline constexpr u64 PM_SWAP = u64{1} << 62;
inline constexpr u64 PM_PRESENT = u64{1} << 63;
inline constexpr u64 PM_SWAP_TYPE_BITS = 5; // MAX_SWAPFILES_SHIFT: type in bits 0-4

// A present page. `exclusive` is "mapped by exactly this one PTE" (page mapcount 1).
u64 pagemap_entry_present(u64 pfn, bool soft_dirty, bool exclusive, bool file_or_shared_anon);
// A swapped-out page: type in bits 0-4, offset from bit 5.
u64 pagemap_entry_swap(u64 type, u64 offset, bool soft_dirty);
// A page with nothing behind it (never touched, or outside any VMA).
u64 pagemap_entry_none(bool soft_dirty = false);
// Linux shows the frame bits only to readers with CAP_SYS_ADMIN; for others they read 0.
constexpr u64 pagemap_hide_frame(u64 entry)
{
    return entry & ~PM_PFRAME_MASK;
}

// ---------------------------------------------------------------------------------------------
// procps-ng 4.0.2 `free` and `vmstat`
// ---------------------------------------------------------------------------------------------

// `free` (or `free -h` when human): the header, "Mem:" and "Swap:" lines. Derived as procps's
// library does: available = MemAvailable (MemFree if that is 0 or above MemTotal),
// used = total - available, buff/cache = Buffers + Cached + SReclaimable,
// swap used = SwapTotal - SwapFree.
std::string format_free(const MeminfoValues& values, bool human);

// One line of `vmstat` output, in the units it prints: memory in kB, si/so/bi/bo per second
// (si/so in kB, bi/bo in kB as /proc/vmstat's pgpgin/pgpgout), in/cs per second, cpu columns
// in percent.
struct VmstatSample {
    u64 r = 0; // runnable tasks (procs_running)
    u64 b = 0; // tasks blocked on I/O (procs_blocked)
    u64 swpd = 0;
    u64 free = 0;
    u64 buff = 0;
    u64 cache = 0; // Cached + SReclaimable
    u64 si = 0;
    u64 so = 0;
    u64 bi = 0;
    u64 bo = 0;
    u64 in = 0;
    u64 cs = 0;
    u64 us = 0;
    u64 sy = 0;
    u64 id = 0;
    u64 wa = 0;
    u64 st = 0;
};

// The cumulative counters vmstat reads (/proc/stat cpu ticks, intr, ctxt; /proc/vmstat pgpgin,
// pgpgout in kB as printed, pswpin, pswpout in pages).
struct VmstatCounters {
    u64 user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    u64 guest = 0, guest_nice = 0;
    u64 intr = 0, ctxt = 0;
    u64 pgpgin = 0, pgpgout = 0, pswpin = 0, pswpout = 0;
};

// Fills the rate and cpu columns of the first line vmstat prints (averages since boot, `hz`
// ticks per second) or of a later line (the change over `seconds`), with procps's rounding.
// The memory and procs columns are left for the caller.
VmstatSample vmstat_since_boot(const VmstatCounters& now, u64 hz);
VmstatSample vmstat_interval(const VmstatCounters& before, const VmstatCounters& after, u64 seconds);

// The two header lines and one data line of `vmstat` (no options).
std::string format_vmstat_header();
std::string format_vmstat_line(const VmstatSample& sample);

} // namespace kioku
