// What mlock and MADV_FREE do to one page's place on the LRU lists. Which pages they touch is the
// address space's business (src/mm/vm/Mlock.cpp, Madvise.cpp); reclaim acts on the result.
//
// mlock (Linux: mlock_folio and munlock_folio in mm/mlock.c): a locked page is FF_MLOCKED and
// FF_UNEVICTABLE and sits on the unevictable LRU list, where reclaim never looks; nr_mlock counts
// the locked pages (Mlocked in meminfo).
//
// MADV_FREE (Linux: folio_mark_lazyfree in mm/swap.c): a lazily freed page loses FF_SWAPBACKED and
// moves to the inactive file list, as lru_lazyfree does, and carries FF_LAZYFREE; reclaim then
// discards it or takes it back (reclaim_lazyfree, src/mm/reclaim/Lazyfree.h).
#pragma once

#include "base/Types.h"

namespace kioku {

class MmCore;

// Locks the page: off its evictable list and onto the unevictable one. Idempotent.
void mlock_folio(MmCore& mm, Pfn pfn);
// Unlocks it: back to the inactive list of its kind, as folio_putback_lru does. Idempotent.
void munlock_folio(MmCore& mm, Pfn pfn);
// folio_mark_lazyfree: an anonymous, swap-backed page on an evictable LRU list and not in the
// swap cache becomes lazily freeable (Pglazyfree); any other page is left alone.
void mark_lazyfree(MmCore& mm, Pfn pfn);

} // namespace kioku
