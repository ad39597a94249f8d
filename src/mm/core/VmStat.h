// The counters of /proc/vmstat (Linux: vm_stat[], vm_node_stat[], vm_numa_event[] and the per-cpu
// vm_event_states, printed by mm/vmstat.c vmstat_show()). The memory manager owns one VmStat and
// bumps its items as it works; procfs asks it for format().
//
// The item list is the one Linux 6.1 prints on riscv64 with this configuration:
//   CONFIG_SWAP, CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_HUGETLB_PAGE, CONFIG_MIGRATION and
//   CONFIG_COMPACTION on; CONFIG_ZONE_DMA32 on (zones dma32, normal, movable — Linux always has
//   ZONE_MOVABLE, even when it is empty); CONFIG_NUMA, CONFIG_NUMA_BALANCING, CONFIG_CMA,
//   CONFIG_ZSWAP, CONFIG_ZSMALLOC, CONFIG_KSM, CONFIG_MEMORY_BALLOON, CONFIG_HIGHMEM,
//   CONFIG_ZONE_DMA, CONFIG_ZONE_DEVICE, CONFIG_SHADOW_CALL_STACK, CONFIG_DEBUG_TLBFLUSH off;
//   no HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD (riscv 6.1 has no PUD-sized THP), not x86.
// So there are no numa_*, nr_zspages, cma_*, zswp*, ksm, balloon, thp_split_pud or
// direct_map_* lines. The enum order is Linux's print order; format() depends on it.
//
// Units: each item holds what Linux itself keeps in the counter, and format() converts the few
// that Linux converts when printing, so the memory manager counts exactly what Linux counts:
//   - pgpgin / pgpgout count 512-byte sectors (Linux adds bio sectors); printed halved (kB).
//   - nr_anon_transparent_hugepages, nr_shmem_hugepages, nr_shmem_pmdmapped,
//     nr_file_hugepages, nr_file_pmdmapped count base pages; printed in PMD-sized units
//     (divided by HPAGE_PMD_NR = 512 with 4 KiB pages), as vmstat_item_print_in_thp() does.
//   - nr_kernel_stack counts kB (NR_KERNEL_STACK_KB); the other nr_* gauges count pages.
//   - nr_dirty_threshold / nr_dirty_background_threshold are pages, set by the writeback code.
// After the last item Linux prints the deprecated line "nr_unstable 0"; format() does too.
//
// Invariant: no counter goes below zero (add() verifies it; a negative gauge means the model
// miscounted). Not thread-safe: one machine is single-threaded.
#pragma once

#include <array>
#include <string>

#include "base/Types.h"

namespace kioku {

enum class VmItem : u16 {
    // enum zone_stat_item (summed over zones)
    NrFreePages,
    NrZoneInactiveAnon,
    NrZoneActiveAnon,
    NrZoneInactiveFile,
    NrZoneActiveFile,
    NrZoneUnevictable,
    NrZoneWritePending,
    NrMlock,
    NrBounce,
    NrFreeCma,

    // enum node_stat_item
    NrInactiveAnon,
    NrActiveAnon,
    NrInactiveFile,
    NrActiveFile,
    NrUnevictable,
    NrSlabReclaimable,
    NrSlabUnreclaimable,
    NrIsolatedAnon,
    NrIsolatedFile,
    WorkingsetNodes,
    WorkingsetRefaultAnon,
    WorkingsetRefaultFile,
    WorkingsetActivateAnon,
    WorkingsetActivateFile,
    WorkingsetRestoreAnon,
    WorkingsetRestoreFile,
    WorkingsetNodereclaim,
    NrAnonPages,
    NrMapped,
    NrFilePages,
    NrDirty,
    NrWriteback,
    NrWritebackTemp,
    NrShmem,
    NrShmemHugepages,
    NrShmemPmdmapped,
    NrFileHugepages,
    NrFilePmdmapped,
    NrAnonTransparentHugepages,
    NrVmscanWrite,
    NrVmscanImmediateReclaim,
    NrDirtied,
    NrWritten,
    NrThrottledWritten,
    NrKernelMiscReclaimable,
    NrFollPinAcquired,
    NrFollPinReleased,
    NrKernelStack,
    NrPageTablePages,
    NrSecPageTablePages,
    NrSwapcached,

    // enum writeback_stat_item
    NrDirtyThreshold,
    NrDirtyBackgroundThreshold,

