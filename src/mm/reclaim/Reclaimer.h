// Page reclaim (Linux: mm/vmscan.c): frees resident user pages when memory runs short. The
// replacement policy picks candidates; this class does the mechanism: unmapping a page from every
// PTE through the reverse map, writing an anonymous page to swap (leaving swap entries in the
// PTEs) or a dirty file page back to its file, and freeing the frame.
//
// kswapd wakes when free memory falls under the low watermarks and reclaims until it is back
// above high; an allocation that would dig under min reclaims directly (an allocation stall).
// kioku runs kswapd synchronously at the moment it is woken, so a run stays deterministic; its
// work is counted as kswapd's (pgscan_kswapd, pgsteal_kswapd).
#pragma once

#include <memory>
#include <vector>

#include "base/Types.h"
#include "mm/core/ReplacementPolicy.h"

namespace kioku {

class MemCgroup;
class MmCore;

enum class ReclaimMode : u8 { Kswapd, Direct };

class Reclaimer {
  public:
    explicit Reclaimer(MmCore& mm);
    ~Reclaimer();

    void set_policy(std::unique_ptr<ReplacementPolicy> policy);
    ReplacementPolicy& policy() { return *m_policy; }

    // Tries to free `pages` pages; returns how many were freed. With a memory cgroup, only its
    // pages and its descendants' are taken (try_to_free_mem_cgroup_pages).
    u64 reclaim(u64 pages, ReclaimMode mode, const MemCgroup* memcg = nullptr);
    // kswapd's balance loop: reclaim until free memory is above the high watermarks.
    void run_kswapd();
    // Evicts one page if it can (not pinned, swap space for anon). True when it was freed.
    bool evict(Pfn pfn);

  private:
    bool evict_anon(Pfn pfn);
    bool evict_file(Pfn pfn);

    MmCore& m_mm;
    std::unique_ptr<ReplacementPolicy> m_policy;
    bool m_in_kswapd = false;
};

} // namespace kioku
