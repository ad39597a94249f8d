// The memory controller of cgroup v2 (Linux: mm/memcontrol.c, mm/page_counter.c), the part that
// belongs to the memory manager: one MemCgroup per group with memory on, holding its page
// counters, limits and events, and the record of which group each page is charged to.
//
// Charging follows Linux: a page is charged when it is allocated for user memory (anonymous,
// page cache, shmem, swap-in), a page-table page when it is made; the charge is to the active
// group (the task being served, or the faulting address space's owner, set by the kernel) and
// stays with the page until it is freed, wherever its process goes. Counters are hierarchical as
// page_counter's are: a charge counts in the group and every ancestor, so a group's usage is its
// own pages plus its descendants'. The root counts everything and has no limits. Pages the
// memory controller does not see (free, reserved, slab pages as such, hugetlb pool pages, the
// huge zero page) are charged to no group. A swap slot is charged to the group of the page written to it
// (memory.swap.*) until the slot is freed. Slab objects are charged by the byte, as Linux's
// obj_cgroup charges them: a group's usage holds its objects' bytes in whole pages (rounded up),
// and an object keeps a handle on its group (ObjCgroup) that passes to the parent when the group
// goes.
//
// Enforcement (memory.max, memory.high) is the core's (MmCore::try_charge, handle_over_high),
// protection (memory.min, memory.low) the Reclaimer's, the group's OOM the kernel's OomKiller.
//
// The record is a side table of one 16-bit group id per frame (the frame descriptor is full): 0
// for none. A transparent huge page records its group in all 512 frames, so a split needs
// nothing. The groups' tree (names, processes, files) is the kernel's (kernel/Cgroups).
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "base/Types.h"

namespace kioku {

class FrameTable;

// memory.events: how often the group (local) or its subtree (hierarchical) met each boundary.
// memory.swap.events: swap usage over memory.swap.high (not enforced here), and swap-outs refused
// at memory.swap.max (max) or for any reason (fail).
struct MemcgSwapEvents {
    u64 high = 0;
    u64 max = 0;
    u64 fail = 0;
};

struct MemcgEvents {
    u64 low = 0;
    u64 high = 0;
    u64 max = 0;
    u64 oom = 0;
    u64 oom_kill = 0;
    u64 oom_group_kill = 0;
};

class MemCgroup;

// What a charged slab object holds on to (Linux's obj_cgroup): the group it is charged to; after
// that group is removed, the parent that took its charges; null once the machine is gone.
struct ObjCgroup {
    MemCgroup* memcg = nullptr;
};

class MemCgroup {
  public:
    // "max" in the limit files: no limit (PAGE_COUNTER_MAX).
    static constexpr u64 UNLIMITED = ~u64{0} >> PAGE_SHIFT;

    MemCgroup(u16 id, MemCgroup* parent)
        : m_id(id)
        , m_parent(parent)
    {
    }

    u16 id() const { return m_id; }
    MemCgroup* parent() const { return m_parent; }
    bool is_root() const { return m_parent == nullptr; }
    // Whether this group is `ancestor` or lies below it.
    bool within(const MemCgroup& ancestor) const;

    // Pages charged to this group and its descendants (memory.current), the most there ever were
    // (memory.peak), and the pages charged to this group itself.
    u64 usage() const { return m_usage; }
    u64 peak() const { return m_peak; }
    u64 local_pages() const { return m_local; }

    // Limits and protection in pages: memory.max, memory.high, memory.low, memory.min.
    u64 max = UNLIMITED;
    u64 high = UNLIMITED;
    u64 low = 0;
    u64 min = 0;
    // memory.swap.max in swap slots; 0: the group's anonymous memory is never swapped.
    u64 swap_max = UNLIMITED;
    // memory.swap.current and memory.swap.peak: slots charged to this group and its descendants.
    u64 swap_usage() const { return m_swap_usage; }
    u64 swap_peak() const { return m_swap_peak; }
    u64 swap_local() const { return m_swap_local; }
    // Slab objects charged to this group itself: their bytes (object size plus Linux's obj_cgroup
    // pointer), by SLAB_RECLAIM_ACCOUNT or not, and the pages of usage that hold them.
    u64 kmem_bytes() const { return m_kmem_bytes; }
    u64 slab_bytes(bool reclaimable) const { return m_slab_bytes[reclaimable]; }
    u64 kmem_pages() const { return m_kmem_pages; }
    MemcgSwapEvents swap_events;
    // memory.oom.group: the OOM killer takes the whole group at once.
    bool oom_group = false;
    // memory.events (this group and its subtree) and memory.events.local (this group only).
    MemcgEvents events;
    MemcgEvents events_local;

  private:
    friend class MemcgSet;
    u16 m_id;
    MemCgroup* m_parent;
    u64 m_usage = 0;
    u64 m_peak = 0;
    u64 m_local = 0;
    u64 m_swap_usage = 0;
    u64 m_swap_peak = 0;
    u64 m_swap_local = 0;
    u64 m_kmem_bytes = 0;
    u64 m_slab_bytes[2] = {};
    u64 m_kmem_pages = 0;
    std::shared_ptr<ObjCgroup> m_objcg;
};

class MemcgSet {
  public:
    explicit MemcgSet(const FrameTable& frames);
    ~MemcgSet();

    MemCgroup& root() { return *m_groups[ROOT_ID]; }
    // A new group below parent (mkdir with memory on); null when every id is taken.
    MemCgroup* create(MemCgroup& parent);
    // The group goes (rmdir): its remaining charges pass to its parent, as the pages of a dying
    // Linux memcg are finally charged to the parent.
    void remove(MemCgroup& group);
    MemCgroup* by_id(u16 id) const { return id < m_groups.size() ? m_groups[id].get() : nullptr; }
    // Every group, the root first, parents before children.
    std::vector<MemCgroup*> all() const;

