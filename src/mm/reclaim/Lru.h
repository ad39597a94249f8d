// The LRU lists of user pages (Linux: struct lruvec): inactive and active lists for anonymous
// (swap-backed) and for file pages, and the unevictable list. A page enters a list when it is
// created for a mapping or the page cache, and leaves it when it is freed. Reclaim ages pages
// along these lists; /proc/meminfo's Active/Inactive lines are their sizes.
//
// Invariant: a frame is on a list exactly when FF_LRU is set, and FF_ACTIVE says which half.
#pragma once

#include <array>

#include "mm/phys/FrameTable.h"

namespace kioku {

enum class LruList : u8 { InactiveAnon, ActiveAnon, InactiveFile, ActiveFile, Unevictable, Count };

class ReplacementPolicy;

class Lru {
  public:
    explicit Lru(FrameTable& frames)
        : m_frames(frames)
    {
    }

    // The replacement policy hears of every page entering (add_new) and leaving (remove).
    void set_policy(ReplacementPolicy* policy) { m_policy = policy; }

    // Adds a page to the inactive list of its type (anon when FF_SWAPBACKED), as Linux's
    // lru_cache_add does for new pages since 5.9.
    void add_new(Pfn pfn);
    void add(Pfn pfn, LruList list);
    void remove(Pfn pfn);
    // Moves a page already on a list to the head of `list` (activation, rotation, refill).
    void move(Pfn pfn, LruList list);
    static LruList list_of(const Frame& frame);

    u64 size(LruList list) const { return m_lists[static_cast<unsigned>(list)].size(); }
    FrameList& list(LruList list) { return m_lists[static_cast<unsigned>(list)]; }

  private:
    FrameTable& m_frames;
    ReplacementPolicy* m_policy = nullptr;
    std::array<FrameList, static_cast<unsigned>(LruList::Count)> m_lists;
};

} // namespace kioku
