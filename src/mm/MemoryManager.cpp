#include "mm/MemoryManager.h"

#include <algorithm>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/cache/PageCache.h"
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
}

MemoryManager::~MemoryManager() = default;

std::optional<Pfn> MemoryManager::alloc_user_page(ZeroFill zero)
{
    auto pfn = m_allocator.allocate(0);
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
    VERIFY(f.refcount > 0 && "put_page on a page with no references");
    if (--f.refcount > 0)
        return;
    VERIFY(f.mapcount == 0 && "a page freed while still mapped");
    m_lru.remove(pfn);
    f.flags = 0;
    f.owner = nullptr;
    f.index = 0;
    f.private_data = 0;
    m_allocator.free(pfn, 0);
}

std::optional<Pfn> MemoryManager::allocate_table()
{
    auto pfn = m_allocator.allocate(0);
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

void MemoryManager::register_space(AddressSpace* space) { m_spaces.push_back(space); }

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
    // Linux's vm_commit_limit: overcommit_kbytes if set, else RAM * ratio / 100, plus swap.
    u64 allowed;
    if (m_sysctl.overcommit_kbytes)
        allowed = m_sysctl.overcommit_kbytes >> (PAGE_SHIFT - 10);
    else
        allowed = total_ram_pages() * m_sysctl.overcommit_ratio / 100;
    return allowed + total_swap_pages();
}

Result<void> MemoryManager::vm_enough_memory(u64 pages, const AddressSpace* space)
{
    // Linux's __vm_enough_memory (mm/util.c, 6.1): the charge is made first, then checked.
    m_committed += pages;
    switch (m_sysctl.overcommit_memory) {
    case OvercommitMode::Always:
        return {};
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
