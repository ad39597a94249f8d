// Exact LRU: evicts the page whose last use lies furthest in the past, as the textbooks define
// LRU (Linux only approximates it with its two lists and accessed bits).
//
// "Use", precisely: a page is used when it becomes resident (the fault that brought it in) and
// at every access reported through page_accessed(): every page touched by Kernel::user_access,
// which serves scenario reads, writes and touches and the copies of system calls, and, in
// `kioku run --policy exact-lru`, every reference the program makes on the CPU (front/RunOracle.h
// finds each one's frame). The hardware alone only sets accessed bits, which this policy does not
// read.
//
// The queue is kept in recency order, most recent at the front: an access moves a page to the
// front in O(1), and the victim is the back. Owned by the Reclaimer ("exact-lru").
#pragma once

#include "mm/reclaim/FifoPolicy.h"

namespace kioku {

class ExactLruPolicy final : public FifoPolicy {
  public:
    explicit ExactLruPolicy(FrameTable& frames)
        : FifoPolicy(frames)
    {
    }
    const char* name() const override { return "exact-lru"; }
    std::string victim_reason(Pfn) const override { return "exact-lru: the least recently used page"; }
    void page_accessed(Pfn pfn) override;
};

} // namespace kioku
