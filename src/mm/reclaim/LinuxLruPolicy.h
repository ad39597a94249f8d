// Linux's two-list LRU (mm/vmscan.c): each of anon and file has an inactive and an active list.
// New pages enter the inactive list; reclaim scans the inactive tail, where a referenced anon page
// is activated, a file page referenced twice (or by two mappings, or once as program text) is
// activated (once: it gets another round), and an unreferenced page is evicted. When an inactive
// list becomes smaller than its active list, pages are moved from the active tail to the inactive
// head (refill), losing their referenced state, except referenced program text, which stays
// active. vm.swappiness weighs anon against file as get_scan_count does.
#pragma once

#include "mm/core/ReplacementPolicy.h"

namespace kioku {

class FrameTable;
class Lru;
struct VmSysctl;

class LinuxLruPolicy final : public ReplacementPolicy {
  public:
    LinuxLruPolicy(Lru& lru, FrameTable& frames, const VmSysctl& sysctl);
    const char* name() const override { return "lru"; }
    std::string victim_reason(Pfn pfn) const override;
    void page_added(Pfn) override {} // the Lru lists are this policy's own state
    void page_removed(Pfn) override {}
    void select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims) override;
    void keep(Pfn pfn) override;

  private:
    void refill(bool anon, u64 count, ReclaimScan& scan);
    void scan_inactive(bool anon, u64 count, ReclaimScan& scan, std::vector<Pfn>& victims);

    Lru& m_lru;
    FrameTable& m_frames;
    const VmSysctl& m_sysctl;
};

} // namespace kioku
