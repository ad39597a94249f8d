// The zoned allocator: zones split at 4 GiB, zone preference and fallback, watermarks as Linux
// 6.1 computes them, /proc/buddyinfo and the counters.
#include <gtest/gtest.h>

#include "PhysWorld.h"

namespace kioku {
namespace {

using test::FOUR_GIB;
using test::PhysWorld;
using test::RAM_START;

// 2048 frames below 4 GiB (DMA32) and 6144 above (Normal).
constexpr Pfn STRADDLE_START = FOUR_GIB - 2048;
constexpr u64 STRADDLE_FRAMES = 8192;

std::string buddyinfo_line(const char* zone, std::initializer_list<u64> counts)
{
    std::string line = "Node 0, zone ";
    line += std::string(8 - std::string(zone).size(), ' ') + zone + ' ';
    for (u64 count : counts) {
        std::string n = std::to_string(count);
        line += std::string(6 - n.size(), ' ') + n + ' ';
    }
    return line + '\n';
}

TEST(PhysicalAllocator, ZonesSplitAtFourGiB)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    EXPECT_EQ(w.dma32().name(), "DMA32");
    EXPECT_EQ(w.normal().name(), "Normal");
    EXPECT_EQ(w.dma32().start_pfn(), STRADDLE_START);
    EXPECT_EQ(w.dma32().spanned_pages(), 2048u);
    EXPECT_EQ(w.normal().start_pfn(), FOUR_GIB);
    EXPECT_EQ(w.normal().spanned_pages(), 6144u);
    EXPECT_EQ(&w.allocator.zone_of(FOUR_GIB - 1), &w.dma32());
    EXPECT_EQ(&w.allocator.zone_of(FOUR_GIB), &w.normal());
}

TEST(PhysicalAllocator, MemoryBelowFourGiBLeavesNormalEmpty)
{
    PhysWorld w(RAM_START, 4096);
    EXPECT_EQ(w.allocator.zones().size(), 2u);
    EXPECT_EQ(w.dma32().spanned_pages(), 4096u);
    EXPECT_EQ(w.normal().spanned_pages(), 0u);
    EXPECT_FALSE(w.normal().contains(RAM_START + 4096));
}

TEST(PhysicalAllocator, MemoryAboveFourGiBLeavesDma32Empty)
{
    PhysWorld w(FOUR_GIB + 1024, 1024);
    w.boot();
    EXPECT_EQ(w.dma32().spanned_pages(), 0u);
    EXPECT_EQ(w.normal().managed_pages(), 1024u);
    EXPECT_EQ(w.allocator.buddyinfo(), buddyinfo_line("Normal", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(PhysicalAllocator, BootRangeSpanningBothZonesIsSplit)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.allocator.release_boot_range(FOUR_GIB - 100, 200);
    EXPECT_EQ(w.dma32().managed_pages(), 100u);
    EXPECT_EQ(w.normal().managed_pages(), 100u);
    EXPECT_EQ(w.allocator.free_pages(), 200u);
    EXPECT_EQ(w.allocator.managed_pages(), 200u);
    EXPECT_EQ(w.allocator.pgfree(), 200u); // Linux counts boot releases in pgfree
    EXPECT_TRUE(w.allocator.check(nullptr));
}

TEST(PhysicalAllocator, BuddyinfoHasLinuxLayout)
{
    PhysWorld w(RAM_START, 4096);
    w.boot();
    EXPECT_EQ(w.allocator.buddyinfo(), "Node 0, zone    DMA32      0      0      0      0      0      0"
                                       "      0      0      0      0      4 \n");
    ASSERT_TRUE(w.allocator.allocate(0));
    EXPECT_EQ(w.allocator.buddyinfo(), buddyinfo_line("DMA32", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3}));
}

TEST(PhysicalAllocator, BuddyinfoListsEachPopulatedZone)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    EXPECT_EQ(w.allocator.buddyinfo(), buddyinfo_line("DMA32", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}) +
                                           buddyinfo_line("Normal", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6}));
}

