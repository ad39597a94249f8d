// CLOCK, the second-chance algorithm: the resident pages stand in a circle in the order they
// arrived, and a hand sweeps it. A page whose accessed bit is set gets a second chance: the bit
// is cleared (in every PTE mapping it, through the reverse map, flushing those TLB entries) and
// the hand moves on; the first page found with the bit clear is evicted. A new page enters just
// behind the hand, so it is looked at last. The bits are the ones the MMU sets, so CLOCK sees
// every access a process makes, the emulated CPU's included.
//
// Linux's two-list LRU descends from it; kioku offers the plain form for comparison ("clock").
// The circle is the FIFO queue read from its back: giving a second chance moves a page to the
// front, which is exactly the hand passing it.
//
// Owned by the Reclaimer.
#pragma once

#include "mm/reclaim/FifoPolicy.h"

namespace kioku {

class ClockPolicy final : public FifoPolicy {
  public:
    explicit ClockPolicy(FrameTable& frames)
        : FifoPolicy(frames)
    {
    }
    const char* name() const override { return "clock"; }
    std::string victim_reason(Pfn) const override { return "clock: accessed bit clear when the hand came"; }
    void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) override;
};

} // namespace kioku
