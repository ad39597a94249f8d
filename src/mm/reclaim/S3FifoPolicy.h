// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023), a modern
// policy built of three FIFO queues, here for pages with the accessed bits the MMU sets:
//   small  new pages enter here; it holds about a tenth of the resident pages
//   main   pages that proved themselves: referenced while in small, or back soon after eviction
//   ghost  the identities (owner and index) of pages evicted from small, as many as main may hold
//          (nine tenths of the resident pages)
// Each page has a frequency of 0 to 3, raised by one each time reclaim finds its accessed bit set
// (the bit is cleared then). Reclaim takes from small while it is above its share. Its oldest
// page moves to main if the ghost remembers it (a page evicted and soon needed again; asked the
// first time reclaim looks at it, when its owner is known) or if it was referenced since reclaim
// last looked at it; else it is evicted and remembered in the ghost. Otherwise reclaim takes from
// main: its oldest page, if referenced, goes round again with its frequency lowered by one, else
// it is evicted.
//
// The effect is scan resistance: pages touched once (a stream, a scan) leave from small and
// never disturb the hot pages in main. The paper counts hits and moves a page to main after more
// than one; an accessed bit says only "at least once since the last look", and the first look
// also sees the access that brought the page in. So a page whose bit is set at its first look
// goes once more through small, and moves to main only if it is referenced again meanwhile.
//
// Owned by the Reclaimer. "s3fifo".
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "mm/reclaim/FifoPolicy.h"
#include "mm/reclaim/OptPolicy.h"

namespace kioku {

class S3FifoPolicy final : public ReplacementPolicy {
  public:
    explicit S3FifoPolicy(FrameTable& frames);
    const char* name() const override { return "s3fifo"; }
    std::string victim_reason(Pfn pfn) const override;
    void page_added(Pfn pfn) override;
    void page_removed(Pfn pfn) override;
    void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) override;
    void keep(Pfn pfn) override;

    u64 small_size() const { return m_small.size(); }
    u64 main_size() const { return m_main.size(); }
    u64 ghost_size() const { return m_ghost.size(); }

  private:
    enum class From : u8 { Small, Main };
    u32 index(Pfn pfn) const { return static_cast<u32>(pfn.value() - m_frames.first_pfn().value()); }
    bool evictable(Pfn pfn);
    PageKey key_of(Pfn pfn) const;
    void remember(const PageKey& key);
    bool recalled(const PageKey& key);
    void look(Pfn pfn, ReclaimScan& scan); // harvests the accessed bit into the frequency

    FrameTable& m_frames;
    PageQueue m_small;
    PageQueue m_main;
    std::vector<u8> m_freq;
    std::vector<bool> m_seen; // reclaim has looked at it in small (the ghost was asked)
    std::vector<From> m_from; // where a victim was taken from, for its reason
    std::deque<PageKey> m_ghost;
    std::map<PageKey, u32> m_ghost_count;
};

} // namespace kioku
