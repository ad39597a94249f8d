// The set of caches of a machine over a small buddy allocator: boot caches, kmalloc size
// classes, /proc/slabinfo text, and the SlabCharge objects that kernel objects hold.
#include <gtest/gtest.h>

#include <sstream>

#include "mm/slab/SlabAllocator.h"
#include "unit/mm/phys/PhysWorld.h"

namespace kioku {
namespace {

using test::PhysWorld;
using test::RAM_START;

struct AllocatorWorld {
    AllocatorWorld()
        : phys(RAM_START, 1024)
    {
        phys.boot();
        boot_free = phys.allocator.free_pages();
        slab = std::make_unique<SlabAllocator>(phys.frames,
                                               std::make_unique<BuddySlabPageSource>(phys.allocator));
    }

    u64 free_pages() const { return phys.allocator.free_pages(); }
    const SlabCache& cache(KmemCache which) const { return *slab->cache(which); }

    PhysWorld phys;
    u64 boot_free = 0;
    std::unique_ptr<SlabAllocator> slab;
};

// The line of `name` in a slabinfo text.
std::string line_of(const std::string& text, const std::string& name)
{
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + " ", 0) == 0)
            return line;
    }
    return {};
}

TEST(SlabAllocator, BootCachesChargeTheirOwnKmemCacheObjects)
{
    AllocatorWorld w;
    // Every cache holds one kmem_cache and one kmem_cache_node object.
    u64 caches = w.slab->caches().size();
    EXPECT_EQ(w.slab->find("kmem_cache")->active_objects(), caches);
    EXPECT_EQ(w.slab->find("kmem_cache_node")->active_objects(), caches);
    // Those are the only slabs at boot: kmem_cache (256-byte objects, 16 a page) and
    // kmem_cache_node (64 a page).
    u64 expected = (caches + 15) / 16 + (caches + 63) / 64;
    EXPECT_EQ(w.slab->pages(), expected);
    EXPECT_EQ(w.free_pages(), w.boot_free - expected);
    std::string why;
    EXPECT_TRUE(w.slab->check(&why)) << why;
}

TEST(SlabAllocator, DestroyingTheAllocatorDetachesItsCaches)
{
    AllocatorWorld w;
    SlabCharge survivor(KmemCache::VmAreaStruct, w.slab.get());
    EXPECT_TRUE(survivor.charged());
    w.slab.reset();
    EXPECT_TRUE(survivor.cache()->detached());
    SlabCharge copy(survivor); // a copy of an object of a dead machine charges nothing
    EXPECT_FALSE(copy.charged());
}

TEST(SlabAllocator, KmallocPicksTheSmallestSizeClassThatFits)
{
    AllocatorWorld w;
    EXPECT_EQ(w.slab->kmalloc_cache(1)->name(), "kmalloc-8");
    EXPECT_EQ(w.slab->kmalloc_cache(64)->name(), "kmalloc-64");
    EXPECT_EQ(w.slab->kmalloc_cache(65)->name(), "kmalloc-96");
    EXPECT_EQ(w.slab->kmalloc_cache(129)->name(), "kmalloc-192");
    EXPECT_EQ(w.slab->kmalloc_cache(1000)->name(), "kmalloc-1k");
    EXPECT_EQ(w.slab->kmalloc_cache(8192)->name(), "kmalloc-8k");
    EXPECT_EQ(w.slab->kmalloc_cache(8193), nullptr);
    EXPECT_EQ(w.slab->kmalloc_cache(0), nullptr);
}

TEST(SlabAllocator, KernelObjectCachesUseLinuxSizes)
{
    AllocatorWorld w;
    EXPECT_EQ(w.cache(KmemCache::VmAreaStruct).size(), 152u);
    EXPECT_EQ(w.cache(KmemCache::AnonVma).size(), 96u);
    EXPECT_EQ(w.cache(KmemCache::AnonVmaChain).size(), 64u);
    EXPECT_EQ(w.cache(KmemCache::Filp).size(), 256u);
    EXPECT_EQ(w.cache(KmemCache::InodeCache).size(), 608u);
    EXPECT_EQ(w.cache(KmemCache::RadixTreeNode).size(), 584u);
    EXPECT_EQ(w.cache(KmemCache::MmStruct).size(), 1024u);
    EXPECT_EQ(w.cache(KmemCache::TaskStruct).order(), 3u);
    EXPECT_TRUE(w.cache(KmemCache::RadixTreeNode).reclaimable());
    EXPECT_TRUE(w.cache(KmemCache::InodeCache).reclaimable());
    EXPECT_FALSE(w.cache(KmemCache::ShmemInodeCache).reclaimable());
    EXPECT_FALSE(w.cache(KmemCache::VmAreaStruct).reclaimable());
}

TEST(SlabAllocator, ReclaimableAndUnreclaimablePagesFollowTheCacheFlag)
{
    AllocatorWorld w;
    u64 unreclaimable = w.slab->unreclaimable_pages();
    EXPECT_EQ(w.slab->reclaimable_pages(), 0u);
    {
        SlabCharge node(KmemCache::RadixTreeNode, w.slab.get());
        SlabCharge vma(KmemCache::VmAreaStruct, w.slab.get());
        EXPECT_EQ(w.slab->reclaimable_pages(), 2u); // one order-1 radix_tree_node slab
        EXPECT_EQ(w.slab->unreclaimable_pages(), unreclaimable + 1);
    }
    // The emptied slabs are kept (min_partial) until the caches are shrunk.
    EXPECT_EQ(w.slab->shrink_all(), 3u);
    EXPECT_EQ(w.slab->reclaimable_pages(), 0u);
    EXPECT_EQ(w.slab->unreclaimable_pages(), unreclaimable);
}

