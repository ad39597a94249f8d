// A process's address space (Linux: struct mm_struct): its VMAs in an ordered tree, its page
// table and ASID, its layout (mmap base, heap, stack) and its memory counters. The memory calls
// of Linux are operations on it. Each family is a module of its own, whose class the member
// function here enters: mmap, remap_file_pages, brk and msync (Mmap.h), mprotect (Mprotect.h),
// fork's copy (Fork.h), mremap (Mremap.h), madvise (Madvise.h), mlock and friends (Mlock.h),
// mincore (Mincore.h). This class keeps what they share: the VMA-level steps of unmapping,
// splitting, re-flagging, zapping and populating, and the search for room. Their flags, errno
// values, VMA splitting and merging follow Linux 6.x (mm/mmap.c and the call's own file).
//
// Invariants: VMAs are page-aligned, non-empty and do not overlap; every VMA is linked into its
// AnonVma and its file's mapping list; rss counters equal what the page table maps (checked by
// the InvariantChecker). Owned by a Process (or a test); single-threaded.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "abi/Mman.h"
#include "base/Result.h"
#include "hw/Mmu.h"
#include "mm/pgtable/PageTable.h"
#include "mm/vm/Vma.h"
#include "mm/vm/VmaTree.h"

namespace kioku {

class MemCgroup;
class MmCore;
class Inode;
class AnonVma;
class UserfaultContext;
struct FaultCounters;

// How the file behind a mapping was opened (FMODE_READ / FMODE_WRITE).
struct FileAccess {
    bool readable = false;
    bool writable = false;
    // The mapping is of /dev/zero: the open mode is checked as a file's, then the memory is
    // anonymous (shared: shmem) as mmap_zero makes it.
    bool zero_device = false;
};

// Per-mm resident counters (Linux: mm->rss_stat), in pages.
struct RssStat {
    i64 file = 0;
    i64 anon = 0;
    i64 swapents = 0;
    i64 shmem = 0;
    i64 total() const { return file + anon + shmem; }
};

class AddressSpace {
    // The memory calls' modules, which use the shared steps below.
    friend class MmapCall;     // Mmap.h
    friend class MprotectCall; // Mprotect.h
    friend class ForkCall;     // Fork.h
    friend class MremapCall;   // Mremap.h
    friend class MadviseCall;  // Madvise.h
    friend class MlockCall;    // Mlock.h
  public:
    static Result<std::unique_ptr<AddressSpace>> create(MmCore& mm, Asid asid);
    ~AddressSpace(); // unmaps everything

    MmCore& mm() { return m_mm; }
    PageTable& page_table() { return *m_page_table; }
    const PageTable& page_table() const { return *m_page_table; }
    Satp satp() const { return Satp{m_page_table->mode(), m_asid, m_page_table->root()}; }
    Asid asid() const { return m_asid; }
    u64 task_size() const { return m_page_table->user_limit(); }

    // The VMA tree, keyed by start address (VmaTree.h).
    using VmaMap = VmaTree::Map;
    const VmaMap& vmas() const { return m_tree.all(); }
    u64 map_count() const { return m_tree.count(); }
    Vma* find_vma(VirtAddr va) { return m_tree.find(va); } // the first VMA with end > va (find_vma)
    Vma* vma_containing(VirtAddr va) { return m_tree.containing(va); }
    Vma* find_intersection(VirtAddr start, VirtAddr end) { return m_tree.intersection(start, end); }

