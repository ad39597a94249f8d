#include "mm/MemoryManager.h"

#include <algorithm>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/cache/PageCache.h"
#include "mm/compaction/Compactor.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/slab/SlabAllocator.h"
#include "mm/swap/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/swap/Swapoff.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {

MemoryManager::MemoryManager(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode)
    : m_memory(memory)
    , m_tlb(tlb)
    , m_clock(clock)
    , m_mode(mode)
    , m_frames(memory.first_pfn(), memory.frame_count())
    , m_allocator(m_frames)
    , m_lru(m_frames)
{
    for (Pfn pfn = m_frames.first_pfn(); pfn < m_frames.end_pfn(); ++pfn)
        m_frames[pfn].flags = FF_RESERVED;
    u64 image_pages = std::min(KERNEL_IMAGE_BYTES >> PAGE_SHIFT, memory.frame_count() / 4);
    // The zero page sits in the kernel image, as Linux's empty_zero_page does in .bss.
    m_zero_pfn = m_frames.first_pfn();
    m_frames[m_zero_pfn].set(FF_ZERO | FF_UPTODATE);
    m_memory.zero_frame(m_zero_pfn);
    m_allocator.release_boot_range(m_frames.first_pfn() + image_pages, memory.frame_count() - image_pages);
    m_allocator.setup_watermarks();
    m_page_cache = std::make_unique<PageCache>(*this);
    m_fault_handler = std::make_unique<FaultHandler>(*this);
    m_swap = std::make_unique<SwapManager>();
    m_reclaimer = std::make_unique<Reclaimer>(*this);
    m_reclaimer->set_policy(make_policy("lru", m_lru, m_frames, m_sysctl));
    m_hugetlb = std::make_unique<HugetlbPool>(*this);
    m_thp = std::make_unique<Thp>(*this);
    m_compactor = std::make_unique<Compactor>(*this);
    m_slab = SlabAllocator::create_for(*this);
}

void MemoryManager::background_work()
{
    m_page_cache->flusher().poll();
    m_thp->background_work();
    m_compactor->background_work();
}

MemoryManager::~MemoryManager()
{
    m_lru.set_policy(nullptr);
}

u64 MemoryManager::total_swap_pages() const
{
    return m_swap->total_pages();
}

Result<u32> MemoryManager::swapon(u64 bytes, std::optional<int> priority, const std::string& host_path)
{
    u64 blocks = bytes >> PAGE_SHIFT;
    if (blocks < 2)
        return Error::from_errno(EINVAL, "a swap area needs at least two pages");
    // The area keeps a count byte per slot in host memory: bounded, as guest RAM is.
    if (blocks > MAX_SWAP_AREA_PAGES)
        return Error::from_errno(EINVAL, "a swap area above 64 GiB is not supported");
    if (!host_path.empty() && m_swap->find(host_path))
        return Error::from_errno(EBUSY, "the swap file is already in use");
    // alloc_swap_info: no free type among the MAX_SWAPFILES.
    if (std::count_if(m_swap->areas().begin(), m_swap->areas().end(),
                      [](const auto& a) { return a != nullptr; }) >= MAX_SWAPFILES)
        return Error::from_errno(EPERM, "too many swap areas");
    std::unique_ptr<BlockDevice> device;
    if (host_path.empty())
        device = BlockDevice::create_memory(blocks, m_clock);
    else
        device = TRY(BlockDevice::create_file(host_path, blocks, m_clock));
    std::string name = host_path;
    for (u32 n = 0; name.empty(); ++n)
        if (!m_swap->find("/dev/swap" + std::to_string(n)))
            name = "/dev/swap" + std::to_string(n);
    auto kind = host_path.empty() ? SwapArea::Kind::Partition : SwapArea::Kind::File;
    int prio = priority ? *priority : m_swap->next_default_priority();
    return m_swap->add_area(std::make_unique<SwapArea>(std::move(device), prio, name, kind));
}

Result<void> MemoryManager::swapoff(const std::string& name)
{
    auto type = m_swap->find(name);
    if (!type)
        return Error::from_errno(EINVAL, "no such swap area");
    return kioku::swapoff(*this, *type);
}

