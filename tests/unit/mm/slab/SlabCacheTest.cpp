// One slab cache over a small buddy allocator: SLUB's geometry, slabs taken from and returned to
// the buddy allocator, min_partial, frame flags, and failure when memory runs out.
#include <gtest/gtest.h>

#include <vector>

#include "mm/slab/SlabAllocator.h"
#include "unit/mm/phys/PhysWorld.h"

namespace kioku {
namespace {

using test::PhysWorld;
using test::RAM_START;

struct SlabWorld {
    explicit SlabWorld(u64 frames = 256)
        : phys(RAM_START, frames)
        , source(phys.allocator)
    {
        phys.boot();
    }

    SlabCache make(const SlabCacheSpec& spec) { return SlabCache(spec, phys.frames, source); }
    u64 free_pages() const { return phys.allocator.free_pages(); }

    PhysWorld phys;
    BuddySlabPageSource source;
};

const SlabCacheSpec VMA_SPEC{"vm_area_struct", 152, 0, SLAB_ACCOUNT, SlabCtor::No};
const SlabCacheSpec TASK_SPEC{"task_struct", 3392, 64, SLAB_ACCOUNT, SlabCtor::No};

void expect_ok(const SlabCache& cache)
{
    std::string why;
    EXPECT_TRUE(cache.check(&why)) << why;
}

TEST(SlabGeometry, SmallObjectsGetSinglePageSlabs)
{
    EXPECT_EQ(SlabCache::slot_size(152, 0, SLAB_ACCOUNT, SlabCtor::No), 152u);
    EXPECT_EQ(SlabCache::calculate_order(152), 0u);
    EXPECT_EQ(SlabCache::slot_size(64, 0, 0, SlabCtor::No), 64u);
    EXPECT_EQ(SlabCache::calculate_order(96), 0u);
}

TEST(SlabGeometry, ConstructorOrRcuMovesTheFreePointerOutOfTheObject)
{
    EXPECT_EQ(SlabCache::slot_size(88, 0, SLAB_TYPESAFE_BY_RCU, SlabCtor::Yes), 96u);   // anon_vma
    EXPECT_EQ(SlabCache::slot_size(576, 0, SLAB_RECLAIM_ACCOUNT, SlabCtor::Yes), 584u); // radix_tree_node
    EXPECT_EQ(SlabCache::slot_size(600, 0, 0, SlabCtor::Yes), 608u);                    // inode_cache
}

TEST(SlabGeometry, HwcacheAlignRoundsToTheCacheLineButHalvesForSmallObjects)
{
    EXPECT_EQ(SlabCache::slot_size(232, 0, SLAB_HWCACHE_ALIGN, SlabCtor::No), 256u); // filp
    EXPECT_EQ(SlabCache::slot_size(1568, 0, SLAB_HWCACHE_ALIGN | SLAB_TYPESAFE_BY_RCU, SlabCtor::Yes), 1600u);
    // A 20-byte object needs only a 32-byte line share.
    EXPECT_EQ(SlabCache::alignment(20, 0, SLAB_HWCACHE_ALIGN), 32u);
    EXPECT_EQ(SlabCache::slot_size(20, 0, SLAB_HWCACHE_ALIGN, SlabCtor::No), 32u);
}

TEST(SlabGeometry, OrderKeepsWasteSmallAsSlubDoes)
{
    EXPECT_EQ(SlabCache::calculate_order(584), 1u);  // 14 radix nodes in 8 KiB, 16 bytes left
    EXPECT_EQ(SlabCache::calculate_order(1600), 2u); // 10 sighand_structs in 16 KiB
    // task_struct: order 3 wastes 2240 bytes, more than 1/16 but within 1/8 of the slab.
    EXPECT_EQ(SlabCache::calculate_order(3392), 3u);
    EXPECT_EQ(SlabCache::calculate_order(4096), 3u); // kmalloc-4k: 8 per 32 KiB
    EXPECT_EQ(SlabCache::calculate_order(8192), 3u); // kmalloc-8k: 4 per 32 KiB
}

TEST(SlabGeometry, MinPartialIsHalfTheLogOfTheSizeClamped)
{
    EXPECT_EQ(SlabCache::calculate_min_partial(152), 5u);
    EXPECT_EQ(SlabCache::calculate_min_partial(8192), 6u);
    EXPECT_EQ(SlabCache::calculate_min_partial(u32{1} << 30), 10u);
}

TEST(SlabCache, FirstObjectTakesOneSlabFromTheBuddyAllocator)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    u64 before = w.free_pages();
    auto object = cache.allocate();
    ASSERT_TRUE(object);
    EXPECT_EQ(w.free_pages(), before - 1);
    EXPECT_EQ(cache.objects_per_slab(), 26u);
    EXPECT_EQ(cache.slabs(), 1u);
    EXPECT_EQ(cache.active_objects(), 1u);
    EXPECT_EQ(cache.total_objects(), 26u);
    const Frame& f = w.phys.frames[object->slab];
    EXPECT_TRUE(f.has(FF_KERNEL) && f.has(FF_SLAB));
    EXPECT_EQ(f.slab_cache(), &cache);
    cache.free(*object);
    expect_ok(cache);
    cache.shrink();
}

TEST(SlabCache, SlabsFillBeforeANewOneIsTaken)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    std::vector<SlabObject> objects;
    for (int i = 0; i < 26; ++i)
        objects.push_back(*cache.allocate());
    EXPECT_EQ(cache.slabs(), 1u);
    EXPECT_EQ(cache.partial_slabs(), 0u); // a full slab sits on no list
    objects.push_back(*cache.allocate());
    EXPECT_EQ(cache.slabs(), 2u);
    EXPECT_EQ(cache.partial_slabs(), 1u);
    // Objects are laid out one size apart from the slab's start.
    EXPECT_EQ(cache.address_of(objects[1]).value() - cache.address_of(objects[0]).value(), 152u);
    expect_ok(cache);
    for (auto o : objects)
        cache.free(o);
    cache.shrink();
}