    // The Linux memory calls, entry points of their modules. Addresses and lengths are raw user
    // values.
    Result<u64> mmap(u64 addr, u64 len, int prot, int flags, std::shared_ptr<Inode> file, u64 offset,
                     FileAccess access);
    Result<void> munmap(u64 addr, u64 len);
    // remap_file_pages: [start, start + size) of a shared file mapping mapped again at file page
    // pgoff, as Linux emulates the call since 4.0.
    Result<void> remap_file_pages(u64 start, u64 size, int prot, u64 pgoff, int flags);
    Result<void> mprotect(u64 addr, u64 len, int prot);
    u64 brk(u64 addr);
    Result<void> msync(u64 addr, u64 len, int flags);
    // Linux's dup_mmap: a copy of this address space for a forked child, sharing pages
    // copy-on-write.
    Result<std::unique_ptr<AddressSpace>> fork(Asid child_asid);

    // Layout. setup_layout() places the stack (a VM_GROWSDOWN VMA ending at stack_top) and sets the
    // heap start; programs loaded from ELF set start_brk from their bss end instead.
    Result<void> setup_stack(u64 stack_top, u64 initial_size);
    void set_brk_start(u64 start_brk);
    u64 mmap_base() const { return m_mmap_base; }
    u64 start_brk() const { return m_start_brk; }
    u64 current_brk() const { return m_brk; }
    u64 start_stack() const { return m_start_stack; }
    // Where exec mapped the vDSO (0: none; Linux: mm->context.vdso). Fork keeps it, an mremap
    // of the [vdso] mapping moves it; signal handlers return into it.
    u64 vdso_base() const { return m_vdso_base; }
    void set_vdso_base(u64 base) { m_vdso_base = base; }
    // The program this space runs (mm->exe_file): while the space lives, nothing may open it for
    // writing, and set_exe_file fails with ETXTBSY while something has it open so. Fork's copy
    // holds it too.
    Result<void> set_exe_file(std::shared_ptr<Inode> file);
    const std::shared_ptr<Inode>& exe_file() const { return m_exe_file; }
    void set_start_stack(u64 sp) { m_start_stack = sp; }
    // Grows a VM_GROWSDOWN VMA down to cover addr, as expand_stack does; false if it may not.
    bool expand_stack(Vma& vma, VirtAddr addr);

    // The memory cgroup this space's pages are charged to (Linux: the memcg of mm->owner): the
    // active one when the space was made, changed when its owner moves to another group.
    MemCgroup* memcg() const { return m_memcg; }
    void set_memcg(MemCgroup* memcg) { m_memcg = memcg; }

    // Counters. Faults are counted for the task running in this space (set by its owner).
    FaultCounters* fault_counters() { return m_fault_counters; }
    void set_fault_counters(FaultCounters* counters) { m_fault_counters = counters; }
    RssStat& rss() { return m_rss; }
    const RssStat& rss() const { return m_rss; }
    u64 total_vm() const { return m_tree.total_vm(); }
    u64 data_vm() const { return m_tree.data_vm(); }
    u64 exec_vm() const { return m_tree.exec_vm(); }
    u64 stack_vm() const { return m_tree.stack_vm(); }
    u64 locked_vm() const { return m_tree.locked_vm(); }
    u64 hiwater_rss() const;
    u64 hiwater_vm() const { return std::max(m_tree.hiwater_vm(), m_tree.total_vm()); }
    void update_hiwater_rss();

    // Tears down the pages of [start, end) in vma (Linux's zap_page_range), keeping the VMA.
    // Guard markers stay (MADV_DONTNEED, truncation) unless the range is being unmapped.
    enum class ZapGuards : u8 { Keep, Clear };
    void zap_range(Vma& vma, VirtAddr start, VirtAddr end, ZapGuards guards = ZapGuards::Keep);
    // Ensures vma has an AnonVma (anon_vma_prepare).
    AnonVma& anon_vma_prepare(Vma& vma);
    // Pre-faults [start, end) as MAP_POPULATE does; stops at the first failure.
    // Returns where it stopped: end, or an earlier page when a memory.high penalty is owed
    // (MmCore::throttle_pending) or a fault could not be resolved.
    VirtAddr populate(VirtAddr start, VirtAddr end);

  private:
    AddressSpace(MmCore& mm, Asid asid, std::unique_ptr<PageTable> table);

