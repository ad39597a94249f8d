#include "mm/core/Workingset.h"

#include "mm/core/MmCore.h"
#include "mm/swap/SwapManager.h"

namespace kioku {

u64 Workingset::eviction()
{
    u64 shadow = m_age;
    ++m_age; // workingset_age_nonresident for the evicted page
    return shadow;
}

bool Workingset::in_workingset(u64 shadow, bool file) const
{
    const Lru& lru = m_mm.lru();
    u64 distance = m_age - shadow;
    u64 workingset = lru.size(LruList::ActiveFile);
    if (!file)
        workingset += lru.size(LruList::InactiveFile);
    if (m_mm.swap().free_pages() > 0) {
        workingset += lru.size(LruList::ActiveAnon);
        if (file)
            workingset += lru.size(LruList::InactiveAnon);
    }
    return distance <= workingset;
}

bool Workingset::refault(u64 shadow, bool file)
{
    m_mm.vmstat().add(file ? VmItem::WorkingsetRefaultFile : VmItem::WorkingsetRefaultAnon, 1);
    if (!in_workingset(shadow, file))
        return false;
    ++m_age;
    m_mm.vmstat().add(file ? VmItem::WorkingsetActivateFile : VmItem::WorkingsetActivateAnon, 1);
    return true;
}

} // namespace kioku
