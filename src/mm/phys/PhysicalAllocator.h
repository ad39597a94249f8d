// The page allocator over all zones (Linux: the zoned buddy allocator, __alloc_pages). It picks a
// zone by preference (Normal before DMA32, as Linux's zonelist does for GFP_HIGHUSER), honours
// watermarks, computes them from min_free_kbytes as Linux does, and counts allocations.
//
// Each allocation names the mobility of what it will hold (MigrateType, Linux's gfp_migratetype):
// user pages are Movable, page tables and unreclaimable slab Unmovable, reclaimable slab
// Reclaimable. The zones group pages by it (see Zone.h).
//
// Reclaim is not done here: when no zone can satisfy an allocation above its min watermark the
// allocator returns nullopt and the memory manager decides (reclaim, OOM). An allocation with
// AllocFlags::Atomic may dip below min, as GFP_ATOMIC does.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/CodeCachePort.h"
#include "mm/phys/Zone.h"

namespace kioku {

enum class AllocFlags : u8 {
    Normal = 0, // respect the min watermark
    Atomic = 1, // may go below min (the kernel's own emergency reserve)
};

class PhysicalAllocator {
  public:
    // Builds the zones over the frame table: DMA32 up to physical 4 GiB, Normal above.
    explicit PhysicalAllocator(FrameTable& frames);

    // Frees [first, first+count) into the zones at boot. Frames never released stay reserved.
    void release_boot_range(Pfn first, u64 count);
    // The same for frames still blank as the frame table made them (Zone::release_fresh_range).
    void release_fresh_range(Pfn first, u64 count);

    // Linux's init_per_zone_wmark_min: min_free_kbytes = sqrt(lowmem_kbytes * 16) clamped to
    // [128, 262144], then __setup_per_zone_wmarks with watermark_scale_factor.
    void setup_watermarks();
    void set_min_free_kbytes(u64 kbytes); // also recomputes the watermarks
    u64 min_free_kbytes() const { return m_min_free_kbytes; }
    void set_watermark_scale_factor(u64 factor); // in 1/10000 of managed memory, default 10

    std::optional<Pfn> allocate(Order order, AllocFlags flags = AllocFlags::Normal,
                                MigrateType type = MigrateType::Movable);
    void free(Pfn pfn, Order order);
    // Would allocate(order, flags) find a block now (some zone above its watermark with a free
    // block of that order)? Compaction asks after it has run.
    bool can_allocate(Order order, AllocFlags flags = AllocFlags::Normal) const;

    u64 free_pages() const;
    u64 managed_pages() const;
    u64 total_watermark(u64 Watermarks::*which) const; // summed over zones
    std::vector<std::unique_ptr<Zone>>& zones() { return m_zones; }
    const std::vector<std::unique_ptr<Zone>>& zones() const { return m_zones; }
    Zone& zone_of(Pfn pfn);

    // /proc/buddyinfo: "Node 0, zone    DMA32      3      1 ..." one line per populated zone.
    std::string buddyinfo() const;

    bool check(std::string* why) const;

    // Event counters as /proc/vmstat shows them: pgalloc_<zone> counts pages handed out from a
    // zone, pgfree pages given back (boot releases included, as Linux counts them).
    u64 pgalloc(u8 zone_index) const { return m_pgalloc[zone_index]; }
    u64 pgfree() const { return m_pgfree; }
    u64 alloc_failures() const { return m_alloc_failures; } // allocations that returned nullopt

    // Linux's defaults for sysctl_lowmem_reserve_ratio on riscv64: {DMA32: 256, Normal: 32}.
    static constexpr u64 LOWMEM_RESERVE_RATIO[MAX_NR_ZONES] = {256, 32};

    // The harts' code caches: told of every frame freed, which may be reused for other contents
    // (CodeCachePort). Null when nothing executes from this memory (scenarios).
    void set_code_cache(CodeCachePort* port) { m_code_cache = port; }
    // Frames that get other contents without passing through free(): a hugetlb page back in its
    // pool, a page-cache page the kernel writes (write(2); Linux's flush_dcache_folio).
    void frames_changed(Pfn first, u64 count)
    {
        if (m_code_cache)
            m_code_cache->invalidate_code(first, count);
    }

  private:
    void release(Pfn first, u64 count, void (Zone::*hand_over)(Pfn, u64));
    void setup_zone_watermarks();
    void setup_lowmem_reserve();
    bool may_allocate_from(const Zone& zone, Order order, AllocFlags flags) const;

    FrameTable& m_frames;
    CodeCachePort* m_code_cache = nullptr;
    std::vector<std::unique_ptr<Zone>> m_zones; // in address order: DMA32, Normal
    u64 m_min_free_kbytes = 0;
    u64 m_watermark_scale_factor = 10;
    i64 m_user_min_free_kbytes = -1; // set by set_min_free_kbytes; -1 until then, as in Linux
    std::array<u64, MAX_NR_ZONES> m_pgalloc{};
    u64 m_pgfree = 0;
    u64 m_alloc_failures = 0;
};

} // namespace kioku
