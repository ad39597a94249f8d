#include "mm/reclaim/Lru.h"

#include "mm/reclaim/ReplacementPolicy.h"

namespace kioku {

LruList Lru::list_of(const Frame& frame)
{
    if (frame.has(FF_UNEVICTABLE))
        return LruList::Unevictable;
    bool anon = frame.has(FF_SWAPBACKED);
    bool active = frame.has(FF_ACTIVE);
    if (anon)
        return active ? LruList::ActiveAnon : LruList::InactiveAnon;
    return active ? LruList::ActiveFile : LruList::InactiveFile;
}

void Lru::add_new(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    f.clear(FF_ACTIVE | FF_REFERENCED);
    add(pfn, list_of(f));
    if (m_policy && !f.has(FF_UNEVICTABLE))
        m_policy->page_added(pfn);
}

void Lru::add(Pfn pfn, LruList which)
{
    Frame& f = m_frames[pfn];
    VERIFY(!f.has(FF_LRU));
    f.set(FF_LRU);
    if (which == LruList::ActiveAnon || which == LruList::ActiveFile)
        f.set(FF_ACTIVE);
    else
        f.clear(FF_ACTIVE);
    list(which).push_front(m_frames, m_frames.index_of(pfn));
}

void Lru::remove(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    if (!f.has(FF_LRU))
        return;
    if (m_policy && !f.has(FF_UNEVICTABLE))
        m_policy->page_removed(pfn);
    list(list_of(f)).remove(m_frames, m_frames.index_of(pfn));
    f.clear(FF_LRU | FF_ACTIVE);
}

void Lru::move(Pfn pfn, LruList which)
{
    Frame& f = m_frames[pfn];
    VERIFY(f.has(FF_LRU));
    list(list_of(f)).remove(m_frames, m_frames.index_of(pfn));
    f.clear(FF_LRU | FF_ACTIVE);
    add(pfn, which);
}

} // namespace kioku
