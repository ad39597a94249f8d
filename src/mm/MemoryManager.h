// The memory manager: the composition root of mm. It builds the layers on the core (MmCore, the
// state and services they share) in order, owns them, and answers the core's questions to the
// layers above it (reclaim for an allocation, writeback throttling, a THP's free, the hugetlb
// pools' size). The work of each part lives in that part (AddressSpace and its call modules for
// mmap and friends, FaultHandler for faults, PageCache for files, Reclaimer for reclaim); this
// class only wires them and offers what the kernel asks of mm as a whole (swapon, swapoff, the
// replacement policy, new address spaces, the kernel threads' turn).
//
// Owned by the Kernel. Single-threaded.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/Result.h"
#include "mm/core/MmCore.h"

namespace kioku {

class HugetlbVmOps;
class Reclaimer;
class RmapFileMappings;

class MemoryManager final : public MmCore {
  public:
    MemoryManager(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode);
    ~MemoryManager() override;

    Reclaimer& reclaimer() { return *m_reclaimer; }
    // The kernel threads' turn, called by the kernel after each operation and as simulated time
    // passes: the writeback flusher's timer, khugepaged, kcompactd. Each decides from the clock
    // whether it is due.
    void background_work();

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
    // An access the kernel made to a user page on a process's behalf, told to the policy (exact
    // LRU and OPT follow them).
    void page_accessed(Pfn pfn);

    // A new address space with its own ASID.
    Result<std::unique_ptr<AddressSpace>> create_address_space();

  private:
    // MmCore's questions to the layers above.
    void wake_kswapd() override;
    u64 reclaim_direct(u64 pages) override;
    u64 reclaim_memcg(MemCgroup& memcg, u64 pages) override;
    bool reclaim_page(Pfn pfn) override;
    bool wait_writeback_one() override;
    void free_huge_page(Pfn head) override;
    u64 hugetlb_pages() const override;

    std::unique_ptr<PageCache> m_page_cache;
    std::unique_ptr<RmapFileMappings> m_file_mappings; // the reverse map, as the cache sees it
    std::unique_ptr<FaultHandler> m_fault_handler;
    std::unique_ptr<Reclaimer> m_reclaimer;
    std::unique_ptr<HugetlbPool> m_hugetlb;
    std::unique_ptr<HugetlbVmOps> m_hugetlb_ops; // hugetlb, as the address-space layer sees it
    std::unique_ptr<Thp> m_thp;
    std::unique_ptr<Compactor> m_compactor;
    std::unique_ptr<SlabAllocator> m_slab; // last: objects that outlive it find their caches detached
};

} // namespace kioku
