// The memory manager's core: the state and services every part of mm shares, below all of them.
// It holds the frame table and the buddy allocator, the LRU lists, the counters and sysctls, the
// swap devices and the workingset's age, and gives out and takes back user pages and page-table
// pages, with the slow path of an allocation (kswapd, direct reclaim, the OOM killer). It keeps
// the overcommit account and the registry of address spaces and their ASIDs.
//
// The layers above (slab, cache, vm, compaction, thp and hugetlb, reclaim) reach one another
// downward only: each includes the headers of the layers below it (docs/architecture.md, "The
// layers of mm"; scripts/include-graph.py --check). What the core itself needs from above, the
// reclaim that frees memory for an allocation, goes through the few virtual functions at the end,
// which the MemoryManager (the composition root at the top) implements. The services a layer may
// use from a lower layer are reached through pointers set by the MemoryManager, which owns them
// (page_cache(), thp(), ...); to call one, a file includes that service's header, which the layer
// check allows only downward.
//
// Single-threaded.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/Result.h"
#include "isa/Paging.h"
#include "mm/core/Lru.h"
#include "mm/core/Memcg.h"
#include "mm/core/Sysctl.h"
#include "mm/core/VmStat.h"
#include "mm/core/Workingset.h"
#include "mm/pgtable/PageTable.h"
#include "mm/phys/FrameTable.h"
#include "mm/phys/PhysicalAllocator.h"

namespace kioku {

class AddressSpace;
class Clock;
class Compactor;
class FaultHandler;
class HugetlbOps;
class HugetlbPool;
class PageCache;
class PhysicalMemory;
class SlabAllocator;
class SwapManager;
class Thp;
class ThpOps;
class TlbFlushPort;

// What the memory manager asks when reclaim cannot free enough: the kernel's OOM killer, which
// knows the processes. Returns true when it freed memory (a victim was reaped).
class OomHandler {
  public:
    virtual ~OomHandler() = default;
    virtual bool out_of_memory() = 0;
    // The same inside one memory cgroup that reached its memory.max: only its processes are
    // candidates (Linux: mem_cgroup_out_of_memory).
    virtual bool memcg_out_of_memory(MemCgroup& memcg) = 0;
};

// Page events, for `kioku run --events` (one row each): what happened to which page. `space` and
// `va` name the mapping when there is one (a fault, a swap-out from one mapping), null and 0
// otherwise; `pfn` is 0 when no frame is meant; `detail` says more: the fault's cause, the
// policy's reason for an eviction, the swap slot, the OOM victim's badness.
enum class PageEventKind : u8 { Fault, SwapIn, Evict, SwapOut, Writeback, OomKill };
struct PageEvent {
    PageEventKind kind = PageEventKind::Fault;
    const AddressSpace* space = nullptr;
    u64 va = 0;
    u64 pfn = 0;
    std::string_view detail;
};
class PageEventSink {
  public:
    virtual ~PageEventSink() = default;
    virtual void page_event(const PageEvent& event) = 0;
};

// Who waited on memory: the task being served, or kswapd (a kernel thread of the root group).
enum class MemstallKind : u8 { Task, Kswapd };

// Pressure stall information (Linux: psi_memstall_enter/leave): the core tells the kernel of
// every stretch of simulated time a task spent waiting on memory, and the kernel, which knows the
// tasks and their groups, keeps the pressure figures (kernel/Psi.h).
class MemstallObserver {
  public:
    virtual ~MemstallObserver() = default;
    virtual void memstall(u64 start_ns, u64 end_ns, MemstallKind kind) = 0;
};

enum class ZeroFill : u8 { No, Yes };

class MmCore : public TableAllocator {
  public:
    // The first frames of physical memory hold the kernel image, as on a real machine; they are
    // never given to the allocator (Linux's "reserved" memory, not part of MemTotal).
    static constexpr u64 KERNEL_IMAGE_BYTES = u64{2} << 20;

    MmCore(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode);
    ~MmCore() override;
    MmCore(const MmCore&) = delete;
    MmCore& operator=(const MmCore&) = delete;

