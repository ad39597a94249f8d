// The page-fault handler (Linux: handle_mm_fault and the riscv do_page_fault around it). Given a
// faulting address and access, it finds the VMA, checks the access against it, and resolves the
// fault through the one page-slot lookup: an empty slot is demand-paged (zero page for an anonymous
// read, a fresh zeroed frame for an anonymous write, the page cache for a file, with fault-around
// and read-around), a present read-only slot under a write is copy-on-write (copy, or reuse when
// the page is no longer shared), a swap entry is swapped in.
//
// The outcome is a closed enum; fatal outcomes name the signal the CPU must deliver.
#pragma once

#include <optional>

#include "base/Result.h"
#include "base/Types.h"
#include "isa/Paging.h"
#include "mm/pgtable/PageSlot.h"

namespace kioku {

class AddressSpace;
enum class ZeroFill : u8;
class MmCore;
struct Vma;

enum class FaultOutcome : u8 {
    Minor,      // resolved without I/O
    Major,      // resolved, with I/O (page cache miss, swap-in)
    SegvMapErr, // no mapping at the address: SIGSEGV, SEGV_MAPERR
    SegvAccErr, // mapping forbids the access: SIGSEGV, SEGV_ACCERR
    Sigbus,     // file page beyond end of file: SIGBUS, BUS_ADRERR
    Oom,        // no memory could be found: the OOM killer has been, or must be, invoked
    Userfault,  // a missing page in a range registered with a userfaultfd: user space resolves it
};

constexpr bool fault_resolved(FaultOutcome o)
{
    return o == FaultOutcome::Minor || o == FaultOutcome::Major;
}
const char* fault_outcome_name(FaultOutcome o);

// The signal an unresolved fault raises (Linux: riscv's do_page_fault with bad_area and
// mm_fault_error): SIGSEGV with SEGV_MAPERR where nothing is mapped, SEGV_ACCERR where the mapping
// forbids the access, SIGBUS with BUS_ADRERR past the end of a file (and for a userfaultfd range
// that asked for it), SIGKILL when no memory could be had. The only such mapping: the run loop's
// faults and the kernel's own accesses to user memory both use it.
struct FaultSignal {
    int signo = 0; // 0 for a resolved fault
    int code = 0;
};
FaultSignal fault_signal(FaultOutcome o);

// What a resolved fault did, for kioku's reports (Linux counts only minor and major):
//   ZeroPage  a read of untouched anonymous memory, mapped to the shared zero page
//   Anon      a write to untouched anonymous memory: a new zeroed page
//   File      a page of a file or of shmem mapped (read, or a write to a shared mapping)
//   Cow       a write that copied a page (a private file page, or a shared or zero page after
//             fork) or took over the one it had (do_wp_page's reuse)
//   SwapIn    a page read back from swap, or found still in the swap cache
//   Huge      a transparent huge page or a hugetlb page
//   Other     an entry already right, whose stale TLB copy was dropped (a spurious fault)
enum class FaultCause : u8 { ZeroPage, Anon, File, Cow, SwapIn, Huge, Other, Count };
const char* fault_cause_name(FaultCause cause); // "zero_page", "anon", ...

// Per-task fault counts (Linux: task_struct min_flt / maj_flt). The owner of an address space
// points it at the counters of the task running in it. Beyond Linux's two: the resolved faults by
// cause, and the pages reclaim sent to swap from this task's address space.
struct FaultCounters {
    u64 min_flt = 0;
    u64 maj_flt = 0;
    u64 by_cause[static_cast<unsigned>(FaultCause::Count)] = {};
    u64 swap_outs = 0;
};

class FaultHandler {
  public:
    explicit FaultHandler(MmCore& mm)
        : m_mm(mm)
    {
    }

    // A user-mode fault at va. Counts it (task counters, pgfault / pgmajfault) when resolved.
    FaultOutcome handle(AddressSpace& space, VirtAddr va, isa::AccessType access);
    // The same once the VMA is known and the access allowed (populate and get_user_pages).
    FaultOutcome handle_in_vma(AddressSpace& space, Vma& vma, VirtAddr va, isa::AccessType access);

    // UFFDIO_COPY and UFFDIO_ZEROPAGE for the page at va of a registered VMA (Linux:
    // mfill_atomic_pte; for hugetlb, the huge page at va): fills it from src (its whole size), or
    // with zeroes when src is null, and maps it. EEXIST when the slot, or for shmem and hugetlb
    // the file, already has a page; EFAULT past the end of a shmem file; ENOMEM without memory.
    Result<void> userfault_fill(AddressSpace& space, Vma& vma, VirtAddr va, const u8* src);

  private:
    FaultOutcome do_anonymous_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot, bool write);
    FaultOutcome do_read_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot);
    FaultOutcome do_cow_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot);
    FaultOutcome do_shared_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot);
    FaultOutcome do_wp_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot);
    FaultOutcome do_swap_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot, bool write);
    void fault_around(AddressSpace& space, Vma& vma, VirtAddr va);
    // A shmem page missing (neither cached nor swapped) in a VMA registered for missing faults.
    bool shmem_userfault(const Vma& vma, u64 index);
    // A zeroed or uninitialised anonymous page owned by vma's AnonVma, not yet mapped.
    std::optional<Pfn> new_anon_page(AddressSpace& space, Vma& vma, VirtAddr va, ZeroFill zero);
    void map_new_anon_page(AddressSpace& space, Vma& vma, Pfn pfn, PageSlot slot);
    // Maps a page-cache page into an empty slot of a shared mapping, dirty (the page is pinned).
    void map_shared_page(AddressSpace& space, Vma& vma, Pfn pfn, PageSlot slot);
    bool try_free_swap(Pfn pfn);
    u64 read_around_pages() const;
    void account(AddressSpace& space, FaultOutcome outcome, FaultCause cause);

    MmCore& m_mm;
};

} // namespace kioku
