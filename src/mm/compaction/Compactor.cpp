// Compaction after Linux 6.1's mm/compaction.c: compact_zone with its two scanners
// (isolate_migratepages_block, isolate_freepages_block), __compact_finished, compaction_suitable,
// the deferral of failed zones, try_to_compact_pages / __alloc_pages_direct_compact's counting,
// and kcompactd with proactive compaction.
#include "mm/compaction/Compactor.h"

#include <algorithm>
#include <deque>

#include "hw/Clock.h"
#include "mm/compaction/Fragmentation.h"
#include "mm/compaction/Migrate.h"
#include "mm/core/MmCore.h"

namespace kioku {

namespace {

// COMPACT_CLUSTER_MAX (SWAP_CLUSTER_MAX): pages isolated for migration in one batch.
constexpr size_t COMPACT_CLUSTER_MAX = 32;
// PAGE_ALLOC_COSTLY_ORDER: above it, compaction is tried only for fragmentation.
constexpr Order COSTLY_ORDER = 3;
// COMPACT_MAX_DEFER_SHIFT: a failing zone is skipped for at most 64 attempts.
constexpr u32 MAX_DEFER_SHIFT = 6;
// HPAGE_FRAG_CHECK_INTERVAL_MSEC: kcompactd's proactive check interval.
constexpr u64 CHECK_INTERVAL_NS = u64{500} * 1'000'000;
// COMPACTION_HPAGE_ORDER: the order the fragmentation score is taken at.
constexpr Order HPAGE_ORDER = 9;

constexpr u64 pages_of(Order order)
{
    return u64{1} << order;
}

Pfn pageblock_start(Pfn pfn)
{
    return Pfn(pfn.value() & ~(PAGEBLOCK_NR_PAGES - 1));
}

bool populated(const Zone& zone)
{
    return zone.managed_pages() != 0;
}

} // namespace

// compact_control: one run's state.
struct Compactor::Control {
    Zone& zone;
    int order;
    bool proactive;
    Pfn migrate_pfn; // the migration scanner's next frame
    Pfn free_pfn;    // where the free scanner goes on (downwards)
    std::vector<Pfn> migratepages;
    std::deque<Pfn> freepages; // isolated free frames, used lowest first within each batch
    size_t wanted = 0;         // targets still needed by the batch being migrated
    u64 migrate_scanned = 0;
    u64 free_scanned = 0;

