// Lazily freed pages (Linux: MADV_FREE's folio_mark_lazyfree and the lazyfree branch of
// try_to_unmap_one). A lazily freed page loses FF_SWAPBACKED and moves to the inactive file list,
// as lru_lazyfree does, and carries FF_LAZYFREE. Reclaim (Reclaimer::evict) hands such a page to
// reclaim_lazyfree(), which discards it when no PTE and no flag says it was written since, and
// otherwise makes it ordinary anonymous memory again.
#pragma once

#include "base/Types.h"

namespace kioku {

class MmCore;

// folio_mark_lazyfree: an anonymous, swap-backed page on an evictable LRU list and not in the
// swap cache becomes lazily freeable (Pglazyfree); any other page is left alone.
void mark_lazyfree(MmCore& mm, Pfn pfn);
// Reclaim of a lazily freed page: discards it when no mapping re-dirtied it, else makes it
// ordinary swap-backed anonymous memory again. True when the page was freed.
bool reclaim_lazyfree(MmCore& mm, Pfn pfn);

} // namespace kioku
