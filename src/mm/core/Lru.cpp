#include "mm/core/Lru.h"

#include "mm/core/ReplacementPolicy.h"

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

u64 Lru::pages_of(const Frame& frame)
{
    return frame.has(FF_HEAD) ? u64{1} << frame.order : 1;
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
    m_pages[static_cast<unsigned>(which)] += pages_of(f);
}

void Lru::remove(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    if (!f.has(FF_LRU))
        return;
    if (m_policy && !f.has(FF_UNEVICTABLE))
        m_policy->page_removed(pfn);
    unlink(pfn);
}

void Lru::move(Pfn pfn, LruList which)
{
    Frame& f = m_frames[pfn];
    VERIFY(f.has(FF_LRU));
    unlink(pfn);
    add(pfn, which);
}

void Lru::unlink(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    LruList which = list_of(f);
    u64 pages = pages_of(f);
    u64& counted = m_pages[static_cast<unsigned>(which)];
    VERIFY(counted >= pages && "an LRU list counts fewer pages than it holds");
    list(which).remove(m_frames, m_frames.index_of(pfn));
    counted -= pages;
    f.clear(FF_LRU | FF_ACTIVE);
}

void Lru::split_compound(Pfn head)
{
    Frame& f = m_frames[head];
    VERIFY(f.has(FF_HEAD) && "split_compound on a page that is not a compound head");
    if (!f.has(FF_LRU))
        return;
    m_pages[static_cast<unsigned>(list_of(f))] -= pages_of(f) - 1;
}

} // namespace kioku