TEST(PhysicalAllocator, NormalZoneIsPreferredOverDma32)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    auto pfn = w.allocator.allocate(0);
    ASSERT_TRUE(pfn);
    EXPECT_GE(*pfn, FOUR_GIB);
    EXPECT_EQ(w.allocator.pgalloc(ZONE_NORMAL), 1u);
    EXPECT_EQ(w.allocator.pgalloc(ZONE_DMA32), 0u);
}

TEST(PhysicalAllocator, WatermarksForA512MiBMachine)
{
    // 512 MiB = 131072 pages, all in DMA32. Linux 6.1:
    //   min_free_kbytes = int_sqrt(524288 kB * 16) = int_sqrt(8388608) = 2896
    //   pages_min = 2896 / 4 = 724; step = max(724 / 4, 131072 * 10 / 10000) = max(181, 131) = 181
    PhysWorld w(RAM_START, 131072);
    w.boot();
    EXPECT_EQ(w.allocator.min_free_kbytes(), 2896u);
    EXPECT_EQ(w.dma32().watermarks().min, 724u);
    EXPECT_EQ(w.dma32().watermarks().low, 905u);
    EXPECT_EQ(w.dma32().watermarks().high, 1086u);
    EXPECT_EQ(w.normal().watermarks().high, 0u);
    EXPECT_EQ(w.allocator.total_watermark(&Watermarks::low), 905u);
}

TEST(PhysicalAllocator, WatermarksAreSharedByManagedPages)
{
    // 8192 pages = 32768 kB: min_free_kbytes = int_sqrt(524288) = 724, pages_min = 181.
    //   DMA32 (2048): min = 181 * 2048 / 8192 = 45, step = max(11, 2) = 11
    //   Normal (6144): min = 181 * 6144 / 8192 = 135, step = max(33, 6) = 33
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    EXPECT_EQ(w.allocator.min_free_kbytes(), 724u);
    EXPECT_EQ(w.dma32().watermarks().min, 45u);
    EXPECT_EQ(w.dma32().watermarks().low, 56u);
    EXPECT_EQ(w.dma32().watermarks().high, 67u);
    EXPECT_EQ(w.normal().watermarks().min, 135u);
    EXPECT_EQ(w.normal().watermarks().low, 168u);
    EXPECT_EQ(w.normal().watermarks().high, 201u);
    EXPECT_EQ(w.allocator.total_watermark(&Watermarks::min), 180u);
    // lowmem_reserve: DMA32 keeps Normal's managed pages / 256 from Normal-class requests.
    EXPECT_EQ(w.dma32().lowmem_reserve(ZONE_NORMAL), 24u);
    EXPECT_EQ(w.dma32().lowmem_reserve(ZONE_DMA32), 0u);
    EXPECT_EQ(w.normal().lowmem_reserve(ZONE_NORMAL), 0u);
}

TEST(PhysicalAllocator, MinFreeKbytesHasAFloorOf128)
{
    // 64 pages = 256 kB: int_sqrt(4096) = 64, raised to 128. pages_min = 32, step = 8.
    PhysWorld w(RAM_START, 64);
    w.boot();
    EXPECT_EQ(w.allocator.min_free_kbytes(), 128u);
    EXPECT_EQ(w.dma32().watermarks().min, 32u);
    EXPECT_EQ(w.dma32().watermarks().low, 40u);
    EXPECT_EQ(w.dma32().watermarks().high, 48u);
}

TEST(PhysicalAllocator, SysctlsRecomputeWatermarks)
{
    PhysWorld w(RAM_START, 131072);
    w.boot();
    w.allocator.set_min_free_kbytes(8192); // pages_min 2048, step max(512, 131)
    EXPECT_EQ(w.dma32().watermarks().min, 2048u);
    EXPECT_EQ(w.dma32().watermarks().low, 2560u);
    EXPECT_EQ(w.dma32().watermarks().high, 3072u);
    w.allocator.set_watermark_scale_factor(1000); // step = 131072 * 1000 / 10000 = 13107
    EXPECT_EQ(w.dma32().watermarks().low, 2048u + 13107u);
    EXPECT_EQ(w.dma32().watermarks().high, 2048u + 2 * 13107u);
    // A user value above the computed one survives a recomputation.
    w.allocator.setup_watermarks();
    EXPECT_EQ(w.allocator.min_free_kbytes(), 8192u);
}

