// The hugetlb pools on a whole memory manager: growing and shrinking nr_hugepages, surplus pages
// under nr_overcommit_hugepages, reservations, and MAP_HUGETLB mappings faulted, copied on fork
// and unmapped, with the invariant checker (hugetlb part included) after each step.
#include "HugeWorld.h"

namespace kioku {
namespace {

TEST(HugetlbPool, GrowingThePoolTakesPagesFromTheBuddyAllocator)
{
    HugeWorld w;
    u64 before = w.mm.allocator().free_pages();
    w.h2m().set_max_huge_pages(4);
    EXPECT_EQ(w.h2m().nr(), 4u);
    EXPECT_EQ(w.h2m().free(), 4u);
    EXPECT_EQ(before - w.mm.allocator().free_pages(), 4 * 512u);
    EXPECT_EQ(w.mm.hugetlb().total_kb(), 4 * 2048u);
    w.expect_invariants();
}

TEST(HugetlbPool, ShrinkingFreesFreePagesAndBackToTheAllocator)
{
    HugeWorld w;
    u64 before = w.mm.allocator().free_pages();
    w.h2m().set_max_huge_pages(3);
    w.h2m().set_max_huge_pages(1);
    EXPECT_EQ(w.h2m().nr(), 1u);
    w.h2m().set_max_huge_pages(0);
    EXPECT_EQ(w.mm.allocator().free_pages(), before);
    w.expect_invariants();
}

TEST(HugetlbPool, GrowingStopsWhenMemoryRunsOut)
{
    HugeWorld w(u64{16} << 20);
    w.h2m().set_max_huge_pages(1000);
    EXPECT_GT(w.h2m().nr(), 0u);
    EXPECT_LT(w.h2m().nr(), 8u); // 16 MiB minus the kernel image and the min watermark
    EXPECT_GT(w.mm.vmstat()[VmItem::HtlbBuddyAllocFail], 0u);
    w.expect_invariants();
}

TEST(HugetlbPool, ReservationBeyondThePoolFailsWithoutOvercommit)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(2);
    EXPECT_FALSE(w.h2m().acct_memory(2).is_error());
    EXPECT_EQ(w.h2m().resv(), 2u);
    auto r = w.h2m().acct_memory(1);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, ENOMEM);
    EXPECT_EQ(w.h2m().resv(), 2u);
    EXPECT_FALSE(w.h2m().acct_memory(-2).is_error());
    EXPECT_EQ(w.h2m().resv(), 0u);
}

TEST(HugetlbPool, OvercommitGathersSurplusPagesAndReturnsThem)
{
    HugeWorld w;
    w.h2m().set_nr_overcommit(2);
    EXPECT_FALSE(w.h2m().acct_memory(2).is_error());
    EXPECT_EQ(w.h2m().nr(), 2u);
    EXPECT_EQ(w.h2m().surplus(), 2u);
    EXPECT_EQ(w.h2m().persistent(), 0u);
    EXPECT_TRUE(w.h2m().acct_memory(1).is_error()); // beyond nr_overcommit_hugepages
    EXPECT_FALSE(w.h2m().acct_memory(-2).is_error());
    EXPECT_EQ(w.h2m().nr(), 0u);
    EXPECT_EQ(w.h2m().surplus(), 0u);
}

TEST(HugetlbPool, ShrinkingBelowPagesInUseMakesThemSurplus)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(2);
    auto page = w.h2m().alloc_page(false);
    ASSERT_TRUE(page.has_value());
    w.h2m().set_max_huge_pages(0);
    EXPECT_EQ(w.h2m().nr(), 1u);
    EXPECT_EQ(w.h2m().surplus(), 1u);
    EXPECT_EQ(w.h2m().persistent(), 0u);
    w.h2m().put_page(*page); // the last user lets go: the surplus page leaves the pool
    EXPECT_EQ(w.h2m().nr(), 0u);
    EXPECT_EQ(w.h2m().surplus(), 0u);
}

TEST(HugetlbPool, Gigantic1GiBPageNeedsAFreeAlignedGigabyte)
{
    HugeWorld small;
    Hstate& g = *small.mm.hugetlb().hstates()[1];
    g.set_max_huge_pages(1);
    EXPECT_EQ(g.nr(), 0u); // 64 MiB holds no 1 GiB range
    HugeWorld big(u64{3} << 30);
    Hstate& gb = *big.mm.hugetlb().hstates()[1];
    u64 before = big.mm.allocator().free_pages();
    gb.set_max_huge_pages(1);
    ASSERT_EQ(gb.nr(), 1u);
    EXPECT_EQ(before - big.mm.allocator().free_pages(), u64{1} << 18);
    EXPECT_EQ(*gb.pages().begin() % (u64{1} << 18), 0u);
    gb.set_nr_overcommit(0);
    gb.set_max_huge_pages(0);
    EXPECT_EQ(big.mm.allocator().free_pages(), before);
    big.expect_invariants();
}

TEST(Hugetlb, MapHugetlbWithAnEmptyPoolFailsWithEnomem)
{
    HugeWorld w;
    auto s = w.space();
    auto r = s->mmap(0, HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {});
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, ENOMEM);
}

TEST(Hugetlb, UnknownHugePageSizeIsEinval)
{
    HugeWorld w;
    auto s = w.space();
    auto r = s->mmap(0, HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_ | (22 << MAP_HUGE_SHIFT_),
                     nullptr, 0, {});
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, EINVAL);
}

