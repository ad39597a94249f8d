// Formats after Linux 6.1's mm/vmstat.c (pagetypeinfo_showfree_print,
// pagetypeinfo_showblockcount_print, extfrag_show_print, unusable_show_print) and the sysctl
// handlers of mm/compaction.c.
#include "kernel/ProcCompaction.h"

#include <cstdio>

#include "mm/MemoryManager.h"
#include "mm/compaction/Compactor.h"
#include "mm/compaction/Fragmentation.h"

namespace kioku {

namespace {

constexpr const char* PAGETYPEINFO = "/proc/pagetypeinfo";
constexpr const char* EXTFRAG_INDEX = "/sys/kernel/debug/extfrag/extfrag_index";
constexpr const char* UNUSABLE_INDEX = "/sys/kernel/debug/extfrag/unusable_index";
constexpr const char* PHYSMAP = "/proc/kioku/physmap"; // kioku's own: every frame, drawn

// Linux counts a free list only up to this many entries and prints ">100000" beyond.
constexpr u64 FREE_COUNT_LIMIT = 100000;

std::string format(const char* fmt, auto... args)
{
    char buf[96];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

// Each populated zone's line: "Node 0, zone    DMA32 " then one value per order.
template <typename PerOrder>
std::string per_zone_orders(const MemoryManager& mm, PerOrder value)
{
    std::string out;
    for (const auto& zone : mm.allocator().zones()) {
        if (zone->managed_pages() == 0)
            continue;
        out += format("Node %d, zone %8s ", 0, zone->name().c_str());
        for (Order order = 0; order <= MAX_ORDER; ++order)
            out += value(*zone, order);
        out += '\n';
    }
    return out;
}

// "%2d.%03d " / "%d.%03d ": thousandths as a decimal, -1000 printed as -1.000.
std::string thousandths(int index, bool padded)
{
    return format(padded ? "%2d.%03d " : "%d.%03d ", index / 1000, index % 1000);
}

std::string free_counts(const MemoryManager& mm)
{
    std::string out = format("%-43s ", "Free pages count per migrate type at order");
    for (Order order = 0; order <= MAX_ORDER; ++order)
        out += format("%6u ", order);
    out += '\n';
    for (const auto& zone : mm.allocator().zones()) {
        if (zone->managed_pages() == 0)
            continue;
        for (u8 t = 0; t < MIGRATE_TYPES; ++t) {
            auto type = static_cast<MigrateType>(t);
            out += format("Node %4d, zone %8s, type %12s ", 0, zone->name().c_str(), migratetype_name(type));
            for (Order order = 0; order <= MAX_ORDER; ++order) {
                u64 count = zone->free_blocks(order, type);
                bool overflow = count >= FREE_COUNT_LIMIT;
                out += format("%s%6llu ", overflow ? ">" : "",
                              static_cast<unsigned long long>(overflow ? FREE_COUNT_LIMIT : count));
            }
            out += '\n';
        }
    }
    return out;
}

std::string block_counts(const MemoryManager& mm)
{
    std::string out = format("\n%-23s", "Number of blocks type ");
    for (u8 t = 0; t < MIGRATE_TYPES; ++t)
        out += format("%12s ", migratetype_name(static_cast<MigrateType>(t)));
    out += '\n';
    for (const auto& zone : mm.allocator().zones()) {
        if (zone->managed_pages() == 0)
            continue;
        out += format("Node %d, zone %8s ", 0, zone->name().c_str());
        for (u8 t = 0; t < MIGRATE_TYPES; ++t)
            out += format("%12llu ",
                          static_cast<unsigned long long>(zone->pageblocks_of(static_cast<MigrateType>(t))));
        out += '\n';
    }
    return out;
}

// What one frame holds, as /proc/kioku/physmap draws it.
char frame_char(const Frame& f)
{
    if (f.has(FF_RESERVED))
        return f.has(FF_ZERO) ? 'z' : '#';
    if (f.has(FF_ZERO))
        return 'z';
    if (f.hstate())
        return 'h';
    if (f.has(FF_PAGETABLE))
        return 'p';
    if (f.has(FF_SLAB))
        return 'k';
    if (f.has(FF_HEAD) || f.has(FF_TAIL))
        return 'H';
    if (f.has(FF_ANON))
        return 'a';
    if (f.has(FF_FILE))
        return f.has(FF_SHMEM) ? 's' : 'f';
    if (f.has(FF_KERNEL))
        return 'K';
    return f.refcount == 0 ? '.' : '?';
}

std::string physmap(const MemoryManager& mm)
{
    constexpr u64 PER_LINE = 64;
    const FrameTable& frames = mm.frames();
    std::string out = "physmap: one character per 4 KiB frame, 64 per line (256 KiB), each pageblock (2 MiB, "
                      "512 frames) under its own line\n"
                      "legend: . free  a anonymous  f file  s shmem  H transparent huge page  h hugetlb  "
                      "p page table  k slab  K other kernel  z zero page  # reserved  ? other\n";
    for (Pfn pfn = frames.first_pfn(); pfn < frames.end_pfn(); pfn = pfn + PER_LINE) {
        u64 offset = pfn.value() - frames.first_pfn().value();
        if (offset % PAGEBLOCK_NR_PAGES == 0) {
            const Zone& zone = const_cast<MemoryManager&>(mm).allocator().zone_of(pfn);
            out += format("pageblock %llu at 0x%llx, zone %s, %s\n",
                          static_cast<unsigned long long>(offset / PAGEBLOCK_NR_PAGES),
                          static_cast<unsigned long long>(pfn.value() << PAGE_SHIFT), zone.name().c_str(),
                          migratetype_name(zone.pageblock_type(pfn)));
        }
        out += format("  0x%09llx ", static_cast<unsigned long long>(pfn.value() << PAGE_SHIFT));
        for (Pfn p = pfn; p < pfn + PER_LINE && p < frames.end_pfn(); p = p + 1)
            out += frame_char(frames[p]);
        out += '\n';
    }
    return out;
}
} // namespace

std::string pagetypeinfo(const MemoryManager& mm)
{
    std::string out = format("Page block order: %u\n", PAGEBLOCK_ORDER);
    out += format("Pages per block:  %llu\n\n", static_cast<unsigned long long>(PAGEBLOCK_NR_PAGES));
    return out + free_counts(mm) + block_counts(mm);
}

std::string extfrag_index(const MemoryManager& mm)
{
    return per_zone_orders(mm, [](const Zone& zone, Order order) {
        return thousandths(fragmentation_index(zone, order), true);
    });
}

std::string unusable_index(const MemoryManager& mm)
{
    return per_zone_orders(mm, [](const Zone& zone, Order order) {
        return thousandths(unusable_free_index(zone, order), false);
    });
}

bool is_compaction_view(const std::string& path)
{
    return path == PAGETYPEINFO || path == EXTFRAG_INDEX || path == UNUSABLE_INDEX || path == PHYSMAP;
}

std::string compaction_view(const MemoryManager& mm, const std::string& path)
{
    if (path == PAGETYPEINFO)
        return pagetypeinfo(mm);
    if (path == EXTFRAG_INDEX)
        return extfrag_index(mm);
    if (path == PHYSMAP)
        return physmap(mm);
    return unusable_index(mm);
}

bool is_compaction_sysctl(const std::string& name)
{
    return name == "compact_memory" || name == "compaction_proactiveness" || name == "extfrag_threshold" ||
           name == "compact_unevictable_allowed";
}

Result<std::string> compaction_sysctl_read(const MemoryManager& mm, const std::string& name)
{
    const VmSysctl& s = mm.sysctl();
    if (name == "compact_memory")
        return Error::from_errno(EACCES, "compact_memory is write-only (mode 0200)");
    u64 value = name == "compaction_proactiveness" ? s.compaction_proactiveness
                : name == "extfrag_threshold"      ? s.extfrag_threshold
                                                   : s.compact_unevictable_allowed;
    return std::to_string(value) + "\n";
}

Result<void> compaction_sysctl_write(MemoryManager& mm, const std::string& name, i64 value)
{
    VmSysctl& s = mm.sysctl();
    auto in_range = [&](i64 lo, i64 hi) -> Result<void> {
        if (value < lo || value > hi)
            return Error::from_errno(EINVAL, "value out of range");
        return {};
    };
    if (name == "compact_memory") {
        // sysctl_compaction_handler accepts only 1.
        TRY(in_range(1, 1));
        mm.compactor().compact_memory();
    } else if (name == "compaction_proactiveness") {
        TRY(in_range(0, 100));
        s.compaction_proactiveness = static_cast<u64>(value);
        // compaction_proactiveness_sysctl_handler wakes kcompactd for a proactive pass.
        if (value != 0)
            mm.compactor().trigger_proactive();
    } else if (name == "extfrag_threshold") {
        TRY(in_range(0, 1000));
        s.extfrag_threshold = static_cast<u64>(value);
    } else {
        TRY(in_range(0, 1));
        s.compact_unevictable_allowed = static_cast<u64>(value);
    }
    return {};
}

} // namespace kioku
