// Reclaim of lazily freed pages (Linux: the lazyfree branch of try_to_unmap_one). MADV_FREE marks
// a page lazily freeable (mark_lazyfree, src/mm/core/FolioLru.h); Reclaimer::evict hands such a
// page to reclaim_lazyfree(), which discards it when no PTE and no flag says it was written
// since, and otherwise makes it ordinary anonymous memory again.
#pragma once

#include "base/Types.h"

namespace kioku {

class MmCore;

// Reclaim of a lazily freed page: discards it when no mapping re-dirtied it, else makes it
// ordinary swap-backed anonymous memory again. True when the page was freed.
bool reclaim_lazyfree(MmCore& mm, Pfn pfn);

} // namespace kioku
