// One slab cache (Linux: struct kmem_cache, as SLUB builds it in Linux 6.1): objects of one size
// carved out of slabs, each slab a block of 2^order frames taken from the buddy allocator.
//
// Geometry, computed as SLUB's kmem_cache_open() does on a machine with one CPU:
//   - size (the slot stride, what /proc/slabinfo prints as <objsize>): the object size rounded to
//     a word, plus a word for the free pointer when the object has a constructor or is
//     SLAB_TYPESAFE_BY_RCU (the free pointer may then not overlay the object), rounded up to the
//     alignment (cache-line alignment for SLAB_HWCACHE_ALIGN, halved while the object fits twice);
//   - order: calculate_order() with slub_min_objects = 4 * (fls(nr_cpus) + 1) = 8, slub_max_order
//     3 and the leftover fractions 1/16, 1/8, 1/4: the smallest order whose slab holds enough
//     objects and wastes little (4 KiB slabs for small objects, 32 KiB for a task_struct);
//   - min_partial: ilog2(size) / 2 clamped to [5, 10].
//
// Lists: a slab with free objects is on the partial list; a full slab is on no list (SLUB keeps
// none without debugging). Allocation takes from the slab at the head of the partial list, or
// makes a new slab and puts it at the head; a full slab that gets an object back goes to the tail.
// When a slab becomes empty it goes back to the buddy allocator unless the partial list holds
// fewer than min_partial slabs (counting it), in which case SLUB keeps it for the next
// allocation; shrink() (kmem_cache_shrink) frees every empty slab. kioku has no per-CPU slabs:
// one hart, and every object goes straight to its slab, so "active" counts exactly the objects
// in use. Within a slab, free objects are handed out last-freed first, as SLUB's freelist does.
//
// Frames of a slab: every frame carries FF_KERNEL | FF_SLAB and `owner` = the cache (Linux:
// page->slab_cache); the first carries FF_HEAD and the order when order > 0, the rest FF_TAIL.
// The partial list threads the first frames' links, like Linux's slab_list.
//
// Invariants (check()): active objects = sum of in-use counts; a slab is on the partial list iff
// it has a free object; slab frames carry the flags above. Owned by the SlabAllocator through a
// shared_ptr that the charges of its objects share (see detach()). Single-threaded.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mm/core/Memcg.h"
#include "mm/phys/Zone.h"
#include "mm/slab/SlabCharge.h"

namespace kioku {

// Cache flags, with Linux's values (include/linux/slab.h).
enum SlabFlag : u32 {
    SLAB_HWCACHE_ALIGN = 0x00002000u,
    SLAB_RECLAIM_ACCOUNT = 0x00020000u, // counted as SReclaimable
    SLAB_PANIC = 0x00040000u,
    SLAB_TYPESAFE_BY_RCU = 0x00080000u,
    SLAB_ACCOUNT = 0x04000000u,
};

enum class SlabCtor : u8 { No, Yes }; // has a constructor (the free pointer moves out of the object)

// What kmem_cache_create() is given.
struct SlabCacheSpec {
    std::string name;
    u32 object_size = 0; // sizeof the object
    u32 align = 0;       // requested alignment; 0 for a word
    u32 flags = 0;       // SlabFlag bits
    SlabCtor ctor = SlabCtor::No;
};

// Where slabs come from and go to: the buddy allocator, through the memory manager (which may
// reclaim for a SlabGfp::Kernel allocation) or directly in small test worlds.
class SlabPageSource {
  public:
    virtual ~SlabPageSource() = default;
    virtual std::optional<Pfn> allocate_slab_pages(Order order, SlabGfp gfp, bool reclaimable) = 0;
    virtual void free_slab_pages(Pfn pfn, Order order, bool reclaimable) = 0;
    // An object of a SLAB_ACCOUNT cache is charged `bytes` to the memory cgroup of whoever
    // allocates it (Linux: memcg_slab_pre_alloc_hook): the handle it keeps, null when no group
    // is charged (the root, or no memory controller), nullopt when the group may not grow and
    // the allocation fails.
    virtual std::optional<std::shared_ptr<ObjCgroup>> charge_object(u64 bytes, bool reclaimable, SlabGfp gfp)
    {
        (void)bytes, (void)reclaimable, (void)gfp;
        return std::shared_ptr<ObjCgroup>();
    }
};

// The numbers of one /proc/slabinfo line (SLUB's struct slabinfo; the tunables are always 0).
struct SlabInfoLine {
    std::string name;
    u64 active_objs = 0;
    u64 num_objs = 0;
    u32 objsize = 0;
    u32 objperslab = 0;
    u32 pagesperslab = 0;
    u64 active_slabs = 0;
    u64 num_slabs = 0;
};

class SlabCache {
  public:
    static constexpr u32 L1_CACHE_BYTES = 64;  // riscv64
    static constexpr Order SLUB_MAX_ORDER = 3; // PAGE_ALLOC_COSTLY_ORDER
    static constexpr u32 NR_CPUS = 1;

