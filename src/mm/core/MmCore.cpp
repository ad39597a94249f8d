#include "mm/core/MmCore.h"

#include <algorithm>
#include <utility>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"

namespace kioku {

MmCore::MmCore(PhysicalMemory& memory, TlbFlushPort& tlb, Clock& clock, isa::SatpMode mode)
    : m_memory(memory)
    , m_tlb(tlb)
    , m_clock(clock)
    , m_mode(mode)
    , m_frames(memory.first_pfn(), memory.frame_count())
    , m_allocator(m_frames)
    , m_lru(m_frames)
    , m_swap(std::make_unique<SwapManager>())
{
    // The kernel image stays reserved. The rest of memory goes to the buddy allocator without a
    // pass over its descriptors, which the fresh frame table holds blank already.
    u64 image_pages = std::min(KERNEL_IMAGE_BYTES >> PAGE_SHIFT, memory.frame_count() / 4);
    for (Pfn pfn = m_frames.first_pfn(); pfn < m_frames.first_pfn() + image_pages; ++pfn)
        m_frames[pfn].flags = FF_RESERVED;
    // The zero page sits in the kernel image, as Linux's empty_zero_page does in .bss.
    m_zero_pfn = m_frames.first_pfn();
    m_frames[m_zero_pfn].set(FF_ZERO | FF_UPTODATE);
    m_memory.zero_frame(m_zero_pfn);
    m_allocator.release_fresh_range(m_frames.first_pfn() + image_pages, memory.frame_count() - image_pages);
    m_allocator.setup_watermarks();
    m_swap->set_slot_free_hook([this](SwapEntry e) { m_memcg.uncharge_swap(SwapManager::key(e)); });
}

MmCore::~MmCore() = default;

std::optional<Pfn> MmCore::alloc_user_page(ZeroFill zero)
{
    if (m_user_frame_limit && !make_room_under_frame_limit())
        return std::nullopt;
    MemCgroup& group = m_memcg.target();
    if (!try_charge(group, 1))
        return std::nullopt;
    auto pfn = allocate_page();
    if (!pfn) {
        m_memcg.cancel(group, 1);
        return std::nullopt;
    }
    Frame& f = m_frames[*pfn];
    f.refcount = 1;
    m_memcg.charge(*pfn, 1, group);
    if (zero == ZeroFill::Yes) {
        m_memory.zero_frame(*pfn);
        m_clock.advance(m_clock.costs().zero_page_fill_ns);
    }
    return pfn;
}

void MmCore::put_page(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    if (f.has(FF_HEAD) && f.has(FF_ANON)) {
        free_huge_page(pfn); // a transparent huge page goes back whole
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
    m_memcg.uncharge(pfn, 1);
    m_lru.remove(pfn);
    f.flags = 0;
    f.clear_owner();
    f.index = 0;
    f.private_data = 0;
    m_allocator.free(pfn, 0);
}

std::optional<Pfn> MmCore::allocate_page(MigrateType type)
{
    for (int stalls = 0;; ++stalls) {
        if (auto pfn = m_allocator.allocate(0, AllocFlags::Normal, type)) {
            if (m_allocator.free_pages() < m_allocator.total_watermark(&Watermarks::low))
                wake_kswapd();
            return pfn;
        }
        // Under min: wake kswapd as Linux does, then reclaim in this task's own context.
        if (m_in_direct_reclaim)
            return m_allocator.allocate(0, AllocFlags::Atomic, type);
        {
            Memstall stall(*this);
            m_in_direct_reclaim = true;
            m_vmstat.add(VmItem::AllocstallNormal, 1);
            u64 freed = reclaim_direct(32);
            m_in_direct_reclaim = false;
            if (freed && stalls < 16)
                continue;
            // reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK): pages under writeback become
            // reclaimable when the device completes them; wait for that before declaring memory
            // exhausted.
            if (stalls < 16 && wait_writeback_one())
                continue;
        }
        if (m_oom && stalls < 32 && m_oom->out_of_memory())
            continue;
        return std::nullopt;
    }
}

// Fixed-frame mode: evict through the policy until one more user page fits under the limit.
bool MmCore::make_room_under_frame_limit()
{
    auto resident = [this] {
        u64 pages = 0;
        for (unsigned l = 0; l < static_cast<unsigned>(LruList::Count); ++l)
            pages += m_lru.size(static_cast<LruList>(l));
        return pages;
    };
    Memstall stall(*this);
    while (resident() >= m_user_frame_limit)
        if (reclaim_direct(1) == 0 && !wait_writeback_one())
            return false;
    return true;
}

std::optional<Pfn> MmCore::allocate_table()
{
    // Page tables never move (Linux allocates them without __GFP_MOVABLE), and their allocation
    // takes the same slow path as a user page's: reclaim, then the OOM killer (GFP_PGTABLE_USER).
    MemCgroup& group = m_memcg.target();
    if (!try_charge(group, 1))
        return std::nullopt;
    auto pfn = allocate_page(MigrateType::Unmovable);
    if (!pfn) {
        m_memcg.cancel(group, 1);
        return std::nullopt;
    }
    Frame& f = m_frames[*pfn];
    f.flags = FF_PAGETABLE;
    f.refcount = 1;
    m_memcg.charge(*pfn, 1, group);
    m_memory.zero_frame(*pfn);
    ++m_page_table_pages;
    return pfn;
}

void MmCore::free_table(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    VERIFY(f.has(FF_PAGETABLE));
    m_memcg.uncharge(pfn, 1);
    f.flags = 0;
    f.refcount = 0;
    --m_page_table_pages;
    m_allocator.free(pfn, 0);
}

bool MmCore::try_charge(MemCgroup& group, u64 nr, bool may_reclaim)
{
    if (group.is_root()) { // the root has no limits (cgroup v2 gives it no memory.max or high)
        m_memcg.force(group, nr);
        return true;
    }
    // try_charge_memcg: from the stock if it holds enough of this group's pages; else a batch
    // from the counters, the rest of it stocked (a smaller one when the batch does not fit).
    if (m_memcg.consume_stock(group, nr))
        return true;
    constexpr int MAX_RECLAIM_RETRIES = 16;
    int retries = MAX_RECLAIM_RETRIES;
    u64 batch = std::max(MemcgSet::CHARGE_BATCH, nr);
    bool drained = false;
    for (;;) {
        MemCgroup* over = MemcgSet::over_max(group, batch);
        if (!over) {
            m_memcg.force(group, batch);
            if (batch > nr)
                m_memcg.refill_stock(group, batch - nr);
            note_over_high(group, batch);
            return true;
        }
        if (batch > nr) {
            batch = nr;
            continue;
        }
        MemcgSet::event(*over, &MemcgEvents::max);
        if (!may_reclaim)
            return false;
        u64 reclaimed = 0;
        {
            Memstall stall(*this);
            reclaimed = reclaim_memcg(*over, std::max<u64>(nr, 32));
        }
        if (!MemcgSet::over_max(group, nr))
            continue; // room now: charged above
        if (reclaimed && retries-- > 0)
            continue;
        if (!drained) { // the stock may hold pages of the group that count against it
            m_memcg.drain_stock();
            drained = true;
            continue;
        }
        // mem_cgroup_oom: the OOM killer inside the group; a victim reaped makes room to retry.
        MemcgSet::event(*over, &MemcgEvents::oom);
        if (!m_oom || !m_oom->memcg_out_of_memory(*over))
            return false;
        retries = MAX_RECLAIM_RETRIES;
    }
}

namespace {

constexpr u64 MEMCG_CHARGE_BATCH = 64;
constexpr unsigned MEMCG_DELAY_PRECISION_SHIFT = 20;
constexpr unsigned MEMCG_DELAY_SCALING_SHIFT = 14;
constexpr u64 MEMCG_MAX_HIGH_DELAY_NS = 2'000'000'000; // 2 s
constexpr u64 MEMCG_MIN_HIGH_DELAY_NS = 10'000'000;    // HZ / 100: shorter delays are not taken

// calculate_overage: how far usage is over high, as a fraction of high in 2^-20 units.
u64 overage(u64 usage, u64 high)
{
    if (usage <= high)
        return 0;
    high = std::max<u64>(high, 1);
    return ((usage - high) << MEMCG_DELAY_PRECISION_SHIFT) / high;
}

// mem_find_max_overage: the largest overage of the group and its ancestors.
u64 max_overage(const MemCgroup& group)
{
    u64 most = 0;
    for (const MemCgroup* g = &group; g; g = g->parent())
        most = std::max(most, overage(g->usage(), g->high));
    return most;
}

} // namespace

void MmCore::note_over_high(MemCgroup& group, u64 nr)
{
    // try_charge_memcg: a charge into a group over memory.high (at any level) leaves work for the
    // return to user; past a batch it is done at once.
    bool over = false;
    for (const MemCgroup* g = &group; g && !over; g = g->parent())
        over = g->usage() > g->high;
    if (!over)
        return;
    m_pages_over_high += nr;
    m_over_high = group.id();
    if (m_pages_over_high > MEMCG_CHARGE_BATCH)
        handle_over_high();
}

void MmCore::settle_over_high()
{
    if (m_in_over_high)
        return;
    u64 nr = std::exchange(m_pages_over_high, 0);
    MemCgroup* charged = m_memcg.by_id(m_over_high);
    if (!charged)
        return;
    MemCgroup& group = *charged;
    Memstall stall(*this);
    m_in_over_high = true;
    int retries = 16;
    for (bool retry = false;; retry = true) {
        // reclaim_high: every group over its high, from the charged one up, gives back its pages.
        u64 reclaimed = 0;
        for (MemCgroup* g = &group; g; g = g->parent()) {
            if (g->usage() <= g->high)
                continue;
            MemcgSet::event(*g, &MemcgEvents::high);
            reclaimed += reclaim_memcg(*g, retry ? 32 : nr);
        }
        // calculate_high_delay: quadratic in the overage, for the pages charged over it.
        u64 o = max_overage(group);
        u64 delay = static_cast<u64>((static_cast<unsigned __int128>(o) * o * 1'000'000'000) >>
                                     (MEMCG_DELAY_PRECISION_SHIFT + MEMCG_DELAY_SCALING_SHIFT)) *
                    nr / MEMCG_CHARGE_BATCH;
        delay = std::min(delay, MEMCG_MAX_HIGH_DELAY_NS);
        if (delay <= MEMCG_MIN_HIGH_DELAY_NS)
            break;
        if (reclaimed || retries-- > 0)
            continue;
        // schedule_timeout_killable: the task waits, it does not die.
        if (m_throttle_sleeps)
            m_throttle_ns += delay;
        else
            m_clock.advance(delay);
        break;
    }
    m_in_over_high = false;
}

void MmCore::shrink_to_max(MemCgroup& group)
{
    m_memcg.drain_stock(); // memory_max_write: drain_all_stock
    constexpr int MAX_RECLAIM_RETRIES = 16;
    int reclaims = MAX_RECLAIM_RETRIES;
    while (group.usage() > group.max) {
        if (reclaims) {
            if (!reclaim_memcg(group, group.usage() - group.max))
                --reclaims;
            continue;
        }
        MemcgSet::event(group, &MemcgEvents::oom);
        if (!m_oom || !m_oom->memcg_out_of_memory(group))
            break;
    }
}

MmCore::Memstall::Memstall(MmCore& mm, MemstallKind kind)
    : m_mm(mm)
{
    if (m_mm.m_memstall_depth++ == 0) {
        m_mm.m_memstall_start = m_mm.m_clock.now_ns();
        m_mm.m_memstall_kind = kind;
    }
}

MmCore::Memstall::~Memstall()
{
    if (--m_mm.m_memstall_depth != 0)
        return;
    u64 now = m_mm.m_clock.now_ns();
    if (m_mm.m_memstall_observer && now > m_mm.m_memstall_start)
        m_mm.m_memstall_observer->memstall(m_mm.m_memstall_start, now, m_mm.m_memstall_kind);
}

void MmCore::register_space(AddressSpace* space, Asid asid)
{
    m_spaces.push_back(space);
    m_space_asids.push_back(asid);
}

void MmCore::unregister_space(AddressSpace* space)
{
    auto it = std::find(m_spaces.begin(), m_spaces.end(), space);
    VERIFY(it != m_spaces.end());
    auto at = it - m_spaces.begin();
    Asid asid = m_space_asids[static_cast<size_t>(at)];
    m_spaces.erase(it);
    m_space_asids.erase(m_space_asids.begin() + at);
    // A retired ASID may still tag TLB entries; flush before it can be handed out again.
    m_tlb.flush_asid(asid);
}

Asid MmCore::allocate_asid()
{
    // The smallest ASID no live address space uses; 0 is left to the kernel.
    for (;;) {
        Asid candidate = m_next_asid;
        m_next_asid = static_cast<Asid>(m_next_asid == 0xffff ? 1 : m_next_asid + 1);
        if (std::find(m_space_asids.begin(), m_space_asids.end(), candidate) == m_space_asids.end())
            return candidate;
    }
}

u64 MmCore::total_swap_pages() const
{
    return m_swap->total_pages();
}

u64 MmCore::commit_limit_pages() const
{
    // Linux's vm_commit_limit: overcommit_kbytes if set, else RAM * ratio / 100, plus swap. RAM
    // here leaves out the hugetlb pools, which no ordinary mapping can use.
    u64 allowed;
    if (m_sysctl.overcommit_kbytes)
        allowed = m_sysctl.overcommit_kbytes >> (PAGE_SHIFT - 10);
    else
        allowed = (total_ram_pages() - hugetlb_pages()) * m_sysctl.overcommit_ratio / 100;
    return allowed + total_swap_pages();
}

Result<void> MmCore::vm_enough_memory(u64 pages, u64 caller_total_vm)
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
        u64 reserve = std::min(caller_total_vm / 32, m_sysctl.user_reserve_kbytes >> (PAGE_SHIFT - 10));
        allowed = allowed > reserve ? allowed - reserve : 0;
        if (m_committed < allowed)
            return {};
        break;
    }
    }
    m_committed -= pages;
    return Error::from_errno(ENOMEM, "overcommit limit reached");
}

void MmCore::vm_unacct_memory(u64 pages)
{
    VERIFY(m_committed >= pages);
    m_committed -= pages;
}

} // namespace kioku
