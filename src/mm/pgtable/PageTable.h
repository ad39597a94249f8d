// One address space's RISC-V page table (Linux: the pgd and the tables below it, plus the
// arch/riscv pgtable helpers). The tables are real: frames of guest physical memory holding
// 512 eight-byte entries each, walked by the hardware MMU. This class finds and makes the slots
// (PageSlot, the single way to write an entry, which pairs every downgrade with its TLB flush
// through this table's ASID), splits huge leaves and frees empty tables. What an entry holds is
// described in Pte.h.
//
// A huge leaf is an entry at level 1 (a 2 MiB megapage, Linux's PMD mapping) or level 2 (a 1 GiB
// gigapage, a PUD mapping) with R, W or X set, mapping 512 or 512*512 consecutive frames. Huge
// leaves are made and removed only by the huge-page code (transparent huge pages and hugetlb);
// the 4 KiB paths (slot(), the two-argument for_each()) VERIFY that they never meet one, so every
// other path splits a huge leaf (split_leaf) or handles it through the huge visitor first.
// Table pages are taken from the page allocator through a TableAllocator; a table is freed when
// free_tables() finds it empty in a range no longer mapped.
//
// Deposited tables (Linux: pgtable_trans_huge_deposit and pmd_huge_pte): every megapage leaf of
// anonymous memory (a THP or the huge zero page) has one spare PTE table set aside, keyed by the
// leaf's base address, so that splitting the leaf never needs memory. A deposit is owned by this
// page table and counted in table_pages() (VmPTE, PageTables) like a table in the tree, but no
// entry points to it: the MMU never walks it. The huge-page code deposits a table before it
// installs such a leaf, split_leaf() takes it back, and zapping the leaf frees it. hugetlb leaves
// have no deposit, as in Linux.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/Result.h"
#include "base/Types.h"
#include "isa/Paging.h"
#include "mm/pgtable/PageSlot.h"
#include "mm/pgtable/Pte.h"

namespace kioku {

class PhysicalMemory;
class TlbFlushPort;

// Where table pages come from; the memory manager implements it over the page allocator.
class TableAllocator {
  public:
    virtual ~TableAllocator() = default;
    virtual std::optional<Pfn> allocate_table() = 0; // a zeroed frame, or nullopt when out of memory
    virtual void free_table(Pfn pfn) = 0;
};

class PageTable {
  public:
    // Allocates the root table; VERIFY that it could (the caller checks memory first).
    // Entries are flushed from `tlb` under `asid`.
    static Result<std::unique_ptr<PageTable>> create(PhysicalMemory& memory, TableAllocator& tables,
                                                     isa::SatpMode mode, TlbFlushPort& tlb, Asid asid);
    ~PageTable(); // frees every table page; leaves must already be empty (unmapped)

    Pfn root() const { return m_root; }
    isa::SatpMode mode() const { return m_mode; }
    TlbFlushPort& tlb() const { return m_tlb; }
    Asid asid() const { return m_asid; }
    unsigned levels() const { return isa::levels_of(m_mode); }
    u64 user_limit() const; // first address past the user half (TASK_SIZE)
    // Table pages in use, not counting the root (Linux's mm_pgtables_bytes / VmPTE): the tables
    // in the tree and the deposited ones.
    u64 table_pages() const { return m_table_pages; }
    // Table pages the MMU can reach from the root (not counting it): table_pages() less the
    // deposits. Walks the tree.
    u64 reachable_table_pages() const;

    // The leaf slot for va, creating the tables on the way when create is set. Returns null when
    // a table is missing (and create is not set) or cannot be allocated.
    PageSlot slot(VirtAddr va, bool create) { return entry_at(va, 0, create); }
    // The leaf slot for va when a table maps it in 4 KiB pages; null when a table is missing or
    // a huge leaf covers va. For paths (the reverse map) that may look at any address.
    PageSlot find_pte(VirtAddr va);
    // The entry the MMU would use for the 4 KiB page at va: the leaf slot's value, or, under a
    // huge leaf, that leaf's bits with the frame of va's page inside it (as pagemap and mincore
    // see a huge mapping). 0 when nothing maps va.
    u64 read(VirtAddr va) const;

    // Visits every non-empty leaf slot in [start, end), in address order. VERIFYs that no huge
    // leaf lies in the range.
    using LeafVisitor = std::function<void(VirtAddr, PageSlot)>;
    void for_each(VirtAddr start, VirtAddr end, const LeafVisitor& fn);
    // The same, also visiting huge leaves: `huge` gets the base address of the huge page (which
    // may lie below start when the range begins inside it), its level (1 or 2) and the entry.
    // A non-present huge entry (protnone) is visited too.
    using HugeVisitor = std::function<void(VirtAddr base, unsigned level, PageSlot entry)>;
    void for_each(VirtAddr start, VirtAddr end, const LeafVisitor& fn, const HugeVisitor& huge);

