// Slab caches as part of a whole memory manager: kernel objects (VMAs, address spaces, anon_vmas,
// page-cache nodes) charge real frames, which show in the vmstat slab gauges, return to the buddy
// allocator, and keep "free + anon + file + page tables + kernel = MemTotal" true.
#include <gtest/gtest.h>

#include <vector>

#include "hw/Machine.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/slab/SlabAllocator.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {
namespace {

struct MmWorld {
    explicit MmWorld(u64 mem_bytes = u64{32} << 20)
        : machine(MachineShape{mem_bytes, {}, {}})
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
    {
    }

    std::unique_ptr<AddressSpace> space() { return mm.create_address_space().release_value(); }
    u64 slab_pages() const
    {
        return mm.vmstat()[VmItem::NrSlabReclaimable] + mm.vmstat()[VmItem::NrSlabUnreclaimable];
    }
    const SlabCache& cache(KmemCache which) const { return *mm.slab().cache(which); }
    void expect_invariants()
    {
        EXPECT_EQ(InvariantChecker(mm).report(), "");
        std::string why;
        EXPECT_TRUE(mm.slab().check(&why)) << why;
    }

    Machine machine;
    MemoryManager mm;
};

constexpr u64 BASE = u64{1} << 32;

// Maps `count` one-page read-only regions with a page of gap between them, so none merge.
void map_separate_pages(AddressSpace& space, u64 count)
{
    for (u64 i = 0; i < count; ++i) {
        auto r = space.mmap(BASE + 2 * i * PAGE_SIZE, PAGE_SIZE, PROT_READ_,
                            MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, nullptr, 0, {});
        ASSERT_FALSE(r.is_error());
    }
}

// Takes every free frame, atomic reserve included, so that nothing more can be allocated. The
// frames are marked as kernel memory for the invariant checker, as any allocation would be.
std::vector<Pfn> hog_all_memory(MemoryManager& mm)
{
    std::vector<Pfn> hog;
    while (auto pfn = mm.allocator().allocate(0, AllocFlags::Atomic)) {
        mm.frames()[*pfn].flags = FF_KERNEL;
        hog.push_back(*pfn);
    }
    return hog;
}

void release(MemoryManager& mm, const std::vector<Pfn>& hog)
{
    for (Pfn pfn : hog) {
        mm.frames()[pfn].flags = 0;
        mm.allocator().free(pfn, 0);
    }
}

TEST(SlabMemory, TheGaugesCountEverySlabFrame)
{
    MmWorld w;
    EXPECT_GT(w.slab_pages(), 0u) << "the caches' own kmem_cache objects live in slabs from boot";
    EXPECT_EQ(w.slab_pages(), w.mm.slab().pages());
    EXPECT_EQ(w.mm.vmstat()[VmItem::NrSlabReclaimable], w.mm.slab().reclaimable_pages());
    w.expect_invariants();
}

TEST(SlabMemory, AThousandVmasRaiseSlabByTheirSlabsAndUnmappingGivesThemBack)
{
    MmWorld w;
    auto space = w.space();
    const SlabCache& vmas = w.cache(KmemCache::VmAreaStruct);
    u64 active = vmas.active_objects();
    u64 spare = vmas.total_objects() - active;
    u64 slab_before = w.slab_pages();
    u64 slabs_before = vmas.slabs();
    u64 free_before = w.mm.allocator().free_pages();

    map_separate_pages(*space, 1000);
    EXPECT_EQ(space->map_count(), 1000u);
    EXPECT_EQ(vmas.active_objects(), active + 1000);
    // Free slots are used first; the rest take new 26-object single-page slabs.
    u64 new_slabs = (1000 - std::min<u64>(spare, 1000) + 25) / 26;
    EXPECT_EQ(vmas.slabs(), slabs_before + new_slabs);
    EXPECT_EQ(w.slab_pages(), slab_before + new_slabs);
    EXPECT_EQ(w.mm.allocator().free_pages(), free_before - new_slabs);
    w.expect_invariants();

    ASSERT_FALSE(space->munmap(BASE, 2000 * PAGE_SIZE).is_error());
    EXPECT_EQ(space->map_count(), 0u);
    EXPECT_EQ(vmas.active_objects(), active);
    // SLUB keeps up to min_partial - 1 empty slabs for reuse; shrinking returns them.
    EXPECT_LE(w.slab_pages(), slab_before + vmas.min_partial() - 1);
    w.mm.slab().shrink_all();
    EXPECT_LE(w.slab_pages(), slab_before);
    EXPECT_GE(w.mm.allocator().free_pages(), free_before);
    w.expect_invariants();
}

TEST(SlabMemory, SplittingAndForkingChargeNewVmas)
{
    MmWorld w;
    auto space = w.space();
    const SlabCache& vmas = w.cache(KmemCache::VmAreaStruct);
    const SlabCache& mms = w.cache(KmemCache::MmStruct);
    u64 spaces = mms.active_objects();
    auto addr = space->mmap(0, 8 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_,
                            nullptr, 0, {});
    ASSERT_FALSE(addr.is_error());
    u64 before = vmas.active_objects();
    ASSERT_FALSE(space->mprotect(addr.value() + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ_).is_error());
    EXPECT_EQ(vmas.active_objects(), before + 2) << "one VMA became three";
    auto child = space->fork(w.mm.allocate_asid());
    ASSERT_FALSE(child.is_error());
    EXPECT_EQ(vmas.active_objects(), before + 2 + child.value()->map_count());
    EXPECT_EQ(mms.active_objects(), spaces + 1);
    child.value().reset();
    EXPECT_EQ(mms.active_objects(), spaces);
    EXPECT_EQ(vmas.active_objects(), before + 2);
    w.expect_invariants();
}

TEST(SlabMemory, AnonymousFaultsChargeAnAnonVmaAndItsChains)
{
    MmWorld w;
    auto space = w.space();
    const SlabCache& anon = w.cache(KmemCache::AnonVma);
    const SlabCache& chains = w.cache(KmemCache::AnonVmaChain);
    auto addr = space->mmap(0, 4 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_,
                            nullptr, 0, {});
    ASSERT_FALSE(addr.is_error());
    EXPECT_EQ(anon.active_objects(), 0u);
    auto outcome = w.mm.fault_handler().handle(*space, VirtAddr(addr.value()), isa::AccessType::Write);
    EXPECT_EQ(outcome, FaultOutcome::Minor);
    EXPECT_EQ(anon.active_objects(), 1u);
    EXPECT_EQ(chains.active_objects(), 1u);
    auto child = space->fork(w.mm.allocate_asid());
    ASSERT_FALSE(child.is_error());
    EXPECT_EQ(chains.active_objects(), 2u) << "the child's VMA links into the parent's anon_vma";
    w.expect_invariants();
    child.value().reset();
    space.reset();
    EXPECT_EQ(anon.active_objects(), 0u);
    EXPECT_EQ(chains.active_objects(), 0u);
}

TEST(SlabMemory, SharedAnonymousMemoryChargesAShmemInodeAndIndexNodes)
{
    MmWorld w;
    auto space = w.space();
    const SlabCache& inodes = w.cache(KmemCache::ShmemInodeCache);
    const SlabCache& nodes = w.cache(KmemCache::RadixTreeNode);
    u64 len = 130 * PAGE_SIZE;
    auto addr = space->mmap(0, len, PROT_READ_ | PROT_WRITE_, MAP_SHARED_ | MAP_ANONYMOUS_ | MAP_POPULATE_,
                            nullptr, 0, {});
    ASSERT_FALSE(addr.is_error());
    EXPECT_EQ(inodes.active_objects(), 1u);
    // Pages 0-129 fill three leaves (index runs 0-63, 64-127 and 128-129) under one root node.
    EXPECT_EQ(nodes.active_objects(), 4u);
    EXPECT_EQ(w.mm.vmstat()[VmItem::NrSlabReclaimable], w.mm.slab().reclaimable_pages());
    EXPECT_GT(w.mm.slab().reclaimable_pages(), 0u);
    w.expect_invariants();
    ASSERT_FALSE(space->munmap(addr.value(), len).is_error());
    EXPECT_EQ(inodes.active_objects(), 0u);
    EXPECT_EQ(nodes.active_objects(), 0u);
    w.expect_invariants();
}

TEST(SlabMemory, MmapFailsWithEnomemWhenNoVmaCanBeAllocated)
{
    MmWorld w(u64{8} << 20);
    auto space = w.space();
    std::vector<Pfn> hog = hog_all_memory(w.mm);
    // Fill the free slots of the vm_area_struct slabs; the next mapping needs a new slab, which
    // cannot be had, so mmap fails as vm_area_alloc does, and leaves no commit charge behind.
    const SlabCache& vmas = w.cache(KmemCache::VmAreaStruct);
    u64 room = vmas.total_objects() - vmas.active_objects();
    map_separate_pages(*space, room);
    u64 committed = w.mm.committed_pages();
    auto r = space->mmap(BASE + 2 * room * PAGE_SIZE, PAGE_SIZE, PROT_READ_ | PROT_WRITE_,
                         MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, nullptr, 0, {});
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, ENOMEM);
    EXPECT_EQ(vmas.allocation_failures(), 1u);
    EXPECT_EQ(w.mm.committed_pages(), committed);
    EXPECT_EQ(space->map_count(), room);
    w.expect_invariants();
    release(w.mm, hog);
    EXPECT_FALSE(
        space->mmap(0, PAGE_SIZE, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_, nullptr, 0, {}).is_error());
}

