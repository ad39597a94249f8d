// The slab allocator of one machine (Linux: the slab_caches list with SLUB behind it): the caches
// of the kernel objects kioku models, the kmalloc-N size classes, /proc/slabinfo, and the page
// counts behind meminfo's Slab, SReclaimable and SUnreclaim and vmstat's nr_slab_* lines.
//
// Caches are created at boot in Linux's boot order (kmem_cache_node and kmem_cache first, the
// kmalloc caches, then radix_tree_node, anon_vma, fork's and proc_caches_init's caches, the VFS
// caches, shmem), and /proc/slabinfo lists them newest first, as Linux walks slab_caches. Each
// cache itself charges one kmem_cache and one kmem_cache_node object, as in Linux. kioku behaves
// as if booted with slab_nomerge: caches of equal geometry are not merged into one line.
//
// Which allocator a charge uses when its owner cannot name one: SlabAllocator::current(). That is
// a thread-local list of the live allocators of this host thread, the newest (or the one last
// made current) first. Kernel objects such as a Vma are created with no argument that could lead
// to their machine, and threading one through every constructor would touch every file that
// makes them; a thread-local is the narrow alternative, and it is sound because a machine is
// single-threaded and lives and dies on one host thread. A program that runs several machines on
// one thread must call make_current() on entering each one. A global would not do: sweeps run
// machines on several threads at once.
//
// Owned by the MemoryManager (last member, so it goes first; charges that outlive it find their
// caches detached and only count down). Single-threaded.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "mm/phys/PhysicalAllocator.h"
#include "mm/slab/SlabCache.h"

namespace kioku {

class MmCore;

// Slab pages straight from a PhysicalAllocator, with no reclaim: small test worlds and callers
// that manage memory pressure themselves.
class BuddySlabPageSource : public SlabPageSource {
  public:
    explicit BuddySlabPageSource(PhysicalAllocator& allocator)
        : m_allocator(allocator)
    {
    }
    std::optional<Pfn> allocate_slab_pages(Order order, SlabGfp gfp, bool reclaimable) override;
    void free_slab_pages(Pfn pfn, Order order, bool reclaimable) override;

  protected:
    PhysicalAllocator& m_allocator;
};

class SlabAllocator {
  public:
    // kmalloc serves up to two pages from caches (KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1).
    static constexpr u64 KMALLOC_MAX_CACHE_SIZE = 2 * PAGE_SIZE;

    SlabAllocator(FrameTable& frames, std::unique_ptr<SlabPageSource> source);
    ~SlabAllocator();
    SlabAllocator(const SlabAllocator&) = delete;
    SlabAllocator& operator=(const SlabAllocator&) = delete;

    // The allocator of a memory manager: slabs come through it, so a GFP_KERNEL slab allocation
    // reclaims and wakes kswapd as a user page allocation does, and the vmstat slab gauges move.
    static std::unique_ptr<SlabAllocator> create_for(MmCore& mm);

    // The allocator of the machine running on this thread (null if none is alive here).
    static SlabAllocator* current();
    void make_current();

    // kmem_cache_create. The cache is listed in /proc/slabinfo from now on.
    std::shared_ptr<SlabCache> create_cache(const SlabCacheSpec& spec);
    const std::shared_ptr<SlabCache>& cache(KmemCache which) const;
    // kmalloc_slab: the kmalloc-N cache serving `size` bytes; null for 0 or above 8 KiB (Linux
    // hands those to the page allocator directly).
    std::shared_ptr<SlabCache> kmalloc_cache(u64 size) const;
    // A cache by its /proc/slabinfo name, or null.
    std::shared_ptr<SlabCache> find(const std::string& name) const;
    const std::vector<std::shared_ptr<SlabCache>>& caches() const { return m_caches; } // boot order

    // Pages in slabs, by SLAB_RECLAIM_ACCOUNT (SReclaimable) or not (SUnreclaim).
    u64 reclaimable_pages() const;
    u64 unreclaimable_pages() const;
    u64 pages() const { return reclaimable_pages() + unreclaimable_pages(); }

    // kmem_cache_shrink on every cache (what writing 1 to /sys/kernel/slab/*/shrink does).
    u64 shrink_all();

    // /proc/slabinfo: "slabinfo - version: 2.1", the "# name ..." header, one line per cache.
    std::string slabinfo() const;
    static std::string format_slabinfo(const std::vector<SlabInfoLine>& lines);

    bool check(std::string* why) const;

  private:
    void create_boot_caches();
    void charge_cache_objects(); // one kmem_cache and one kmem_cache_node object

    FrameTable& m_frames;
    std::unique_ptr<SlabPageSource> m_source;
    std::vector<std::shared_ptr<SlabCache>> m_caches;
    std::array<std::shared_ptr<SlabCache>, static_cast<size_t>(KmemCache::Count)> m_known;
    std::vector<std::shared_ptr<SlabCache>> m_kmalloc; // by kmalloc index (Linux's kmalloc_caches)
    std::shared_ptr<SlabCache> m_kmem_cache;
    std::shared_ptr<SlabCache> m_kmem_cache_node;
    std::vector<SlabCharge> m_cache_objects; // each cache's kmem_cache and kmem_cache_node
};

} // namespace kioku
