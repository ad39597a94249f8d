#include "mm/swap/SwapArea.h"

#include "hw/BlockDevice.h"

namespace kioku {

SwapArea::SwapArea(std::unique_ptr<BlockDevice> device, int priority, std::string name, Kind kind)
    : m_device(std::move(device))
    , m_priority(priority)
    , m_name(std::move(name))
    , m_kind(kind)
    , m_count(m_device->block_count(), 0)
{
    VERIFY(m_count.size() >= 2 && "a swap area needs a header slot and at least one page");
    m_count[0] = 0xff; // the header
}

SwapArea::~SwapArea() = default;

std::optional<u64> SwapArea::allocate()
{
    if (full())
        return std::nullopt;
    // Continue the current cluster; when it is used up, look for a wholly free cluster, and only
    // then take any free slot (a fragmented area), scanning from the start as Linux's fallback does.
    while (m_cluster_next < m_cluster_end && m_count[m_cluster_next] != 0)
        ++m_cluster_next;
    if (m_cluster_next >= m_cluster_end) {
        bool found = false;
        for (u64 start = 0; start < slots() && !found; start += CLUSTER) {
            u64 end = std::min(start + CLUSTER, slots());
            bool empty = true;
            for (u64 s = std::max<u64>(start, 1); s < end && empty; ++s)
                empty = m_count[s] == 0;
            if (empty) {
                m_cluster_next = std::max<u64>(start, 1);
                m_cluster_end = end;
                found = true;
            }
        }
        if (!found) {
            for (u64 s = 1; s < slots(); ++s) {
                if (m_count[s] == 0) {
                    m_cluster_next = s;
                    m_cluster_end = s + 1;
                    break;
                }
            }
        }
    }
    u64 slot = m_cluster_next++;
    VERIFY(slot < slots() && m_count[slot] == 0);
    m_count[slot] = 1;
    ++m_used;
    return slot;
}

u64 SwapArea::count(u64 slot) const
{
    auto it = m_continued.find(slot);
    return m_count[slot] + (it == m_continued.end() ? 0 : it->second);
}

void SwapArea::duplicate(u64 slot)
{
    VERIFY(slot > 0 && slot < slots() && m_count[slot] > 0);
    if (m_count[slot] < MAX_COUNT)
        ++m_count[slot];
    else
        ++m_continued[slot];
}

u64 SwapArea::release(u64 slot)
{
    VERIFY(slot > 0 && slot < slots() && m_count[slot] > 0 && "releasing a free swap slot");
    if (auto it = m_continued.find(slot); it != m_continued.end()) {
        if (--it->second == 0)
            m_continued.erase(it);
        return count(slot);
    }
    if (--m_count[slot] == 0)
        --m_used;
    return m_count[slot];
}

Result<void> SwapArea::write_page(u64 slot, const u8* src)
{
    return m_device->write_blocks(slot, 1, src);
}

Result<void> SwapArea::read_page(u64 slot, u8* dst)
{
    return m_device->read_blocks(slot, 1, dst);
}

Result<void> SwapArea::read_pages(u64 first, u64 count, u8* dst)
{
    return m_device->read_blocks(first, count, dst);
}

} // namespace kioku