TEST(SlabInfo, FormatMatchesLinux)
{
    SlabInfoLine line{"vm_area_struct", 3, 26, 152, 26, 1, 1, 1};
    SlabInfoLine big{"task_struct", 12, 18, 3392, 9, 8, 2, 2};
    EXPECT_EQ(
        SlabAllocator::format_slabinfo({line, big}),
        "slabinfo - version: 2.1\n"
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
        "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
        "vm_area_struct         3     26    152   26    1 : tunables    0    0    0 : slabdata      1      1 "
        "     0\n"
        "task_struct           12     18   3392    9    8 : tunables    0    0    0 : slabdata      2      2 "
        "     0\n");
}

TEST(SlabInfo, ListsCachesNewestFirstWithLiveCounts)
{
    AllocatorWorld w;
    std::vector<SlabCharge> vmas;
    for (int i = 0; i < 30; ++i)
        vmas.emplace_back(KmemCache::VmAreaStruct, w.slab.get());
    std::string text = w.slab->slabinfo();
    EXPECT_EQ(line_of(text, "vm_area_struct"), "vm_area_struct        30     52    152   26    1 : tunables  "
                                               "  0    0    0 : slabdata      2      2      0");
    EXPECT_EQ(line_of(text, "kmalloc-8k"), "kmalloc-8k             0      0   8192    4    8 : tunables    0 "
                                           "   0    0 : slabdata      0      0      0");
    // shmem_inode_cache was made last and kmem_cache_node first.
    auto third_line = text.find('\n', text.find('\n') + 1) + 1;
    EXPECT_EQ(text.compare(third_line, 17, "shmem_inode_cache"), 0);
    auto last_line = text.rfind('\n', text.size() - 2) + 1;
    EXPECT_EQ(text.compare(last_line, 16, "kmem_cache_node "), 0);
}

TEST(SlabCharge, CopyingAnObjectChargesANewSlot)
{
    AllocatorWorld w;
    const SlabCache& vmas = w.cache(KmemCache::VmAreaStruct);
    SlabCharge a(KmemCache::VmAreaStruct, w.slab.get());
    SlabCharge b(a);
    EXPECT_EQ(vmas.active_objects(), 2u);
    EXPECT_NE(a.address()->value(), b.address()->value());
    b = a; // assignment keeps each object's own slot
    EXPECT_EQ(vmas.active_objects(), 2u);
    EXPECT_NE(a.address()->value(), b.address()->value());
    SlabCharge c(std::move(a)); // a move hands the slot over
    EXPECT_EQ(vmas.active_objects(), 2u);
    EXPECT_FALSE(a.charged());
    EXPECT_TRUE(c.charged());
    c.release();
    EXPECT_EQ(vmas.active_objects(), 1u);
}

TEST(SlabCharge, UsesTheCurrentAllocatorOfTheThread)
{
    SlabCharge nothing(KmemCache::Filp);
    EXPECT_FALSE(nothing.charged()) << "no machine on this thread";
    EXPECT_FALSE(nothing.failed());
    AllocatorWorld first;
    AllocatorWorld second;
    EXPECT_EQ(SlabAllocator::current(), second.slab.get());
    {
        SlabCharge file(KmemCache::Filp);
        EXPECT_EQ(second.cache(KmemCache::Filp).active_objects(), 1u);
        first.slab->make_current();
        SlabCharge other(KmemCache::Filp);
        EXPECT_EQ(first.cache(KmemCache::Filp).active_objects(), 1u);
    }
    EXPECT_EQ(first.cache(KmemCache::Filp).active_objects(), 0u);
    EXPECT_EQ(second.cache(KmemCache::Filp).active_objects(), 0u);
}

TEST(SlabCharge, FailsWhenMemoryIsExhausted)
{
    AllocatorWorld w;
    std::vector<Pfn> hog;
    while (auto pfn = w.phys.allocator.allocate(0))
        hog.push_back(*pfn);
    SlabCharge task(KmemCache::TaskStruct, w.slab.get());
    EXPECT_TRUE(task.failed());
    EXPECT_FALSE(task.charged());
    SlabCharge copy(task); // the copy tries again, and fails again
    EXPECT_TRUE(copy.failed());
    for (Pfn pfn : hog)
        w.phys.allocator.free(pfn, 0);
    SlabCharge retry(task);
    EXPECT_TRUE(retry.charged());
}

TEST(SlabChargeList, ChargesOneObjectPerEntry)
{
    AllocatorWorld w;
    SlabChargeList chains(KmemCache::AnonVmaChain);
    chains.push();
    chains.push();
    EXPECT_EQ(w.cache(KmemCache::AnonVmaChain).active_objects(), 2u);
    chains.pop();
    EXPECT_EQ(w.cache(KmemCache::AnonVmaChain).active_objects(), 1u);
}

} // namespace
} // namespace kioku
