// All swap areas of the machine and the swap cache (Linux: swap_info[], the swap allocator in
// mm/swapfile.c and the swap cache of mm/swap_state.c).
//
// A swap entry (area, slot) is referenced by the non-present PTEs that hold it, by the shmem
// inodes whose page slot holds it (both counted in the area), and, while a page holds its data in
// memory, by the swap cache, which maps the entry to that page (FF_SWAPCACHE, private_data = the
// entry). A slot is free again when nothing refers to it.
//
// Areas are used in priority order, higher first; areas of equal priority take turns page by
// page, as Linux requeues an area behind its equals after each allocation (swapon(2): "pages are
// allocated in round-robin fashion"). Only writable areas hand out slots and count in
// SwapTotal / SwapFree (swapoff takes an area out of both before it empties it).
//
// The manager also keeps what Linux keeps next to the swap cache: the shadow entry (eviction age)
// of a swapped-out anonymous page, for refault detection, and the readahead state
// (swapin_nr_pages' previous offset, hit count and window; the pages read ahead and not yet used).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/Result.h"
#include "mm/pgtable/Pte.h"
#include "mm/swap/SwapArea.h"

namespace kioku {

class SwapManager {
  public:
    // Adds an area; returns its type (index).
    u32 add_area(std::unique_ptr<SwapArea> area);
    // swapoff's bookkeeping part: the area must hold no entries any more. When the area had a
    // default priority, the areas below it move up by one and the next default is one higher,
    // as Linux's swapoff does, so the defaults stay -2, -3, ... without gaps.
    void remove_area(u32 type);
    std::vector<std::unique_ptr<SwapArea>>& areas() { return m_areas; }
    const std::vector<std::unique_ptr<SwapArea>>& areas() const { return m_areas; }
    SwapArea* area(u32 type) { return type < m_areas.size() ? m_areas[type].get() : nullptr; }
    const SwapArea* area(u32 type) const { return type < m_areas.size() ? m_areas[type].get() : nullptr; }
    // The type of the area with this name (its path in /proc/swaps).
    std::optional<u32> find(const std::string& name) const;
    // The priority swapon gives an area when none is asked for: -2, -3, ... (Linux's
    // least_priority, decremented per such area and incremented again by swapoff).
    int next_default_priority() { return --m_least_priority; }

    // Totals over writable areas, in pages (SwapTotal, SwapFree).
    u64 total_pages() const;
    u64 free_pages() const;

    // A fresh entry held by the swap cache for `pfn` and by nothing else yet.
    std::optional<SwapEntry> allocate_cached(Pfn pfn);
    // Adds a reference (a PTE or a shmem inode).
    void duplicate(SwapEntry e);
    // Drops a reference; returns the references left (not counting the swap cache).
    u64 release(SwapEntry e);
    u64 count(SwapEntry e) const;

    // The swap cache.
    std::optional<Pfn> lookup(SwapEntry e) const;
    // Adds the cache's reference (the entry already has other references: a swap-in).
    void cache_insert(SwapEntry e, Pfn pfn);
    // Drops the cache's reference; the slot is free when nothing else refers to it either.
    void cache_remove(SwapEntry e);
    u64 cached_pages() const { return m_cache.size(); }
    const std::unordered_map<u64, Pfn>& cache() const { return m_cache; }

    // Shadow entries: the eviction age stored in a slot when its anonymous page went to swap.
    void set_shadow(SwapEntry e, u64 age) { m_shadow[key(e)] = age; }
    std::optional<u64> take_shadow(SwapEntry e);
    std::optional<u64> shadow(SwapEntry e) const
    {
        auto it = m_shadow.find(key(e));
        return it == m_shadow.end() ? std::nullopt : std::optional<u64>(it->second);
    }

    // Readahead (swap_cluster_readahead): pages read ahead sit in the swap cache marked until a
    // fault uses one (a hit, counted in swap_ra_hit and fed back into the window size).
    struct Readahead {
        u64 prev_offset = 0;
        u64 hits = 0;
        u64 last_window = 0;
    };
    Readahead& readahead() { return m_readahead; }
    void mark_readahead(SwapEntry e) { m_readahead_pages.insert(key(e)); }
    // True (once) when the entry's page was read ahead and this is its first use.
    bool test_clear_readahead(SwapEntry e) { return m_readahead_pages.erase(key(e)) != 0; }
    // swapin_nr_pages: the readahead window for a fault at `offset`, 1 << page_cluster at most.
    u64 readahead_window(u64 offset, u64 page_cluster);

    // The text of /proc/swaps.
    std::string proc_swaps() const;

    static u64 key(SwapEntry e) { return make_swap_pte(e); }
    // Told of every slot whose last reference went (the memory controller's swap charge).
    void set_slot_free_hook(std::function<void(SwapEntry)> hook) { m_slot_freed = std::move(hook); }

  private:
    SwapArea* pick_area(u32& type);
    void slot_released(SwapEntry e);

    std::vector<std::unique_ptr<SwapArea>> m_areas;
    // When each area last handed out a slot: among equal priorities the least recent goes next.
    std::vector<u64> m_last_used;
    u64 m_allocations = 0;
    int m_least_priority = -1;
    // The area's per-slot count holds the other references plus one while the slot is cached.
    std::unordered_map<u64, Pfn> m_cache;
    std::unordered_map<u64, u64> m_shadow;
    std::unordered_set<u64> m_readahead_pages;
    Readahead m_readahead;
    std::function<void(SwapEntry)> m_slot_freed;
};

} // namespace kioku
