#include "mm/core/Memcg.h"

#include <algorithm>

#include "base/Assert.h"
#include "mm/phys/FrameTable.h"

namespace kioku {

namespace {

u64 pages_for(u64 bytes)
{
    return (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

} // namespace

bool MemCgroup::within(const MemCgroup& ancestor) const
{
    for (const MemCgroup* g = this; g; g = g->m_parent)
        if (g == &ancestor)
            return true;
    return false;
}

MemcgSet::MemcgSet(const FrameTable& frames)
    : m_first(frames.first_pfn())
    , m_ids(frames.size(), 0)
{
    m_groups.resize(ROOT_ID + 1);
    m_groups[ROOT_ID] = std::make_unique<MemCgroup>(ROOT_ID, nullptr);
}

MemcgSet::~MemcgSet()
{
    // Slab objects may outlive the machine (SlabCharge.h): their handles then name no group.
    for (const auto& g : m_groups)
        if (g && g->m_objcg)
            g->m_objcg->memcg = nullptr;
    for (const auto& objcg : m_orphan_objcgs)
        objcg->memcg = nullptr;
}

MemCgroup* MemcgSet::create(MemCgroup& parent)
{
    // Ids are reused lowest first, as Linux's idr hands them out; 0 is "none", 1 the root.
    u16 id = ROOT_ID + 1;
    while (id < m_groups.size() && m_groups[id])
        ++id;
    if (id == 0xffff)
        return nullptr;
    if (id == m_groups.size())
        m_groups.emplace_back();
    m_groups[id] = std::make_unique<MemCgroup>(id, &parent);
    return m_groups[id].get();
}

void MemcgSet::remove(MemCgroup& group)
{
    VERIFY(!group.is_root() && "the root memory cgroup is never removed");
    if (m_stock_id == group.id()) // mem_cgroup_css_offline: drain_all_stock
        drain_stock();
    MemCgroup& parent = *group.parent();
    for (const auto& other : m_groups)
        VERIFY((!other || other->parent() != &group) && "a memory cgroup removed before its children");
    // The parent's usage already counts these pages: only the record and the local count move.
    if (group.m_local) {
        for (u16& id : m_ids)
            if (id == group.id())
                id = parent.id();
        parent.m_local += group.m_local;
    }
    if (group.m_swap_local) {
        for (auto& [slot, id] : m_swap_ids)
            if (id == group.id())
                id = parent.id();
        parent.m_swap_local += group.m_swap_local;
    }
    if (group.m_kmem_bytes || group.m_kmem_pages) {
        // memcg_reparent_objcgs: the objects' bytes are the parent's now, held in whole pages
        // of the two together (the parent's usage counted the group's pages already).
        u64 held = parent.m_kmem_pages + group.m_kmem_pages;
        parent.m_kmem_bytes += group.m_kmem_bytes;
        for (int r = 0; r < 2; ++r)
            parent.m_slab_bytes[r] += group.m_slab_bytes[r];
        parent.m_kmem_pages = pages_for(parent.m_kmem_bytes);
        add(parent, static_cast<i64>(parent.m_kmem_pages) - static_cast<i64>(held));
    }
    // Every handle naming the group (its own, and those its removed children left it) now names
    // the parent.
    for (const auto& objcg : m_orphan_objcgs)
        if (objcg->memcg == &group)
            objcg->memcg = &parent;
    if (group.m_objcg) {
        group.m_objcg->memcg = &parent;
        m_orphan_objcgs.push_back(std::move(group.m_objcg));
    }
    std::erase_if(m_orphan_objcgs, [](const auto& objcg) { return objcg.use_count() == 1; });
    if (m_active == &group)
        m_active = &parent;
    m_groups[group.id()].reset();
}

std::vector<MemCgroup*> MemcgSet::all() const
{
    // A parent is made before its children, but ids are reused, so order by depth.
    std::vector<std::pair<int, MemCgroup*>> by_depth;
    for (const auto& g : m_groups) {
        if (!g)
            continue;
        int depth = 0;
        for (const MemCgroup* p = g->parent(); p; p = p->parent())
            ++depth;
        by_depth.emplace_back(depth, g.get());
    }
    std::stable_sort(by_depth.begin(), by_depth.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<MemCgroup*> out;
    for (auto& [depth, g] : by_depth)
        out.push_back(g);
    return out;
}

void MemcgSet::add(MemCgroup& group, i64 pages)
{
    group.m_local = static_cast<u64>(static_cast<i64>(group.m_local) + pages);
    for (MemCgroup* g = &group; g; g = g->m_parent) {
        VERIFY((pages > 0 || g->m_usage >= static_cast<u64>(-pages)) && "memory cgroup usage below zero");
        g->m_usage = static_cast<u64>(static_cast<i64>(g->m_usage) + pages);
        g->m_peak = std::max(g->m_peak, g->m_usage);
    }
}

void MemcgSet::charge(Pfn pfn, u64 nr, MemCgroup& group)
{
    for (u64 i = 0; i < nr; ++i) {
        VERIFY(m_ids[index(pfn + i)] == 0 && "a page charged twice");
        m_ids[index(pfn + i)] = group.id();
    }
}

bool MemcgSet::consume_stock(MemCgroup& group, u64 nr)
{
    if (m_stock_id != group.id() || m_stock_pages < nr)
        return false;
    m_stock_pages -= nr;
    return true;
}

void MemcgSet::refill_stock(MemCgroup& group, u64 nr)
{
    if (m_stock_id != group.id()) {
        drain_stock();
        m_stock_id = group.id();
    }
    m_stock_pages += nr;
    if (m_stock_pages > CHARGE_BATCH)
        drain_stock();
}

void MemcgSet::drain_stock()
{
    if (MemCgroup* owner = by_id(m_stock_id); owner && m_stock_pages)
        add(*owner, -static_cast<i64>(m_stock_pages));
    m_stock_id = 0;
    m_stock_pages = 0;
}

void MemcgSet::uncharge(Pfn pfn, u64 nr)
{
    // The frames of one charge share their group (a THP's 512 do): each run of one group is
    // taken back in one step, and a frame charged to another or to none is handled as such.
    u16 run_id = 0;
    i64 run = 0;
    for (u64 i = 0; i < nr; ++i) {
        u16& id = m_ids[index(pfn + i)];
        if (id != run_id) {
            if (run)
                add(*m_groups[run_id], -run);
            run_id = id;
            run = 0;
        }
        run += id != 0;
        id = 0;
    }
    if (run)
        add(*m_groups[run_id], -run);
}

u64 MemcgSet::kmem_pages_needed(const MemCgroup& group, u64 bytes)
{
    u64 want = pages_for(group.m_kmem_bytes + bytes);
    return want > group.m_kmem_pages ? want - group.m_kmem_pages : 0;
}

std::shared_ptr<ObjCgroup> MemcgSet::charge_kmem(MemCgroup& group, u64 bytes, bool reclaimable)
{
    u64 more = kmem_pages_needed(group, bytes);
    group.m_kmem_bytes += bytes;
    group.m_slab_bytes[reclaimable] += bytes;
    group.m_kmem_pages += more;
    if (!group.m_objcg)
        group.m_objcg = std::make_shared<ObjCgroup>(ObjCgroup{&group});
    return group.m_objcg;
}

void MemcgSet::uncharge_kmem(ObjCgroup& objcg, u64 bytes, bool reclaimable)
{
    MemCgroup* group = objcg.memcg;
    if (!group)
        return;
    VERIFY(group->m_kmem_bytes >= bytes && group->m_slab_bytes[reclaimable] >= bytes &&
           "a slab object uncharged twice");
    group->m_kmem_bytes -= bytes;
    group->m_slab_bytes[reclaimable] -= bytes;
    u64 want = pages_for(group->m_kmem_bytes);
    if (want < group->m_kmem_pages) {
        add(*group, -static_cast<i64>(group->m_kmem_pages - want));
        group->m_kmem_pages = want;
    }
}

bool MemcgSet::may_charge_swap(MemCgroup& group)
{
    if (swap_headroom(group) > 0)
        return true;
    // __mem_cgroup_try_charge_swap: both events, on the page's group.
    ++group.swap_events.max;
    ++group.swap_events.fail;
    return false;
}

u64 MemcgSet::swap_headroom(const MemCgroup& group)
{
    u64 room = MemCgroup::UNLIMITED;
    for (const MemCgroup* g = &group; g; g = g->m_parent)
        room = std::min(room, g->swap_max > g->m_swap_usage ? g->swap_max - g->m_swap_usage : 0);
    return room;
}

void MemcgSet::charge_swap(u64 slot, MemCgroup& group)
{
    VERIFY(m_swap_ids.emplace(slot, group.id()).second && "a swap slot charged twice");
    ++group.m_swap_local;
    for (MemCgroup* g = &group; g; g = g->m_parent) {
        ++g->m_swap_usage;
        g->m_swap_peak = std::max(g->m_swap_peak, g->m_swap_usage);
    }
}

void MemcgSet::uncharge_swap(u64 slot)
{
    auto it = m_swap_ids.find(slot);
    if (it == m_swap_ids.end())
        return;
    MemCgroup& group = *m_groups[it->second];
    m_swap_ids.erase(it);
    --group.m_swap_local;
    for (MemCgroup* g = &group; g; g = g->m_parent)
        --g->m_swap_usage;
}

MemCgroup* MemcgSet::over_max(MemCgroup& group, u64 nr)
{
    for (MemCgroup* g = &group; g; g = g->m_parent)
        if (g->m_usage + nr > g->max)
            return g;
    return nullptr;
}

void MemcgSet::event(MemCgroup& group, u64 MemcgEvents::*which)
{
    ++(group.events_local.*which);
    for (MemCgroup* g = &group; g; g = g->m_parent)
        ++(g->events.*which);
}

void MemcgSet::move(Pfn from, Pfn to)
{
    VERIFY(m_ids[index(to)] == 0 && "migration onto a charged frame");
    m_ids[index(to)] = m_ids[index(from)];
    m_ids[index(from)] = 0;
}

} // namespace kioku
