// A zone of physical memory (Linux: struct zone) with its buddy allocator: free lists for blocks
// of 2^order frames, order 0 to MAX_ORDER, one list per migrate type at each order, and the
// min/low/high watermarks that decide when kswapd wakes (below low), when it stops (above high)
// and when an allocation must reclaim directly (below min).
//
// RISC-V Linux has ZONE_DMA32 (physical memory below 4 GiB) and ZONE_NORMAL (the rest); a
// machine whose RAM lies under 4 GiB has an empty Normal zone, as Linux shows in buddyinfo.
//
// Anti-fragmentation (Linux: page grouping by mobility). The zone is cut into pageblocks of
// 2^PAGEBLOCK_ORDER frames (2 MiB, the huge-page size), each tagged with the migrate type of the
// allocations it is meant to hold. Boot tags every pageblock Movable, as memmap_init does. An
// allocation asks for a type and is served from that type's lists; when they are empty it falls
// back to another type in Linux's order and steals: the whole pageblock when the stolen block is
// large or the request is not movable (and half the pageblock is free or alike), else only the
// one block. So unmovable kernel pages cluster in few pageblocks and the rest stay compactable.
//
// Invariants: a free block is aligned to its size, lies wholly in the zone, and is on exactly
// the list of its order and of the type in its head's `free_type`, with FF_BUDDY set on its head;
// free_pages equals the sum over the lists; two free buddies of the same order never both stay
// free (they merge), except across pageblocks of which one is HighAtomic or Isolate, as in Linux.
// Every frame of a free block is blank (a default Frame, all zero bytes) except the head,
// which carries FF_BUDDY, its order and its list's type. free() resets the descriptors of the
// block it takes back, so the caller must have taken the frames off every list (LRU) and unmapped
// them first.
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

// Linux's enum migratetype (6.1, no CMA), in its order. HighAtomic and Isolate are never asked
// for by an allocation: HighAtomic pageblocks are a reserve for high-order atomic allocations,
// Isolate ones are being taken out of use (memory offlining, contiguous allocation).
enum class MigrateType : u8 { Unmovable, Movable, Reclaimable, HighAtomic, Isolate };
inline constexpr unsigned MIGRATE_TYPES = 5;
inline constexpr unsigned MIGRATE_PCPTYPES = 3; // the types an allocation asks for
// The name /proc/pagetypeinfo prints ("Unmovable", "Movable", ...).
const char* migratetype_name(MigrateType type);

// pageblock_order with 4 KiB pages and huge pages: HPAGE_PMD_ORDER, 512 frames (2 MiB).
inline constexpr Order PAGEBLOCK_ORDER = 9;
inline constexpr u64 PAGEBLOCK_NR_PAGES = u64{1} << PAGEBLOCK_ORDER;

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
    u64 free_blocks(Order order) const { return m_free_count[order]; }
    u64 free_blocks(Order order, MigrateType type) const { return list(order, type).size(); }
    bool contains(Pfn pfn) const { return pfn >= m_start && pfn < m_start + m_spanned; }

    // Hands a range of frames to the allocator at boot (it was reserved until now).
    void release_boot_range(Pfn first, u64 count);
    // The same for frames still blank as the frame table was made, which it neither reads nor
    // writes, except for the heads of the blocks it frees (Linux defers initialising struct pages
    // likewise): a large machine starts without a pass over its frame table.
    void release_fresh_range(Pfn first, u64 count);

    // Takes a block of 2^order frames of the given mobility, splitting larger blocks as needed
    // and falling back to (and stealing from) other types' lists as Linux's __rmqueue does.
    // Does not look at watermarks; the caller decides whether the allocation may dig that deep.
    std::optional<Pfn> allocate(Order order, MigrateType type = MigrateType::Movable);
    // Returns a block to the lists of its pageblock's type, merging it with free buddies.
    void free(Pfn pfn, Order order);
    // Takes a specific free frame out of the allocator (for tests and compaction).
    bool take_specific(Pfn pfn);
    // Takes the whole free block whose head is `head` (compaction's free scanner,
    // __isolate_free_page); its frames come out blank. Nullopt when head is no free block's head.
    std::optional<Order> isolate_free_block(Pfn head);

    // Could an allocation of this order and type be served from this order's free blocks, from its
    // own lists or by stealing a whole pageblock of another type (compaction's "suitable page")?
    bool has_suitable_block(Order order, MigrateType type) const;

    // The migrate type of the pageblock holding pfn, and changing it (set_pageblock_migratetype).
    MigrateType pageblock_type(Pfn pfn) const;
    void set_pageblock_type(Pfn pfn, MigrateType type);
    // Pageblocks of each type, counted as /proc/pagetypeinfo does (from the zone start on).
    u64 pageblocks_of(MigrateType type) const;

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

    FrameList& list(Order order, MigrateType type) { return m_free_lists[order][static_cast<u8>(type)]; }
    const FrameList& list(Order order, MigrateType type) const
    {
        return m_free_lists[order][static_cast<u8>(type)];
    }
    void push_free(Pfn pfn, Order order, MigrateType type);
    void remove_free(Pfn pfn, Order order);
    void move_free(Pfn pfn, Order order, MigrateType type); // to the list of another type
    void expand(Pfn pfn, Order low, Order high, MigrateType type);
    void reset_frames(Pfn pfn, u64 count);
    void insert_merging(Pfn pfn, Order order, MigrateType type);
    bool may_merge(Pfn pfn, Pfn buddy, Order order, MigrateType type) const;
    // Anti-fragmentation, after __rmqueue_smallest, __rmqueue_fallback and friends.
    std::optional<Pfn> take_smallest(Order order, MigrateType type);
    bool take_fallback(Order order, MigrateType type);
    std::optional<MigrateType> suitable_fallback(Order order, MigrateType type, bool& can_steal) const;
    void steal_fallback(Pfn pfn, Order order, MigrateType type, bool whole_block);
    u64 move_freepages_block(Pfn pfn, MigrateType type, u64& movable);
    size_t block_index(Pfn pfn) const;
    std::optional<FreeBlock> free_block_of(Pfn pfn) const;
    bool check_lists(std::string* why, std::vector<u8>& heads) const;
    bool check_list(std::string* why, const FrameList& free_list, Order order, u8 type,
                    std::vector<u8>& heads, u64& free) const;
    bool check_frames(std::string* why, const std::vector<u8>& heads) const;

    std::string m_name;
    u8 m_index;
    FrameTable& m_frames;
    Pfn m_start;
    u64 m_spanned;
    u64 m_managed = 0;
    u64 m_free = 0;
    std::array<std::array<FrameList, MIGRATE_TYPES>, MAX_ORDER + 1> m_free_lists;
    std::array<u64, MAX_ORDER + 1> m_free_count{}; // blocks per order over all types
    std::vector<MigrateType> m_pageblock_types;    // by pageblock, from the one holding m_start
    Watermarks m_watermarks;
    std::array<u64, MAX_NR_ZONES> m_lowmem_reserve{};
};

} // namespace kioku
