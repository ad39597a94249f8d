#include "mm/core/FolioLru.h"

#include "mm/core/MmCore.h"

namespace kioku {

void mlock_folio(MmCore& mm, Pfn pfn)
{
    Frame& f = mm.frames()[pfn];
    if (f.has(FF_MLOCKED))
        return;
    f.set(FF_MLOCKED);
    mm.vmstat().add(VmItem::NrMlock, 1);
    mm.vmstat().add(VmItem::UnevictablePgsMlocked, 1);
    if (f.has(FF_LRU) && !f.has(FF_UNEVICTABLE)) {
        // Off its evictable list (the policy hears of it) and onto the unevictable one.
        mm.lru().remove(pfn);
        f.set(FF_UNEVICTABLE);
        mm.lru().add(pfn, LruList::Unevictable);
        mm.vmstat().add(VmItem::UnevictablePgsCulled, 1);
    }
}

void munlock_folio(MmCore& mm, Pfn pfn)
{
    Frame& f = mm.frames()[pfn];
    if (!f.has(FF_MLOCKED))
        return;
    f.clear(FF_MLOCKED);
    mm.vmstat().add(VmItem::NrMlock, -1);
    mm.vmstat().add(VmItem::UnevictablePgsMunlocked, 1);
    if (f.has(FF_LRU) && f.has(FF_UNEVICTABLE)) {
        // Back to the inactive list of its kind, as folio_putback_lru does.
        mm.lru().remove(pfn);
        f.clear(FF_UNEVICTABLE);
        mm.lru().add_new(pfn);
        mm.vmstat().add(VmItem::UnevictablePgsRescued, 1);
    }
}

void mark_lazyfree(MmCore& mm, Pfn pfn)
{
    Frame& f = mm.frames()[pfn];
    if (!f.has(FF_SWAPBACKED) || f.has(FF_SWAPCACHE) || f.has(FF_UNEVICTABLE) || !f.has(FF_LRU))
        return;
    mm.lru().remove(pfn);
    f.clear(FF_SWAPBACKED | FF_REFERENCED);
    f.set(FF_LAZYFREE);
    mm.lru().add_new(pfn);
    mm.vmstat().add(VmItem::Pglazyfree, 1);
}

} // namespace kioku
