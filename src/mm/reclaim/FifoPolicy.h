// FIFO page replacement: the page that became resident first is evicted first, whatever its
// use since. The textbook baseline, and the policy that shows Belady's anomaly (more frames can
// mean more faults). Linux has no FIFO; kioku offers it for comparison ("fifo").
//
// The queue of resident pages, newest at the front, is also the mechanism the other comparison
// policies build on: exact LRU reorders it on every access, CLOCK rotates referenced pages to
// the front, OPT uses its order to break ties. Each keeps its own links (a PageQueue), apart from
// the frame table's LRU links, which belong to the Lru lists.
//
// Invariant: a page is in the queue exactly while the policy has heard page_added and not yet
// page_removed for it. Owned by the Reclaimer.
#pragma once

#include <optional>
#include <vector>

#include "base/IndexList.h"
#include "mm/core/ReplacementPolicy.h"
#include "mm/phys/FrameTable.h"

namespace kioku {

// An ordered set of frames threaded through links of its own, indexed as the frame table is.
// Every operation is O(1) and never allocates; the links (8 bytes per frame) are made once.
class PageQueue {
  public:
    explicit PageQueue(const FrameTable& frames);

    bool contains(Pfn pfn) const
    {
        return pfn >= m_first && pfn.value() - m_first.value() < m_on.size() && m_on[index(pfn)];
    }
    u64 size() const { return m_list.size(); }
    bool empty() const { return m_list.empty(); }
    void push_front(Pfn pfn);
    void push_back(Pfn pfn);
    void remove(Pfn pfn);
    void move_to_front(Pfn pfn);
    // The oldest page (the back), and the page in front of a given one (towards the newest).
    Pfn back() const { return m_first + m_list.back(); }
    std::optional<Pfn> newer(Pfn pfn) const;

    // IndexList support.
    IndexLinks& links(u32 i) { return m_links[i]; }

  private:
    u32 index(Pfn pfn) const { return static_cast<u32>(pfn.value() - m_first.value()); }

    Pfn m_first;
    std::vector<IndexLinks> m_links;
    std::vector<bool> m_on;
    IndexList<PageQueue> m_list;
};

class FifoPolicy : public ReplacementPolicy {
  public:
    explicit FifoPolicy(FrameTable& frames)
        : m_frames(frames)
        , m_queue(frames)
    {
    }
    const char* name() const override { return "fifo"; }
    std::string victim_reason(Pfn) const override { return "fifo: the oldest resident page"; }
    void page_added(Pfn pfn) override;
    void page_removed(Pfn pfn) override;
    // Appends the oldest pages, oldest first.
    void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) override;
    // A page that could not be evicted now goes to the back of the line, as if it had just come.
    void keep(Pfn pfn) override;
    // The pages in the policy's order, the next to be looked at first (FIFO: oldest; exact LRU:
    // least recently used; CLOCK: from the hand). For the textbook trace.
    std::vector<Pfn> order() const;

  protected:
    // Drops pages that left the LRU without the policy hearing of it (a page made unevictable
    // while resident), so a choice is always a page reclaim could take.
    bool still_evictable(Pfn pfn);

    FrameTable& m_frames;
    PageQueue m_queue;
};

} // namespace kioku
