// The frame table (Linux: the mem_map array of struct page): one Frame per frame of physical
// memory, indexed by frame number. Owned by the memory manager.
#pragma once

#include <vector>

#include "base/Assert.h"
#include "mm/phys/Frame.h"

namespace kioku {

class FrameTable {
  public:
    FrameTable(Pfn first, u64 count)
        : m_first(first)
        , m_frames(count)
    {
    }

    Pfn first_pfn() const { return m_first; }
    Pfn end_pfn() const { return m_first + m_frames.size(); }
    u64 size() const { return m_frames.size(); }
    bool contains(Pfn pfn) const { return pfn >= m_first && pfn < end_pfn(); }

    Frame& operator[](Pfn pfn)
    {
        VERIFY(contains(pfn));
        return m_frames[pfn.value() - m_first.value()];
    }
    const Frame& operator[](Pfn pfn) const
    {
        VERIFY(contains(pfn));
        return m_frames[pfn.value() - m_first.value()];
    }

    // IndexList support: list indices are offsets from first_pfn.
    IndexLinks& links(u32 index) { return m_frames[index].links; }
    u32 index_of(Pfn pfn) const { return static_cast<u32>(pfn.value() - m_first.value()); }
    Pfn pfn_at(u32 index) const { return m_first + index; }

  private:
    Pfn m_first;
    std::vector<Frame> m_frames;
};

using FrameList = IndexList<FrameTable>;

} // namespace kioku