    Pfn zone_end() const { return zone.start_pfn() + zone.spanned_pages(); }
    // compact_scanners_met: both scanners are in the same pageblock, or have crossed.
    bool scanners_met() const
    {
        return (free_pfn.value() >> PAGEBLOCK_ORDER) <= (migrate_pfn.value() >> PAGEBLOCK_ORDER);
    }
};

Compactor::Compactor(MmCore& mm)
    : m_mm(mm)
    , m_next_check_ns(mm.clock().now_ns() + CHECK_INTERVAL_NS)
{
}

Compactor::~Compactor() = default;

// ==== Direct compaction ====

// try_to_compact_pages over the zonelist (Normal before DMA32), then __alloc_pages_direct_compact's
// events: a stall when some zone was compacted or deferred, then success or failure by whether the
// allocation would now find its block.
bool Compactor::compact_for_allocation(Order order)
{
    PhysicalAllocator& allocator = m_mm.allocator();
    if (order == 0)
        return allocator.can_allocate(0);
    CompactResult rc = CompactResult::Skipped;
    auto& zones = allocator.zones();
    for (auto it = zones.rbegin(); it != zones.rend(); ++it) {
        Zone& zone = **it;
        if (!populated(zone))
            continue;
        if (deferred(zone, order)) {
            rc = std::max(rc, CompactResult::Deferred);
            continue;
        }
        CompactResult status = compact_zone(zone, static_cast<int>(order));
        rc = std::max(rc, status);
        if (status == CompactResult::Success) {
            defer_reset(zone, order, false);
            break;
        }
        if (status == CompactResult::Complete || status == CompactResult::PartialSkipped)
            defer(zone, order);
    }
    if (rc == CompactResult::Skipped)
        return false;
    VmStat& vs = m_mm.vmstat();
    vs.inc(VmItem::CompactStall);
    for (auto it = zones.rbegin(); it != zones.rend(); ++it) {
        Zone& zone = **it;
        if (populated(zone) && zone.above(zone.watermarks().min, order, ZONE_NORMAL)) {
            defer_reset(zone, order, true);
            vs.inc(VmItem::CompactSuccess);
            return true;
        }
    }
    vs.inc(VmItem::CompactFail);
    return false;
}

// __compaction_suitable plus the fragmentation-index test of compaction_suitable.
CompactResult Compactor::suitable(const Zone& zone, Order order) const
{
    if (!populated(zone))
        return CompactResult::Skipped;
    const Watermarks& marks = zone.watermarks();
    if (zone.above(marks.min, order, ZONE_NORMAL))
        return CompactResult::Success;
    // Migration needs free order-0 pages to copy into: twice the request, above the watermark.
    u64 mark = (order > COSTLY_ORDER ? marks.low : marks.min) + (u64{2} << order);
    if (!zone.above(mark, 0, ZONE_NORMAL))
        return CompactResult::Skipped;
    if (order > COSTLY_ORDER) {
        int index = fragmentation_index(zone, order);
        if (index >= 0 && index <= static_cast<int>(m_mm.sysctl().extfrag_threshold))
            return CompactResult::Skipped; // failing for lack of memory: reclaim is the cure
    }
    return CompactResult::Continue;
}

// ==== One run over a zone ====

CompactResult Compactor::compact_zone(Zone& zone, int order, bool proactive)
{
    if (!populated(zone))
        return CompactResult::Skipped;
    if (order >= 0 && !proactive) {
        CompactResult ret = suitable(zone, static_cast<Order>(order));
        if (ret == CompactResult::Success || ret == CompactResult::Skipped)
            return ret;
    }
    Control cc{zone, order, proactive, zone.start_pfn(),
               pageblock_start(zone.start_pfn() + (zone.spanned_pages() - 1))};
    CompactResult ret;
    while ((ret = finished(cc)) == CompactResult::Continue) {
        isolate_migratepages(cc);
        if (cc.migratepages.empty())
            continue;
        // Out of targets before the scanners met: the zone is too full to go on.
        if (!migrate_isolated(cc) && !cc.scanners_met()) {
            ret = CompactResult::Contended;
            break;
        }
    }
    release_isolated(cc);
    VmStat& vs = m_mm.vmstat();
    vs.add(VmItem::CompactMigrateScanned, static_cast<i64>(cc.migrate_scanned));
    vs.add(VmItem::CompactFreeScanned, static_cast<i64>(cc.free_scanned));
    return ret;
}

// __compact_finished (NO_SUITABLE_PAGE already turned into CONTINUE, as compact_finished does).
CompactResult Compactor::finished(Control& cc) const
{
    if (cc.scanners_met())
        return CompactResult::Complete;
    if (cc.proactive) {
        unsigned score = extfrag_for_order(cc.zone, HPAGE_ORDER);
        return score > proactive_low_mark() ? CompactResult::Continue : CompactResult::Success;
    }
    if (cc.order < 0)
        return CompactResult::Continue;
    // A pageblock is always finished, so that it is left as empty as it can be.
    if (cc.migrate_pfn.value() % PAGEBLOCK_NR_PAGES != 0)
        return CompactResult::Continue;
    for (Order o = static_cast<Order>(cc.order); o <= MAX_ORDER; ++o) {
        if (cc.zone.has_suitable_block(o, MigrateType::Movable))
            return CompactResult::Success;
    }
    return CompactResult::Continue;
}

// isolate_migratepages: the next pageblock below the free scanner, one batch at most.
void Compactor::isolate_migratepages(Control& cc)
{
    Pfn block_end = pageblock_start(cc.migrate_pfn) + PAGEBLOCK_NR_PAGES;
    if (block_end > cc.free_pfn)
        return;
    cc.migrate_pfn = isolate_migratepages_block(cc, cc.migrate_pfn, std::min(block_end, cc.zone_end()));
}

// Free blocks and huge pages are stepped over whole; a movable page is isolated. Stops after a
// batch of COMPACT_CLUSTER_MAX pages; returns where the scanner goes on.
Pfn Compactor::isolate_migratepages_block(Control& cc, Pfn low, Pfn end)
{
    Migrator migrator(m_mm);
    const FrameTable& frames = m_mm.frames();
    u64 scanned = 0;
    u64 isolated = 0;
    for (; low < end; ++low) {
        ++scanned;
        const Frame& frame = frames[low];
        if (frame.has(FF_BUDDY | FF_HEAD)) {
            low += pages_of(frame.order) - 1;
            continue;
        }
        if (migrator.movability(low) != Movability::Movable)
            continue;
        cc.migratepages.push_back(low);
        ++isolated;
        if (cc.migratepages.size() >= COMPACT_CLUSTER_MAX) {
            ++low;
            break;
        }
    }
    cc.migrate_scanned += scanned;
    m_mm.vmstat().add(VmItem::CompactIsolated, static_cast<i64>(isolated));
    return low;
}

// migrate_pages with compaction_alloc / compaction_free: each page into the next isolated free
// frame (isolating more when they run out); a page that cannot move gives its target back.
// False when the free scanner found no target.
bool Compactor::migrate_isolated(Control& cc)
{
    Migrator migrator(m_mm);
    for (size_t i = 0; i < cc.migratepages.size(); ++i) {
        if (cc.freepages.empty()) {
            cc.wanted = cc.migratepages.size() - i;
            isolate_freepages(cc);
        }
        if (cc.freepages.empty()) {
            m_mm.vmstat().inc(VmItem::PgmigrateFail); // -ENOMEM for this page; the rest go back
            cc.migratepages.clear();
            return false;
        }
        Pfn target = cc.freepages.front();
        cc.freepages.pop_front();
        if (!migrator.move(cc.migratepages[i], target))
            cc.freepages.push_front(target);
    }
    cc.migratepages.clear();
    return true;
}

// isolate_freepages: pageblocks from the free scanner's position down to the one above the
// migration scanner, until the batch has its targets.
void Compactor::isolate_freepages(Control& cc)
{
    Zone& zone = cc.zone;
    // Signed, since the scanner may step below the zone's (and memory's) first pageblock.
    const i64 block = static_cast<i64>(PAGEBLOCK_NR_PAGES);
    i64 low = static_cast<i64>(pageblock_start(cc.migrate_pfn).value()) + block;
    i64 zone_start = static_cast<i64>(zone.start_pfn().value());
    i64 isolate_start = static_cast<i64>(cc.free_pfn.value());
    i64 block_start = static_cast<i64>(pageblock_start(cc.free_pfn).value());
    i64 block_end = std::min(block_start + block, static_cast<i64>(cc.zone_end().value()));
    for (; block_start >= low && block_start >= zone_start;
         block_end = block_start, block_start -= block, isolate_start = block_start) {
        if (!suitable_target_block(zone, Pfn(static_cast<u64>(block_start))))
            continue;
        isolate_start = static_cast<i64>(isolate_freepages_block(cc, Pfn(static_cast<u64>(isolate_start)),
                                                                 Pfn(static_cast<u64>(block_end)))
                                             .value());
        if (cc.freepages.size() >= cc.wanted) {
            // Go on from the next pageblock down when this one was used up.
            if (isolate_start >= block_end)
                isolate_start = block_start - block;
            break;
        }
        if (isolate_start < block_end)
            break; // stopped early: the zone is at its watermark
    }
    cc.free_pfn = Pfn(static_cast<u64>(std::max<i64>(isolate_start, 0)));
}

// suitable_migration_target: a movable pageblock that is not itself one free block.
bool Compactor::suitable_target_block(const Zone& zone, Pfn block) const
{
    const Frame& head = m_mm.frames()[block];
    if (head.has(FF_BUDDY) && head.order >= PAGEBLOCK_ORDER)
        return false;
    return zone.pageblock_type(block) == MigrateType::Movable;
}

// Takes free blocks whole (split into order-0 targets) while the zone stays above its min
// watermark, until the batch has enough. Returns where the scan stopped.
Pfn Compactor::isolate_freepages_block(Control& cc, Pfn start, Pfn end)
{
    Zone& zone = cc.zone;
    const FrameTable& frames = m_mm.frames();
    u64 scanned = 0;
    u64 isolated = 0;
    Pfn pfn = start;
    for (; pfn < end; ++pfn) {
        ++scanned;
        const Frame& frame = frames[pfn];
        if (frame.has(FF_HEAD)) {
            pfn += pages_of(frame.order) - 1;
            scanned += pages_of(frame.order) - 1;
            continue;
        }
        if (!frame.has(FF_BUDDY))
            continue;
        u64 count = pages_of(frame.order);
        if (!zone.above(zone.watermarks().min + count, 0, zone.index()))
            break;
        VERIFY(zone.isolate_free_block(pfn));
        for (u64 i = 0; i < count; ++i)
            cc.freepages.push_back(pfn + i);
        scanned += count - 1;
        isolated += count;
        if (cc.freepages.size() >= cc.wanted) {
            pfn += count;
            break;
        }
        pfn += count - 1;
    }
    cc.free_scanned += scanned;
    m_mm.vmstat().add(VmItem::CompactIsolated, static_cast<i64>(isolated));
    return pfn;
}

// release_freepages: isolated targets not used go back to the allocator.
void Compactor::release_isolated(Control& cc)
{
    for (Pfn pfn : cc.freepages)
        m_mm.allocator().free(pfn, 0);
    cc.freepages.clear();
}

// ==== Deferral (defer_compaction, compaction_deferred, compaction_defer_reset) ====

bool Compactor::deferred(const Zone& zone, Order order)
{
    Deferral& d = m_deferral[zone.index()];
    u32 limit = u32{1} << d.shift;
    if (order < d.order_failed)
        return false;
    if (++d.considered >= limit) {
        d.considered = limit;
        return false;
    }
    return true;
}

void Compactor::defer(const Zone& zone, Order order)
{
    Deferral& d = m_deferral[zone.index()];
    d.considered = 0;
    d.shift = std::min(d.shift + 1, MAX_DEFER_SHIFT);
    d.order_failed = std::min(d.order_failed, order);
}

void Compactor::defer_reset(const Zone& zone, Order order, bool alloc_success)
{
    Deferral& d = m_deferral[zone.index()];
    if (alloc_success) {
        d.considered = 0;
        d.shift = 0;
    }
    if (order >= d.order_failed)
        d.order_failed = order + 1;
}

// ==== kcompactd ====

void Compactor::wakeup_kcompactd(Order order)
{
    if (order == 0)
        return;
    m_kcompactd_order = std::max(m_kcompactd_order, order);
    // kcompactd_node_suitable: only when compaction could help some zone.
    for (auto& zone : m_mm.allocator().zones()) {
        if (suitable(*zone, order) == CompactResult::Continue) {
            m_kcompactd_woken = true;
            return;
        }
    }
}

// The body of kcompactd's loop, run on the simulated clock: work when woken; else, at each timed
// wake-up, the work a wake-up left pending or a proactive pass when the node is fragmented.
void Compactor::background_work()
{
    u64 now = m_mm.clock().now_ns();
    if (m_kcompactd_woken) {
        m_kcompactd_woken = false;
        kcompactd_do_work();
        m_next_check_ns = now + CHECK_INTERVAL_NS;
        return;
    }
    bool triggered = m_proactive_trigger;
    if (!triggered && now < m_next_check_ns)
        return;
    m_proactive_trigger = false;
    m_next_check_ns = now + CHECK_INTERVAL_NS;
    if (!triggered && m_kcompactd_order > 0) {
        kcompactd_do_work();
        return;
    }
    if (m_mm.sysctl().compaction_proactiveness == 0 || fragmentation_score() <= proactive_high_mark())
        return;
    unsigned before = fragmentation_score();
    proactive_compact();
    // No progress: wait 64 intervals before trying again.
    if (fragmentation_score() >= before)
        m_next_check_ns = now + (CHECK_INTERVAL_NS << MAX_DEFER_SHIFT);
}

void Compactor::kcompactd_do_work()
{
    VmStat& vs = m_mm.vmstat();
    vs.inc(VmItem::CompactDaemonWake);
    Order order = m_kcompactd_order;
    for (auto& zone : m_mm.allocator().zones()) {
        if (!populated(*zone) || deferred(*zone, order) || suitable(*zone, order) != CompactResult::Continue)
            continue;
        u64 migrate_before = vs[VmItem::CompactMigrateScanned];
        u64 free_before = vs[VmItem::CompactFreeScanned];
        CompactResult status = compact_zone(*zone, static_cast<int>(order));
        if (status == CompactResult::Success)
            defer_reset(*zone, order, false);
        else if (status == CompactResult::Complete || status == CompactResult::PartialSkipped)
            defer(*zone, order);
        vs.add(VmItem::CompactDaemonMigrateScanned,
               static_cast<i64>(vs[VmItem::CompactMigrateScanned] - migrate_before));
        vs.add(VmItem::CompactDaemonFreeScanned,
               static_cast<i64>(vs[VmItem::CompactFreeScanned] - free_before));
    }
    if (m_kcompactd_order <= order)
        m_kcompactd_order = 0;
}

// proactive_compact_node: every zone until its score is down to the low mark.
void Compactor::proactive_compact()
{
    VmStat& vs = m_mm.vmstat();
    for (auto& zone : m_mm.allocator().zones()) {
        if (!populated(*zone))
            continue;
        u64 migrate_before = vs[VmItem::CompactMigrateScanned];
        u64 free_before = vs[VmItem::CompactFreeScanned];
        compact_zone(*zone, -1, true);
        vs.add(VmItem::CompactDaemonMigrateScanned,
               static_cast<i64>(vs[VmItem::CompactMigrateScanned] - migrate_before));
        vs.add(VmItem::CompactDaemonFreeScanned,
               static_cast<i64>(vs[VmItem::CompactFreeScanned] - free_before));
    }
}

void Compactor::compact_memory()
{
    for (auto& zone : m_mm.allocator().zones())
        compact_zone(*zone, -1);
}

// fragmentation_score_node: the zones' scores weighted by their share of the node.
unsigned Compactor::fragmentation_score() const
{
    u64 node_pages = 0;
    for (const auto& zone : m_mm.allocator().zones())
        node_pages += zone->spanned_pages();
    u64 score = 0;
    for (const auto& zone : m_mm.allocator().zones()) {
        if (populated(*zone))
            score += zone->spanned_pages() * extfrag_for_order(*zone, HPAGE_ORDER) / (node_pages + 1);
    }
    return static_cast<unsigned>(score);
}

// fragmentation_score_wmark: low = max(100 - proactiveness, 5), high = min(low + 10, 100).
unsigned Compactor::proactive_low_mark() const
{
    u64 proactiveness = std::min<u64>(m_mm.sysctl().compaction_proactiveness, 100);
    return static_cast<unsigned>(std::max<u64>(100 - proactiveness, 5));
}

unsigned Compactor::proactive_high_mark() const
{
    return std::min(proactive_low_mark() + 10, 100u);
}

} // namespace kioku
