// The page-replacement policy: which resident user page reclaim should try to evict next. It is
// a replaceable part: the memory manager's mechanism (unmapping through the reverse map, writing
// to swap or back to the file, freeing) stays the same whatever the policy chooses.
//
// Policies: Linux's two-list LRU (the default), CLOCK, FIFO, S3-FIFO, exact LRU and Belady's OPT
// oracle (for comparisons in the fixed-frame mode). docs/policies.md says how to add one.
//
// A policy hears of every evictable page entering and leaving memory, and of the accesses the
// kernel observes directly. It may read and clear a page's accessed bits through the
// ReclaimScan, which harvests them from every PTE mapping the page (flushing those TLB entries).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/Types.h"
#include "mm/core/VmStat.h"

namespace kioku {

// What one harvest of a page's accessed bits found (Linux: folio_referenced's count and vm_flags).
struct References {
    u32 young = 0;     // mappings whose accessed bit was set
    bool exec = false; // one of them is an executable mapping (VM_EXEC): program text
    explicit operator bool() const { return young > 0; }
};

class ReclaimScan {
  public:
    virtual ~ReclaimScan() = default;
    // Was the page referenced since the last test? Clears the accessed bits it looked at.
    virtual References test_and_clear_referenced(Pfn pfn) = 0;
    // May this scan evict anonymous (swap-backed) pages? False when no swap space is free.
    virtual bool may_swap() const = 0;
    // May this scan take the page at all? A memory cgroup's reclaim takes only the group's pages
    // (and its descendants'); a policy passes over the others and leaves them where they are.
    virtual bool eligible(Pfn) const { return true; }
    // Counts one page scanned, for pgscan_*.
    virtual void scanned(Pfn pfn) = 0;
    // The machine's counters (pgactivate, pgdeactivate, pgrefill...).
    virtual VmStat& vmstat() = 0;
};

class ReplacementPolicy {
  public:
    virtual ~ReplacementPolicy() = default;
    virtual const char* name() const = 0;

    virtual void page_added(Pfn pfn) = 0;   // a user page became resident and evictable
    virtual void page_removed(Pfn pfn) = 0; // it was freed or became unevictable
    virtual void page_accessed(Pfn) {}      // an access the kernel saw (scenario accesses)

    // Appends up to `count` pages to try to evict, best candidates first.
    virtual void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) = 0;
    // A selected page that could not be evicted now stays resident.
    virtual void keep(Pfn pfn) = 0;
    // Why the page just selected was chosen, in a few words (page events; called only when
    // someone listens, before the page is evicted).
    virtual std::string victim_reason(Pfn pfn) const
    {
        (void)pfn;
        return name();
    }
};

} // namespace kioku
