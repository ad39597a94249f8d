// Memory compaction (Linux: mm/compaction.c and mm/migrate.c): moves movable pages, through the
// reverse map, out of a region so that free pages there merge into large buddy blocks; direct
// compaction when a high-order allocation fails, and kcompactd in the background.
// Owned by the MemoryManager.
//
// One run over a zone (compact_zone) has two scanners. The migration scanner walks up from the
// zone's first frame a pageblock at a time, isolating up to 32 movable pages (Migrator decides
// what is movable); the free scanner walks down from the zone's last pageblock, isolating free
// blocks of movable pageblocks as migration targets (never a whole free pageblock, which is what
// compaction is building). Each isolated page is migrated into a target; the page it leaves
// merges with its free neighbours. The run ends when the scanners meet (COMPLETE), when a free
// block of the requested order exists (SUCCESS), or when no target can be had.
//
// Who runs it, as in Linux 6.1:
//   - direct compaction: compact_for_allocation(order), by the THP fault path and the hugetlb pool
//     when a high-order allocation failed. Zones where the failure is for lack of memory rather
//     than fragmentation (fragmentation index <= vm.extfrag_threshold) or below the watermark
//     are skipped; a zone that failed is deferred for 1, 2, 4 ... 64 later attempts.
//     Counts compact_stall, then compact_success or compact_fail.
//   - kcompactd: woken by wakeup_kcompactd(order) (kswapd, once it has balanced the node for a
//     high-order request), runs at the next background_work(); and every 500 ms of simulated
//     time it compacts proactively when the node's fragmentation score is above the high mark
//     set by vm.compaction_proactiveness. Counts compact_daemon_*.
//   - /proc/sys/vm/compact_memory: compact_memory() compacts every zone whole.
// Every run counts compact_migrate_scanned, compact_free_scanned, compact_isolated and the
// pgmigrate_* of its migrations.
//
// Simplifications: every run scans its zone whole, from both ends (Linux keeps the scanners'
// positions between runs and has an async mode that skips pages it would wait for); there is no
// capture of the freed block for the allocation that asked.
#pragma once

#include <array>
#include <vector>

#include "base/Types.h"
#include "mm/phys/Zone.h"

namespace kioku {

class MmCore;

// Linux's enum compact_result, in its order (callers keep the largest of several).
enum class CompactResult : u8 {
    NotSuitableZone,
    Skipped,
    Deferred,
    NoSuitablePage,
    Continue,
    Complete,
    PartialSkipped,
    Contended,
    Success,
};

class Compactor {
  public:
    explicit Compactor(MmCore& mm);
    ~Compactor();

    // Direct compaction for an allocation of 2^order frames that just failed: true when a free
    // block of that order exists afterwards.
    bool compact_for_allocation(Order order);
    // kcompactd's turn: called as simulated time passes (MemoryManager::background_work).
    void background_work();
    // wakeup_kcompactd: a high-order allocation is wanted; kcompactd works at its next turn.
    void wakeup_kcompactd(Order order);
    // Writing 1 to /proc/sys/vm/compact_memory: every zone is compacted whole.
    void compact_memory();
    // Writing a non-zero vm.compaction_proactiveness: a proactive check at kcompactd's next turn.
    void trigger_proactive() { m_proactive_trigger = true; }

    // The node's fragmentation score (0..100): each zone's extfrag at the huge-page order,
    // weighted by its size, and the low and high marks proactive compaction uses.
    unsigned fragmentation_score() const;
    unsigned proactive_low_mark() const;
    unsigned proactive_high_mark() const;

    // One compaction run over a zone for an allocation of 2^order frames (order < 0: compact the
    // whole zone, as compact_memory does). Counts the scanners' work; no stall/success events.
    CompactResult compact_zone(Zone& zone, int order, bool proactive = false);
    // compaction_suitable: may compaction help an allocation of this order in this zone?
    CompactResult suitable(const Zone& zone, Order order) const;

  private:
    struct Control;
    struct Deferral {
        u32 considered = 0;
        u32 shift = 0;
        Order order_failed = 0;
    };

    CompactResult finished(Control& cc) const;
    void isolate_migratepages(Control& cc);
    Pfn isolate_migratepages_block(Control& cc, Pfn low, Pfn end);
    void isolate_freepages(Control& cc);
    Pfn isolate_freepages_block(Control& cc, Pfn start, Pfn end);
    bool suitable_target_block(const Zone& zone, Pfn block) const;
    bool migrate_isolated(Control& cc);
    void release_isolated(Control& cc);

    bool deferred(const Zone& zone, Order order);
    void defer(const Zone& zone, Order order);
    void defer_reset(const Zone& zone, Order order, bool alloc_success);
    void kcompactd_do_work();
    void proactive_compact();

    MmCore& m_mm;
    std::array<Deferral, MAX_NR_ZONES> m_deferral{};
    Order m_kcompactd_order = 0; // kcompactd_max_order: the largest order asked for since its last run
    bool m_kcompactd_woken = false;
    bool m_proactive_trigger = false;
    u64 m_next_check_ns = 0; // kcompactd's next timed wake-up on the simulated clock
};

} // namespace kioku
