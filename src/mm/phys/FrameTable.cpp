#include "mm/phys/FrameTable.h"

#include <sys/mman.h>

#include <type_traits>

namespace kioku {

// The zero bytes of a fresh anonymous mapping are taken as descriptors, as Frame's own
// constructor would leave them; that needs a type whose objects are plain bytes.
static_assert(std::is_trivially_copyable_v<Frame> && std::is_trivially_destructible_v<Frame>);

FrameTable::FrameTable(Pfn first, u64 count)
    : m_first(first)
    , m_count(count)
{
    if (count == 0)
        return;
    // MAP_NORESERVE: a host page is committed only when a descriptor on it is first written.
    void* table =
        mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    VERIFY(table != MAP_FAILED && "host refused memory for the frame table");
    m_frames = static_cast<Frame*>(table);
}

FrameTable::~FrameTable()
{
    if (m_frames)
        munmap(m_frames, bytes());
}

FrameTable::FrameTable(FrameTable&& other) noexcept
    : m_first(other.m_first)
    , m_count(other.m_count)
    , m_frames(other.m_frames)
{
    other.m_count = 0;
    other.m_frames = nullptr;
}

size_t FrameTable::bytes() const
{
    return m_count * sizeof(Frame);
}

} // namespace kioku
