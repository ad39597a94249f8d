// Refault detection (Linux: mm/workingset.c). When reclaim evicts a page it leaves a shadow entry
// where the page was (the page-cache slot of a file page, the swap slot of an anonymous or shmem
// page) holding the machine's non-resident age at that moment. The age counts evictions and
// refault activations. When the page is read back in, the distance between the age now and the
// shadow says how many pages were evicted in between: if that is no more than the pages that
// could have stayed resident instead (the active file list, the anon lists when swap is there, the
// inactive file list for an anonymous refault), the page would have survived with a little more
// memory, so it goes straight to the active list (workingset_activate_*). Every refault that finds
// a shadow is counted (workingset_refault_*).
//
// Not modelled: the PG_workingset bit and its workingset_restore_* counters, and shadow-node
// reclaim (workingset_nodes, workingset_nodereclaim stay 0). Owned by the core (MmCore).
#pragma once

#include "base/Types.h"

namespace kioku {

class MmCore;

class Workingset {
  public:
    explicit Workingset(MmCore& mm)
        : m_mm(mm)
    {
    }

    // workingset_eviction: the shadow to store for a page being evicted now.
    u64 eviction();
    // workingset_refault: a page with this shadow was read back; counts the refault and returns
    // true when the page should start on the active list.
    bool refault(u64 shadow, bool file);
    // The test refault makes, without counting anything: whether the page evicted with this
    // shadow would have stayed with the memory the working set has now (the read of such a page
    // is a stall on memory, thrashing, for pressure stall information).
    bool in_workingset(u64 shadow, bool file) const;
    u64 nonresident_age() const { return m_age; }

  private:
    MmCore& m_mm;
    u64 m_age = 0;
};

} // namespace kioku
