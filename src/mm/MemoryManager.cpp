#include "mm/MemoryManager.h"

#include <algorithm>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/Swapoff.h"
#include "mm/cache/PageCache.h"
#include "mm/compaction/Compactor.h"
#include "mm/core/SwapCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/reclaim/Policies.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/slab/SlabAllocator.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Rmap.h"

namespace kioku {

MemoryManager::MemoryManager(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode)
    : MmCore(memory, tlb, clock, mode)
{
    // The core learns of each service as it is made (in this order, which fixes the memory each
    // takes at boot).
    m_page_cache = std::make_unique<PageCache>(*this);
    layers().page_cache = m_page_cache.get();
    m_file_mappings = std::make_unique<RmapFileMappings>(*this);
    m_page_cache->set_mappings(m_file_mappings.get());
    m_fault_handler = std::make_unique<FaultHandler>(*this);
    layers().fault_handler = m_fault_handler.get();
    m_reclaimer = std::make_unique<Reclaimer>(*this);
    m_reclaimer->set_policy(make_policy("lru", lru(), frames(), sysctl()));
    m_hugetlb = std::make_unique<HugetlbPool>(*this);
    layers().hugetlb = m_hugetlb.get();
    m_hugetlb_ops = std::make_unique<HugetlbVmOps>(*this);
    layers().hugetlb_ops = m_hugetlb_ops.get();
    m_thp = std::make_unique<Thp>(*this);
    layers().thp = m_thp.get();
    layers().thp_ops = m_thp.get();
    m_compactor = std::make_unique<Compactor>(*this);
    layers().compactor = m_compactor.get();
    m_slab = SlabAllocator::create_for(*this);
    layers().slab = m_slab.get();
}

void MemoryManager::background_work()
{
    // The kernel threads work for nobody in particular: what they allocate is charged to the root
    // (khugepaged charges the space it collapses in itself).
    ActiveMemcg none(memcg(), nullptr);
    m_page_cache->flusher().poll();
    m_thp->background_work();
    m_compactor->background_work();
}

MemoryManager::~MemoryManager()
{
    lru().set_policy(nullptr);
}

Result<u32> MemoryManager::swapon(u64 bytes, std::optional<int> priority, const std::string& host_path)
{
    u64 blocks = bytes >> PAGE_SHIFT;
    if (blocks < 2)
        return Error::from_errno(EINVAL, "a swap area needs at least two pages");
    // The area keeps a count byte per slot in host memory: bounded, as guest RAM is.
    if (blocks > MAX_SWAP_AREA_PAGES)
        return Error::from_errno(EINVAL, "a swap area above 64 GiB is not supported");
    if (!host_path.empty() && swap().find(host_path))
        return Error::from_errno(EBUSY, "the swap file is already in use");
    // alloc_swap_info: no free type among the MAX_SWAPFILES.
    if (std::count_if(swap().areas().begin(), swap().areas().end(),
                      [](const auto& a) { return a != nullptr; }) >= MAX_SWAPFILES)
        return Error::from_errno(EPERM, "too many swap areas");
    std::unique_ptr<BlockDevice> device;
    if (host_path.empty())
        device = BlockDevice::create_memory(blocks, clock());
    else
        device = TRY(BlockDevice::create_file(host_path, blocks, clock()));
    std::string name = host_path;
    for (u32 n = 0; name.empty(); ++n)
        if (!swap().find("/dev/swap" + std::to_string(n)))
            name = "/dev/swap" + std::to_string(n);
    auto kind = host_path.empty() ? SwapArea::Kind::Partition : SwapArea::Kind::File;
    int prio = priority ? *priority : swap().next_default_priority();
    return swap().add_area(std::make_unique<SwapArea>(std::move(device), prio, name, kind));
}

Result<void> MemoryManager::swapoff(const std::string& name)
{
    auto type = swap().find(name);
    if (!type)
        return Error::from_errno(EINVAL, "no such swap area");
    return kioku::swapoff(*this, *type);
}

Result<void> MemoryManager::set_replacement_policy(const std::string& name)
{
    auto policy = make_policy(name, lru(), frames(), sysctl());
    if (!policy)
        return Error::from_errno(EINVAL, "unknown replacement policy");
    // A policy keeps its own view of the resident pages: tell the new one about them.
    lru().set_policy(nullptr);
    for (unsigned l = 0; l < static_cast<unsigned>(LruList::Count); ++l) {
        if (static_cast<LruList>(l) == LruList::Unevictable)
            continue;
        FrameList& list = lru().list(static_cast<LruList>(l));
        for (u32 i = list.back(); i != FrameList::NIL; i = frames().links(i).prev())
            policy->page_added(frames().pfn_at(i));
    }
    m_reclaimer->set_policy(std::move(policy));
    return {};
}

void MemoryManager::page_accessed(Pfn pfn)
{
    m_reclaimer->policy().page_accessed(pfn);
}

void MemoryManager::wake_kswapd()
{
    m_reclaimer->run_kswapd();
}

u64 MemoryManager::reclaim_direct(u64 pages)
{
    return m_reclaimer->reclaim(pages, ReclaimMode::Direct);
}

u64 MemoryManager::reclaim_memcg(MemCgroup& memcg, u64 pages)
{
    return m_reclaimer->reclaim(pages, ReclaimMode::Direct, &memcg);
}

bool MemoryManager::reclaim_page(Pfn pfn)
{
    return m_reclaimer->evict(pfn);
}

bool MemoryManager::wait_writeback_one()
{
    return m_page_cache->flusher().wait_one();
}

void MemoryManager::free_huge_page(Pfn head)
{
    m_thp->put_huge_page(head);
}

u64 MemoryManager::hugetlb_pages() const
{
    return m_hugetlb->total_pages();
}

Result<std::unique_ptr<AddressSpace>> MemoryManager::create_address_space()
{
    return AddressSpace::create(*this, allocate_asid());
}

} // namespace kioku