TEST(PhysicalAllocator, NormalAllocationStopsAtMinButAtomicGoesBelow)
{
    // 1024 pages: min_free_kbytes = int_sqrt(65536) = 256, so min = 64 pages.
    PhysWorld w(RAM_START, 1024);
    w.boot();
    ASSERT_EQ(w.dma32().watermarks().min, 64u);
    u64 granted = 0;
    while (w.allocator.allocate(0))
        ++granted;
    EXPECT_EQ(granted, 1024u - 64u);
    EXPECT_EQ(w.allocator.free_pages(), 64u);
    EXPECT_EQ(w.allocator.alloc_failures(), 1u);
    EXPECT_TRUE(w.allocator.allocate(0, AllocFlags::Atomic));
    EXPECT_EQ(w.allocator.free_pages(), 63u);
    EXPECT_EQ(w.allocator.pgalloc(ZONE_DMA32), granted + 1);
}

TEST(PhysicalAllocator, FallsBackToDma32AboveItsMinPlusLowmemReserve)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    while (w.allocator.allocate(0)) {
    }
    // Normal stops at its min (135); DMA32 at min 45 plus the 24 pages reserved from Normal-class
    // requests.
    EXPECT_EQ(w.allocator.pgalloc(ZONE_NORMAL), 6144u - 135u);
    EXPECT_EQ(w.allocator.pgalloc(ZONE_DMA32), 2048u - 69u);
    u64 atomic = 0;
    while (w.allocator.allocate(0, AllocFlags::Atomic))
        ++atomic;
    EXPECT_EQ(atomic, 135u + 69u);
    EXPECT_EQ(w.allocator.free_pages(), 0u);
    EXPECT_EQ(w.allocator.alloc_failures(), 2u);
    EXPECT_TRUE(w.allocator.check(nullptr));
}

TEST(PhysicalAllocator, HighOrderRequestFailsWithoutABlockOfThatOrder)
{
    PhysWorld w(RAM_START, 64);
    w.boot();
    for (u64 i = 0; i < 64; i += 2)
        ASSERT_TRUE(w.dma32().take_specific(RAM_START + i));
    EXPECT_FALSE(w.allocator.allocate(1, AllocFlags::Atomic));
    EXPECT_TRUE(w.allocator.allocate(0, AllocFlags::Atomic));
}

TEST(PhysicalAllocator, FreeCountsPagesAndRestoresBuddyinfo)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    std::string before = w.allocator.buddyinfo();
    u64 pgfree_before = w.allocator.pgfree();
    auto a = w.allocator.allocate(3);
    auto b = w.allocator.allocate(10);
    auto c = w.allocator.allocate(0);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(w.allocator.pgalloc(ZONE_NORMAL), 8u + 1024u + 1u);
    EXPECT_NE(w.allocator.buddyinfo(), before);
    w.allocator.free(*b, 10);
    w.allocator.free(*a, 3);
    w.allocator.free(*c, 0);
    EXPECT_EQ(w.allocator.buddyinfo(), before);
    EXPECT_EQ(w.allocator.pgfree() - pgfree_before, 1033u);
    EXPECT_TRUE(w.allocator.check(nullptr));
}

TEST(PhysicalAllocator, CheckReportsACorruptedZone)
{
    PhysWorld w(STRADDLE_START, STRADDLE_FRAMES);
    w.boot();
    ASSERT_TRUE(w.allocator.check(nullptr));
    w.frames[FOUR_GIB + 3].set(FF_FILE);
    std::string why;
    EXPECT_FALSE(w.allocator.check(&why));
    EXPECT_NE(why.find("Normal"), std::string::npos) << why;
}

TEST(PhysicalAllocatorDeath, ZoneOfAFrameOutsideMemoryIsAnInvariantFailure)
{
    PhysWorld w(RAM_START, 64);
    EXPECT_DEATH(w.allocator.zone_of(RAM_START + 64), "no zone");
}

} // namespace
} // namespace kioku
