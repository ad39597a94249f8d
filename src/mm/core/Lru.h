// The LRU lists of user pages (Linux: struct lruvec): inactive and active lists for anonymous
// (swap-backed) and for file pages, and the unevictable list. A page enters a list when it is
// created for a mapping or the page cache, and leaves it when it is freed. Reclaim ages pages
// along these lists; /proc/meminfo's Active/Inactive lines are their sizes.
//
// Invariant: a frame is on a list exactly when FF_LRU is set, and FF_ACTIVE says which half.
// A list holds entries but is sized in pages, as Linux's lruvec is (lru_zone_size adds
// folio_nr_pages): a compound head (a THP) is one entry and 2^order pages, so meminfo's
// Active(anon)/Inactive(anon) and vmstat's nr_*_anon add up with AnonPages. A compound page's
// order must not change while it is on a list, except through split_compound().
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
    ReplacementPolicy* policy() const { return m_policy; }

    // Adds a page to the inactive list of its type (anon when FF_SWAPBACKED), as Linux's
    // lru_cache_add does for new pages since 5.9.
    void add_new(Pfn pfn);
    void add(Pfn pfn, LruList list);
    void remove(Pfn pfn);
    // Moves a page already on a list to the head of `list` (activation, rotation, refill).
    void move(Pfn pfn, LruList list);
    // The head of a compound page on a list is about to become an order-0 page (split_huge_page):
    // its list now counts it as one page; its former tails are added by the caller as they become
    // pages of their own.
    void split_compound(Pfn head);
    static LruList list_of(const Frame& frame);
    // The pages a list entry stands for: 2^order for a compound head, else 1.
    static u64 pages_of(const Frame& frame);

    // Pages on a list (what meminfo shows), and entries on it (what a scan walks).
    u64 size(LruList list) const { return m_pages[static_cast<unsigned>(list)]; }
    u64 entries(LruList list) const { return m_lists[static_cast<unsigned>(list)].size(); }
    FrameList& list(LruList list) { return m_lists[static_cast<unsigned>(list)]; }

  private:
    // Takes a page off its list, keeping the page count.
    void unlink(Pfn pfn);

    FrameTable& m_frames;
    ReplacementPolicy* m_policy = nullptr;
    std::array<FrameList, static_cast<unsigned>(LruList::Count)> m_lists;
    std::array<u64, static_cast<unsigned>(LruList::Count)> m_pages{};
};

} // namespace kioku
