#include "mm/reclaim/OptPolicy.h"

#include <algorithm>

namespace kioku {

void OptPolicy::set_future(std::vector<PageKey> future)
{
    m_future = std::move(future);
    m_uses.clear();
    for (u64 i = 0; i < m_future.size(); ++i)
        m_uses[m_future[i]].push_back(i);
    m_position = 0;
}

PageKey OptPolicy::key_of(Pfn pfn) const
{
    const Frame& f = m_frames[pfn];
    return PageKey{f.owner_identity(), f.index};
}

void OptPolicy::page_accessed(Pfn pfn)
{
    if (m_position >= m_future.size() || !m_queue.contains(pfn))
        return;
    PageKey key = key_of(pfn);
    if (key.owner && key == m_future[m_position])
        ++m_position;
}

u64 OptPolicy::next_use(const PageKey& key) const
{
    auto it = key.owner ? m_uses.find(key) : m_uses.end();
    if (it == m_uses.end())
        return NEVER;
    auto next = std::lower_bound(it->second.begin(), it->second.end(), m_position);
    return next == it->second.end() ? NEVER : *next;
}

void OptPolicy::select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    // Every resident page with its next use, oldest resident first; a stable sort on the next
    // use then keeps that order among pages never used again.
    std::vector<std::pair<u64, Pfn>> candidates;
    if (m_oracle)
        m_oracle->begin_selection();
    std::optional<Pfn> at = m_queue.empty() ? std::nullopt : std::optional<Pfn>(m_queue.back());
    while (at) {
        Pfn pfn = *at;
        at = m_queue.newer(pfn);
        if (still_evictable(pfn))
            candidates.emplace_back(m_oracle ? m_oracle->next_use(pfn) : next_use(key_of(pfn)), pfn);
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (u64 i = 0; i < candidates.size() && i < count; ++i) {
        scan.scanned(candidates[i].second);
        victims.push_back(candidates[i].second);
    }
}

} // namespace kioku
