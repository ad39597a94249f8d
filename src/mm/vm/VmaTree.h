// The VMAs of one address space, ordered by start address (Linux: the mm's maple tree, with the
// vm_stat_account counters and the tree edits of mm/vma.c). Every edit keeps these invariants:
// VMAs are page-aligned, non-empty and never overlap; a VMA in the tree points at its address
// space and is linked into its file's mapping list and its AnonVma; total/data/exec/stack/locked
// page counts are the sums over the VMAs, by vm_stat_account's classes.
//
// What the tree does not know is policy: which flags a call sets, when a THP must be split at a
// new boundary, what is charged to the overcommit count. Those stay with the calls (AddressSpace
// and the files beside it).
#pragma once

#include <map>
#include <memory>

#include "base/Types.h"
#include "mm/vm/Vma.h"

namespace kioku {

class AddressSpace;

class VmaTree {
  public:
    using Map = std::map<u64, std::unique_ptr<Vma>>;

    // VMAs inserted here point at `owner` (which may be null in a test of the tree alone).
    explicit VmaTree(AddressSpace* owner)
        : m_owner(owner)
    {
    }
    VmaTree(const VmaTree&) = delete;
    VmaTree& operator=(const VmaTree&) = delete;

    const Map& all() const { return m_vmas; }
    u64 count() const { return m_vmas.size(); }
    Vma* first() const { return m_vmas.empty() ? nullptr : m_vmas.begin()->second.get(); }
    Vma* last() const { return m_vmas.empty() ? nullptr : m_vmas.rbegin()->second.get(); }

    // ==== Lookups ====
    Vma* find(VirtAddr va) const; // the first VMA with end > va (Linux's find_vma)
    Vma* containing(VirtAddr va) const;
    Vma* intersection(VirtAddr start, VirtAddr end) const; // the first VMA overlapping [start, end)
    Vma* prev(const Vma& vma) const;
    Vma* next(const Vma& vma) const;

    // ==== Edits ====
    // Links the VMA in (VERIFYs that it is well formed and overlaps nothing) and counts it.
    Vma& insert(std::unique_ptr<Vma> vma);
    // Unlinks the VMA and uncounts it; the caller holds what is returned.
    std::unique_ptr<Vma> remove(Vma& vma);
    // Splits vma at `at` (strictly inside, page-aligned): vma keeps the lower part, the upper part
    // is returned, its pgoff advanced (__split_vma).
    Vma& split(Vma& vma, VirtAddr at);
    // Whether `lower` and `upper`, adjacent, may become one VMA: the rules of is_mergeable_vma,
    // is_mergeable_anon_vma and the pgoff continuity of can_vma_merge_after.
    bool can_merge(const Vma& lower, const Vma& upper) const;
    // Merges vma with its neighbours where can_merge allows; returns the VMA that survives.
    Vma& merge(Vma& vma);
    // Changes a VMA's flags, or moves its end, in place, keeping the counters right.
    void set_flags(Vma& vma, u64 flags);
    void set_end(Vma& vma, VirtAddr end);
    // Moves a VMA's start (a stack growing down), pgoff with it.
    void set_start(Vma& vma, VirtAddr start);

    // ==== Counters, in pages (vm_stat_account) ====
    u64 total_vm() const { return m_total_vm; }
    u64 data_vm() const { return m_data_vm; }
    u64 exec_vm() const { return m_exec_vm; }
    u64 stack_vm() const { return m_stack_vm; }
    u64 locked_vm() const { return m_locked_vm; }
    // The highest total_vm seen (VmPeak); a call that undoes a growth puts it back.
    u64 hiwater_vm() const { return m_hiwater_vm; }
    void set_hiwater_vm(u64 pages) { m_hiwater_vm = pages; }

  private:
    void account(const Vma& vma, i64 sign);

    AddressSpace* m_owner;
    Map m_vmas;
    u64 m_total_vm = 0;
    u64 m_data_vm = 0;
    u64 m_exec_vm = 0;
    u64 m_stack_vm = 0;
    u64 m_locked_vm = 0;
    u64 m_hiwater_vm = 0;
};

} // namespace kioku
