// SLUB's geometry and slab lists, after Linux 6.1 mm/slub.c (calculate_sizes, calculate_order,
// calc_slab_order, set_min_partial, ___slab_alloc, __slab_free, discard_slab, __kmem_cache_shrink)
// and mm/slab_common.c (calculate_alignment).
#include "mm/slab/SlabCache.h"

#include <algorithm>
#include <bit>

namespace kioku {

namespace {

constexpr u32 WORD = 8;               // sizeof(void *)
constexpr u32 ARCH_SLAB_MINALIGN = 8; // __alignof__(unsigned long long)
constexpr u32 MAX_OBJS_PER_PAGE = 32767;
constexpr u32 MIN_PARTIAL = 5;
constexpr u32 MAX_PARTIAL = 10;

constexpr u32 align_up(u32 value, u32 align)
{
    return (value + align - 1) / align * align;
}

// Linux's get_order: the smallest order whose block holds `bytes`.
Order get_order(u64 bytes)
{
    Order order = 0;
    while ((PAGE_SIZE << order) < bytes)
        ++order;
    return order;
}

u32 order_objects(Order order, u32 size)
{
    return static_cast<u32>((PAGE_SIZE << order) / size);
}

// The smallest order from which `min_objects` fit and at most 1/fract_leftover of the slab is
// wasted; an order above max_order means none qualifies.
Order calc_slab_order(u32 size, u32 min_objects, Order max_order, u32 fract_leftover)
{
    if (order_objects(0, size) > MAX_OBJS_PER_PAGE)
        return get_order(u64{size} * MAX_OBJS_PER_PAGE) - 1;
    Order order = get_order(u64{min_objects} * size);
    for (; order <= max_order; ++order) {
        u64 slab_size = PAGE_SIZE << order;
        if (slab_size % size <= slab_size / fract_leftover)
            break;
    }
    return order;
}

// Linux's fls: the 1-based position of the highest set bit, 0 for 0.
u32 fls(u32 x)
{
    return x == 0 ? 0 : 32 - static_cast<u32>(std::countl_zero(x));
}

bool fail(std::string* why, std::string text)
{
    if (why)
        *why = std::move(text);
    return false;
}

} // namespace

u32 SlabCache::alignment(u32 object_size, u32 align, u32 flags)
{
    // calculate_alignment: a cache-line aligned cache uses the line, halved while two objects
    // still fit in it, so that small objects are not padded to a whole line.
    if (flags & SLAB_HWCACHE_ALIGN) {
        u32 ralign = L1_CACHE_BYTES;
        while (object_size <= ralign / 2)
            ralign /= 2;
        align = std::max(align, ralign);
    }
    align = std::max(align, ARCH_SLAB_MINALIGN);
    return align_up(align, WORD);
}

u32 SlabCache::slot_size(u32 object_size, u32 align, u32 flags, SlabCtor ctor)
{
    u32 size = align_up(object_size, WORD);
    // calculate_sizes: an object that must keep its contents while free (a constructor ran on it,
    // or RCU readers may still look at it) has its free pointer stored after it.
    if ((flags & SLAB_TYPESAFE_BY_RCU) || ctor == SlabCtor::Yes)
        size += WORD;
    return align_up(size, alignment(object_size, align, flags));
}

Order SlabCache::calculate_order(u32 size)
{
    u32 min_objects = 4 * (fls(NR_CPUS) + 1);
    u32 max_objects = order_objects(SLUB_MAX_ORDER, size);
    min_objects = std::min(min_objects, max_objects);
    for (; min_objects > 1; --min_objects) {
        for (u32 fraction = 16; fraction >= 4; fraction /= 2) {
            Order order = calc_slab_order(size, min_objects, SLUB_MAX_ORDER, fraction);
            if (order <= SLUB_MAX_ORDER)
                return order;
        }
    }
    // A single object per slab: within the costly order if possible, else whatever it takes.
    Order order = calc_slab_order(size, 1, SLUB_MAX_ORDER, 1);
    if (order <= SLUB_MAX_ORDER)
        return order;
    order = calc_slab_order(size, 1, MAX_ORDER, 1);
    VERIFY(order < MAX_ORDER && "object too large for any slab");
    return order;
}

u32 SlabCache::calculate_min_partial(u32 size)
{
    return std::clamp<u32>(static_cast<u32>(std::bit_width(size) - 1) / 2, MIN_PARTIAL, MAX_PARTIAL);
}

SlabCache::SlabCache(const SlabCacheSpec& spec, FrameTable& frames, SlabPageSource& source)
    : m_name(spec.name)
    , m_object_size(spec.object_size)
    , m_align(alignment(spec.object_size, spec.align, spec.flags))
    , m_flags(spec.flags)
    , m_size(slot_size(spec.object_size, spec.align, spec.flags, spec.ctor))
    , m_order(calculate_order(m_size))
    , m_objects(order_objects(m_order, m_size))
    , m_min_partial(calculate_min_partial(m_size))
    , m_frames(frames)
    , m_source(source)
{
    VERIFY(spec.object_size > 0 && m_objects > 0);
}

SlabCache::~SlabCache()
{
    // The allocator returns the slabs of a live cache before dropping it (SlabAllocator's
    // destructor detaches caches instead, and then the frames are no longer ours to touch).
    VERIFY((m_detached || m_slabs.empty()) && "a cache dropped while it still owns slabs");
}

void SlabCache::mark_frames(Pfn pfn)
{
    u64 count = pages_per_slab();
    for (u64 i = 0; i < count; ++i) {
        Frame& f = m_frames[pfn + i];
        f.flags = FF_KERNEL | FF_SLAB;
        if (count > 1)
            f.set(i == 0 ? FF_HEAD : FF_TAIL);
        f.set_owner(this);
        f.index = i;
    }
    Frame& head = m_frames[pfn];
    head.refcount = 1;
    head.order = static_cast<u8>(m_order);
}

bool SlabCache::grow(SlabGfp gfp)
{
    // allocate_slab: the new slab's objects are free in address order, object 0 first.
    auto pfn = m_source.allocate_slab_pages(m_order, gfp, reclaimable());
    if (!pfn)
        return false;
    mark_frames(*pfn);
    Slab slab;
    slab.free.resize(m_objects);
    for (u32 i = 0; i < m_objects; ++i)
        slab.free[i] = m_objects - 1 - i;
    m_slabs.emplace(pfn->value(), std::move(slab));
    m_partial.push_front(m_frames, index_of(*pfn));
    return true;
}

std::optional<SlabObject> SlabCache::allocate(SlabGfp gfp)
{
    VERIFY(!m_detached && "allocation from a cache whose allocator is gone");
    // The page source may reclaim, and reclaim may free objects of this very cache, so the slab
    // to use is chosen only once a free object is known to exist.
    if (m_partial.empty() && !grow(gfp) && m_partial.empty()) {
        ++m_failures;
        return std::nullopt;
    }
    Pfn pfn = m_frames.pfn_at(m_partial.front());
    Slab& slab = m_slabs.at(pfn.value());
    VERIFY(!slab.free.empty());
    u32 index = slab.free.back();
    slab.free.pop_back();
    ++slab.inuse;
    ++m_active;
    if (slab.free.empty())
        m_partial.remove(m_frames, index_of(pfn)); // full slabs sit on no list
    return SlabObject{pfn, index};
}

void SlabCache::free(SlabObject object)
{
    auto it = m_slabs.find(object.slab.value());
    VERIFY(it != m_slabs.end() && object.index < m_objects && "freeing an object of another cache");
    Slab& slab = it->second;
    VERIFY(slab.inuse > 0);
    bool was_full = slab.free.empty();
    slab.free.push_back(object.index);
    --slab.inuse;
    --m_active;
    if (m_detached)
        return;
    if (slab.inuse == 0) {
        // __slab_free: an empty slab stays for reuse while the partial list is short.
        if (was_full)
            m_partial.push_back(m_frames, index_of(object.slab));
        if (m_partial.size() >= m_min_partial)
            discard(object.slab);
        return;
    }
    if (was_full)
        m_partial.push_back(m_frames, index_of(object.slab));
}

void SlabCache::discard(Pfn pfn)
{
    m_partial.remove(m_frames, index_of(pfn));
    m_slabs.erase(pfn.value());
    for (u64 i = 0; i < pages_per_slab(); ++i) {
        Frame& f = m_frames[pfn + i];
        f.flags = 0;
        f.clear_owner();
        f.index = 0;
        f.refcount = 0;
    }
    m_source.free_slab_pages(pfn, m_order, reclaimable());
}

u64 SlabCache::shrink()
{
    if (m_detached)
        return 0;
    std::vector<Pfn> empty;
    for (u32 i = m_partial.front(); i != FrameList::NIL; i = m_partial.next(m_frames, i)) {
        Pfn pfn = m_frames.pfn_at(i);
        if (m_slabs.at(pfn.value()).inuse == 0)
            empty.push_back(pfn);
    }
    for (Pfn pfn : empty)
        discard(pfn);
    return empty.size() << m_order;
}

PhysAddr SlabCache::address_of(SlabObject object) const
{
    return PhysAddr(addr_of(object.slab).value() + u64{object.index} * m_size);
}

SlabInfoLine SlabCache::info() const
{
    SlabInfoLine line;
    line.name = m_name;
    line.active_objs = m_active;
    line.num_objs = total_objects();
    line.objsize = m_size;
    line.objperslab = m_objects;
    line.pagesperslab = static_cast<u32>(pages_per_slab());
    line.active_slabs = m_slabs.size();
    line.num_slabs = m_slabs.size();
    return line;
}

bool SlabCache::check(std::string* why) const
{
    if (m_detached)
        return true;
    u64 active = 0, partial = 0;
    for (const auto& [first, slab] : m_slabs) {
        Pfn pfn(first);
        if (slab.inuse + slab.free.size() != m_objects)
            return fail(why, m_name + ": a slab's in-use and free objects do not add up");
        active += slab.inuse;
        const Frame& head = m_frames[pfn];
        bool listed = head.links.linked() || m_partial.front() == index_of(pfn);
        if (listed != !slab.free.empty())
            return fail(why,
                        m_name + ": a slab with free objects is off the partial list, or a full one on it");
        partial += listed;
        for (u64 i = 0; i < pages_per_slab(); ++i) {
            const Frame& f = m_frames[pfn + i];
            if (!f.has(FF_KERNEL) || !f.has(FF_SLAB) || f.slab_cache() != this)
                return fail(why, m_name + ": a slab frame lacks FF_KERNEL|FF_SLAB or names another cache");
        }
    }
    if (active != m_active)
        return fail(why, m_name + ": active objects " + std::to_string(m_active) + " but slabs hold " +
                             std::to_string(active));
    if (partial != m_partial.size())
        return fail(why, m_name + ": partial list length disagrees with the slabs on it");
    return true;
}

} // namespace kioku