    // enum vm_event_item
    Pgpgin,
    Pgpgout,
    Pswpin,
    Pswpout,
    PgallocDma32,
    PgallocNormal,
    PgallocMovable,
    AllocstallDma32,
    AllocstallNormal,
    AllocstallMovable,
    PgskipDma32,
    PgskipNormal,
    PgskipMovable,
    Pgfree,
    Pgactivate,
    Pgdeactivate,
    Pglazyfree,
    Pgfault,
    Pgmajfault,
    Pglazyfreed,
    Pgrefill,
    Pgreuse,
    PgstealKswapd,
    PgstealDirect,
    PgdemoteKswapd,
    PgdemoteDirect,
    PgscanKswapd,
    PgscanDirect,
    PgscanDirectThrottle,
    PgscanAnon,
    PgscanFile,
    PgstealAnon,
    PgstealFile,
    Pginodesteal,
    SlabsScanned,
    KswapdInodesteal,
    KswapdLowWmarkHitQuickly,
    KswapdHighWmarkHitQuickly,
    Pageoutrun,
    Pgrotated,
    DropPagecache,
    DropSlab,
    OomKill,
    PgmigrateSuccess,
    PgmigrateFail,
    ThpMigrationSuccess,
    ThpMigrationFail,
    ThpMigrationSplit,
    CompactMigrateScanned,
    CompactFreeScanned,
    CompactIsolated,
    CompactStall,
    CompactFail,
    CompactSuccess,
    CompactDaemonWake,
    CompactDaemonMigrateScanned,
    CompactDaemonFreeScanned,
    HtlbBuddyAllocSuccess,
    HtlbBuddyAllocFail,
    UnevictablePgsCulled,
    UnevictablePgsScanned,
    UnevictablePgsRescued,
    UnevictablePgsMlocked,
    UnevictablePgsMunlocked,
    UnevictablePgsCleared,
    UnevictablePgsStranded,
    ThpFaultAlloc,
    ThpFaultFallback,
    ThpFaultFallbackCharge,
    ThpCollapseAlloc,
    ThpCollapseAllocFailed,
    ThpFileAlloc,
    ThpFileFallback,
    ThpFileFallbackCharge,
    ThpFileMapped,
    ThpSplitPage,
    ThpSplitPageFailed,
    ThpDeferredSplitPage,
    ThpSplitPmd,
    ThpScanExceedNonePte,
    ThpScanExceedSwapPte,
    ThpScanExceedSharePte,
    ThpZeroPageAlloc,
    ThpZeroPageAllocFailed,
    ThpSwpout,
    ThpSwpoutFallback,
    SwapRa,
    SwapRaHit,

    Count
};

inline constexpr u16 VM_ITEM_COUNT = static_cast<u16>(VmItem::Count);
// The first event counter: items before it are gauges (they go up and down).
inline constexpr VmItem VM_FIRST_EVENT = VmItem::Pgpgin;
// Linux zone numbers for the per-zone event names (dma32, normal, movable).
inline constexpr u8 VM_ZONE_COUNT = 3;

// The /proc/vmstat name of an item ("nr_free_pages", "pgalloc_dma32", ...).
const char* vm_item_name(VmItem item);

// The per-zone item for zone `zone_index` (0 dma32, 1 normal, 2 movable) of a per-zone family
// given by its dma32 member: zone_item(VmItem::PgallocDma32, 1) is PgallocNormal.
VmItem zone_item(VmItem dma32_member, u8 zone_index);

class VmStat {
  public:
    u64& operator[](VmItem item) { return m_values[index(item)]; }
    u64 operator[](VmItem item) const { return m_values[index(item)]; }

    // Adds a signed delta; the result must stay non-negative.
    void add(VmItem item, i64 delta);
    void inc(VmItem item) { add(item, 1); }

    // The text of /proc/vmstat: "name value\n" per item in Linux order, then "nr_unstable 0\n".
    std::string format() const;

    // The value Linux prints for the item (after the sector and THP-unit conversions above).
    u64 printed_value(VmItem item) const;
    // Calls fn(name, printed value) for each line format() writes, in its order.
    template <typename F>
    void for_each(F fn) const
    {
        for (u16 i = 0; i < VM_ITEM_COUNT; ++i)
            fn(vm_item_name(static_cast<VmItem>(i)), printed_value(static_cast<VmItem>(i)));
        fn("nr_unstable", u64{0});
    }

  private:
    static size_t index(VmItem item);

    std::array<u64, VM_ITEM_COUNT> m_values{};
};

} // namespace kioku
