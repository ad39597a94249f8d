#include "mm/cache/Flusher.h"

#include <algorithm>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
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

namespace {

// The b_dirty list in age order; ties go to the older inode number, so the order is fixed.
std::vector<Inode*> dirty_inodes_by_age(const std::vector<Inode*>& inodes, std::optional<u64> cutoff)
{
    std::vector<Inode*> dirty;
    for (Inode* inode : inodes)
        if (inode->dirty_pages && inode->dirtied_when_ns && (!cutoff || *inode->dirtied_when_ns <= *cutoff))
            dirty.push_back(inode);
    std::sort(dirty.begin(), dirty.end(), [](Inode* a, Inode* b) {
        return *a->dirtied_when_ns != *b->dirtied_when_ns ? *a->dirtied_when_ns < *b->dirtied_when_ns
                                                          : a->ino() < b->ino();
    });
    return dirty;
}

} // namespace

void Flusher::write_inode(Inode& inode)
{
    // Errors of the host file leave the pages dirty; the next writeback tries again. An inode
    // left with dirty pages (errors, or pages dirtied again while under writeback, which
    // background writeback passes over) is requeued as newly dirtied (redirty_tail), so that it
    // does not hold up the rest.
    Request request;
    request.inode = &inode;
    auto r = m_cache.start_writeback(inode, request.pages);
    if (!request.pages.empty()) {
        u64 bytes = request.pages.size() * PAGE_SIZE;
        request.done_ns = m_cache.disk() ? m_cache.disk()->submit_write(bytes) : m_mm.clock().now_ns();
        m_pages_in_flight += request.pages.size();
        m_in_flight.push_back(std::move(request));
    }
    if (inode.dirty_pages == 0)
        inode.dirtied_when_ns.reset();
    else if (r.is_error() || inode.writeback_pages)
        inode.dirtied_when_ns = m_mm.clock().now_ns();
}

void Flusher::write_oldest(u64 target)
{
    for (Inode* inode : dirty_inodes_by_age(m_cache.inodes(), std::nullopt)) {
        if (m_cache.nr_dirty() <= target)
            return;
        write_inode(*inode);
    }
}

void Flusher::write_expired(u64 cutoff)
{
    for (Inode* inode : dirty_inodes_by_age(m_cache.inodes(), cutoff))
        write_inode(*inode);
}

void Flusher::complete_due()
{
    u64 now = m_mm.clock().now_ns();
    while (!m_in_flight.empty() && m_in_flight.front().done_ns <= now) {
        Request& done = m_in_flight.front();
        for (Pfn pfn : done.pages)
            m_cache.end_writeback(pfn);
        m_pages_in_flight -= done.pages.size();
        m_in_flight.pop_front();
    }
}

void Flusher::wait_until(u64 ns)
{
    Clock& clock = m_mm.clock();
    if (clock.now_ns() < ns)
        clock.advance(ns - clock.now_ns());
    complete_due();
}

bool Flusher::wait_one()
{
    if (m_in_flight.empty())
        return false;
    wait_until(m_in_flight.front().done_ns);
    return true;
}

void Flusher::wait_inode(const Inode& inode)
{
    // Requests complete in order: waiting for the inode's last one waits for all of its others.
    for (auto it = m_in_flight.rbegin(); it != m_in_flight.rend(); ++it) {
        if (it->inode == &inode) {
            wait_until(it->done_ns);
            return;
        }
    }
}

void Flusher::wait_all()
{
    if (!m_in_flight.empty())
        wait_until(m_in_flight.back().done_ns);
}

void Flusher::wakeup_all()
{
    if (m_running)
        return;
    m_running = true;
    complete_due();
    write_oldest(0);
    m_next_wakeup_ns = m_mm.clock().now_ns() + m_mm.sysctl().dirty_writeback_centisecs * NS_PER_CENTISEC;
    m_running = false;
}

u64 Flusher::next_event_ns() const
{
    u64 next = m_mm.sysctl().dirty_writeback_centisecs ? m_next_wakeup_ns : ~u64{0};
    if (!m_in_flight.empty())
        next = std::min(next, m_in_flight.front().done_ns);
    return next;
}

void Flusher::throttle(u64 threshold)
{
    while (m_cache.nr_dirty() + m_pages_in_flight > threshold) {
        if (!wait_one()) {
            // Nothing in flight yet the writer is over the limit: start writing what it can.
            u64 before = m_pages_in_flight;
            write_oldest(0);
            if (m_pages_in_flight == before)
                return;
        }
    }
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
    complete_due();
    const VmSysctl& s = m_mm.sysctl();
    if (m_dirtied_since_check && m_dirtied_since_check >= ratelimit()) {
        m_dirtied_since_check = 0;
        DirtyLimits l = limits();
        // balance_dirty_pages counts pages under writeback with the dirty ones.
        u64 dirty = m_cache.nr_dirty() + m_pages_in_flight;
        // dirty_freerun_ceiling: under it the writer runs free and nobody is woken.
        if (dirty > (l.threshold + l.background) / 2) {
            ++m_background_runs;
            write_oldest(l.background);
            if (dirty > l.threshold) {
                ++m_throttled;
                throttle(l.threshold);
            }
        }
    }
    u64 now = m_mm.clock().now_ns();
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
