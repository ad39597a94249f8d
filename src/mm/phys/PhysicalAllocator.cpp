// The zoned page allocator, after Linux 6.1's mm/page_alloc.c: zonelist fallback, watermark
// checks, calculate_min_free_kbytes, __setup_per_zone_wmarks and setup_per_zone_lowmem_reserve.
#include "mm/phys/PhysicalAllocator.h"

#include <algorithm>
#include <cstdio>

namespace kioku {

namespace {

// Frames below physical 4 GiB belong to ZONE_DMA32.
constexpr Pfn DMA32_END_PFN(u64{1} << (32 - PAGE_SHIFT));

// Linux 6.1 clamps the computed min_free_kbytes to [128, 262144] (older kernels capped at 65536).
constexpr u64 MIN_FREE_KBYTES_FLOOR = 128;
constexpr u64 MIN_FREE_KBYTES_CEILING = 262144;

// vm.watermark_scale_factor accepts 1..3000 in Linux 6.1.
constexpr u64 WATERMARK_SCALE_MAX = 3000;

// Linux's int_sqrt: the floor of the square root, computed digit by digit in base 4.
u64 int_sqrt(u64 x)
{
    u64 root = 0;
    for (u64 bit = u64{1} << 62; bit != 0; bit >>= 2) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    return root;
}

// Linux's mult_frac: x * n / d without overflowing for large x.
u64 mult_frac(u64 x, u64 n, u64 d)
{
    return (x / d) * n + (x % d) * n / d;
}

} // namespace

PhysicalAllocator::PhysicalAllocator(FrameTable& frames)
    : m_frames(frames)
{
    Pfn first = frames.first_pfn();
    Pfn end = frames.end_pfn();
    Pfn split = std::clamp(DMA32_END_PFN, first, end);
    // Both zones always exist, so that a zone index is the same on every machine; an empty one
    // spans no frames and is left out of buddyinfo, as Linux leaves out unpopulated zones.
    m_zones.push_back(std::make_unique<Zone>("DMA32", ZONE_DMA32, frames, first, split - first));
    m_zones.push_back(std::make_unique<Zone>("Normal", ZONE_NORMAL, frames, split, end - split));
}

void PhysicalAllocator::release_boot_range(Pfn first, u64 count)
{
    release(first, count, &Zone::release_boot_range);
}

void PhysicalAllocator::release_fresh_range(Pfn first, u64 count)
{
    release(first, count, &Zone::release_fresh_range);
}

void PhysicalAllocator::release(Pfn first, u64 count, void (Zone::*hand_over)(Pfn, u64))
{
    if (count == 0)
        return;
    VERIFY(m_frames.contains(first) && m_frames.contains(first + (count - 1)) && "range outside memory");
    Pfn end = first + count;
    for (auto& zone : m_zones) {
        Pfn lo = std::max(first, zone->start_pfn());
        Pfn hi = std::min(end, zone->start_pfn() + zone->spanned_pages());
        if (lo < hi)
            ((*zone).*hand_over)(lo, hi - lo);
    }
    m_pgfree += count;
}

void PhysicalAllocator::setup_watermarks()
{
    // nr_free_buffer_pages() subtracts each zone's high watermark, which is still zero at boot
    // when Linux runs this; kioku runs it at boot only, so it counts the managed pages.
    u64 lowmem_kbytes = managed_pages() * (PAGE_SIZE >> 10);
    u64 computed = int_sqrt(lowmem_kbytes * 16);
    // A value set through the sysctl wins over a smaller computed one.
    if (static_cast<i64>(computed) > m_user_min_free_kbytes)
        m_min_free_kbytes = std::clamp(computed, MIN_FREE_KBYTES_FLOOR, MIN_FREE_KBYTES_CEILING);
    setup_zone_watermarks();
    setup_lowmem_reserve();
}

void PhysicalAllocator::set_min_free_kbytes(u64 kbytes)
{
    m_min_free_kbytes = kbytes;
    m_user_min_free_kbytes = static_cast<i64>(kbytes);
    setup_zone_watermarks();
}

void PhysicalAllocator::set_watermark_scale_factor(u64 factor)
{
    VERIFY(factor >= 1 && factor <= WATERMARK_SCALE_MAX && "the sysctl handler must reject this value");
    m_watermark_scale_factor = factor;
    setup_zone_watermarks();
}

// __setup_per_zone_wmarks: min is the zone's share of min_free_kbytes by managed pages; low and
// high sit one and two steps above it, a step being the larger of min/4 and the scale factor's
// fraction of the zone. Every zone is lowmem on riscv64.
void PhysicalAllocator::setup_zone_watermarks()
{
    u64 pages_min = m_min_free_kbytes >> (PAGE_SHIFT - 10);
    u64 lowmem_pages = managed_pages();
    for (auto& zone : m_zones) {
        u64 managed = zone->managed_pages();
        u64 min = lowmem_pages == 0 ? 0 : pages_min * managed / lowmem_pages;
        u64 step = std::max(min >> 2, mult_frac(managed, m_watermark_scale_factor, 10000));
        Watermarks& marks = zone->watermarks();
        marks.min = min;
        marks.low = min + step;
        marks.high = min + 2 * step;
    }
}

// setup_per_zone_lowmem_reserve: a lower zone keeps back, from allocations that could have used
// zone j above it, the managed pages of the zones up to j divided by its ratio.
void PhysicalAllocator::setup_lowmem_reserve()
{
    for (u8 i = 0; i < MAX_NR_ZONES; ++i) {
        Zone& zone = *m_zones[i];
        bool clear = LOWMEM_RESERVE_RATIO[i] == 0 || zone.managed_pages() == 0;
        u64 upper_managed = 0;
        for (u8 j = i + 1; j < MAX_NR_ZONES; ++j) {
            upper_managed += m_zones[j]->managed_pages();
            zone.set_lowmem_reserve(j, clear ? 0 : upper_managed / LOWMEM_RESERVE_RATIO[i]);
        }
    }
}

bool PhysicalAllocator::may_allocate_from(const Zone& zone, Order order, AllocFlags flags) const
{
    if (flags == AllocFlags::Atomic)
        return true;
    // A user allocation may use every zone up to Normal, so Normal is its class zone.
    return zone.above(zone.watermarks().min, order, ZONE_NORMAL);
}

std::optional<Pfn> PhysicalAllocator::allocate(Order order, AllocFlags flags, MigrateType type)
{
    VERIFY(order <= MAX_ORDER);
    // The zonelist of GFP_HIGHUSER_MOVABLE: the highest zone first, falling back downwards.
    for (auto it = m_zones.rbegin(); it != m_zones.rend(); ++it) {
        Zone& zone = **it;
        if (!may_allocate_from(zone, order, flags))
            continue;
        if (auto pfn = zone.allocate(order, type)) {
            m_pgalloc[zone.index()] += u64{1} << order;
            return pfn;
        }
    }
    ++m_alloc_failures;
    return std::nullopt;
}

bool PhysicalAllocator::can_allocate(Order order, AllocFlags flags) const
{
    for (const auto& zone : m_zones) {
        if (may_allocate_from(*zone, order, flags) && zone->above(0, order))
            return true;
    }
    return false;
}

void PhysicalAllocator::free(Pfn pfn, Order order)
{
    frames_changed(pfn, u64{1} << order);
    zone_of(pfn).free(pfn, order);
    m_pgfree += u64{1} << order;
}

u64 PhysicalAllocator::free_pages() const
{
    u64 total = 0;
    for (const auto& zone : m_zones)
        total += zone->free_pages();
    return total;
}

u64 PhysicalAllocator::managed_pages() const
{
    u64 total = 0;
    for (const auto& zone : m_zones)
        total += zone->managed_pages();
    return total;
}

u64 PhysicalAllocator::total_watermark(u64 Watermarks::*which) const
{
    u64 total = 0;
    for (const auto& zone : m_zones)
        total += zone->watermarks().*which;
    return total;
}

Zone& PhysicalAllocator::zone_of(Pfn pfn)
{
    auto it =
        std::find_if(m_zones.begin(), m_zones.end(), [pfn](const auto& zone) { return zone->contains(pfn); });
    VERIFY(it != m_zones.end() && "frame in no zone");
    return **it;
}

// mm/vmstat.c frag_show_print: the zone name right-aligned in 8 columns, then the free block
// count of each order in 6 columns, each followed by a space.
std::string PhysicalAllocator::buddyinfo() const
{
    std::string out;
    char buf[32];
    for (const auto& zone : m_zones) {
        if (zone->spanned_pages() == 0)
            continue;
        std::snprintf(buf, sizeof buf, "Node 0, zone %8s ", zone->name().c_str());
        out += buf;
        for (Order order = 0; order <= MAX_ORDER; ++order) {
            auto count = static_cast<unsigned long long>(zone->free_blocks(order));
            std::snprintf(buf, sizeof buf, "%6llu ", count);
            out += buf;
        }
        out += '\n';
    }
    return out;
}

bool PhysicalAllocator::check(std::string* why) const
{
    for (const auto& zone : m_zones) {
        if (!zone->check(why))
            return false;
    }
    return true;
}

} // namespace kioku
