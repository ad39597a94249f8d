#include "mm/core/SwapCache.h"

#include <cstring>
#include <vector>

#include "hw/PhysicalMemory.h"
#include "mm/core/MmCore.h"
#include "mm/core/Workingset.h"
#include "mm/swap/SwapManager.h"

namespace kioku {

void SwapCache::readahead_window(SwapEntry e, u64& first, u64& last)
{
    SwapManager& swap = m_mm.swap();
    SwapArea& area = *swap.area(e.type);
    u64 window = swap.readahead_window(e.offset, m_mm.sysctl().page_cluster);
    first = last = e.offset;
    if (window <= 1)
        return;
    u64 mask = window - 1;
    first = std::max<u64>(e.offset & ~mask, 1); // slot 0 is the header
    last = std::min<u64>(e.offset | mask, area.slots() - 1);
}

void SwapCache::insert_read(SwapEntry e, Pfn pfn)
{
    // __read_swap_cache_async + swap_readpage: into the swap cache, refault check, onto the LRU.
    SwapManager& swap = m_mm.swap();
    Frame& f = m_mm.frames()[pfn];
    f.flags = FF_ANON | FF_SWAPBACKED | FF_UPTODATE | FF_SWAPCACHE;
    f.clear_owner();
    f.index = 0;
    f.private_data = SwapManager::key(e);
    swap.cache_insert(e, pfn); // the allocation's reference becomes the cache's
    m_mm.lru().add_new(pfn);
    if (auto shadow = swap.take_shadow(e); shadow && m_mm.workingset().refault(*shadow, false))
        m_mm.lru().move(pfn, LruList::ActiveAnon);
    m_mm.vmstat().add(VmItem::Pswpin, 1);
    m_mm.vmstat().add(VmItem::Pgpgin, static_cast<i64>(PAGE_SIZE / 512));
}

std::optional<Pfn> SwapCache::read(SwapEntry e, bool* major)
{
    SwapManager& swap = m_mm.swap();
    if (auto hit = swap.lookup(e)) {
        m_mm.get_page(*hit);
        if (swap.test_clear_readahead(e)) {
            m_mm.vmstat().add(VmItem::SwapRaHit, 1);
            ++swap.readahead().hits;
        }
        return hit;
    }
    u64 first = 0, last = 0;
    readahead_window(e, first, last);
    // Frames first: allocating may reclaim (or kill), which can change which slots are in use.
    std::vector<std::pair<u64, Pfn>> pages;
    for (u64 offset = first; offset <= last; ++offset) {
        SwapEntry n{e.type, offset};
        if (swap.area(e.type)->count(offset) == 0 || swap.lookup(n))
            continue;
        // mem_cgroup_swapin_charge_folio: the page is charged to the group its slot was charged
        // to, whoever reads it back.
        MemCgroup* owner = m_mm.memcg().swap_owner(SwapManager::key(n));
        ActiveMemcg charge_to(m_mm.memcg(), owner ? owner : m_mm.memcg().active());
        auto pfn = m_mm.alloc_user_page(ZeroFill::No);
        if (!pfn) {
            if (offset == e.offset)
                break;
            continue; // readahead is best effort
        }
        pages.emplace_back(offset, *pfn);
    }
    std::erase_if(pages, [&](auto& p) {
        SwapEntry n{e.type, p.first};
        if (swap.area(e.type)->count(p.first) != 0 && !swap.lookup(n))
            return false;
        m_mm.put_page(p.second);
        return true;
    });
    if (!pages.empty()) {
        // One request for the run that covers them, as a plugged batch of reads is one I/O.
        u64 lo = pages.front().first, hi = pages.back().first;
        std::vector<u8> buffer((hi - lo + 1) * PAGE_SIZE);
        // swap_read_folio: waiting for a page of the working set is thrashing, a stall on memory.
        std::optional<MmCore::Memstall> thrashing;
        if (auto shadow = swap.shadow(e); shadow && m_mm.workingset().in_workingset(*shadow, false))
            thrashing.emplace(m_mm);
        auto r = swap.area(e.type)->read_pages(lo, hi - lo + 1, buffer.data());
        VERIFY(!r.is_error() && "swap device read failed");
        for (auto& [offset, pfn] : pages) {
            SwapEntry n{e.type, offset};
            std::memcpy(m_mm.memory().frame(pfn), buffer.data() + (offset - lo) * PAGE_SIZE, PAGE_SIZE);
            insert_read(n, pfn);
            if (offset != e.offset) {
                swap.mark_readahead(n);
                m_mm.vmstat().add(VmItem::SwapRa, 1);
            }
        }
    }
    auto pfn = swap.lookup(e);
    if (!pfn)
        return std::nullopt;
    m_mm.get_page(*pfn);
    if (major)
        *major = true;
    return pfn;
}

void SwapCache::free_entry(SwapEntry e)
{
    SwapManager& swap = m_mm.swap();
    if (swap.release(e) != 0)
        return;
    auto cached = swap.lookup(e);
    if (!cached)
        return;
    Frame& f = m_mm.frames()[*cached];
    if (f.mapcount == 0 && f.refcount == 1)
        remove(*cached);
}

bool SwapCache::try_free_swap(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    if (!f.has(FF_SWAPCACHE))
        return true;
    SwapEntry e = swap_entry_of(f.private_data);
    if (m_mm.swap().count(e) != 0)
        return false;
    f.set(FF_DIRTY); // the only copy of the data is in memory now
    remove(pfn);
    return true;
}

std::optional<SwapEntry> SwapCache::add_to_swap(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    VERIFY(!f.has(FF_SWAPCACHE) && "a page added to the swap cache twice");
    // The page's memory cgroup must have swap room left (memory.swap.max).
    MemCgroup* group = m_mm.memcg().of(pfn);
    if (group && !m_mm.memcg().may_charge_swap(*group))
        return std::nullopt;
    auto entry = m_mm.swap().allocate_cached(pfn);
    if (!entry)
        return std::nullopt;
    if (group)
        m_mm.memcg().charge_swap(SwapManager::key(*entry), *group);
    f.set(FF_SWAPCACHE);
    f.private_data = make_swap_pte(*entry);
    m_mm.get_page(pfn); // the swap cache's reference
    return entry;
}

SwapEntry SwapCache::take(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    VERIFY(f.has(FF_SWAPCACHE) && "a page taken from the swap cache it is not in");
    SwapEntry e = swap_entry_of(f.private_data);
    m_mm.swap().cache_remove(e);
    f.clear(FF_SWAPCACHE);
    f.private_data = 0;
    return e;
}

void SwapCache::remove(Pfn pfn)
{
    take(pfn);
    m_mm.put_page(pfn);
}

bool SwapCache::swap_full() const
{
    const SwapManager& swap = m_mm.swap();
    return swap.free_pages() * 2 < swap.total_pages();
}

} // namespace kioku
