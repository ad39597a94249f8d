// The machine's slab caches and /proc/slabinfo (Linux 6.1 mm/slab_common.c, mm/slub.c), and the
// SlabCharge family that ties kioku's kernel objects to them.
#include "mm/slab/SlabAllocator.h"

#include <algorithm>
#include <cstdio>

#include "mm/core/MmCore.h"

namespace kioku {

namespace {

// The kernel objects kioku models, with the sizes of their Linux 6.1 structures on riscv64
// (64-bit, 64-byte cache lines, no NUMA, CONFIG_SWAP, CONFIG_USERFAULTFD, CONFIG_ANON_VMA_NAME,
// no lock debugging) and the flags their kmem_cache_create() calls pass. SLUB turns each into
// the <objsize> /proc/slabinfo prints (see SlabCache::slot_size). Where a structure's size
// depends on much configuration the figure is an estimate, noted as such.
struct KnownCache {
    KmemCache id;
    SlabCacheSpec spec;
};

const KnownCache KNOWN_CACHES[] = {
    // radix_tree_init: struct radix_tree_node (xa_node) is 576 bytes with 64 slots; it has a
    // constructor, so SLUB stores the free pointer after it: 584 in slabinfo.
    {KmemCache::RadixTreeNode, {"radix_tree_node", 576, 0, SLAB_PANIC | SLAB_RECLAIM_ACCOUNT, SlabCtor::Yes}},
    // anon_vma_init: struct anon_vma is 88 bytes (TYPESAFE_BY_RCU with a constructor: 96), struct
    // anon_vma_chain 64.
    {KmemCache::AnonVma,
     {"anon_vma", 88, 0, SLAB_TYPESAFE_BY_RCU | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::Yes}},
    {KmemCache::AnonVmaChain, {"anon_vma_chain", 64, 0, SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    // fork_init: task_struct in its own cache, aligned to the cache line; about 3.3 KiB on
    // riscv64 (estimate), which SLUB places nine to an order-3 slab.
    {KmemCache::TaskStruct, {"task_struct", 3392, 64, SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    // proc_caches_init: sighand_struct is 64 k_sigactions of 24 bytes (riscv64 has no
    // sa_restorer) plus a count, a lock and a wait queue: 1568, TYPESAFE_BY_RCU with a
    // constructor; signal_struct about 1040 (estimate); files_struct 704; mm_struct about 1016
    // with its one-CPU cpumask (estimate); vm_area_struct 152.
    {KmemCache::SighandCache,
     {"sighand_cache", 1568, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_ACCOUNT,
      SlabCtor::Yes}},
    {KmemCache::SignalCache,
     {"signal_cache", 1040, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    {KmemCache::FilesCache,
     {"files_cache", 704, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    {KmemCache::MmStruct,
     {"mm_struct", 1016, 64, SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    {KmemCache::VmAreaStruct, {"vm_area_struct", 152, 0, SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    // vfs_caches_init: struct inode is 600 bytes (with init_once as constructor: 608); struct
    // file 232, cache-line aligned to 256.
    {KmemCache::InodeCache,
     {"inode_cache", 600, 0, SLAB_RECLAIM_ACCOUNT | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::Yes}},
    {KmemCache::Filp, {"filp", 232, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::No}},
    // shmem_init: struct shmem_inode_info embeds a struct inode; about 720 bytes (estimate),
    // with a constructor. Not reclaimable: shmem inodes hold data.
    {KmemCache::ShmemInodeCache, {"shmem_inode_cache", 720, 0, SLAB_PANIC | SLAB_ACCOUNT, SlabCtor::Yes}},
};

// kmalloc's size classes in the order create_kmalloc_caches() makes them (96 after 64, 192
// after 128), with KMALLOC_MIN_SIZE 8.
constexpr u32 KMALLOC_SIZES[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};

std::string kmalloc_name(u32 size)
{
    return size >= 1024 ? "kmalloc-" + std::to_string(size / 1024) + "k" : "kmalloc-" + std::to_string(size);
}

// struct kmem_cache (SLUB, one node, with its sysfs kobject) fits in 256 bytes once cache-line
// aligned (estimate); struct kmem_cache_node with SLUB's debug counters is 64.
const SlabCacheSpec KMEM_CACHE_NODE_SPEC{"kmem_cache_node", 64, 0, SLAB_HWCACHE_ALIGN, SlabCtor::No};
const SlabCacheSpec KMEM_CACHE_SPEC{"kmem_cache", 232, 0, SLAB_HWCACHE_ALIGN, SlabCtor::No};

thread_local std::vector<SlabAllocator*> t_live_allocators;

// Slabs for a machine: through the buddy allocator with the memory manager's reclaim behind it.
class MachineSlabPageSource final : public BuddySlabPageSource {
  public:
    explicit MachineSlabPageSource(MmCore& mm)
        : BuddySlabPageSource(mm.allocator())
        , m_mm(mm)
    {
    }

    std::optional<Pfn> allocate_slab_pages(Order order, SlabGfp gfp, bool reclaimable) override
    {
        for (unsigned stalls = 0;; ++stalls) {
            if (auto pfn = BuddySlabPageSource::allocate_slab_pages(order, gfp, reclaimable)) {
                account(order, reclaimable, +1);
                wake_kswapd_if_low(gfp);
                return pfn;
            }
            // __alloc_pages_slowpath for GFP_KERNEL: reclaim directly and retry while it helps,
            // then, as slabs are never of a costly order, ask the OOM killer.
            if (gfp == SlabGfp::Atomic || m_reclaiming || stalls >= MAX_STALLS)
                return std::nullopt;
            m_reclaiming = true;
            m_mm.vmstat().add(VmItem::AllocstallNormal, 1);
            bool progress = false;
            {
                MmCore::Memstall stall(m_mm);
                progress = m_mm.reclaim_direct(std::max<u64>(SWAP_CLUSTER_MAX, u64{1} << order)) > 0;
            }
            if (!progress && m_mm.oom_handler())
                progress = m_mm.oom_handler()->out_of_memory();
            m_reclaiming = false;
            if (!progress)
                return std::nullopt;
        }
    }

    void free_slab_pages(Pfn pfn, Order order, bool reclaimable) override
    {
        BuddySlabPageSource::free_slab_pages(pfn, order, reclaimable);
        account(order, reclaimable, -1);
    }

    std::optional<std::shared_ptr<ObjCgroup>> charge_object(u64 bytes, bool reclaimable, SlabGfp gfp) override
    {
        // get_obj_cgroup_from_current: the root has no obj_cgroup, nothing is charged there.
        MemCgroup& group = m_mm.memcg().target();
        if (group.is_root())
            return std::shared_ptr<ObjCgroup>();
        // obj_cgroup_charge: whole pages, when the bytes no longer fit in those held. An atomic
        // allocation is charged past memory.max (__GFP_HIGH), a GFP_KERNEL one reclaims and
        // may OOM-kill inside the group, and fails when the group cannot grow.
        if (u64 pages = MemcgSet::kmem_pages_needed(group, bytes); pages) {
            if (gfp == SlabGfp::Atomic)
                m_mm.memcg().force(group, pages);
            else if (!m_mm.try_charge(group, pages))
                return std::nullopt;
        }
        return m_mm.memcg().charge_kmem(group, bytes, reclaimable);
    }

  private:
    static constexpr unsigned MAX_STALLS = 16;
    static constexpr u64 SWAP_CLUSTER_MAX = 32;

    void account(Order order, bool reclaimable, i64 sign)
    {
        VmItem item = reclaimable ? VmItem::NrSlabReclaimable : VmItem::NrSlabUnreclaimable;
        m_mm.vmstat().add(item, sign * static_cast<i64>(u64{1} << order));
    }

    void wake_kswapd_if_low(SlabGfp gfp)
    {
        // An atomic caller is in the middle of an update that reclaim could walk into.
        if (gfp == SlabGfp::Atomic || m_reclaiming)
            return;
        PhysicalAllocator& allocator = m_mm.allocator();
        if (allocator.free_pages() < allocator.total_watermark(&Watermarks::low)) {
            m_reclaiming = true;
            m_mm.wake_kswapd();
            m_reclaiming = false;
        }
    }

    MmCore& m_mm;
    bool m_reclaiming = false;
};

} // namespace

// ---- BuddySlabPageSource ------------------------------------------------------------------

std::optional<Pfn> BuddySlabPageSource::allocate_slab_pages(Order order, SlabGfp gfp, bool reclaimable)
{
    // Slab pages cannot move; reclaimable caches are grouped apart (__GFP_RECLAIMABLE) so that
    // shrinking them can free whole pageblocks.
    return m_allocator.allocate(order, gfp == SlabGfp::Atomic ? AllocFlags::Atomic : AllocFlags::Normal,
                                reclaimable ? MigrateType::Reclaimable : MigrateType::Unmovable);
}

void BuddySlabPageSource::free_slab_pages(Pfn pfn, Order order, bool)
{
    m_allocator.free(pfn, order);
}

// ---- SlabAllocator ------------------------------------------------------------------------

SlabAllocator::SlabAllocator(FrameTable& frames, std::unique_ptr<SlabPageSource> source)
    : m_frames(frames)
    , m_source(std::move(source))
{
    t_live_allocators.push_back(this);
    create_boot_caches();
}

SlabAllocator::~SlabAllocator()
{
    // Objects that outlive the allocator must not reach frames or a page source that are gone.
    for (auto& cache : m_caches)
        cache->detach();
    m_cache_objects.clear();
    std::erase(t_live_allocators, this);
}

std::unique_ptr<SlabAllocator> SlabAllocator::create_for(MmCore& mm)
{
    return std::make_unique<SlabAllocator>(mm.frames(), std::make_unique<MachineSlabPageSource>(mm));
}

SlabAllocator* SlabAllocator::current()
{
    return t_live_allocators.empty() ? nullptr : t_live_allocators.back();
}

void SlabAllocator::make_current()
{
    std::erase(t_live_allocators, this);
    t_live_allocators.push_back(this);
}

void SlabAllocator::create_boot_caches()
{
    // kmem_cache_init: the two caches that hold caches come first, then bootstrap() gives each
    // of them its own kmem_cache object.
    m_kmem_cache_node = create_cache(KMEM_CACHE_NODE_SPEC);
    m_kmem_cache = create_cache(KMEM_CACHE_SPEC);
    charge_cache_objects();
    charge_cache_objects();
    for (u32 size : KMALLOC_SIZES)
        m_kmalloc.push_back(create_cache({kmalloc_name(size), size, 0, 0, SlabCtor::No}));
    for (const KnownCache& known : KNOWN_CACHES)
        m_known[static_cast<size_t>(known.id)] = create_cache(known.spec);
}

void SlabAllocator::charge_cache_objects()
{
    m_cache_objects.emplace_back(m_kmem_cache, SlabGfp::Kernel);
    m_cache_objects.emplace_back(m_kmem_cache_node, SlabGfp::Kernel);
}

std::shared_ptr<SlabCache> SlabAllocator::create_cache(const SlabCacheSpec& spec)
{
    auto cache = std::make_shared<SlabCache>(spec, m_frames, *m_source);
    m_caches.push_back(cache);
    if (m_kmem_cache)
        charge_cache_objects();
    return cache;
}

const std::shared_ptr<SlabCache>& SlabAllocator::cache(KmemCache which) const
{
    VERIFY(which < KmemCache::Count);
    return m_known[static_cast<size_t>(which)];
}

std::shared_ptr<SlabCache> SlabAllocator::kmalloc_cache(u64 size) const
{
    if (size == 0 || size > KMALLOC_MAX_CACHE_SIZE)
        return nullptr;
    for (size_t i = 0; i < std::size(KMALLOC_SIZES); ++i) {
        if (size <= KMALLOC_SIZES[i])
            return m_kmalloc[i];
    }
    VERIFY_NOT_REACHED();
}

std::shared_ptr<SlabCache> SlabAllocator::find(const std::string& name) const
{
    for (const auto& cache : m_caches) {
        if (cache->name() == name)
            return cache;
    }
    return nullptr;
}

u64 SlabAllocator::reclaimable_pages() const
{
    u64 pages = 0;
    for (const auto& cache : m_caches)
        pages += cache->reclaimable() ? cache->pages() : 0;
    return pages;
}

u64 SlabAllocator::unreclaimable_pages() const
{
    u64 pages = 0;
    for (const auto& cache : m_caches)
        pages += cache->reclaimable() ? 0 : cache->pages();
    return pages;
}

u64 SlabAllocator::shrink_all()
{
    u64 freed = 0;
    for (const auto& cache : m_caches)
        freed += cache->shrink();
    return freed;
}

std::string SlabAllocator::slabinfo() const
{
    std::vector<SlabInfoLine> lines;
    // slab_start walks slab_caches, to which kmem_cache_create adds at the head: newest first.
    for (auto it = m_caches.rbegin(); it != m_caches.rend(); ++it)
        lines.push_back((*it)->info());
    return format_slabinfo(lines);
}

// print_slabinfo_header and cache_show: "%-17s %6lu %6lu %6u %4u %4d", then the tunables as
// " : tunables %4u %4u %4u" and the slab data as " : slabdata %6lu %6lu %6lu".
std::string SlabAllocator::format_slabinfo(const std::vector<SlabInfoLine>& lines)
{
    std::string out = "slabinfo - version: 2.1\n"
                      "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
                      " : tunables <limit> <batchcount> <sharedfactor>"
                      " : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
    char buf[192];
    for (const SlabInfoLine& l : lines) {
        std::snprintf(buf, sizeof buf,
                      "%-17s %6llu %6llu %6u %4u %4u : tunables %4u %4u %4u : slabdata %6llu %6llu %6llu\n",
                      l.name.c_str(), static_cast<unsigned long long>(l.active_objs),
                      static_cast<unsigned long long>(l.num_objs), l.objsize, l.objperslab, l.pagesperslab,
                      0u, 0u, 0u, static_cast<unsigned long long>(l.active_slabs),
                      static_cast<unsigned long long>(l.num_slabs), 0ull);
        out += buf;
    }
    return out;
}

bool SlabAllocator::check(std::string* why) const
{
    for (const auto& cache : m_caches) {
        if (!cache->check(why))
            return false;
    }
    return true;
}

// ---- SlabCharge and friends ---------------------------------------------------------------

SlabAllocator* slab_allocator_of(MmCore* mm)
{
    return mm ? &mm->slab() : SlabAllocator::current();
}

SlabCharge::SlabCharge(KmemCache which, SlabAllocator* allocator, SlabGfp gfp)
{
    if (!allocator)
        allocator = SlabAllocator::current();
    if (allocator)
        charge(allocator->cache(which), gfp);
}

SlabCharge::SlabCharge(std::shared_ptr<SlabCache> cache, SlabGfp gfp)
{
    if (cache)
        charge(std::move(cache), gfp);
}

SlabCharge::SlabCharge(const SlabCharge& other)
{
    // A copy is a new kernel object: a new slot of the same cache.
    if (other.m_cache && !other.m_cache->detached())
        charge(other.m_cache, SlabGfp::Kernel);
}

SlabCharge::SlabCharge(SlabCharge&& other) noexcept
    : m_cache(std::move(other.m_cache))
    , m_objcg(std::move(other.m_objcg))
    , m_object(other.m_object)
    , m_failed(other.m_failed)
{
    other.m_failed = false;
}

SlabCharge& SlabCharge::operator=(const SlabCharge&)
{
    // Assignment copies an object's contents, not its identity: each keeps its own slot.
    return *this;
}

SlabCharge& SlabCharge::operator=(SlabCharge&& other) noexcept
{
    std::swap(m_cache, other.m_cache);
    std::swap(m_objcg, other.m_objcg);
    std::swap(m_object, other.m_object);
    std::swap(m_failed, other.m_failed);
    return *this;
}

SlabCharge::~SlabCharge()
{
    release();
}

void SlabCharge::charge(std::shared_ptr<SlabCache> cache, SlabGfp gfp)
{
    // The memory cgroup first, then the slot (slab_pre_alloc_hook, then the allocation).
    std::shared_ptr<ObjCgroup> objcg;
    if (cache->accounted()) {
        auto charged = cache->charge_object(gfp);
        if (!charged) {
            m_cache = std::move(cache);
            m_failed = true;
            return;
        }
        objcg = std::move(*charged);
    }
    auto object = cache->allocate(gfp);
    if (!object && objcg)
        MemcgSet::uncharge_kmem(*objcg, cache->charged_bytes(), cache->reclaimable());
    m_cache = std::move(cache);
    m_failed = !object;
    if (object) {
        m_object = *object;
        m_objcg = std::move(objcg);
    }
}

void SlabCharge::release()
{
    if (charged()) {
        m_cache->free(m_object);
        if (m_objcg)
            MemcgSet::uncharge_kmem(*m_objcg, m_cache->charged_bytes(), m_cache->reclaimable());
    }
    m_cache.reset();
    m_objcg.reset();
    m_failed = false;
}

std::optional<PhysAddr> SlabCharge::address() const
{
    if (!charged())
        return std::nullopt;
    return m_cache->address_of(m_object);
}

TaskCharges::TaskCharges(MmCore* mm)
    : task(KmemCache::TaskStruct, slab_allocator_of(mm))
    , signal(KmemCache::SignalCache, slab_allocator_of(mm))
    , sighand(KmemCache::SighandCache, slab_allocator_of(mm))
    , files(KmemCache::FilesCache, slab_allocator_of(mm))
{
}

} // namespace kioku
