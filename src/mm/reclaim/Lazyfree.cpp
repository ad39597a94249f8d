#include "mm/reclaim/Lazyfree.h"

#include "mm/core/MmCore.h"
#include "mm/vm/Rmap.h"

namespace kioku {

using namespace isa;

bool reclaim_lazyfree(MmCore& mm, Pfn pfn)
{
    Frame& f = mm.frames()[pfn];
    // Someone holds the page beyond its mappings (a fault in progress): leave it.
    if (f.refcount != f.mapcount)
        return false;
    Rmap rmap(mm);
    bool dirty = f.has(FF_DIRTY);
    rmap.for_each_mapping(
        pfn, [&](AddressSpace&, Vma&, VirtAddr, PageSlot slot) { dirty |= (*slot & PTE_D) != 0; });
    if (dirty) {
        // Written since MADV_FREE: the data matters again, so it goes back to being swap-backed
        // anonymous memory, on the active list (folio_set_swapbacked, then activation).
        mm.lru().remove(pfn);
        f.clear(FF_LAZYFREE);
        f.set(FF_SWAPBACKED);
        mm.lru().add_new(pfn);
        mm.lru().move(pfn, LruList::ActiveAnon);
        return false;
    }
    rmap.for_each_mapping(pfn, [&](AddressSpace& space, Vma&, VirtAddr, PageSlot slot) {
        rmap.unmap_one(space, slot, Rmap::Unmap::Reclaim); // clean: the data is not needed
    });
    mm.vmstat().add(VmItem::Pglazyfreed, 1);
    return true;
}

} // namespace kioku
