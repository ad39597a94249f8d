// The one way the memory manager writes a page-table entry (Linux: set_pte_at, ptep_get_and_clear,
// ptep_clear_flush, ptep_set_wrprotect, ptep_clear_flush_young, ptep_set_access_flags, and
// mmu_gather for ranges). A PageSlot names one entry of one PageTable — a leaf PTE, or a huge leaf
// one or two levels up — and the address it maps. It reads like a pointer (`*slot` is the entry's
// value) but cannot be assigned through: every write is one of the operations below, and every
// operation that takes something away from an entry the TLB may hold (a frame, a permission, the
// accessed or dirty bit) flushes that translation itself, at once or through a TlbGather. So no
// path can downgrade an entry and forget the flush, which RISC-V's TLB, holding a stale entry
// until sfence.vma, would punish.
//
// Fills and upgrades need no flush: the TLB never holds a non-valid entry, and a TLB entry with
// fewer permissions or without A/D than the PTE only faults spuriously, which the fault handler
// answers with set_access_flags (Linux's flush_tlb_fix_spurious_fault).
#pragma once

#include <limits>

#include "base/Assert.h"
#include "base/Types.h"
#include "hw/Tlb.h"
#include "mm/pgtable/Pte.h"

namespace kioku {

class PageTable;

// A batch of TLB invalidations for one page table (Linux's mmu_gather, as much of it as a model
// without other CPUs needs). Each page whose translation is taken away is flushed at once while
// the batch is small; past `page_limit` pages the rest are left, and the whole ASID is flushed
// when the batch ends (its destructor, or finish()), as flush_tlb_range gives up on long ranges.
class TlbGather {
  public:
    static constexpr u64 DEFAULT_PAGE_LIMIT = 32;
    static constexpr u64 EACH_PAGE = std::numeric_limits<u64>::max(); // never the whole ASID
    static constexpr u64 WHOLE_ASID = 0;                              // only the whole ASID

    explicit TlbGather(PageTable& table, u64 page_limit = DEFAULT_PAGE_LIMIT);
    ~TlbGather() { finish(); }
    TlbGather(const TlbGather&) = delete;
    TlbGather& operator=(const TlbGather&) = delete;

    // The translation of the page (or huge page) at va is to go.
    void add(VirtAddr va)
    {
        if (++m_pages <= m_limit)
            m_port.flush_page(m_asid, va);
    }
    // Flushes the ASID when more pages were added than flushed one by one; starts a new batch.
    void finish();
    u64 pages() const { return m_pages; }

  private:
    TlbFlushPort& m_port;
    Asid m_asid;
    u64 m_limit;
    u64 m_pages = 0;
};

class PageSlot {
  public:
    PageSlot() = default; // no slot: the walk found no table, or could not make one
    PageSlot(PageTable& table, u64* entry, VirtAddr va)
        : m_table(&table)
        , m_entry(entry)
        , m_va(va)
    {
    }

    explicit operator bool() const { return m_entry != nullptr; }
    u64 operator*() const { return *m_entry; }
    VirtAddr va() const { return m_va; }
    // The slot `n` entries further on in the same table (a leaf table's next pages); VERIFYs
    // that it stays in the table.
    PageSlot next(unsigned n) const
    {
        auto index = (reinterpret_cast<uintptr_t>(m_entry) % PAGE_SIZE) / sizeof(u64);
        VERIFY(index + n < isa::PTES_PER_TABLE && "a slot beyond its table");
        return PageSlot(*m_table, m_entry + n, m_va + n * PAGE_SIZE);
    }

    // ==== Writes that need no flush ====
    // Fills a slot the TLB cannot hold: empty, swap, marker or protnone (set_pte_at).
    void set(u64 pte)
    {
        VERIFY(!isa::pte_valid(*m_entry) && "set over an entry the TLB may hold: it needs a flush");
        *m_entry = pte;
    }
    // Clears a slot the TLB cannot hold (a swap entry or a marker) and returns what it held.
    u64 clear()
    {
        u64 old = *m_entry;
        VERIFY(!pte_present(old) && "cleared without a flush while a frame was mapped");
        *m_entry = 0;
        return old;
    }
    // Adds bits to the entry (permissions, A, D, soft-dirty): what the hardware does on an
    // access, and a fault that grants what the TLB entry lacked takes a spurious fault at worst.
    void upgrade(u64 bits) { *m_entry |= bits; }

    // ==== Writes paired with their flush ====
    // Each flushes the translation when the entry maps a frame (present or protnone) and the
    // write changes it; through `tlb` when given, else at once.
    // ptep_get_and_clear + flush: empties the slot, returns what it held.
    u64 clear_flush(TlbGather& tlb)
    {
        u64 old = *m_entry;
        *m_entry = 0;
        if (pte_present(old))
            tlb.add(m_va);
        return old;
    }
    u64 clear_flush();
    // Replaces the entry by `pte` (pte_modify, a new frame for the same page): mprotect,
    // migration, copy-on-write's new page.
    void modify_flush(u64 pte, TlbGather& tlb)
    {
        u64 old = *m_entry;
        *m_entry = pte;
        if (pte_present(old) && pte != old)
            tlb.add(m_va);
    }
    void modify_flush(u64 pte);
    // Takes bits away (W, A, D, soft-dirty): ptep_set_wrprotect, ptep_test_and_clear_young,
    // clean for writeback. Returns whether any of them was set; flushes only then.
    bool clear_bits_flush(u64 bits, TlbGather& tlb)
    {
        u64 old = *m_entry;
        if (!(old & bits))
            return false;
        *m_entry = old & ~bits;
        if (pte_present(old))
            tlb.add(m_va);
        return true;
    }
    bool clear_bits_flush(u64 bits);
    bool wrprotect_flush(TlbGather& tlb) { return clear_bits_flush(isa::PTE_W, tlb); }
    bool wrprotect_flush() { return clear_bits_flush(isa::PTE_W); }
    bool mkold_flush(TlbGather& tlb) { return clear_bits_flush(isa::PTE_A, tlb); }
    bool mkold_flush() { return clear_bits_flush(isa::PTE_A); }
    // ptep_set_access_flags: adds bits (W after a write fault that may keep the page, A, D) and
    // flushes the old, weaker translation, which the TLB may hold.
    void set_access_flags(u64 bits);

  private:
    friend class PageTable; // which makes and removes tables under its slots
    PageTable* m_table = nullptr;
    u64* m_entry = nullptr;
    VirtAddr m_va{0};
};

} // namespace kioku
