// Transparent huge pages (Linux: mm/huge_memory.c and mm/khugepaged.c): 2 MiB anonymous pages
// mapped by megapage leaves, the huge zero page, splitting, and khugepaged collapsing ranges.
// Owned by the MemoryManager; single-threaded like the rest of a machine.
//
// The model:
//   - A THP is an order-9 compound page: the head frame carries FF_HEAD and order 9, the 511 tails
//     FF_TAIL. Head and tails are FF_ANON; only the head has an owner, an index (the linear index
//     of its first page), counts and a place on an LRU list, where it counts HPAGE_PMD_NR pages
//     (Lru sizes are in pages, as Linux's lruvec). Tails keep refcount and mapcount 0.
//   - A THP is mapped only by megapage leaves (level-1 entries, Linux's PMD mappings). The head's
//     mapcount counts those leaves, its refcount the leaves plus transient pins. A mapped THP
//     counts HPAGE_PMD_NR pages in nr_anon_pages, nr_anon_transparent_hugepages and the RSS of
//     every address space that maps it.
//   - Whenever a path needs 4 KiB granularity inside a THP (a VMA boundary through it, a partial
//     zap, copy-on-write of a shared THP, reclaim, mlock, mremap, MADV_FREE/COLD/PAGEOUT), the
//     whole page is split: every PMD mapping of it, in every address space, becomes a table of
//     512 PTEs, and the compound page becomes 512 ordinary order-0 pages carrying the head's
//     counts, owner, flags and LRU list. Linux can split only one PMD and keep a PTE-mapped
//     compound page, with a deferred split queue for partly unmapped ones; kioku never has a
//     PTE-mapped compound page, which keeps every 4 KiB path unaware of compound pages.
//   - Every megapage leaf of anonymous memory (a THP or the huge zero page) has a PTE table
//     deposited with it in the PageTable, as Linux's pgtable_trans_huge_deposit: allocated before
//     the leaf is installed (a fault without one is VM_FAULT_OOM, a fork ENOMEM), kept from the
//     old table when khugepaged collapses a range, taken back when the leaf is split and freed
//     when it is zapped. So a split never needs memory and cannot fail, and VmPTE and PageTables
//     show a THP mapping's 4 KiB per 2 MiB as Linux's do, although the MMU never walks it.
//   - mlocked memory stays at 4 KiB here: no THP is made in a VM_LOCKED VMA and mlock splits
//     (Linux mlocks the whole folio).
//   - The huge zero page is a zeroed order-9 block taken on first use and kept (FF_RESERVED):
//     read faults map it read-only; a write to it splits the PMD into PTEs of the ordinary zero
//     page and falls back to the 4 KiB path, as do_huge_pmd_wp_page does in Linux 6.x.
//   - THP allocation never reclaims; when the defrag setting allows direct compaction it asks the
//     Compactor once before falling back to 4 KiB pages.
//   - khugepaged runs from background_work() on the simulated clock: every scan_sleep_millisecs
//     it looks at pages_to_scan pages of eligible VMAs and collapses a 2 MiB range whose PTEs pass
//     the max_ptes_none / max_ptes_swap / max_ptes_shared limits into a fresh THP, depositing
//     the range's old PTE table with the new leaf.
#pragma once

#include <optional>
#include <string>

#include "base/Result.h"
#include "base/Types.h"
#include "mm/pgtable/PageSlot.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

class AddressSpace;
class FrameTable;
class MmCore;
struct Vma;
enum class FaultOutcome : u8;

// /sys/kernel/mm/transparent_hugepage/enabled and defrag.
enum class ThpMode : u8 { Always, Madvise, Never };
enum class ThpDefrag : u8 { Always, Defer, DeferMadvise, Madvise, Never };

// The tunables, with Linux's defaults (enabled as this host's kernel has it: madvise).
struct ThpSettings {
    ThpMode enabled = ThpMode::Madvise;
    ThpDefrag defrag = ThpDefrag::Madvise;
    bool use_zero_page = true;
    u8 shmem_enabled = 3; // shmem_enabled's choice: "never" (kioku's shmem has no huge pages)
    // khugepaged/: HPAGE_PMD_NR * 8 pages a pass, 10 s between passes, 60 s after a failed
    // allocation, and the collapse limits HPAGE_PMD_NR - 1, / 8 and / 2.
    u64 pages_to_scan = HPAGE_PMD_NR * 8;
    u64 scan_sleep_millisecs = 10000;
    u64 alloc_sleep_millisecs = 60000;
    u64 max_ptes_none = HPAGE_PMD_NR - 1;
    u64 max_ptes_swap = HPAGE_PMD_NR / 8;
    u64 max_ptes_shared = HPAGE_PMD_NR / 2;
    bool khugepaged_defrag = true;
};