    PhysicalMemory& memory() { return m_memory; }
    TlbFlushPort& tlb() { return m_tlb; }
    Clock& clock() { return m_clock; }
    isa::SatpMode paging_mode() const { return m_mode; }
    FrameTable& frames() { return m_frames; }
    const FrameTable& frames() const { return m_frames; }
    PhysicalAllocator& allocator() { return m_allocator; }
    const PhysicalAllocator& allocator() const { return m_allocator; }
    Lru& lru() { return m_lru; }
    const Lru& lru() const { return m_lru; }
    VmStat& vmstat() { return m_vmstat; }
    const VmStat& vmstat() const { return m_vmstat; }
    VmSysctl& sysctl() { return m_sysctl; }
    const VmSysctl& sysctl() const { return m_sysctl; }
    SwapManager& swap() { return *m_swap; }
    const SwapManager& swap() const { return *m_swap; }
    Workingset& workingset() { return m_workingset; }
    // The memory controller's groups and the record of which one each page is charged to.
    MemcgSet& memcg() { return m_memcg; }
    const MemcgSet& memcg() const { return m_memcg; }

    // The services of the layers above, owned by the MemoryManager. A caller includes the
    // service's own header to use it.
    PageCache& page_cache() { return *m_layers.page_cache; }
    FaultHandler& fault_handler() { return *m_layers.fault_handler; }
    SlabAllocator& slab() { return *m_layers.slab; }
    const SlabAllocator& slab() const { return *m_layers.slab; }
    HugetlbPool& hugetlb() { return *m_layers.hugetlb; }
    HugetlbOps& hugetlb_ops() { return *m_layers.hugetlb_ops; }
    const HugetlbPool& hugetlb() const { return *m_layers.hugetlb; }
    Thp& thp() { return *m_layers.thp; }
    ThpOps& thp_ops() { return *m_layers.thp_ops; }
    const Thp& thp() const { return *m_layers.thp; }
    Compactor& compactor() { return *m_layers.compactor; }
    const Compactor& compactor() const { return *m_layers.compactor; }

    Pfn zero_pfn() const { return m_zero_pfn; }
    bool is_zero_pfn(Pfn pfn) const { return pfn == m_zero_pfn; }

    // A frame for user memory (anonymous or page cache) with refcount 1, charged to the active
    // memory cgroup. The caller sets its kind. Under the min watermark it reclaims directly, then
    // asks the OOM killer; it wakes kswapd when free memory falls under the low watermark.
    std::optional<Pfn> alloc_user_page(ZeroFill zero);
    void get_page(Pfn pfn) { ++m_frames[pfn].refcount; }
    // Drops one reference; at zero the page leaves its LRU list and returns to the allocator.
    void put_page(Pfn pfn);

    // TableAllocator: page-table pages, zeroed, counted in PageTables and charged as user pages
    // are (GFP_PGTABLE_USER is accounted).
    std::optional<Pfn> allocate_table() override;
    void free_table(Pfn pfn) override;