TEST(SlabCache, LastFreedObjectIsHandedOutFirst)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    auto a = *cache.allocate();
    auto b = *cache.allocate();
    cache.free(a);
    auto c = *cache.allocate();
    EXPECT_EQ(c.slab, a.slab);
    EXPECT_EQ(c.index, a.index);
    cache.free(b);
    cache.free(c);
    cache.shrink();
}

TEST(SlabCache, EmptySlabsBeyondMinPartialGoBackToTheBuddyAllocator)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    u64 before = w.free_pages();
    std::vector<SlabObject> objects;
    for (int i = 0; i < 26 * 7; ++i)
        objects.push_back(*cache.allocate());
    EXPECT_EQ(cache.slabs(), 7u);
    EXPECT_EQ(w.free_pages(), before - 7);
    for (auto o : objects)
        cache.free(o);
    // The first four slabs to empty stay on the partial list (fewer than min_partial = 5 there);
    // from the fifth on each empty slab is discarded.
    EXPECT_EQ(cache.active_objects(), 0u);
    EXPECT_EQ(cache.slabs(), cache.min_partial() - 1);
    EXPECT_EQ(w.free_pages(), before - 4);
    expect_ok(cache);
    EXPECT_EQ(cache.shrink(), 4u);
    EXPECT_EQ(cache.slabs(), 0u);
    EXPECT_EQ(w.free_pages(), before);
    std::string why;
    EXPECT_TRUE(w.phys.allocator.check(&why)) << why;
}

TEST(SlabCache, KeptEmptySlabIsReusedBeforeTakingANewOne)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    auto a = *cache.allocate();
    cache.free(a);
    EXPECT_EQ(cache.slabs(), 1u); // kept: the partial list is short
    u64 free_now = w.free_pages();
    auto b = *cache.allocate();
    EXPECT_EQ(w.free_pages(), free_now);
    EXPECT_EQ(b.slab, a.slab);
    cache.free(b);
    cache.shrink();
}

TEST(SlabCache, MultiPageSlabsMarkHeadAndTailFramesAndMergeBackWhenFreed)
{
    SlabWorld w;
    SlabCache cache = w.make(TASK_SPEC);
    EXPECT_EQ(cache.order(), 3u);
    EXPECT_EQ(cache.objects_per_slab(), 9u);
    u64 before = w.free_pages();
    auto task = *cache.allocate();
    EXPECT_EQ(w.free_pages(), before - 8);
    EXPECT_EQ(task.slab.value() % 8, 0u) << "a slab is a naturally aligned buddy block";
    EXPECT_TRUE(w.phys.frames[task.slab].has(FF_HEAD));
    for (u64 i = 1; i < 8; ++i) {
        const Frame& tail = w.phys.frames[task.slab + i];
        EXPECT_TRUE(tail.has(FF_TAIL) && tail.has(FF_SLAB) && tail.has(FF_KERNEL));
    }
    cache.free(task);
    EXPECT_EQ(cache.shrink(), 8u);
    EXPECT_EQ(w.free_pages(), before);
    EXPECT_EQ(w.phys.frames[task.slab + 3].flags, 0u);
    std::string why;
    EXPECT_TRUE(w.phys.allocator.check(&why)) << why;
}

TEST(SlabCache, AllocationFailsWhenTheBuddyAllocatorIsEmpty)
{
    SlabWorld w(64);
    SlabCache cache = w.make(TASK_SPEC);
    std::vector<SlabObject> objects;
    while (auto o = cache.allocate())
        objects.push_back(*o);
    // 64 frames above the min watermark hold a handful of order-3 slabs, each nine tasks.
    EXPECT_GT(objects.size(), 0u);
    EXPECT_EQ(objects.size() % 9, 0u);
    EXPECT_EQ(cache.allocation_failures(), 1u);
    // An atomic allocation may dig into the reserve below min.
    auto reserve = cache.allocate(SlabGfp::Atomic);
    if (reserve)
        objects.push_back(*reserve);
    for (auto o : objects)
        cache.free(o);
    cache.shrink();
    EXPECT_EQ(w.free_pages(), 64u);
    expect_ok(cache);
}

TEST(SlabCache, InfoReportsSlubsNumbers)
{
    SlabWorld w;
    SlabCache cache = w.make(VMA_SPEC);
    auto a = *cache.allocate();
    auto b = *cache.allocate();
    SlabInfoLine line = cache.info();
    EXPECT_EQ(line.name, "vm_area_struct");
    EXPECT_EQ(line.active_objs, 2u);
    EXPECT_EQ(line.num_objs, 26u);
    EXPECT_EQ(line.objsize, 152u);
    EXPECT_EQ(line.objperslab, 26u);
    EXPECT_EQ(line.pagesperslab, 1u);
    EXPECT_EQ(line.active_slabs, 1u);
    EXPECT_EQ(line.num_slabs, 1u);
    cache.free(a);
    cache.free(b);
    cache.shrink();
}

} // namespace
} // namespace kioku