    // ==== Huge leaves ====
    // The entry at `level` (0, 1 or 2) that covers va, creating the tables above it when create is
    // set; null when a table is missing (create unset) or cannot be allocated. The entry may be
    // empty, a huge leaf, or a pointer to the next table (when level > 0).
    PageSlot entry_at(VirtAddr va, unsigned level, bool create);
    // The huge leaf covering va, if any (present or protnone).
    struct HugeLeaf {
        PageSlot entry;
        unsigned level;
        VirtAddr base; // va rounded down to the huge page size
    };
    std::optional<HugeLeaf> huge_leaf(VirtAddr va);
    // Replaces the huge leaf covering va by a table of 512 leaves one level down carrying the same
    // bits (A and D included) and consecutive frames, as Linux's __split_huge_pmd_locked does for
    // the page table, and flushes the huge translation. With `every`, each new leaf maps that one
    // frame instead (__split_huge_zero_page_pmd: the 4 KiB zero page). The leaf's deposited table
    // is used when it has one, and then this cannot fail; otherwise a table is allocated. Counts
    // are the caller's. False when no table page could be had (nothing changed); true also when
    // there was no huge leaf.
    bool split_leaf(VirtAddr va, std::optional<Pfn> every = std::nullopt);
    // The entry at `level` (1 or 2) for a huge leaf at `base`, made ready (hugetlb's
    // huge_pte_alloc): a table left there holding no entry is freed with the empty tables under
    // it. An empty slot unless a huge leaf is there already; no slot when a table could not be had
    // or one there still maps something.
    PageSlot huge_slot(VirtAddr base, unsigned level);
    // Takes the PTE table under the megapage at `base` off its entry and flushes the whole ASID
    // (pmdp_collapse_flush), then empties it: the table, still counted here, is the caller's to
    // deposit or release. nullopt when no PTE table is there.
    std::optional<Pfn> detach_table(VirtAddr base);
    // A zeroed table page for the huge-page code to deposit or install, already counted in
    // table_pages(); nullopt when none can be had (Linux's pte_alloc_one).
    std::optional<Pfn> allocate_table();
    // Frees a table page counted here that no entry points to any more: one from
    // allocate_table() that was not used, or a table the huge-page code emptied and detached.
    void release_table(Pfn table);

    // ==== Deposited tables ====
    // Sets `table` (counted here: from allocate_table(), or a detached table of this page table)
    // aside for the megapage leaf at `base`. VERIFYs that base has no deposit yet.
    void deposit(VirtAddr base, Pfn table);
    // Takes the deposit of `base` back, still counted here: the caller installs it or releases
    // it. nullopt when base has none (Linux's pgtable_trans_huge_withdraw).
    std::optional<Pfn> withdraw(VirtAddr base);
    // Withdraws and frees the deposit of `base`, if any (Linux's zap_deposited_table).
    void free_deposit(VirtAddr base);
    // Base address -> deposited table, in address order (for the invariant checker and views).
    const std::map<u64, Pfn>& deposits() const { return m_deposits; }

    // Linux's free_pgtables for the hole left by an unmap of [start, end): frees the tables over
    // that range that hold no entry and cover only addresses inside [floor, ceiling) (the hole
    // between the neighbouring mappings). Returns how many were freed.
    u64 free_tables(VirtAddr start, VirtAddr end, VirtAddr floor, VirtAddr ceiling);
    u64 free_tables(VirtAddr start, VirtAddr end) { return free_tables(start, end, start, end); }

  private:
    PageTable(PhysicalMemory& memory, TableAllocator& tables, isa::SatpMode mode, TlbFlushPort& tlb,
              Asid asid, Pfn root);
    u64* entry(Pfn table, unsigned index) const;
    void for_each_in(Pfn table, unsigned level, u64 base, u64 start, u64 end, const LeafVisitor& fn,
                     const HugeVisitor* huge);
    struct FreeRange {
        u64 start, end;     // walked
        u64 floor, ceiling; // freed within
    };
    void free_in(Pfn table, unsigned level, u64 base, const FreeRange& range, u64& freed);
    bool table_empty(Pfn table) const;
    bool free_if_empty(Pfn table, unsigned level);
    void free_all(Pfn table, unsigned level);
    u64 reachable_in(Pfn table, unsigned level) const;

    PhysicalMemory& m_memory;
    TableAllocator& m_tables;
    isa::SatpMode m_mode;
    TlbFlushPort& m_tlb;
    Asid m_asid;
    Pfn m_root;
    u64 m_table_pages = 0;
    std::map<u64, Pfn> m_deposits; // megapage base -> its deposited PTE table (pmd_huge_pte)
};

} // namespace kioku
