// The memory manager: wires the parts that own the state (frame table, page allocator, page cache,
// LRU lists, address spaces) and offers the few services they share: getting and putting user
// pages, page-table pages, the shared zero page, overcommit accounting, counters. The work of
// each part lives in that part (AddressSpace for mmap and friends, FaultHandler for faults,
// PageCache for files); this class does not grow into a god object.
//
// Owned by the Kernel. Single-threaded.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/Result.h"
#include "isa/Paging.h"
#include "mm/Sysctl.h"
#include "mm/VmStat.h"
#include "mm/pgtable/PageTable.h"
#include "mm/phys/FrameTable.h"
#include "mm/phys/PhysicalAllocator.h"
#include "mm/reclaim/Lru.h"

namespace kioku {

class AddressSpace;
class Clock;
class PageCache;
class PhysicalMemory;
class TlbFlushPort;
class FaultHandler;
class Reclaimer;
class SwapManager;
class BlockDevice;
class SlabAllocator;
class HugetlbPool;
class Thp;
class Compactor;

// What the memory manager asks when reclaim cannot free enough: the kernel's OOM killer, which
// knows the processes. Returns true when it freed memory (a victim was reaped).
class OomHandler {
  public:
    virtual ~OomHandler() = default;
    virtual bool out_of_memory() = 0;
};

enum class ZeroFill : u8 { No, Yes };

class MemoryManager final : public TableAllocator {
  public:
    // The first frames of physical memory hold the kernel image, as on a real machine; they are
    // never given to the allocator (Linux's "reserved" memory, not part of MemTotal).
    static constexpr u64 KERNEL_IMAGE_BYTES = u64{2} << 20;

    MemoryManager(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode);
    ~MemoryManager() override;

    PhysicalMemory& memory() { return m_memory; }
    TlbFlushPort& tlb() { return m_tlb; }
    Clock& clock() { return m_clock; }
    FrameTable& frames() { return m_frames; }
    const FrameTable& frames() const { return m_frames; }
    PhysicalAllocator& allocator() { return m_allocator; }
    const PhysicalAllocator& allocator() const { return m_allocator; }
    PageCache& page_cache() { return *m_page_cache; }
    FaultHandler& fault_handler() { return *m_fault_handler; }
    SwapManager& swap() { return *m_swap; }
    const SwapManager& swap() const { return *m_swap; }
    Reclaimer& reclaimer() { return *m_reclaimer; }
    SlabAllocator& slab() { return *m_slab; }
    const SlabAllocator& slab() const { return *m_slab; }
    HugetlbPool& hugetlb() { return *m_hugetlb; }
    const HugetlbPool& hugetlb() const { return *m_hugetlb; }
    Thp& thp() { return *m_thp; }
    const Thp& thp() const { return *m_thp; }
    Compactor& compactor() { return *m_compactor; }
    const Compactor& compactor() const { return *m_compactor; }
    // The kernel threads' turn, called by the kernel after each operation and as simulated time
    // passes: the writeback flusher's timer, khugepaged, kcompactd. Each decides from the clock
    // whether it is due.
    void background_work();
    void set_oom_handler(OomHandler* handler) { m_oom = handler; }
    OomHandler* oom_handler() const { return m_oom; }
    // The address space whose fault or call is being served, so that the OOM killer does not
    // tear down the memory of the task it is working for.
    AddressSpace* current_space() const { return m_current; }
    void set_current_space(AddressSpace* space) { m_current = space; }

