#include "mm/cache/Flusher.h"

#include <algorithm>

#include "hw/Clock.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/phys/Zone.h"

namespace kioku {

namespace {

constexpr u64 NS_PER_CENTISEC = 10'000'000;

} // namespace

u64 Flusher::dirtyable_pages() const
{
    // global_dirtyable_memory: free pages less totalreserve_pages, plus the file LRU.
    const PhysicalAllocator& allocator = m_mm.allocator();
    u64 reserve = 0;
    for (auto& zone : allocator.zones()) {
        u64 max_reserve = 0;
        for (u8 c = 0; c < MAX_NR_ZONES; ++c)
            max_reserve = std::max(max_reserve, zone->lowmem_reserve(c));
        reserve += std::min(zone->managed_pages(), zone->watermarks().high + max_reserve);
    }
    u64 free = allocator.free_pages();
    u64 x = free - std::min(free, reserve);
    x += m_mm.lru().size(LruList::InactiveFile) + m_mm.lru().size(LruList::ActiveFile);
    return x + 1; // never zero
}

DirtyLimits Flusher::limits() const
{
    // domain_dirty_limits: the ratios in per-PAGE_SIZE fixed point, as Linux computes them.
    const VmSysctl& s = m_mm.sysctl();
    u64 available = dirtyable_pages();
    u64 ratio = s.dirty_ratio * PAGE_SIZE / 100;
    u64 bg_ratio = s.dirty_background_ratio * PAGE_SIZE / 100;
    DirtyLimits l;
    l.threshold = ratio * available / PAGE_SIZE;
    l.background = bg_ratio * available / PAGE_SIZE;
    if (l.background >= l.threshold)
        l.background = l.threshold / 2;
    return l;
}

void Flusher::page_dirtied()
{
    m_mm.vmstat().add(VmItem::NrDirtied, 1);
    ++m_dirtied_since_check;
    u64 now = m_mm.clock().now_ns();
    for (Inode* inode : m_cache.inodes())
        if (inode->dirty_pages && !inode->dirtied_when_ns)
            inode->dirtied_when_ns = now;
}

Inode* Flusher::oldest_dirty_inode() const
{
    // The b_dirty list in age order; ties go to the older inode number, so the order is fixed.
    Inode* oldest = nullptr;
    for (Inode* inode : m_cache.inodes()) {
        if (!inode->dirty_pages || !inode->dirtied_when_ns)
            continue;
        if (!oldest || *inode->dirtied_when_ns < *oldest->dirtied_when_ns ||
            (*inode->dirtied_when_ns == *oldest->dirtied_when_ns && inode->ino() < oldest->ino()))
            oldest = inode;
    }
    return oldest;
}

void Flusher::write_inode(Inode& inode)
{
    // Errors of the host file leave the pages dirty; the next writeback tries again. The inode
    // is requeued as newly dirtied then (redirty_tail), so one failing file does not stall the rest.
    auto r = m_cache.writeback(inode);
    if (inode.dirty_pages == 0)
        inode.dirtied_when_ns.reset();
    else if (r.is_error())
        inode.dirtied_when_ns = m_mm.clock().now_ns();
}

void Flusher::write_oldest(u64 target)
{
    while (m_cache.nr_dirty() > target) {
        Inode* inode = oldest_dirty_inode();
        if (!inode)
            return;
        u64 before = m_cache.nr_dirty();
        write_inode(*inode);
        if (m_cache.nr_dirty() >= before)
            return; // the host file refuses the writes: try again at the next poll
    }
}

void Flusher::write_expired(u64 cutoff)
{
    std::vector<Inode*> expired;
    for (Inode* inode : m_cache.inodes())
        if (inode->dirty_pages && inode->dirtied_when_ns && *inode->dirtied_when_ns <= cutoff)
            expired.push_back(inode);
    std::sort(expired.begin(), expired.end(), [](Inode* a, Inode* b) {
        return *a->dirtied_when_ns != *b->dirtied_when_ns ? *a->dirtied_when_ns < *b->dirtied_when_ns
                                                          : a->ino() < b->ino();
    });
    for (Inode* inode : expired)
        write_inode(*inode);
}

u64 Flusher::ratelimit() const
{
    // writeback_set_ratelimit: a writer looks at the limits once per dirty_thresh / 32 pages it
    // dirties (one CPU), at least every 16 pages.
    return std::max<u64>(16, limits().threshold / 32);
}

void Flusher::poll()
{
    if (m_running)
        return;
    m_running = true;
    const VmSysctl& s = m_mm.sysctl();
    u64 now = m_mm.clock().now_ns();
    if (m_dirtied_since_check && m_dirtied_since_check >= ratelimit()) {
        m_dirtied_since_check = 0;
        DirtyLimits l = limits();
        u64 dirty = m_cache.nr_dirty();
        // dirty_freerun_ceiling: under it the writer runs free and nobody is woken.
        if (dirty > (l.threshold + l.background) / 2) {
            if (dirty > l.threshold)
                ++m_throttled;
            ++m_background_runs;
            write_oldest(l.background);
        }
    }
    u64 interval = s.dirty_writeback_centisecs * NS_PER_CENTISEC;
    if (interval && now >= m_next_wakeup_ns) {
        ++m_periodic_runs;
        u64 expire = s.dirty_expire_centisecs * NS_PER_CENTISEC;
        if (now >= expire)
            write_expired(now - expire);
        DirtyLimits l = limits();
        if (m_cache.nr_dirty() > l.background) {
            ++m_background_runs;
            write_oldest(l.background);
        }
        m_next_wakeup_ns = now + interval;
    }
    m_running = false;
}

} // namespace kioku
