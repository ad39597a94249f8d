// The memory calls on hugetlb VMAs, checked against what Linux 6.x does with them: madvise
// (DONTNEED, REMOVE), mremap, munmap, mincore, clear_refs, mlock and VMA merging. None of them may
// reach a 4 KiB page-table walk over a huge leaf, and the pool's counts must add up after each.
#include "HugeWorld.h"

namespace kioku {
namespace {

using namespace abi;

constexpr int PRIVATE_HUGE = MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_;
constexpr int SHARED_HUGE = MAP_SHARED_ | MAP_ANONYMOUS_ | MAP_HUGETLB_;

// A pool of `pool` pages and a mapping of `pages` huge pages, every one written.
struct Mapped {
    Mapped(HugeWorld& w, u64 pool, u64 pages, int flags = PRIVATE_HUGE)
        : space(w.space())
    {
        w.h2m().set_max_huge_pages(pool);
        addr = space->mmap(0, pages * HUGE_2M, RW, flags, nullptr, 0, {}).value();
        for (u64 i = 0; i < pages; ++i)
            EXPECT_EQ(w.touch(*space, addr + i * HUGE_2M, true), FaultOutcome::Minor);
    }
    std::unique_ptr<AddressSpace> space;
    u64 addr = 0;
};

TEST(HugetlbCalls, DontneedWithUnalignedStartIsEinval)
{
    HugeWorld w;
    Mapped m(w, 2, 2);
    auto r = m.space->madvise(m.addr + PAGE_SIZE, HUGE_2M, MADV_DONTNEED_);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_EQ(w.h2m().free(), 0u);
}

TEST(HugetlbCalls, DontneedFreesOnlyWholeHugePagesAndRestoresTheReservation)
{
    HugeWorld w;
    Mapped m(w, 4, 2);
    // The end is rounded down: one huge page and 4 KiB frees one huge page.
    EXPECT_FALSE(m.space->madvise(m.addr, HUGE_2M + PAGE_SIZE, MADV_DONTNEED_).is_error());
    EXPECT_EQ(w.h2m().free(), 3u);
    EXPECT_EQ(w.h2m().resv(), 1u); // the owner's page gave its reservation back
    EXPECT_FALSE(m.space->page_table().huge_leaf(VirtAddr(m.addr)).has_value());
    EXPECT_TRUE(m.space->page_table().huge_leaf(VirtAddr(m.addr + HUGE_2M)).has_value());
    // Less than a huge page frees nothing and succeeds.
    EXPECT_FALSE(m.space->madvise(m.addr + HUGE_2M, PAGE_SIZE, MADV_DONTNEED_).is_error());
    EXPECT_EQ(w.h2m().free(), 3u);
    w.expect_invariants();
    // The refault consumes the restored reservation and reads zeroes.
    EXPECT_EQ(w.touch(*m.space, m.addr, false), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().resv(), 0u);
    EXPECT_EQ(*w.bytes_at(*m.space, m.addr + 99), 0);
    w.expect_invariants();
    m.space.reset();
    EXPECT_EQ(w.h2m().free(), 4u);
    EXPECT_EQ(w.h2m().resv(), 0u);
}

TEST(HugetlbCalls, DontneedOnASharedMappingKeepsThePageInTheFile)
{
    HugeWorld w;
    Mapped m(w, 1, 1, SHARED_HUGE);
    *w.bytes_at(*m.space, m.addr + 10) = 5;
    EXPECT_FALSE(m.space->madvise(m.addr, HUGE_2M, MADV_DONTNEED_).is_error());
    EXPECT_EQ(w.h2m().free(), 0u);
    ASSERT_EQ(w.touch(*m.space, m.addr, false), FaultOutcome::Minor);
    EXPECT_EQ(*w.bytes_at(*m.space, m.addr + 10), 5);
    w.expect_invariants();
}

TEST(HugetlbCalls, MadvRemovePunchesTheHugePagesOutOfTheFile)
{
    HugeWorld w;
    Mapped m(w, 2, 2, SHARED_HUGE);
    *w.bytes_at(*m.space, m.addr + HUGE_2M) = 3;
    // Only whole huge pages of the hole go: the first one stays.
    EXPECT_FALSE(m.space->madvise(m.addr + PAGE_SIZE, 2 * HUGE_2M - PAGE_SIZE, MADV_REMOVE_).is_error());
    EXPECT_EQ(w.h2m().free(), 1u);
    EXPECT_TRUE(m.space->page_table().huge_leaf(VirtAddr(m.addr)).has_value());
    EXPECT_FALSE(m.space->page_table().huge_leaf(VirtAddr(m.addr + HUGE_2M)).has_value());
    w.expect_invariants();
    ASSERT_EQ(w.touch(*m.space, m.addr + HUGE_2M, false), FaultOutcome::Minor);
    EXPECT_EQ(*w.bytes_at(*m.space, m.addr + HUGE_2M), 0);
    w.expect_invariants();
}

TEST(HugetlbCalls, MadvRemoveOnAPrivateMappingIsEacces)
{
    HugeWorld w;
    Mapped m(w, 1, 1);
    EXPECT_EQ(m.space->madvise(m.addr, HUGE_2M, MADV_REMOVE_).error().code, EACCES);
}

TEST(HugetlbCalls, LruAdviceIsEinvalAndWillneedIsANoop)
{
    HugeWorld w;
    Mapped m(w, 1, 1);
    EXPECT_EQ(m.space->madvise(m.addr, HUGE_2M, MADV_FREE_).error().code, EINVAL);
    EXPECT_EQ(m.space->madvise(m.addr, HUGE_2M, MADV_COLD_).error().code, EINVAL);
    EXPECT_EQ(m.space->madvise(m.addr, HUGE_2M, MADV_PAGEOUT_).error().code, EINVAL);
    EXPECT_FALSE(m.space->madvise(m.addr, HUGE_2M, MADV_WILLNEED_).is_error());
    w.expect_invariants();
}

TEST(HugetlbCalls, MremapRulesFollowLinux)
{
    HugeWorld w;
    Mapped m(w, 4, 2);
    AddressSpace& s = *m.space;
    EXPECT_EQ(s.mremap(m.addr, 2 * HUGE_2M, 3 * HUGE_2M, MREMAP_MAYMOVE_, 0).error().code,
              EINVAL); // no growth
    EXPECT_EQ(s.mremap(m.addr + PAGE_SIZE, HUGE_2M, HUGE_2M, MREMAP_MAYMOVE_, 0).error().code, EINVAL);
    EXPECT_EQ(s.mremap(m.addr, HUGE_2M, HUGE_2M, MREMAP_MAYMOVE_ | MREMAP_DONTUNMAP_, 0).error().code,
              EINVAL);
    // The new length is rounded up to the huge page size: this is no change at all.
    EXPECT_EQ(s.mremap(m.addr, 2 * HUGE_2M, HUGE_2M + PAGE_SIZE, 0, 0).value(), m.addr);
    EXPECT_EQ(w.h2m().free(), 2u);
    // A shrink unmaps the tail huge page.
    EXPECT_EQ(s.mremap(m.addr, 2 * HUGE_2M, HUGE_2M, 0, 0).value(), m.addr);
    EXPECT_EQ(w.h2m().free(), 3u);
    w.expect_invariants();
}

TEST(HugetlbCalls, MremapMovesTheHugeLeavesAndTheReservation)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(4);
    auto s = w.space();
    u64 addr = s->mmap(0, 2 * HUGE_2M, RW, PRIVATE_HUGE, nullptr, 0, {}).value();
    ASSERT_EQ(w.touch(*s, addr, true), FaultOutcome::Minor);
    *w.bytes_at(*s, addr + 77) = 11;
    EXPECT_EQ(w.h2m().resv(), 1u);
    u64 target = addr - 8 * HUGE_2M;
    auto moved = s->mremap(addr, 2 * HUGE_2M, 2 * HUGE_2M, MREMAP_MAYMOVE_ | MREMAP_FIXED_, target);
    ASSERT_FALSE(moved.is_error());
    EXPECT_EQ(moved.value(), target);
    EXPECT_EQ(s->vma_containing(VirtAddr(addr)), nullptr);
    EXPECT_EQ(*w.bytes_at(*s, target + 77), 11);
    EXPECT_EQ(w.h2m().resv(), 1u); // the untouched page is still promised to the moved mapping
    w.expect_invariants();
    ASSERT_EQ(w.touch(*s, target + HUGE_2M, true), FaultOutcome::Minor);
    EXPECT_EQ(w.h2m().resv(), 0u);
    EXPECT_FALSE(s->munmap(target, 2 * HUGE_2M).is_error());
    EXPECT_EQ(w.h2m().free(), 4u);
    w.expect_invariants();
}

TEST(HugetlbCalls, MincoreSeesEveryBasePageOfAFaultedHugePage)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(2);
    auto s = w.space();
    u64 addr = s->mmap(0, 2 * HUGE_2M, RW, PRIVATE_HUGE, nullptr, 0, {}).value();
    ASSERT_EQ(w.touch(*s, addr + HUGE_2M, true), FaultOutcome::Minor);
    std::vector<u8> vec;
    ASSERT_FALSE(s->mincore(addr, 2 * HUGE_2M, vec).is_error());
    ASSERT_EQ(vec.size(), 1024u);
    EXPECT_EQ(vec[0], 0);
    EXPECT_EQ(vec[511], 0);
    EXPECT_EQ(vec[512], 1);
    EXPECT_EQ(vec[1023], 1);
}