    SlabCache(const SlabCacheSpec& spec, FrameTable& frames, SlabPageSource& source);
    ~SlabCache();
    SlabCache(const SlabCache&) = delete;
    SlabCache& operator=(const SlabCache&) = delete;

    const std::string& name() const { return m_name; }
    u32 object_size() const { return m_object_size; }
    u32 size() const { return m_size; }
    u32 align() const { return m_align; }
    Order order() const { return m_order; }
    u32 objects_per_slab() const { return m_objects; }
    u64 pages_per_slab() const { return u64{1} << m_order; }
    u32 min_partial() const { return m_min_partial; }
    bool reclaimable() const { return m_flags & SLAB_RECLAIM_ACCOUNT; }
    bool accounted() const { return m_flags & SLAB_ACCOUNT; }
    // What one object costs its memory cgroup (obj_full_size: the slot and the slab's pointer to
    // the object's obj_cgroup).
    u64 charged_bytes() const { return m_size + sizeof(u64); }
    // Charges an object about to be allocated to the allocating task's group (SlabPageSource).
    std::optional<std::shared_ptr<ObjCgroup>> charge_object(SlabGfp gfp)
    {
        if (m_detached)
            return std::shared_ptr<ObjCgroup>();
        return m_source.charge_object(charged_bytes(), reclaimable(), gfp);
    }

    // kmem_cache_alloc / kmem_cache_free. A new slab may be needed; nullopt when none can be had.
    std::optional<SlabObject> allocate(SlabGfp gfp = SlabGfp::Kernel);
    void free(SlabObject object);
    // kmem_cache_shrink: returns every empty slab to the buddy allocator; returns pages freed.
    u64 shrink();

    PhysAddr address_of(SlabObject object) const;

    u64 active_objects() const { return m_active; }
    u64 total_objects() const { return m_slabs.size() * m_objects; }
    u64 slabs() const { return m_slabs.size(); }
    u64 partial_slabs() const { return m_partial.size(); }
    u64 pages() const { return m_slabs.size() << m_order; }
    u64 allocation_failures() const { return m_failures; }
    SlabInfoLine info() const;

    // The allocator is going away before some charged objects: from now on frees only count down
    // and no frame is touched (the frame table may be gone too).
    void detach() { m_detached = true; }
    bool detached() const { return m_detached; }

    bool check(std::string* why) const;

    // SLUB's sizing rules, exposed for tests.
    static u32 slot_size(u32 object_size, u32 align, u32 flags, SlabCtor ctor);
    static u32 alignment(u32 object_size, u32 align, u32 flags);
    static Order calculate_order(u32 size);
    static u32 calculate_min_partial(u32 size);

  private:
    struct Slab {
        u32 inuse = 0;
        std::vector<u32> free; // free object indices; the back is handed out next
    };

    bool grow(SlabGfp gfp);
    void discard(Pfn pfn);
    void mark_frames(Pfn pfn);
    u32 index_of(Pfn pfn) const { return m_frames.index_of(pfn); }

    std::string m_name;
    u32 m_object_size;
    u32 m_align;
    u32 m_flags;
    u32 m_size;
    Order m_order;
    u32 m_objects;
    u32 m_min_partial;
    FrameTable& m_frames;
    SlabPageSource& m_source;
    std::unordered_map<u64, Slab> m_slabs; // by first pfn
    FrameList m_partial;
    u64 m_active = 0;
    u64 m_failures = 0;
    bool m_detached = false;
};

} // namespace kioku