    // Charges nr pages to group before they are allocated (Linux: try_charge_memcg). When that
    // would take group or an ancestor over its memory.max, that one is reclaimed, up to
    // MAX_RECLAIM_RETRIES times while reclaim makes progress, and then the OOM killer runs inside
    // it; false when the charge cannot be made. A THP (may_reclaim false) only checks, as a
    // costly allocation that falls back to 4 KiB pages instead.
    bool try_charge(MemCgroup& group, u64 nr, bool may_reclaim = true);
    // memory.max was lowered under the group's usage: reclaim, then the OOM killer inside the
    // group, until it fits or nothing more can go (memory_max_write).
    void shrink_to_max(MemCgroup& group);
    // memory.high (Linux: mem_cgroup_handle_over_high): pages charged while a group or an ancestor
    // was over its memory.high are settled here, when more than a charge batch has piled up, and
    // by the kernel when its call returns to the program: the groups over high are reclaimed
    // (a high event each), and what is still over costs the task a delay that grows with the
    // square of the overage, capped at 2 s: the task sleeps it (see set_throttle_sleeps); nobody
    // is killed.
    void handle_over_high()
    {
        if (m_pages_over_high)
            settle_over_high();
    }
    // Where the delay goes. By default it passes on the clock at once (scenarios, where nothing
    // else runs). A run loop that can put the task to sleep sets sleeps: the delay is then left
    // for it to take (take_throttle) when the call or fault returns, so that other tasks run
    // meanwhile, and populate loops (mlock, MAP_POPULATE, MADV_POPULATE_*) stop early while a
    // delay is owed (throttle_pending) so that it is taken between their batches, as Linux sleeps
    // inside the charge.
    void set_throttle_sleeps(bool sleeps) { m_throttle_sleeps = sleeps; }
    bool throttle_pending() const { return m_throttle_ns > 0; }
    u64 take_throttle() { return std::exchange(m_throttle_ns, 0); }
    // A MAP_POPULATE (or a locked mmap) that stopped for the penalty: the rest of its range, for
    // the run loop to populate after the sleep, before the call returns to the program (Linux
    // sleeps inside mm_populate and goes on). end 0: none.
    struct PopulateRest {
        AddressSpace* space = nullptr;
        u64 start = 0;
        u64 end = 0;
    };
    void set_populate_rest(PopulateRest rest) { m_populate_rest = rest; }
    PopulateRest take_populate_rest() { return std::exchange(m_populate_rest, PopulateRest{}); }

    // Fixed-frame mode, the textbook model of a process given N frames: at most `pages` user pages
    // (pages on the LRU lists) are resident, and a user allocation that would go beyond first
    // evicts one page through the replacement policy. 0 (the default) turns it off. Anonymous
    // pages can only be evicted to swap, so swap must be on; when nothing can be evicted the
    // allocation fails (the fault ends as out of memory).
    void set_user_frame_limit(u64 pages) { m_user_frame_limit = pages; }
    u64 user_frame_limit() const { return m_user_frame_limit; }

    // A stretch in which the task waits on memory rather than doing its work (Linux marks the
    // same places with psi_memstall_enter/leave): direct reclaim and compaction, reclaim inside a
    // memory cgroup at its limit, the memory.high throttle, reading back a page of the working
    // set, and kswapd's runs. Nested stretches count once, as the outermost.
    class Memstall {
      public:
        explicit Memstall(MmCore& mm, MemstallKind kind = MemstallKind::Task);
        ~Memstall();
        Memstall(const Memstall&) = delete;
        Memstall& operator=(const Memstall&) = delete;

      private:
        MmCore& m_mm;
    };
    void set_memstall_observer(MemstallObserver* observer) { m_memstall_observer = observer; }
    // Where page events go; null (the default) when nobody listens, which costs one test each.
    void set_page_event_sink(PageEventSink* sink) { m_page_events = sink; }
    PageEventSink* page_events() const { return m_page_events; }
    void page_event(const PageEvent& event)
    {
        if (m_page_events)
            m_page_events->page_event(event);
    }

    void set_oom_handler(OomHandler* handler) { m_oom = handler; }
    OomHandler* oom_handler() const { return m_oom; }
    // The address space whose fault or call is being served, so that the OOM killer does not
    // tear down the memory of the task it is working for.
    AddressSpace* current_space() const { return m_current; }
    void set_current_space(AddressSpace* space) { m_current = space; }

    // Address spaces, each with its own ASID. They register themselves here so that the
    // invariant checker, reclaim and the OOM killer can see them all. Unregistering flushes the
    // ASID's translations, since the ASID may be handed out again.
    void register_space(AddressSpace* space, Asid asid);
    void unregister_space(AddressSpace* space);
    const std::vector<AddressSpace*>& spaces() const { return m_spaces; }
    Asid allocate_asid();

    // Overcommit accounting (Linux's __vm_enough_memory): charges `pages` to Committed_AS, or
    // refuses with ENOMEM under the current overcommit policy. `caller_total_vm` is the size in
    // pages of the calling process's address space (mm->total_vm), from which the user reserve
    // is taken; 0 for a charge no process makes.
    Result<void> vm_enough_memory(u64 pages, u64 caller_total_vm);
    void vm_unacct_memory(u64 pages);
    u64 committed_pages() const { return m_committed; }
    u64 commit_limit_pages() const;

