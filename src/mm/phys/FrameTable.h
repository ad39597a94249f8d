// The frame table (Linux: the mem_map array of struct page): one Frame per frame of physical
// memory, indexed by frame number. Owned by the memory manager.
//
// The table is anonymous host memory, all zero bytes when made, which are blank descriptors
// (Frame.h). The host backs only the parts that are touched, so a table for a large machine
// costs little until its frames are used.
#pragma once

#include <cstddef>

#include "base/Assert.h"
#include "mm/phys/Frame.h"

namespace kioku {

class FrameTable {
  public:
    FrameTable(Pfn first, u64 count);
    ~FrameTable();
    FrameTable(FrameTable&& other) noexcept;
    FrameTable(const FrameTable&) = delete;
    FrameTable& operator=(const FrameTable&) = delete;
    FrameTable& operator=(FrameTable&&) = delete;

    Pfn first_pfn() const { return m_first; }
    Pfn end_pfn() const { return m_first + m_count; }
    u64 size() const { return m_count; }
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
    size_t bytes() const;

    Pfn m_first;
    u64 m_count = 0;
    Frame* m_frames = nullptr;
};

using FrameList = IndexList<FrameTable>;

} // namespace kioku
