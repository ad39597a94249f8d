// All swap areas of the machine and the swap cache (Linux: swap_info[], the swap allocator in
// mm/swapfile.c and the swap cache of mm/swap_state.c).
//
// A swap entry (area, slot) is referenced by the non-present PTEs that hold it (its count in the
// area) and, while a page holds its data in memory, by the swap cache, which maps the entry to
// that page (FF_SWAPCACHE, private_data = the entry). A slot is free again when no PTE and no
// cache page refer to it. Areas are used in priority order, higher first.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/Result.h"
#include "mm/swap/SwapArea.h"
#include "mm/vm/PageTable.h"

namespace kioku {

class SwapManager {
public:
    // Adds an area; returns its type (index).
    u32 add_area(std::unique_ptr<SwapArea> area);
    // swapoff's bookkeeping part: the area must hold no entries any more.
    void remove_area(u32 type);
    std::vector<std::unique_ptr<SwapArea>>& areas() { return m_areas; }
    SwapArea* area(u32 type) { return type < m_areas.size() ? m_areas[type].get() : nullptr; }

    u64 total_pages() const;
    u64 free_pages() const;

    // A fresh entry held by the swap cache for `pfn` and by no PTE yet.
    std::optional<SwapEntry> allocate_cached(Pfn pfn);
    // PTE references.
    bool duplicate(SwapEntry e);
    // Drops a PTE reference; returns the references left (not counting the swap cache).
    u8 release(SwapEntry e);
    u8 count(SwapEntry e) const;

    // The swap cache.
    std::optional<Pfn> lookup(SwapEntry e) const;
    // Adds the cache's reference (the entry already has PTE references: a swap-in).
    void cache_insert(SwapEntry e, Pfn pfn);
    // Drops the cache's reference; the slot is free when no PTE refers to it either.
    void cache_remove(SwapEntry e);
    u64 cached_pages() const { return m_cache.size(); }
    const std::unordered_map<u64, Pfn>& cache() const { return m_cache; }

    static u64 key(SwapEntry e) { return make_swap_pte(e); }

private:
    std::vector<std::unique_ptr<SwapArea>> m_areas;
    // The area's per-slot count holds the PTE references plus one while the slot is cached.
    std::unordered_map<u64, Pfn> m_cache;
};

} // namespace kioku