TEST(Hugetlb, MappingReservesAndTheFaultConsumesTheReservation)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(2);
    auto s = w.space();
    u64 addr = s->mmap(0, 100, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    EXPECT_EQ(addr % HUGE_2M, 0u);
    Vma* vma = s->vma_containing(VirtAddr(addr));
    ASSERT_NE(vma, nullptr);
    EXPECT_EQ(vma->size(), HUGE_2M); // rounded up to the huge page size
    EXPECT_TRUE(vma->flags & VM_HUGETLB);
    EXPECT_TRUE(vma->flags & VM_DONTEXPAND);
    EXPECT_EQ(w.h2m().resv(), 1u);
    EXPECT_EQ(w.touch(*s, addr + 4096 * 7, true), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().resv(), 0u);
    EXPECT_EQ(w.h2m().free(), 1u);
    auto leaf = s->page_table().huge_leaf(VirtAddr(addr));
    ASSERT_TRUE(leaf.has_value());
    EXPECT_EQ(leaf->level, 1u);
    EXPECT_EQ(*w.bytes_at(*s, addr + 12345), 0); // zeroed on first allocation
    w.expect_invariants();
    EXPECT_FALSE(s->munmap(addr, HUGE_2M).is_error());
    EXPECT_EQ(w.h2m().free(), 2u);
    w.expect_invariants();
}

TEST(Hugetlb, UnusedReservationsGoBackAtMunmap)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(3);
    auto s = w.space();
    u64 addr =
        s->mmap(0, 3 * HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    EXPECT_EQ(w.h2m().resv(), 3u);
    EXPECT_EQ(w.touch(*s, addr, true), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().resv(), 2u);
    EXPECT_FALSE(s->munmap(addr, 3 * HUGE_2M).is_error());
    EXPECT_EQ(w.h2m().resv(), 0u);
    EXPECT_EQ(w.h2m().free(), 3u);
    w.expect_invariants();
}

TEST(Hugetlb, NoreserveMappingGetsSigbusWhenThePoolIsEmpty)
{
    HugeWorld w;
    auto s = w.space();
    u64 addr =
        s->mmap(0, HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_ | MAP_NORESERVE_, nullptr, 0, {})
            .value();
    EXPECT_EQ(w.touch(*s, addr, true), FaultOutcome::Sigbus);
    w.expect_invariants();
}

TEST(Hugetlb, UnalignedMunmapAndMprotectAreEinval)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(2);
    auto s = w.space();
    u64 addr =
        s->mmap(0, 2 * HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    EXPECT_EQ(s->munmap(addr + 4096, 4096).error().code, EINVAL);
    EXPECT_EQ(s->mprotect(addr, 4096, PROT_READ_).error().code, EINVAL);
    EXPECT_FALSE(s->mprotect(addr, HUGE_2M, PROT_READ_).is_error());
    EXPECT_EQ(s->map_count(), 2u);
    // munmap's length is not rounded: an end inside a huge page would split the VMA there.
    EXPECT_EQ(s->munmap(addr + HUGE_2M, 4096).error().code, EINVAL);
    EXPECT_FALSE(s->munmap(addr + HUGE_2M, HUGE_2M).is_error());
    EXPECT_EQ(s->map_count(), 1u);
    w.expect_invariants();
}

TEST(Hugetlb, ForkSharesPrivatePagesCopyOnWriteAtHugeGranularity)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(3);
    auto parent = w.space();
    u64 addr =
        parent->mmap(0, HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    ASSERT_EQ(w.touch(*parent, addr, true), FaultOutcome::Minor);
    *w.bytes_at(*parent, addr + 100) = 7;
    auto child = parent->fork(w.mm.allocate_asid()).release_value();
    w.expect_invariants();
    EXPECT_EQ(*w.bytes_at(*child, addr + 100), 7);
    EXPECT_EQ(w.touch(*child, addr + HUGE_2M - 1, true), FaultOutcome::Minor);
    *w.bytes_at(*child, addr + 100) = 9;
    EXPECT_EQ(*w.bytes_at(*parent, addr + 100), 7);
    EXPECT_EQ(w.h2m().free(), 1u);
    w.expect_invariants();
    // The parent is the only user left: its write reuses the page.
    EXPECT_EQ(w.touch(*parent, addr, true), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().free(), 1u);
    child.reset();
    parent.reset();
    EXPECT_EQ(w.h2m().free(), 3u);
    EXPECT_EQ(w.h2m().resv(), 0u);
    w.expect_invariants();
}

TEST(Hugetlb, SharedMappingIsSharedWithTheChild)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(1);
    auto parent = w.space();
    u64 addr =
        parent->mmap(0, HUGE_2M, RW, MAP_SHARED_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    auto child = parent->fork(w.mm.allocate_asid()).release_value();
    ASSERT_EQ(w.touch(*child, addr, true), FaultOutcome::Minor);
    *w.bytes_at(*child, addr + 5) = 42;
    ASSERT_EQ(w.touch(*parent, addr, false), FaultOutcome::Minor);
    EXPECT_EQ(*w.bytes_at(*parent, addr + 5), 42);
    EXPECT_EQ(w.h2m().free(), 0u);
    w.expect_invariants();
    auto usage = hugetlb_usage(w.mm, *parent, *parent->vma_containing(VirtAddr(addr)));
    EXPECT_EQ(usage.shared, HUGE_2M);
    EXPECT_EQ(usage.private_, 0u);
}

TEST(Hugetlb, SurplusPageIsFreedWhenUnmapped)
{
    HugeWorld w;
    w.h2m().set_nr_overcommit(1);
    auto s = w.space();
    u64 addr = s->mmap(0, HUGE_2M, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, nullptr, 0, {}).value();
    EXPECT_EQ(w.h2m().surplus(), 1u);
    EXPECT_EQ(w.touch(*s, addr, true), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().surplus(), 1u);
    EXPECT_FALSE(s->munmap(addr, HUGE_2M).is_error());
    EXPECT_EQ(w.h2m().nr(), 0u);
    w.expect_invariants();
}

} // namespace
} // namespace kioku