    // ---- The steps the memory calls share ----
    // Room for len bytes (Linux's get_unmapped_area): the hint if it fits, else the highest gap
    // below mmap_base, else above it. On failure `failed` is set and the errno returned.
    u64 get_unmapped_area(u64 addr, u64 len, int flags, bool& failed);
    u64 unmapped_area_topdown(u64 len, u64 low, u64 high) const;
    // Unmaps [start, start + len): VMAs split at the edges, pages zapped, dirty shared file
    // pages written back, empty page tables freed (do_munmap).
    Result<void> do_munmap(u64 start, u64 len);
    // The tree's split, after splitting a THP the new boundary cuts through; returns the upper
    // part, vma keeps the lower.
    Vma& split_vma(Vma& vma, VirtAddr at);
    // Linux's vma_modify_flags: gives [start, end) of vma the new flags, splitting and merging.
    Vma& modify_flags(Vma& vma, u64 start, u64 end, u64 new_flags);
    // The start of vma with a stack's guard gap below it.
    u64 vm_start_gap(const Vma& vma) const;
    // A swap entry a PTE stops referring to (free_swap_and_cache).
    void release_swap_entry(SwapEntry entry);
    // Dirty pages of a shared file mapping's range go back to the file.
    Result<void> writeback_range(Vma& vma, VirtAddr start, VirtAddr end);
    // __mm_populate for locked memory (Mlock.cpp): writable private mappings are written, the
    // rest read, VM_LOCKONFAULT ones left to fault; errors stop it unless ignored.
    Result<void> populate_locked(u64 start, u64 end, bool ignore_errors);

    MmCore& m_mm;
    Asid m_asid;
    std::unique_ptr<PageTable> m_page_table;
    VmaTree m_tree{this};
    RssStat m_rss;
    u64 m_mmap_base = 0;
    u64 m_start_brk = 0;
    u64 m_brk = 0;
    u64 m_start_stack = 0;
    u64 m_vdso_base = 0;
    std::shared_ptr<Inode> m_exe_file; // its write access denied while held
    u64 m_hiwater_rss = 0;
    FaultCounters* m_fault_counters = nullptr;
    MemCgroup* m_memcg = nullptr;
    SlabCharge m_slab{KmemCache::MmStruct, slab_allocator_of(&m_mm)}; // its mm_struct

    // ==== The rest of the memory calls: madvise, mremap, mlock, mincore, clear_refs. ====
    // Entry points of their modules (Madvise.h, Mremap.h, Mlock.h, Mincore.h); clear_refs is
    // SoftDirty.cpp (Linux 6.x fs/proc/task_mmu.c).
  public:
    Result<void> madvise(u64 start, u64 len, int advice);
    Result<u64> mremap(u64 old_addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr);
    Result<void> mlock(u64 start, u64 len, u64 flags); // mlock2; flags may hold MLOCK_ONFAULT
    Result<void> munlock(u64 start, u64 len);
    Result<void> mlockall(int flags);
    Result<void> munlockall();
    // mincore: `out` receives one byte per page for the pages looked at before any error, as
    // Linux copies each finished chunk to the user before it fails on a hole.
    Result<void> mincore(u64 start, u64 len, std::vector<u8>& out);
    // A write to /proc/PID/clear_refs (1 all, 2 anon, 3 file, 4 soft-dirty, 5 peak RSS).
    Result<void> clear_refs(int type);

