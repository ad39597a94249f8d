#include "mm/swap/SwapManager.h"

#include <algorithm>

namespace kioku {

u32 SwapManager::add_area(std::unique_ptr<SwapArea> area)
{
    for (u32 t = 0; t < m_areas.size(); ++t) {
        if (!m_areas[t]) {
            m_areas[t] = std::move(area);
            return t;
        }
    }
    VERIFY(m_areas.size() < (1u << SWP_TYPE_BITS) && "too many swap areas");
    m_areas.push_back(std::move(area));
    return static_cast<u32>(m_areas.size() - 1);
}

void SwapManager::remove_area(u32 type)
{
    VERIFY(type < m_areas.size() && m_areas[type] && m_areas[type]->used() == 0);
    m_areas[type].reset();
}

u64 SwapManager::total_pages() const
{
    u64 n = 0;
    for (auto& a : m_areas)
        n += a ? a->usable() : 0;
    return n;
}

u64 SwapManager::free_pages() const
{
    u64 n = 0;
    for (auto& a : m_areas)
        n += a ? a->free_slots() : 0;
    return n;
}

std::optional<SwapEntry> SwapManager::allocate_cached(Pfn pfn)
{
    // Highest priority first; among equal priorities, the first added (Linux round-robins them).
    SwapArea* best = nullptr;
    u32 best_type = 0;
    for (u32 t = 0; t < m_areas.size(); ++t) {
        SwapArea* a = m_areas[t].get();
        if (a && !a->full() && (!best || a->priority() > best->priority())) {
            best = a;
            best_type = t;
        }
    }
    if (!best)
        return std::nullopt;
    auto slot = best->allocate();
    VERIFY(slot);
    SwapEntry e{best_type, *slot};
    m_cache.emplace(key(e), pfn);
    return e;
}

bool SwapManager::duplicate(SwapEntry e) { return area(e.type)->duplicate(e.offset); }

u8 SwapManager::count(SwapEntry e) const
{
    u8 total = m_areas[e.type]->count(e.offset);
    return static_cast<u8>(total - (m_cache.count(key(e)) ? 1 : 0));
}

u8 SwapManager::release(SwapEntry e)
{
    area(e.type)->release(e.offset);
    return count(e);
}

std::optional<Pfn> SwapManager::lookup(SwapEntry e) const
{
    auto it = m_cache.find(key(e));
    if (it == m_cache.end())
        return std::nullopt;
    return it->second;
}

void SwapManager::cache_insert(SwapEntry e, Pfn pfn)
{
    VERIFY(!m_cache.count(key(e)));
    bool ok = area(e.type)->duplicate(e.offset);
    VERIFY(ok);
    m_cache.emplace(key(e), pfn);
}

void SwapManager::cache_remove(SwapEntry e)
{
    auto it = m_cache.find(key(e));
    VERIFY(it != m_cache.end());
    m_cache.erase(it);
    area(e.type)->release(e.offset);
}

} // namespace kioku