TEST(SlabMemory, ForkFailsWithEnomemAndLeavesTheParentWhole)
{
    MmWorld w;
    auto space = w.space();
    map_separate_pages(*space, 64);
    u64 committed = w.mm.committed_pages();
    u64 parent_vmas = space->map_count();
    std::vector<Pfn> hog = hog_all_memory(w.mm);
    auto child = space->fork(w.mm.allocate_asid());
    ASSERT_TRUE(child.is_error()) << "a child of 64 VMAs needs slab memory that is not there";
    EXPECT_EQ(child.error().code, ENOMEM);
    EXPECT_EQ(w.mm.committed_pages(), committed);
    EXPECT_EQ(space->map_count(), parent_vmas);
    w.expect_invariants();
    release(w.mm, hog);
    EXPECT_FALSE(space->fork(w.mm.allocate_asid()).is_error());
    w.expect_invariants();
}

TEST(SlabMemory, ForkFailsWithEnomemWhenTheChildsPageTablesCannotBeHad)
{
    MmWorld w;
    auto space = w.space();
    u64 len = u64{4} << 20;
    auto addr = space->mmap(0, len, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_POPULATE_,
                            nullptr, 0, {});
    ASSERT_FALSE(addr.is_error());
    // A first fork and its teardown leave free objects in the slabs a child needs.
    EXPECT_FALSE(space->fork(w.mm.allocate_asid()).is_error());
    u64 committed = w.mm.committed_pages();
    std::vector<Pfn> hog = hog_all_memory(w.mm);
    // Two frames: the child's root table and one more; a leaf table needs three levels below it.
    for (int i = 0; i < 2; ++i) {
        w.mm.frames()[hog.back()].flags = 0;
        w.mm.allocator().free(hog.back(), 0);
        hog.pop_back();
    }
    auto child = space->fork(w.mm.allocate_asid());
    ASSERT_TRUE(child.is_error());
    EXPECT_EQ(child.error().code, ENOMEM);
    EXPECT_EQ(w.mm.committed_pages(), committed);
    w.expect_invariants();
    release(w.mm, hog);
    auto again = space->fork(w.mm.allocate_asid());
    ASSERT_FALSE(again.is_error());
    w.expect_invariants();
}

} // namespace
} // namespace kioku
