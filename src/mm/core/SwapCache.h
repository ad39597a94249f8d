// The page side of the swap cache (Linux: mm/swap_state.c and the freeing half of
// mm/swapfile.c): reading a swapped-out page back into the swap cache, with cluster readahead of
// its neighbours on the device, and letting go of entries and the cached pages they keep.
//
// This class is the only writer of a page's swap-cache state (FF_SWAPCACHE, and the entry kept in
// private_data): pages enter by add_to_swap (reclaim) or a read, and leave by remove or take.
//
// A page read from swap enters the swap cache (FF_SWAPCACHE, one reference for the cache) and the
// anon inactive list, or the active list when its shadow says it refaulted within the working set.
// It is an anonymous page with no owner until a fault maps it (do_swap_page sets its AnonVma and
// index) or shmem claims it for an inode: a page read ahead may belong to anyone, as in Linux.
//
// Readahead is swap_cluster_readahead: the slots in use of the aligned window of
// swapin_nr_pages() pages around the faulting slot (at most 1 << vm.page_cluster) are read in one
// device request. Pages read ahead count in swap_ra; their first use counts in swap_ra_hit and
// widens the next window.
//
// A stateless helper over the core (MmCore), used like Rmap.
#pragma once

#include <optional>

#include "base/Types.h"
#include "mm/pgtable/Pte.h"

namespace kioku {

class MmCore;

class SwapCache {
  public:
    explicit SwapCache(MmCore& mm)
        : m_mm(mm)
    {
    }

    // The page that holds e's data, pinned (one extra reference) and in the swap cache. Sets
    // *major when it had to be read from the device. Null when no memory could be found or the
    // entry was freed meanwhile.
    std::optional<Pfn> read(SwapEntry e, bool* major);
    // free_swap_and_cache: drops one reference (a PTE's or a shmem inode's); when only the swap
    // cache is left and nobody maps or holds its page, the page is freed with the slot.
    void free_entry(SwapEntry e);
    // folio_free_swap: takes a page out of the swap cache when nothing else refers to its entry.
    // True when the page is not (or no longer) in the swap cache.
    bool try_free_swap(Pfn pfn);
    // vm_swap_full: more than half the swap space is in use.
    bool swap_full() const;

    // add_to_swap: a fresh slot for a page about to be written out; the page enters the swap
    // cache with one more reference, the cache's. nullopt when no swap space is left.
    std::optional<SwapEntry> add_to_swap(Pfn pfn);
    // delete_from_swap_cache: the page leaves the swap cache and the cache's reference is dropped.
    void remove(Pfn pfn);
    // The same, but the cache's reference passes to the caller (the page cache taking a shmem page
    // back, or a page being freed). Returns the entry the page had.
    SwapEntry take(Pfn pfn);
    // A page the caller has just read e's data into (its allocation's reference) enters the swap
    // cache, the refault check and the LRU, unowned until a fault maps it.
    void insert_read(SwapEntry e, Pfn pfn);

  private:
    // Neighbouring slots in use and not cached, in [first, last], besides e itself.
    void readahead_window(SwapEntry e, u64& first, u64& last);

    MmCore& m_mm;
};

} // namespace kioku