TEST(HugetlbCalls, ClearRefsLeavesHugetlbLeavesAlone)
{
    HugeWorld w;
    Mapped m(w, 1, 1);
    for (int type = 1; type <= 5; ++type)
        EXPECT_FALSE(m.space->clear_refs(type).is_error());
    auto leaf = m.space->page_table().huge_leaf(VirtAddr(m.addr));
    ASSERT_TRUE(leaf.has_value());
    EXPECT_TRUE(*leaf->entry & isa::PTE_W); // no write protection for soft-dirty tracking
    EXPECT_FALSE(m.space->vma_containing(VirtAddr(m.addr))->flags & VM_SOFTDIRTY);
    w.expect_invariants();
}

TEST(HugetlbCalls, MlockPopulatesButNeverLocksHugetlb)
{
    HugeWorld w;
    w.h2m().set_max_huge_pages(3);
    auto s = w.space();
    u64 addr = s->mmap(0, 2 * HUGE_2M, RW, PRIVATE_HUGE, nullptr, 0, {}).value();
    EXPECT_FALSE(s->mlock(addr + PAGE_SIZE, PAGE_SIZE, 0).is_error());
    EXPECT_EQ(s->map_count(), 1u); // no split: the flags do not change
    EXPECT_FALSE(s->mlock(addr, 2 * HUGE_2M, 0).is_error());
    EXPECT_EQ(s->locked_vm(), 0u); // VmLck 0
    EXPECT_FALSE(s->vma_containing(VirtAddr(addr))->flags & VM_LOCKED);
    EXPECT_EQ(w.h2m().free(), 1u); // but both pages were faulted in
    // mlockall(MCL_FUTURE) does not lock a later hugetlb mapping either.
    EXPECT_FALSE(s->mlockall(MCL_FUTURE_).is_error());
    u64 more = s->mmap(0, HUGE_2M, RW, PRIVATE_HUGE, nullptr, 0, {}).value();
    EXPECT_FALSE(s->vma_containing(VirtAddr(more))->flags & VM_LOCKED);
    EXPECT_EQ(s->locked_vm(), 0u);
    EXPECT_EQ(w.h2m().free(), 0u); // populated as a locked mapping would be
    w.expect_invariants();
}

TEST(HugetlbCalls, HugetlbVmasNeverMergeAgain)
{
    HugeWorld w;
    Mapped m(w, 3, 3);
    AddressSpace& s = *m.space;
    ASSERT_FALSE(s.mprotect(m.addr + HUGE_2M, HUGE_2M, PROT_READ_).is_error());
    EXPECT_EQ(s.map_count(), 3u);
    ASSERT_FALSE(s.mprotect(m.addr + HUGE_2M, HUGE_2M, RW).is_error());
    EXPECT_EQ(s.map_count(), 3u); // VM_SPECIAL: vma_merge refuses it
    w.expect_invariants();
}

TEST(HugetlbCalls, FlagAdviceInsideAHugePageIsEinval)
{
    HugeWorld w;
    Mapped m(w, 2, 2);
    EXPECT_EQ(m.space->madvise(m.addr + PAGE_SIZE, PAGE_SIZE, MADV_DONTFORK_).error().code, EINVAL);
    EXPECT_FALSE(m.space->madvise(m.addr, HUGE_2M, MADV_DONTFORK_).is_error());
    EXPECT_EQ(m.space->map_count(), 2u);
    w.expect_invariants();
}

} // namespace
} // namespace kioku