Result<void> MemoryManager::set_replacement_policy(const std::string& name)
{
    auto policy = make_policy(name, m_lru, m_frames, m_sysctl);
    if (!policy)
        return Error::from_errno(EINVAL, "unknown replacement policy");
    // A policy keeps its own view of the resident pages: tell the new one about them.
    m_lru.set_policy(nullptr);
    for (unsigned l = 0; l < static_cast<unsigned>(LruList::Count); ++l) {
        if (static_cast<LruList>(l) == LruList::Unevictable)
            continue;
        FrameList& list = m_lru.list(static_cast<LruList>(l));
        for (u32 i = list.back(); i != FrameList::NIL; i = m_frames.links(i).prev)
            policy->page_added(m_frames.pfn_at(i));
    }
    m_reclaimer->set_policy(std::move(policy));
    return {};
}

std::optional<Pfn> MemoryManager::allocate_page(MigrateType type)
{
    for (int stalls = 0;; ++stalls) {
        if (auto pfn = m_allocator.allocate(0, AllocFlags::Normal, type)) {
            if (m_allocator.free_pages() < m_allocator.total_watermark(&Watermarks::low))
                m_reclaimer->run_kswapd();
            return pfn;
        }
        // Under min: wake kswapd as Linux does, then reclaim in this task's own context.
        if (m_in_direct_reclaim)
            return m_allocator.allocate(0, AllocFlags::Atomic, type);
        m_in_direct_reclaim = true;
        m_vmstat.add(VmItem::AllocstallNormal, 1);
        u64 freed = m_reclaimer->reclaim(32, ReclaimMode::Direct);
        m_in_direct_reclaim = false;
        if (freed && stalls < 16)
            continue;
        // reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK): pages under writeback become reclaimable
        // when the device completes them; wait for that before declaring memory exhausted.
        if (stalls < 16 && m_page_cache->flusher().wait_one())
            continue;
        if (m_oom && stalls < 32 && m_oom->out_of_memory())
            continue;
        return std::nullopt;
    }
}

// Fixed-frame mode: evict through the policy until one more user page fits under the limit.
bool MemoryManager::make_room_under_frame_limit()
{
    auto resident = [this] {
        u64 pages = 0;
        for (unsigned l = 0; l < static_cast<unsigned>(LruList::Count); ++l)
            pages += m_lru.size(static_cast<LruList>(l));
        return pages;
    };
    while (resident() >= m_user_frame_limit)
        if (m_reclaimer->reclaim(1, ReclaimMode::Direct) == 0 && !m_page_cache->flusher().wait_one())
            return false;
    return true;
}

void MemoryManager::page_accessed(Pfn pfn)
{
    m_reclaimer->policy().page_accessed(pfn);
}

std::optional<Pfn> MemoryManager::alloc_user_page(ZeroFill zero)
{
    if (m_user_frame_limit && !make_room_under_frame_limit())
        return std::nullopt;
    auto pfn = allocate_page();
    if (!pfn)
        return std::nullopt;
    Frame& f = m_frames[*pfn];
    f.refcount = 1;
    if (zero == ZeroFill::Yes) {
        m_memory.zero_frame(*pfn);
        m_clock.advance(m_clock.costs().zero_page_fill_ns);
    }
    return pfn;
}

void MemoryManager::put_page(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    if (f.has(FF_HEAD) && f.has(FF_ANON)) {
        m_thp->put_huge_page(pfn); // a transparent huge page goes back whole
        return;
    }
    VERIFY(f.refcount > 0 && "put_page on a page with no references");
    if (--f.refcount > 0) {
        // free_page_and_swap_cache: an anonymous page nobody maps any more, whose swap slot no
        // PTE refers to, leaves the swap cache and is freed.
        if (f.refcount != 1 || f.mapcount != 0 || !f.has(FF_SWAPCACHE))
            return;
        if (m_swap->count(swap_entry_of(f.private_data)) != 0)
            return;
        SwapCache(*this).take(pfn); // the cache's reference was the last
        f.refcount = 0;
    }
    VERIFY(f.mapcount == 0 && "a page freed while still mapped");
    m_lru.remove(pfn);
    f.flags = 0;
    f.clear_owner();
    f.index = 0;
    f.private_data = 0;
    m_allocator.free(pfn, 0);
}

