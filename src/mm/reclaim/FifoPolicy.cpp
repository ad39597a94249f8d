#include "mm/reclaim/FifoPolicy.h"

namespace kioku {

PageQueue::PageQueue(const FrameTable& frames)
    : m_first(frames.first_pfn())
    , m_links(frames.size())
    , m_on(frames.size(), false)
{
}

void PageQueue::push_front(Pfn pfn)
{
    VERIFY(!contains(pfn) && "a page is queued twice");
    m_list.push_front(*this, index(pfn));
    m_on[index(pfn)] = true;
}

void PageQueue::push_back(Pfn pfn)
{
    VERIFY(!contains(pfn) && "a page is queued twice");
    m_list.push_back(*this, index(pfn));
    m_on[index(pfn)] = true;
}

void PageQueue::remove(Pfn pfn)
{
    if (!contains(pfn))
        return;
    m_list.remove(*this, index(pfn));
    m_on[index(pfn)] = false;
}

void PageQueue::move_to_front(Pfn pfn)
{
    if (!contains(pfn) || m_list.front() == index(pfn))
        return;
    m_list.remove(*this, index(pfn));
    m_list.push_front(*this, index(pfn));
}

std::optional<Pfn> PageQueue::newer(Pfn pfn) const
{
    u32 prev = m_links[index(pfn)].prev();
    if (prev == IndexLinks::NIL)
        return std::nullopt;
    return m_first + prev;
}

void FifoPolicy::page_added(Pfn pfn)
{
    // A page the policy already holds (a new policy told of the lists it inherits) keeps its place.
    if (!m_queue.contains(pfn))
        m_queue.push_front(pfn);
}

void FifoPolicy::page_removed(Pfn pfn)
{
    m_queue.remove(pfn);
}

bool FifoPolicy::still_evictable(Pfn pfn)
{
    const Frame& f = m_frames[pfn];
    if (f.has(FF_LRU) && !f.has(FF_UNEVICTABLE))
        return true;
    m_queue.remove(pfn);
    return false;
}

void FifoPolicy::select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    std::optional<Pfn> at = m_queue.empty() ? std::nullopt : std::optional<Pfn>(m_queue.back());
    while (at && count > 0) {
        Pfn pfn = *at;
        at = m_queue.newer(pfn);
        if (!still_evictable(pfn))
            continue;
        scan.scanned(pfn);
        victims.push_back(pfn);
        --count;
    }
}

void FifoPolicy::keep(Pfn pfn)
{
    m_queue.move_to_front(pfn);
}

std::vector<Pfn> FifoPolicy::order() const
{
    std::vector<Pfn> out;
    std::optional<Pfn> at = m_queue.empty() ? std::nullopt : std::optional<Pfn>(m_queue.back());
    for (; at; at = m_queue.newer(*at))
        out.push_back(*at);
    return out;
}

} // namespace kioku