// The head frame of the compound page pfn belongs to (pfn itself when it is not a tail).
Pfn compound_head(const FrameTable& frames, Pfn pfn);

class Thp final : public ThpOps {
  public:
    explicit Thp(MmCore& mm);
    ~Thp();

    ThpSettings& settings() { return m_settings; }
    const ThpSettings& settings() const { return m_settings; }

    // ==== Faults (FaultHandler; ThpOps.h says what each operation of the port does) ====
    std::optional<FaultOutcome> handle_fault(AddressSpace& space, Vma& vma, VirtAddr va, bool write) override;
    // Whether a fault in vma may map a THP covering va (Linux's thp_vma_allowable + suitable).
    bool fault_allowed(const AddressSpace& space, const Vma& vma, VirtAddr va) const;
    // Whether the VMA may hold THPs at all under the current settings (hugepage_vma_check).
    bool vma_allowed(const AddressSpace& space, const Vma& vma) const;

    // ==== Splitting ====
    // Splits the THP whose head is `head`: every PMD mapping becomes its deposited PTE table, and
    // the compound page 512 order-0 pages. Needs no memory, so it always succeeds here (true);
    // the result stays for callers written for Linux's split_huge_page, which can fail on pins.
    bool split_huge_page(Pfn head);
    void split_range(AddressSpace& space, VirtAddr start, VirtAddr end) override;
    void split_partial(AddressSpace& space, VirtAddr start, VirtAddr end) override;
    // A huge zero page leaf becomes 512 PTEs of the ordinary zero page (in its deposited table).
    void split_zero_pmd(AddressSpace& space, VirtAddr base);

    // ==== Whole-PMD operations on a huge leaf (AddressSpace, Fork, Mprotect) ====
    void zap_huge_pmd(AddressSpace& space, VirtAddr base, PageSlot entry) override;
    CopyHuge copy_huge_pmd(AddressSpace& child, VirtAddr base, PageSlot entry, bool cow) override;
    void change_huge_pmd(const Vma& vma, PageSlot entry) override;
    // Drops a reference to a THP; the last one frees the whole compound page.
    void put_huge_page(Pfn head);

    // ==== The huge zero page ====
    bool is_huge_zero(Pfn pfn) const override;
    std::optional<Pfn> huge_zero_pfn() const { return m_huge_zero; }

    // ==== khugepaged ====
    // khugepaged's turn: called as simulated time passes (MemoryManager::background_work).
    void background_work();
    // One pass over up to `pages` pages of eligible VMAs, whatever the clock says (tests, and
    // the pass background_work makes when it is due). Returns the pages scanned.
    u64 khugepaged_scan(u64 pages);
    // Tries to collapse the 2 MiB range at base (aligned) of vma into a THP.
    bool collapse(AddressSpace& space, Vma& vma, VirtAddr base);
    u64 full_scans() const { return m_full_scans; }
    u64 pages_collapsed() const { return m_pages_collapsed; }

    // ==== /sys/kernel/mm/transparent_hugepage (ThpSysfs.cpp) ====
    // `name` is the path below that directory ("enabled", "khugepaged/pages_to_scan"). Linux's
    // exact text; ENOENT for an unknown file, EINVAL for a bad value.
    Result<std::string> sysfs_read(const std::string& name) const;
    Result<void> sysfs_write(const std::string& name, const std::string& value);

  private:
    std::optional<Pfn> alloc_huge_page(bool direct_compaction);
    void prep_huge_page(Pfn head, AddressSpace& space, Vma& vma, VirtAddr base);
    void map_huge_page(AddressSpace& space, Pfn head, PageSlot pmd, u64 bits);
    void split_pmd(AddressSpace& space, VirtAddr base, std::optional<Pfn> every = std::nullopt);
    std::optional<FaultOutcome> huge_pmd_fault(AddressSpace& space, Vma& vma, VirtAddr base, PageSlot pmd,
                                               bool write);
    std::optional<FaultOutcome> anonymous_huge_fault(AddressSpace& space, Vma& vma, VirtAddr base,
                                                     PageSlot pmd, bool write);
    std::optional<Pfn> get_huge_zero_page();
    bool direct_compaction_allowed(const Vma& vma) const;
    void add_huge_rmap(AddressSpace& space, Pfn head);
    void remove_huge_rmap(AddressSpace& space, Pfn head);
    void scan_space(AddressSpace& space, u64& budget);

    MmCore& m_mm;
    ThpSettings m_settings;
    std::optional<Pfn> m_huge_zero;
    // khugepaged's cursor: the address space (by ASID) and address it resumes at.
    Asid m_scan_asid = 0;
    u64 m_scan_address = 0;
    u64 m_next_scan_ns = 0;
    u64 m_full_scans = 0;
    u64 m_pages_collapsed = 0;
};

} // namespace kioku