    // swapon: a swap area of `bytes` on a memory-backed device ("/dev/swapN", a partition in
    // /proc/swaps), or on a host file created at host_path. Without a priority the area gets
    // Linux's next default one (-2, -3, ...). EBUSY when the path is already in use.
    Result<u32> swapon(u64 bytes, std::optional<int> priority, const std::string& host_path = {});
    static constexpr u64 MAX_SWAP_AREA_PAGES = (u64{64} << 30) >> PAGE_SHIFT;
    // swapoff by the name /proc/swaps shows: EINVAL when no such area is active, ENOMEM when
    // memory cannot hold its pages (the area stays on).
    Result<void> swapoff(const std::string& name);
    // Selects the replacement policy by name ("lru", "clock", "fifo", "exact-lru", "opt").
    Result<void> set_replacement_policy(const std::string& name);
    // Fixed-frame mode, the textbook model of a process given N frames: at most `pages` user pages
    // (pages on the LRU lists) are resident, and a user allocation that would go beyond first
    // evicts one page through the replacement policy. 0 (the default) turns it off. Anonymous
    // pages can only be evicted to swap, so swap must be on; when nothing can be evicted the
    // allocation fails (the fault ends as out of memory).
    void set_user_frame_limit(u64 pages) { m_user_frame_limit = pages; }
    u64 user_frame_limit() const { return m_user_frame_limit; }
    // An access the kernel made to a user page on a process's behalf, told to the policy (exact
    // LRU and OPT follow them).
    void page_accessed(Pfn pfn);
    Lru& lru() { return m_lru; }
    const Lru& lru() const { return m_lru; }
    VmStat& vmstat() { return m_vmstat; }
    const VmStat& vmstat() const { return m_vmstat; }
    VmSysctl& sysctl() { return m_sysctl; }
    const VmSysctl& sysctl() const { return m_sysctl; }
    isa::SatpMode paging_mode() const { return m_mode; }

    Pfn zero_pfn() const { return m_zero_pfn; }
    bool is_zero_pfn(Pfn pfn) const { return pfn == m_zero_pfn; }

    // A frame for user memory (anonymous or page cache) with refcount 1. The caller sets its kind.
    // Under the min watermark it reclaims directly, then asks the OOM killer; it wakes kswapd
    // when free memory falls under the low watermark.
    std::optional<Pfn> alloc_user_page(ZeroFill zero);
    void get_page(Pfn pfn) { ++m_frames[pfn].refcount; }
    // Drops one reference; at zero the page leaves its LRU list and returns to the allocator.
    void put_page(Pfn pfn);

    // TableAllocator: page-table pages, zeroed, counted in PageTables.
    std::optional<Pfn> allocate_table() override;
    void free_table(Pfn pfn) override;

    // Address spaces, each with its own ASID. They register themselves here so that the
    // invariant checker (and later reclaim and the OOM killer) can see them all.
    Result<std::unique_ptr<AddressSpace>> create_address_space();
    void register_space(AddressSpace* space);
    void unregister_space(AddressSpace* space);
    const std::vector<AddressSpace*>& spaces() const { return m_spaces; }
    Asid allocate_asid();

    // Overcommit accounting (Linux's __vm_enough_memory): charges `pages` to Committed_AS, or
    // refuses with ENOMEM under the current overcommit policy. `space` is the caller's (for the
    // user reserve), may be null.
    Result<void> vm_enough_memory(u64 pages, const AddressSpace* space);
    void vm_unacct_memory(u64 pages);
    u64 committed_pages() const { return m_committed; }
    u64 commit_limit_pages() const;

    // Pages in use by kind, kept as the parts work (for meminfo and the invariant checker).
    u64 page_table_pages() const { return m_page_table_pages; }
    u64 total_ram_pages() const { return m_allocator.managed_pages(); }
    u64 total_swap_pages() const;

  private:
    PhysicalMemory& m_memory;
    TlbFlushPort& m_tlb;
    Clock& m_clock;
    isa::SatpMode m_mode;
    FrameTable m_frames;
    PhysicalAllocator m_allocator;
    Lru m_lru;
    VmStat m_vmstat;
    VmSysctl m_sysctl;
    std::unique_ptr<PageCache> m_page_cache;
    std::unique_ptr<FaultHandler> m_fault_handler;
    std::vector<AddressSpace*> m_spaces;
    Pfn m_zero_pfn;
    u64 m_page_table_pages = 0;
    u64 m_committed = 0;
    std::unique_ptr<SwapManager> m_swap;
    std::unique_ptr<Reclaimer> m_reclaimer;
    std::unique_ptr<HugetlbPool> m_hugetlb;
    std::unique_ptr<Thp> m_thp;
    std::unique_ptr<Compactor> m_compactor;
    OomHandler* m_oom = nullptr;
    AddressSpace* m_current = nullptr;
    bool m_in_direct_reclaim = false;
    // One page through the slow path (kswapd, direct reclaim, writeback throttling, OOM).
    std::optional<Pfn> allocate_page(MigrateType type = MigrateType::Movable);
    bool make_room_under_frame_limit();
    u64 m_user_frame_limit = 0;
    Asid m_next_asid = 1;
    std::unique_ptr<SlabAllocator> m_slab; // last: objects that outlive it find their caches detached
};

} // namespace kioku
