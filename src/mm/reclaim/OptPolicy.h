// OPT, Belady's optimal replacement: evicts the page whose next use lies furthest in the future,
// which gives the fewest faults any policy can. No kernel can know the future, so this is an
// oracle for comparisons: whoever drives the run (the scenario interpreter's `reference`
// command) tells it the reference string before running it.
//
// A page is named by its identity, not its frame: (owner, index), the AnonVma (or Inode) and page
// index that Frame's owner and index hold. That identity survives swap-out and swap-in, when
// the frame changes. The policy keeps its place in the string by watching page_accessed(): each
// time the page at the current position is accessed, the position moves on. A page that will not
// be used again (or has no owner, such as a page read ahead into the swap cache) is the best
// victim; among several, the one resident longest goes first, so runs are reproducible.
//
// A running program (kioku run --policy opt) tells its future another way: a NextUseOracle, which
// follows the program along a recorded reference stream and answers for each frame, through the
// reverse map, where its next use lies.
//
// Owned by the Reclaimer ("opt").
#pragma once

#include <compare>
#include <map>

#include "mm/reclaim/FifoPolicy.h"

namespace kioku {

struct PageKey {
    const void* owner = nullptr; // AnonVma* for anonymous pages, Inode* for page-cache pages
    u64 index = 0;               // the page index within the owner
    auto operator<=>(const PageKey&) const = default;
};

// Where each resident page is next used, for OPT in a running program (front/RunOracle.h).
class NextUseOracle {
  public:
    static constexpr u64 NEVER = ~u64{0};
    virtual ~NextUseOracle() = default;
    // Called once before the next_use() calls of one selection.
    virtual void begin_selection() {}
    // The position of the frame's next use on a scale common to all frames; NEVER when it will
    // not be used again.
    virtual u64 next_use(Pfn pfn) = 0;
};

class OptPolicy final : public FifoPolicy {
  public:
    explicit OptPolicy(FrameTable& frames)
        : FifoPolicy(frames)
    {
    }
    const char* name() const override { return "opt"; }
    std::string victim_reason(Pfn) const override { return "opt: the page used again furthest ahead"; }

    // The references to come, in order; the policy starts at the first. Replaces any earlier
    // string (the pages used before it count as never used again).
    void set_future(std::vector<PageKey> future);
    u64 position() const { return m_position; }
    // Takes the next uses from `oracle` instead of a string (null: back to the string).
    void set_oracle(NextUseOracle* oracle) { m_oracle = oracle; }

    void page_accessed(Pfn pfn) override;
    // Appends the resident pages whose next use is furthest away, furthest first.
    void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) override;

  private:
    static constexpr u64 NEVER = NextUseOracle::NEVER;
    PageKey key_of(Pfn pfn) const;
    // The position of the next reference to `key` at or after the current one, or NEVER.
    u64 next_use(const PageKey& key) const;

    std::vector<PageKey> m_future;
    std::map<PageKey, std::vector<u64>> m_uses; // each page's positions in m_future, ascending
    u64 m_position = 0;
    NextUseOracle* m_oracle = nullptr;
};

} // namespace kioku