    // The owner's resource limits that bound this space, in bytes (RLIM_INFINITY: ~0), as Linux
    // reads them from the task: RLIMIT_AS and RLIMIT_DATA (may_expand_vm, brk), RLIMIT_STACK
    // (stack growth), RLIMIT_MEMLOCK, and whether the owner holds CAP_IPC_LOCK (kioku's processes
    // run as root, so they do and the memlock limit binds only when a test says otherwise).
    struct Limits {
        u64 as = ~u64{0};
        u64 data = ~u64{0};
        u64 stack = u64{8} << 20;
        u64 memlock = u64{8} << 20;
        bool cap_ipc_lock = true;
    };
    Limits& limits() { return m_limits; }
    // may_expand_vm: whether `pages` more of a mapping with these flags fit RLIMIT_AS and, for a
    // data mapping (private, writable, not stack), RLIMIT_DATA.
    bool may_expand_vm(u64 vm_flags, u64 pages) const;
    // VM_LOCKED / VM_LOCKONFAULT when mlockall(MCL_FUTURE) is in force (mm->def_flags).
    u64 def_flags() const { return m_def_flags; }
    // prctl(PR_SET_THP_DISABLE) (Linux's MMF_DISABLE_THP): no transparent huge page is made here.
    // Inherited by fork.
    bool thp_disabled() const { return m_thp_disabled; }
    void set_thp_disabled(bool disabled) { m_thp_disabled = disabled; }

    // Hooks for the other parts of the memory manager.
    // After a resolved fault in vma: mlocks the page in a VM_LOCKED VMA and marks a written page
    // soft-dirty (FaultHandler). `slot` is the 4 KiB slot the fault resolved, when the caller
    // has it; otherwise the page table is walked for va.
    void fault_done(Vma& vma, VirtAddr va, bool write, PageSlot slot = {});
    // Before pages of a VM_LOCKED VMA are unmapped: munlocks those no other locked VMA maps.
    void munlock_range(Vma& vma, VirtAddr start, VirtAddr end);

  private:
    u64 m_def_flags = 0;
    bool m_thp_disabled = false;
    Limits m_limits;

    // ==== userfaultfd (Userfault.cpp; Linux fs/userfaultfd.c) ====
  public:
    // UFFDIO_REGISTER: registers every VMA in [start, end) (holes allowed, at least one VMA) with
    // ctx in missing mode, splitting at the edges. EINVAL for memory that cannot be registered
    // (not anonymous, shmem or hugetlb; a hugetlb edge not huge-aligned) or a range with no VMA,
    // EPERM for a mapping that can never be written, EBUSY when another context has part of it,
    // ENOMEM when nothing is mapped at or above start. Returns whether a hugetlb VMA was found.
    Result<bool> userfault_register(UserfaultContext& ctx, u64 start, u64 end);
    // UFFDIO_UNREGISTER: the VMAs in [start, end) leave whatever context they were registered
    // with. The same errors as registering, bar EBUSY and EPERM.
    Result<void> userfault_unregister(u64 start, u64 end);
    // mfill_atomic's destination: the VMA wholly holding [dst, dst + len), registered with some
    // context (ENOENT otherwise); EINVAL for a shared mapping that is not shmem.
    Result<Vma*> userfault_dst(u64 dst, u64 len);
    // A context of this space is created or closed (closing unregisters its VMAs).
    void userfault_attach(UserfaultContext* ctx) { m_userfaults.push_back(ctx); }
    void userfault_release(UserfaultContext* ctx);

  private:
    // The checks of registering (ctx) or unregistering (null) [start, end); whether a hugetlb
    // VMA is in it.
    Result<bool> userfault_check(const UserfaultContext* ctx, u64 start, u64 end);
    // Gives every VMA part in [start, end) the registration ctx (null: none), splitting and merging.
    void userfault_set(u64 start, u64 end, UserfaultContext* ctx);
    Vma& set_userfault(Vma& vma, u64 from, u64 to, UserfaultContext* ctx);
    std::vector<UserfaultContext*> m_userfaults;
    // (the further memory calls continue below the class)
};

// ==== end of the further memory calls ====

// The protection a PTE gets for a VMA's flags (Linux: vm_get_page_prot, with write removed for
// private mappings and for shared mappings that need write notification).
u64 pte_bits_for(const Vma& vma);

} // namespace kioku
