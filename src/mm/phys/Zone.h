// A zone of physical memory (Linux: struct zone) with its buddy allocator: free lists for blocks
// of 2^order frames, order 0 to MAX_ORDER, and the min/low/high watermarks that decide when
// kswapd wakes (below low), when it stops (above high) and when an allocation must reclaim
// directly (below min).
//
// RISC-V Linux has ZONE_DMA32 (physical memory below 4 GiB) and ZONE_NORMAL (the rest); a
// machine whose RAM lies under 4 GiB has an empty Normal zone, as Linux shows in buddyinfo.
//
// Invariants: a free block is aligned to its size, lies wholly in the zone, and is on exactly
// the list of its order with FF_BUDDY set on its head; free_pages equals the sum over the lists;
// two free buddies of the same order never both stay free (they merge). Every frame of a free
// block is blank (a default Frame with only `zone` set) except the head, which carries FF_BUDDY
// and its order. free() resets the descriptors of the block it takes back, so the caller must
// have taken the frames off every list (LRU) and unmapped them first.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "mm/phys/FrameTable.h"

namespace kioku {

inline constexpr Order MAX_ORDER = 10; // largest block: 2^10 frames = 4 MiB

// Zone indices as Linux numbers them on riscv64 (ZONE_MOVABLE is never populated here).
inline constexpr u8 ZONE_DMA32 = 0;
inline constexpr u8 ZONE_NORMAL = 1;
inline constexpr u8 MAX_NR_ZONES = 2;

struct Watermarks {
    u64 min = 0;
    u64 low = 0;
    u64 high = 0;
};

class Zone {
  public:
    Zone(std::string name, u8 index, FrameTable& frames, Pfn start, u64 spanned);

    const std::string& name() const { return m_name; }
    u8 index() const { return m_index; }
    Pfn start_pfn() const { return m_start; }
    u64 spanned_pages() const { return m_spanned; }
    u64 managed_pages() const { return m_managed; } // frames handed to the buddy allocator
    u64 free_pages() const { return m_free; }
    u64 free_blocks(Order order) const { return m_free_lists[order].size(); }
    bool contains(Pfn pfn) const { return pfn >= m_start && pfn < m_start + m_spanned; }

    // Hands a range of frames to the allocator at boot (it was reserved until now).
    void release_boot_range(Pfn first, u64 count);

    // Takes a block of 2^order frames, splitting larger blocks as needed. Does not look at
    // watermarks; the caller decides whether the allocation may dig that deep.
    std::optional<Pfn> allocate(Order order);
    // Returns a block, merging it with free buddies.
    void free(Pfn pfn, Order order);
    // Takes a specific free frame out of the allocator (for tests and compaction).
    bool take_specific(Pfn pfn);

    Watermarks& watermarks() { return m_watermarks; }
    const Watermarks& watermarks() const { return m_watermarks; }
    bool above(u64 mark, Order order) const; // would free pages stay above mark after taking 2^order?
    // The same test with lowmem_reserve[classzone] added to the mark, as Linux does for an
    // allocation whose highest usable zone is `classzone` falling back into this zone.
    bool above(u64 mark, Order order, u8 classzone) const;

    // Linux's zone->lowmem_reserve[]: pages kept back from allocations that could have used a
    // higher zone. Set by PhysicalAllocator from sysctl_lowmem_reserve_ratio.
    u64 lowmem_reserve(u8 classzone) const { return m_lowmem_reserve[classzone]; }
    void set_lowmem_reserve(u8 classzone, u64 pages) { m_lowmem_reserve[classzone] = pages; }

    // Is the frame inside a free block (Linux: is_free_buddy_page)?
    bool is_free(Pfn pfn) const { return free_block_of(pfn).has_value(); }

    // Checks the invariants above; returns false and describes the first violation in *why.
    bool check(std::string* why) const;

  private:
    struct FreeBlock {
        Pfn head;
        Order order;
    };

    void push_free(Pfn pfn, Order order);
    void remove_free(Pfn pfn, Order order);
    void reset_frames(Pfn pfn, u64 count);
    void insert_merging(Pfn pfn, Order order);
    std::optional<FreeBlock> free_block_of(Pfn pfn) const;
    bool check_lists(std::string* why, std::vector<u8>& heads) const;
    bool check_frames(std::string* why, const std::vector<u8>& heads) const;

    std::string m_name;
    u8 m_index;
    FrameTable& m_frames;
    Pfn m_start;
    u64 m_spanned;
    u64 m_managed = 0;
    u64 m_free = 0;
    std::array<FrameList, MAX_ORDER + 1> m_free_lists;
    Watermarks m_watermarks;
    std::array<u64, MAX_NR_ZONES> m_lowmem_reserve{};
};

} // namespace kioku
