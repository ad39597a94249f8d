// The page side of mlock (Linux: mlock_folio and munlock_folio in mm/mlock.c): a locked page is
// FF_MLOCKED and FF_UNEVICTABLE and sits on the unevictable LRU list, where reclaim never looks;
// nr_mlock counts the locked pages (Mlocked in meminfo). Which pages to lock is the address
// space's business (src/mm/vm/Mlock.cpp); this is what locking does to one page.
#pragma once

#include "base/Types.h"

namespace kioku {

class MmCore;

// Locks the page: off its evictable list and onto the unevictable one. Idempotent.
void mlock_folio(MmCore& mm, Pfn pfn);
// Unlocks it: back to the inactive list of its kind, as folio_putback_lru does. Idempotent.
void munlock_folio(MmCore& mm, Pfn pfn);

} // namespace kioku
