#include "mm/swap/SwapManager.h"

#include <algorithm>
#include <cstdio>

namespace kioku {

u32 SwapManager::add_area(std::unique_ptr<SwapArea> area)
{
    for (u32 t = 0; t < m_areas.size(); ++t) {
        if (!m_areas[t]) {
            m_areas[t] = std::move(area);
            m_last_used[t] = 0;
            return t;
        }
    }
    VERIFY(m_areas.size() < MAX_SWAPFILES && "too many swap areas");
    m_areas.push_back(std::move(area));
    m_last_used.push_back(0);
    return static_cast<u32>(m_areas.size() - 1);
}

void SwapManager::remove_area(u32 type)
{
    VERIFY(type < m_areas.size() && m_areas[type] && m_areas[type]->used() == 0);
    int priority = m_areas[type]->priority();
    m_areas[type].reset();
    if (priority >= 0)
        return;
    for (auto& a : m_areas)
        if (a && a->priority() < priority)
            a->set_priority(a->priority() + 1);
    ++m_least_priority;
}

std::optional<u32> SwapManager::find(const std::string& name) const
{
    for (u32 t = 0; t < m_areas.size(); ++t)
        if (m_areas[t] && m_areas[t]->name() == name)
            return t;
    return std::nullopt;
}

u64 SwapManager::total_pages() const
{
    u64 n = 0;
    for (auto& a : m_areas)
        n += a && a->writable() ? a->usable() : 0;
    return n;
}

u64 SwapManager::free_pages() const
{
    u64 n = 0;
    for (auto& a : m_areas)
        n += a && a->writable() ? a->free_slots() : 0;
    return n;
}

SwapArea* SwapManager::pick_area(u32& type)
{
    // get_swap_pages walks the areas in priority order and requeues the one it used behind the
    // others of its priority: the least recently used of the best priority goes next.
    SwapArea* best = nullptr;
    for (u32 t = 0; t < m_areas.size(); ++t) {
        SwapArea* a = m_areas[t].get();
        if (!a || !a->writable() || a->full())
            continue;
        if (!best || a->priority() > best->priority() ||
            (a->priority() == best->priority() && m_last_used[t] < m_last_used[type])) {
            best = a;
            type = t;
        }
    }
    return best;
}

std::optional<SwapEntry> SwapManager::allocate_cached(Pfn pfn)
{
    u32 type = 0;
    SwapArea* area = pick_area(type);
    if (!area)
        return std::nullopt;
    m_last_used[type] = ++m_allocations;
    auto slot = area->allocate();
    VERIFY(slot);
    SwapEntry e{type, *slot};
    m_cache.emplace(key(e), pfn);
    return e;
}

void SwapManager::duplicate(SwapEntry e)
{
    area(e.type)->duplicate(e.offset);
}

u64 SwapManager::count(SwapEntry e) const
{
    return m_areas[e.type]->count(e.offset) - (m_cache.count(key(e)) ? 1 : 0);
}

void SwapManager::slot_released(SwapEntry e)
{
    // A free slot keeps no shadow and no readahead mark (clear_shadow_from_swap_cache).
    if (m_areas[e.type]->count(e.offset) != 0)
        return;
    m_shadow.erase(key(e));
    m_readahead_pages.erase(key(e));
    if (m_slot_freed)
        m_slot_freed(e);
}

u64 SwapManager::release(SwapEntry e)
{
    area(e.type)->release(e.offset);
    slot_released(e);
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
    area(e.type)->duplicate(e.offset);
    m_cache.emplace(key(e), pfn);
}

void SwapManager::cache_remove(SwapEntry e)
{
    auto it = m_cache.find(key(e));
    VERIFY(it != m_cache.end());
    m_cache.erase(it);
    m_readahead_pages.erase(key(e));
    area(e.type)->release(e.offset);
    slot_released(e);
}

std::optional<u64> SwapManager::take_shadow(SwapEntry e)
{
    auto it = m_shadow.find(key(e));
    if (it == m_shadow.end())
        return std::nullopt;
    u64 age = it->second;
    m_shadow.erase(it);
    return age;
}

u64 SwapManager::readahead_window(u64 offset, u64 page_cluster)
{
    // swapin_nr_pages / __swapin_nr_pages of mm/swap_state.c: the window grows with the hits
    // of earlier readahead (hits + 2, rounded up to a power of two from 4), is a single page after
    // a non-sequential miss, and does not shrink faster than by half at a time.
    u64 max_pages = u64{1} << std::min<u64>(page_cluster, 31);
    if (max_pages <= 1)
        return 1;
    u64 hits = m_readahead.hits;
    m_readahead.hits = 0;
    u64 pages = hits + 2;
    if (pages == 2) {
        if (offset != m_readahead.prev_offset + 1 && offset + 1 != m_readahead.prev_offset)
            pages = 1;
    } else {
        u64 roundup = 4;
        while (roundup < pages)
            roundup <<= 1;
        pages = roundup;
    }
    pages = std::min(pages, max_pages);
    pages = std::max(pages, m_readahead.last_window / 2);
    if (!hits)
        m_readahead.prev_offset = offset;
    m_readahead.last_window = pages;
    return pages;
}

namespace {

// seq_file_path's escaping: the listed characters become a backslash and three octal digits.
std::string escape_path(const std::string& path)
{
    std::string out;
    for (char c : path) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

std::string SwapManager::proc_swaps() const
{
    // swap_show of mm/swapfile.c: sizes in kB, the path padded to 40 columns, a second tab after
    // numbers under 10000000 so the columns line up.
    std::string out = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    for (auto& a : m_areas) {
        if (!a || !a->writable())
            continue;
        std::string path = escape_path(a->name());
        u64 size_kb = a->usable() * (PAGE_SIZE / 1024);
        u64 used_kb = a->used() * (PAGE_SIZE / 1024);
        int pad = path.size() < 40 ? static_cast<int>(40 - path.size()) : 1;
        char line[256];
        std::snprintf(line, sizeof line, "%*s%s\t%llu\t%s%llu\t%s%d\n", pad, " ",
                      a->kind() == SwapArea::Kind::Partition ? "partition" : "file\t",
                      static_cast<unsigned long long>(size_kb), size_kb < 10000000 ? "\t" : "",
                      static_cast<unsigned long long>(used_kb), used_kb < 10000000 ? "\t" : "",
                      a->priority());
        out += path + line;
    }
    return out;
}

} // namespace kioku