    // Pages in use by kind, kept as the parts work (for meminfo and the invariant checker).
    u64 page_table_pages() const { return m_page_table_pages; }
    u64 total_ram_pages() const { return m_allocator.managed_pages(); }
    u64 total_swap_pages() const;

    // ==== What the core asks of the layers above (implemented by the MemoryManager) ====
    // Wakes kswapd: free memory fell under the low watermark.
    virtual void wake_kswapd() = 0;
    // Direct reclaim of up to `pages` pages in the allocating task's context; the pages freed.
    virtual u64 reclaim_direct(u64 pages) = 0;
    // Reclaims this one page now if it can (MADV_PAGEOUT); whether it went.
    virtual bool reclaim_page(Pfn pfn) = 0;
    // Waits for one page under writeback to complete (reclaim_throttle); false when none is.
    virtual bool wait_writeback_one() = 0;
    // Reclaim inside one memory cgroup (Linux: try_to_free_mem_cgroup_pages): only its pages and
    // its descendants' are taken; the pages freed.
    virtual u64 reclaim_memcg(MemCgroup& memcg, u64 pages) = 0;
    // Frees a transparent huge page whose last reference went (the THP layer's).
    virtual void free_huge_page(Pfn head) = 0;
    // Pages held by the hugetlb pools, which no ordinary mapping can use.
    virtual u64 hugetlb_pages() const = 0;

  protected:
    // The services of the layers above, which the MemoryManager builds and owns.
    struct Layers {
        PageCache* page_cache = nullptr;
        FaultHandler* fault_handler = nullptr;
        SlabAllocator* slab = nullptr;
        HugetlbPool* hugetlb = nullptr;
        HugetlbOps* hugetlb_ops = nullptr;
        Thp* thp = nullptr;
        ThpOps* thp_ops = nullptr; // the same object, as the address-space layer sees it
        Compactor* compactor = nullptr;
    };
    Layers& layers() { return m_layers; }

  private:
    // A charge of nr pages to group succeeded: note it when the group is over memory.high.
    void note_over_high(MemCgroup& group, u64 nr);
    void settle_over_high();
    // One page through the slow path (kswapd, direct reclaim, writeback throttling, OOM).
    std::optional<Pfn> allocate_page(MigrateType type = MigrateType::Movable);
    bool make_room_under_frame_limit();

    PhysicalMemory& m_memory;
    TlbFlushPort& m_tlb;
    Clock& m_clock;
    isa::SatpMode m_mode;
    FrameTable m_frames;
    PhysicalAllocator m_allocator;
    Lru m_lru;
    MemcgSet m_memcg{m_frames};
    VmStat m_vmstat;
    VmSysctl m_sysctl;
    std::unique_ptr<SwapManager> m_swap;
    Workingset m_workingset{*this};
    std::vector<AddressSpace*> m_spaces;
    std::vector<Asid> m_space_asids; // the ASID of each of m_spaces
    Pfn m_zero_pfn;
    u64 m_page_table_pages = 0;
    u64 m_committed = 0;
    OomHandler* m_oom = nullptr;
    MemstallObserver* m_memstall_observer = nullptr;
    PageEventSink* m_page_events = nullptr;
    u32 m_memstall_depth = 0;
    u64 m_memstall_start = 0;
    MemstallKind m_memstall_kind = MemstallKind::Task;
    AddressSpace* m_current = nullptr;
    bool m_in_direct_reclaim = false;
    u64 m_user_frame_limit = 0;
    // Pages charged over memory.high, not yet settled, and the group they were charged to.
    u64 m_pages_over_high = 0;
    u16 m_over_high = 0; // by id: the group may be gone by the time they are settled
    bool m_in_over_high = false;
    bool m_throttle_sleeps = false;
    u64 m_throttle_ns = 0; // the penalty owed by the task being served
    PopulateRest m_populate_rest;
    Asid m_next_asid = 1;
    Layers m_layers;
};

} // namespace kioku
