// madvise(2), after Linux 6.x mm/madvise.c: the walk over the VMAs of the range (applying the
// advice to the mapped parts and answering ENOMEM for a hole afterwards), the advice that changes
// VMA flags (splitting and merging VMAs as vma_modify_flags does), and the advice that acts on
// pages: DONTNEED zaps, FREE marks anonymous pages lazily freeable, WILLNEED reads ahead, COLD
// deactivates, PAGEOUT reclaims now, POPULATE_* faults in, REMOVE punches a hole in the file.
//
// MADV_FREE: the range's exclusively owned anonymous pages are cleaned and handed to
// mark_lazyfree (src/mm/core/FolioLru.h), which reclaim later discards or takes back.
#pragma once

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
struct Vma;

// One madvise call on one address space (AddressSpace::madvise is its entry point).
class MadviseCall {
  public:
    explicit MadviseCall(AddressSpace& space)
        : m_space(space)
    {
    }
    Result<void> run(u64 start, u64 len, int advice);

  private:
    // The advice applied to the part [start, end) of one VMA.
    Result<void> madvise_vma(Vma& vma, u64 start, u64 end, int advice);
    // The advice that only changes VMA flags (RANDOM, DONTFORK, HUGEPAGE, ...).
    Result<void> madvise_flags(Vma& vma, u64 start, u64 end, int advice);
    // MADV_POPULATE_READ / WRITE: fault the range in, as a read or a write would.
    Result<void> madvise_populate(u64 start, u64 end, bool write);
    // MADV_FREE: exclusively owned anonymous pages become lazily freeable.
    void madvise_free(u64 start, u64 end);
    // MADV_WILLNEED: swapped-out pages (or a file's) are read ahead.
    void madvise_willneed(Vma& vma, u64 start, u64 end);
    // MADV_COLD deactivates, MADV_PAGEOUT reclaims, the pages this mapping alone maps.
    void madvise_cold_or_pageout(u64 start, u64 end, bool pageout);
    // MADV_REMOVE: punches the range out of the file behind a shared mapping.
    Result<void> madvise_remove(Vma& vma, u64 start, u64 end);
    // MADV_GUARD_INSTALL / REMOVE: guard markers in the page table.
    Result<void> madvise_guard_install(Vma& vma, u64 start, u64 end);
    void madvise_guard_remove(u64 start, u64 end);

    AddressSpace& m_space;
};

} // namespace kioku