std::optional<Pfn> MemoryManager::allocate_table()
{
    // Page tables never move (Linux allocates them without __GFP_MOVABLE), and their allocation
    // takes the same slow path as a user page's: reclaim, then the OOM killer (GFP_PGTABLE_USER).
    auto pfn = allocate_page(MigrateType::Unmovable);
    if (!pfn)
        return std::nullopt;
    Frame& f = m_frames[*pfn];
    f.flags = FF_PAGETABLE;
    f.refcount = 1;
    m_memory.zero_frame(*pfn);
    ++m_page_table_pages;
    return pfn;
}

void MemoryManager::free_table(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    VERIFY(f.has(FF_PAGETABLE));
    f.flags = 0;
    f.refcount = 0;
    --m_page_table_pages;
    m_allocator.free(pfn, 0);
}

Result<std::unique_ptr<AddressSpace>> MemoryManager::create_address_space()
{
    return AddressSpace::create(*this, allocate_asid());
}

void MemoryManager::register_space(AddressSpace* space)
{
    m_spaces.push_back(space);
}

void MemoryManager::unregister_space(AddressSpace* space)
{
    auto it = std::find(m_spaces.begin(), m_spaces.end(), space);
    VERIFY(it != m_spaces.end());
    m_spaces.erase(it);
    // A retired ASID may still tag TLB entries; flush before it can be handed out again.
    m_tlb.flush_asid(space->asid());
}

Asid MemoryManager::allocate_asid()
{
    // The smallest ASID no live address space uses; 0 is left to the kernel.
    for (;;) {
        Asid candidate = m_next_asid;
        m_next_asid = static_cast<Asid>(m_next_asid == 0xffff ? 1 : m_next_asid + 1);
        bool used = std::any_of(m_spaces.begin(), m_spaces.end(),
                                [&](AddressSpace* s) { return s->asid() == candidate; });
        if (!used)
            return candidate;
    }
}

u64 MemoryManager::commit_limit_pages() const
{
    // Linux's vm_commit_limit: overcommit_kbytes if set, else RAM * ratio / 100, plus swap. RAM
    // here leaves out the hugetlb pools, which no ordinary mapping can use.
    u64 allowed;
    if (m_sysctl.overcommit_kbytes)
        allowed = m_sysctl.overcommit_kbytes >> (PAGE_SHIFT - 10);
    else
        allowed = (total_ram_pages() - m_hugetlb->total_pages()) * m_sysctl.overcommit_ratio / 100;
    return allowed + total_swap_pages();
}

Result<void> MemoryManager::vm_enough_memory(u64 pages, const AddressSpace* space)
{
    // Linux's __vm_enough_memory (mm/util.c, 6.1): the charge is made first, then checked.
    m_committed += pages;
    switch (m_sysctl.overcommit_memory) {
    case OvercommitMode::Always: return {};
    case OvercommitMode::Guess:
        if (pages > total_ram_pages() + total_swap_pages())
            break;
        return {};
    case OvercommitMode::Never: {
        u64 allowed = commit_limit_pages();
        // Processes here run as root (CAP_SYS_ADMIN), so the admin reserve stays available; the
        // user reserve is kept from a process's own growth.
        if (space) {
            u64 reserve = std::min(space->total_vm() / 32, m_sysctl.user_reserve_kbytes >> (PAGE_SHIFT - 10));
            allowed = allowed > reserve ? allowed - reserve : 0;
        }
        if (m_committed < allowed)
            return {};
        break;
    }
    }
    m_committed -= pages;
    return Error::from_errno(ENOMEM, "overcommit limit reached");
}

void MemoryManager::vm_unacct_memory(u64 pages)
{
    VERIFY(m_committed >= pages);
    m_committed -= pages;
}

} // namespace kioku
