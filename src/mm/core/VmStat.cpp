#include "mm/core/VmStat.h"

#include "base/Assert.h"

namespace kioku {

namespace {

// Names in enum order; the static_assert below keeps the table and the enum the same length.
constexpr const char* NAMES[] = {
    "nr_free_pages",
    "nr_zone_inactive_anon",
    "nr_zone_active_anon",
    "nr_zone_inactive_file",
    "nr_zone_active_file",
    "nr_zone_unevictable",
    "nr_zone_write_pending",
    "nr_mlock",
    "nr_bounce",
    "nr_free_cma",

    "nr_inactive_anon",
    "nr_active_anon",
    "nr_inactive_file",
    "nr_active_file",
    "nr_unevictable",
    "nr_slab_reclaimable",
    "nr_slab_unreclaimable",
    "nr_isolated_anon",
    "nr_isolated_file",
    "workingset_nodes",
    "workingset_refault_anon",
    "workingset_refault_file",
    "workingset_activate_anon",
    "workingset_activate_file",
    "workingset_restore_anon",
    "workingset_restore_file",
    "workingset_nodereclaim",
    "nr_anon_pages",
    "nr_mapped",
    "nr_file_pages",
    "nr_dirty",
    "nr_writeback",
    "nr_writeback_temp",
    "nr_shmem",
    "nr_shmem_hugepages",
    "nr_shmem_pmdmapped",
    "nr_file_hugepages",
    "nr_file_pmdmapped",
    "nr_anon_transparent_hugepages",
    "nr_vmscan_write",
    "nr_vmscan_immediate_reclaim",
    "nr_dirtied",
    "nr_written",
    "nr_throttled_written",
    "nr_kernel_misc_reclaimable",
    "nr_foll_pin_acquired",
    "nr_foll_pin_released",
    "nr_kernel_stack",
    "nr_page_table_pages",
    "nr_sec_page_table_pages",
    "nr_swapcached",

    "nr_dirty_threshold",
    "nr_dirty_background_threshold",

    "pgpgin",
    "pgpgout",
    "pswpin",
    "pswpout",
    "pgalloc_dma32",
    "pgalloc_normal",
    "pgalloc_movable",
    "allocstall_dma32",
    "allocstall_normal",
    "allocstall_movable",
    "pgskip_dma32",
    "pgskip_normal",
    "pgskip_movable",
    "pgfree",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pgfault",
    "pgmajfault",
    "pglazyfreed",
    "pgrefill",
    "pgreuse",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "pgdemote_kswapd",
    "pgdemote_direct",
    "pgscan_kswapd",
    "pgscan_direct",
    "pgscan_direct_throttle",
    "pgscan_anon",
    "pgscan_file",
    "pgsteal_anon",
    "pgsteal_file",
    "pginodesteal",
    "slabs_scanned",
    "kswapd_inodesteal",
    "kswapd_low_wmark_hit_quickly",
    "kswapd_high_wmark_hit_quickly",
    "pageoutrun",
    "pgrotated",
    "drop_pagecache",
    "drop_slab",
    "oom_kill",
    "pgmigrate_success",
    "pgmigrate_fail",
    "thp_migration_success",
    "thp_migration_fail",
    "thp_migration_split",
    "compact_migrate_scanned",
    "compact_free_scanned",
    "compact_isolated",
    "compact_stall",
    "compact_fail",
    "compact_success",
    "compact_daemon_wake",
    "compact_daemon_migrate_scanned",
    "compact_daemon_free_scanned",
    "htlb_buddy_alloc_success",
    "htlb_buddy_alloc_fail",
    "unevictable_pgs_culled",
    "unevictable_pgs_scanned",
    "unevictable_pgs_rescued",
    "unevictable_pgs_mlocked",
    "unevictable_pgs_munlocked",
    "unevictable_pgs_cleared",
    "unevictable_pgs_stranded",
    "thp_fault_alloc",
    "thp_fault_fallback",
    "thp_fault_fallback_charge",
    "thp_collapse_alloc",
    "thp_collapse_alloc_failed",
    "thp_file_alloc",
    "thp_file_fallback",
    "thp_file_fallback_charge",
    "thp_file_mapped",
    "thp_split_page",
    "thp_split_page_failed",
    "thp_deferred_split_page",
    "thp_split_pmd",
    "thp_scan_exceed_none_pte",
    "thp_scan_exceed_swap_pte",
    "thp_scan_exceed_share_pte",
    "thp_zero_page_alloc",
    "thp_zero_page_alloc_failed",
    "thp_swpout",
    "thp_swpout_fallback",
    "swap_ra",
    "swap_ra_hit",
};
static_assert(std::size(NAMES) == VM_ITEM_COUNT, "one name per VmItem");

// Pages in one PMD-sized huge page with 4 KiB base pages (Linux: HPAGE_PMD_NR).
constexpr u64 HPAGE_PMD_NR = 512;

bool printed_in_thp_units(VmItem item)
{
    switch (item) {
    case VmItem::NrShmemHugepages:
    case VmItem::NrShmemPmdmapped:
    case VmItem::NrFileHugepages:
    case VmItem::NrFilePmdmapped:
    case VmItem::NrAnonTransparentHugepages: return true;
    default: return false;
    }
}

bool counted_in_sectors(VmItem item)
{
    return item == VmItem::Pgpgin || item == VmItem::Pgpgout;
}

} // namespace

const char* vm_item_name(VmItem item)
{
    VERIFY(item < VmItem::Count && "vm_item_name of a value outside VmItem");
    return NAMES[static_cast<size_t>(item)];
}

VmItem zone_item(VmItem dma32_member, u8 zone_index)
{
    VERIFY((dma32_member == VmItem::PgallocDma32 || dma32_member == VmItem::AllocstallDma32 ||
            dma32_member == VmItem::PgskipDma32) &&
           "zone_item takes the dma32 member of a per-zone family");
    VERIFY(zone_index < VM_ZONE_COUNT && "Linux names only dma32, normal and movable here");
    return static_cast<VmItem>(static_cast<u16>(dma32_member) + zone_index);
}

size_t VmStat::index(VmItem item)
{
    VERIFY(item < VmItem::Count && "VmStat indexed outside VmItem");
    return static_cast<size_t>(item);
}

void VmStat::add(VmItem item, i64 delta)
{
    u64& value = m_values[index(item)];
    if (delta < 0) {
        u64 down = static_cast<u64>(-(delta + 1)) + 1; // avoids overflow on INT64_MIN
        VERIFY(value >= down && "a vmstat counter would go negative");
        value -= down;
        return;
    }
    value += static_cast<u64>(delta);
}

u64 VmStat::printed_value(VmItem item) const
{
    u64 value = m_values[index(item)];
    if (counted_in_sectors(item))
        return value / 2;
    if (printed_in_thp_units(item))
        return value / HPAGE_PMD_NR;
    return value;
}

std::string VmStat::format() const
{
    // for_each ends with nr_unstable 0: Linux keeps printing that counter, removed in 5.8, so
    // that old parsers still find it.
    std::string out;
    out.reserve(VM_ITEM_COUNT * 32);
    for_each([&](const char* name, u64 value) {
        out += name;
        out += ' ';
        out += std::to_string(value);
        out += '\n';
    });
    return out;
}

} // namespace kioku