    // The group the next charge goes to: the active one (set by the kernel for the task it
    // serves, or by a fault for the space's owner), or the root.
    MemCgroup& target() { return m_active ? *m_active : root(); }
    MemCgroup* active() const { return m_active; }
    void set_active(MemCgroup* group) { m_active = group; }

    // The group pfn is charged to, or null.
    MemCgroup* of(Pfn pfn) const { return by_id(m_ids[index(pfn)]); }
    // Records the nr frames from pfn (one page, a page table, or a THP's 512) as group's. Their
    // pages are in the group's counters already: MmCore::try_charge put them there.
    void charge(Pfn pfn, u64 nr, MemCgroup& group);
    // Pages try_charge counted that no frame took (the allocation failed) leave the counters.
    void cancel(MemCgroup& group, u64 nr) { add(group, -static_cast<i64>(nr)); }
    // Pages counted in group without any check (the root's, a charge forced past the limit).
    void force(MemCgroup& group, u64 nr) { add(group, static_cast<i64>(nr)); }

    // The charge stock (Linux's per-CPU memcg_stock; kioku's one hart has one): pages charged to a
    // group's counters ahead of use, so that most charges touch no counter. A charge takes a
    // batch of CHARGE_BATCH pages from the counters and keeps the rest here for the same group's
    // next charges; another group's charge, a stock above the batch, a charge about to reclaim,
    // a new memory.max or memory.high and rmdir drain it back. memory.current and memory.peak
    // count the stocked pages, as Linux's do.
    static constexpr u64 CHARGE_BATCH = 64;
    bool consume_stock(MemCgroup& group, u64 nr);
    void refill_stock(MemCgroup& group, u64 nr);
    void drain_stock();
    MemCgroup* stock_owner() const { return by_id(m_stock_id); }
    u64 stock_pages() const { return m_stock_pages; }
    // Takes back the charge of the nr frames from pfn, if they are charged.
    void uncharge(Pfn pfn, u64 nr);
    // Migration: the charge of `from` passes to `to`.
    void move(Pfn from, Pfn to);

    // Swap (memory.swap.*): a page of group is about to get a swap slot. False, with the max and
    // fail events counted, when that would take group or an ancestor over memory.swap.max.
    bool may_charge_swap(MemCgroup& group);
    // Records the slot (by its SwapManager key) as group's, or takes that record back when the
    // slot is freed.
    void charge_swap(u64 slot, MemCgroup& group);
    void uncharge_swap(u64 slot);
    // How many more slots group may take under every memory.swap.max above it.
    static u64 swap_headroom(const MemCgroup& group);
    const std::unordered_map<u64, u16>& swap_records() const { return m_swap_ids; }
    // The group a swap slot is charged to, or null.
    MemCgroup* swap_owner(u64 slot) const
    {
        auto it = m_swap_ids.find(slot);
        return it == m_swap_ids.end() ? nullptr : by_id(it->second);
    }

    // Slab objects (obj_cgroup_charge / obj_cgroup_uncharge). The pages of usage that `bytes`
    // more would add to group (0 when they fit in the pages it holds already).
    static u64 kmem_pages_needed(const MemCgroup& group, u64 bytes);
    // Charges an object's bytes to group, holding them in the pages kmem_pages_needed said (the
    // caller has put those in the counters, through MmCore::try_charge or force); returns the
    // handle the object keeps.
    std::shared_ptr<ObjCgroup> charge_kmem(MemCgroup& group, u64 bytes, bool reclaimable);
    // The object is freed: its bytes leave the group the handle names now, and the pages no
    // longer needed leave its usage.
    static void uncharge_kmem(ObjCgroup& objcg, u64 bytes, bool reclaimable);

    // The group, group itself or an ancestor, that nr more pages would take over its memory.max
    // (the page counter that refuses the charge); null when they fit.
    static MemCgroup* over_max(MemCgroup& group, u64 nr);
    // memcg_memory_event: counts an event in group's memory.events.local, and in memory.events of
    // the group and every ancestor.
    static void event(MemCgroup& group, u64 MemcgEvents::*which);

  private:
    static constexpr u16 ROOT_ID = 1;
    u64 index(Pfn pfn) const { return pfn.value() - m_first.value(); }
    static void add(MemCgroup& group, i64 pages);

    Pfn m_first;
    std::vector<u16> m_ids;                                  // per frame: the group charged, 0 for none
    std::vector<std::unique_ptr<MemCgroup>> m_groups;        // by id; 0 stays empty
    std::unordered_map<u64, u16> m_swap_ids;                 // swap slot -> the group charged for it
    std::vector<std::shared_ptr<ObjCgroup>> m_orphan_objcgs; // handles of removed groups, still held
    u16 m_stock_id = 0;                                      // the group whose pages are stocked, 0 for none
    u64 m_stock_pages = 0;
    MemCgroup* m_active = nullptr;
};

// Sets the active group for a scope and restores the previous one after (set_active_memcg).
class ActiveMemcg {
  public:
    ActiveMemcg(MemcgSet& set, MemCgroup* group)
        : m_set(set)
        , m_saved(set.active())
    {
        set.set_active(group);
    }
    ~ActiveMemcg() { m_set.set_active(m_saved); }
    ActiveMemcg(const ActiveMemcg&) = delete;
    ActiveMemcg& operator=(const ActiveMemcg&) = delete;

  private:
    MemcgSet& m_set;
    MemCgroup* m_saved;
};

} // namespace kioku
