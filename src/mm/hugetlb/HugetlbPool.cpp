#include "mm/hugetlb/HugetlbPool.h"

#include <algorithm>

#include "base/Assert.h"
#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AnonVma.h"

namespace kioku {

// ==== Hstate ====

Hstate::Hstate(MmCore& mm, unsigned order)
    : m_mm(mm)
    , m_order(order)
{
}

Hstate::~Hstate() = default;

bool Hstate::gigantic() const
{
    return m_order > MAX_ORDER;
}

void Hstate::prepare_frames(Pfn head)
{
    FrameTable& frames = m_mm.frames();
    for (u64 i = 0; i < pages_per_huge(); ++i) {
        Frame& f = frames[head + i];
        f.flags = FF_KERNEL | (i == 0 ? FF_HEAD : FF_TAIL);
        f.refcount = 0;
        f.mapcount = 0;
    }
    Frame& h = frames[head];
    h.order = static_cast<u8>(m_order);
    h.set_owner(this);
    h.private_data = 0;
}

bool Hstate::range_free(Pfn first, u64 count) const
{
    // A free aligned range is covered exactly by free buddy blocks, met head after head.
    const FrameTable& frames = m_mm.frames();
    Pfn end = first + count;
    for (Pfn p = first; p < end;) {
        if (!frames.contains(p))
            return false;
        const Frame& f = frames[p];
        if (!f.has(FF_BUDDY))
            return false;
        p += u64{1} << f.order;
    }
    return true;
}

std::optional<Pfn> Hstate::alloc_gigantic()
{
    // alloc_contig_pages: the first suitably aligned range of free frames within one zone.
    u64 count = pages_per_huge();
    for (auto& zone : m_mm.allocator().zones()) {
        u64 first = (zone->start_pfn().value() + count - 1) & ~(count - 1);
        u64 end = zone->start_pfn().value() + zone->spanned_pages();
        for (u64 base = first; base + count <= end; base += count) {
            if (!range_free(Pfn(base), count))
                continue;
            for (u64 i = 0; i < count; ++i)
                VERIFY(zone->take_specific(Pfn(base + i)) && "a frame of a free range was not free");
            return Pfn(base);
        }
    }
    return std::nullopt;
}

std::optional<Pfn> Hstate::alloc_fresh()
{
    std::optional<Pfn> head;
    if (gigantic()) {
        head = alloc_gigantic();
    } else {
        head = m_mm.allocator().allocate(m_order);
        m_mm.vmstat().add(head ? VmItem::HtlbBuddyAllocSuccess : VmItem::HtlbBuddyAllocFail, 1);
    }
    if (!head)
        return std::nullopt;
    prepare_frames(*head);
    m_pages.insert(head->value());
    return head;
}

void Hstate::free_fresh(Pfn head)
{
    m_pages.erase(head.value());
    FrameTable& frames = m_mm.frames();
    for (u64 i = 0; i < pages_per_huge(); ++i)
        frames[head + i] = Frame{};
    // The contents are garbage now; give the host memory back so the frames read as zero again.
    m_mm.memory().discard(head, pages_per_huge());
    Order chunk = std::min<Order>(m_order, MAX_ORDER);
    for (u64 i = 0; i < pages_per_huge(); i += u64{1} << chunk)
        m_mm.allocator().free(head + i, chunk);
}

void Hstate::enqueue(Pfn head)
{
    m_free_list.push_back(head);
}

bool Hstate::alloc_surplus()
{
    // Gigantic pages are never allocated as surplus (alloc_surplus_hugetlb_folio).
    if (gigantic() || m_surplus >= m_nr_overcommit)
        return false;
    auto head = alloc_fresh();
    if (!head)
        return false;
    ++m_nr;
    ++m_surplus;
    enqueue(*head);
    return true;
}

bool Hstate::remove_free_page(bool acct_surplus)
{
    if (m_free_list.empty())
        return false;
    Pfn head = m_free_list.back();
    m_free_list.pop_back();
    --m_nr;
    if (acct_surplus)
        --m_surplus;
    free_fresh(head);
    return true;
}

void Hstate::set_max_huge_pages(u64 count)
{
    // Grow: surplus pages become persistent first, then fresh pages come from the buddy allocator.
    while (count > persistent() && m_surplus > 0)
        --m_surplus;
    while (count > persistent()) {
        auto head = alloc_fresh();
        if (!head)
            break;
        ++m_nr;
        enqueue(*head);
    }
    // Shrink: never below what is in use or reserved; free pages go back to the buddy allocator,
    // and what cannot be freed is counted as surplus, to be freed when its last user lets go.
    u64 min_count = std::max(count, m_resv + m_nr - free());
    while (min_count < persistent() && remove_free_page(false)) {
    }
    while (count < persistent() && m_surplus < m_nr)
        ++m_surplus;
}

Result<void> Hstate::gather_surplus(i64 delta)
{
    i64 needed = static_cast<i64>(m_resv) + delta - static_cast<i64>(free());
    if (needed <= 0) {
        m_resv += static_cast<u64>(delta);
        return {};
    }
    // The surplus pages go straight onto the free list; on failure they are given back.
    i64 allocated = 0;
    while (allocated < needed && alloc_surplus())
        ++allocated;
    if (allocated < needed) {
        for (i64 i = 0; i < allocated; ++i)
            remove_free_page(true);
        return Error::from_errno(ENOMEM, "the huge page pool cannot back the reservation");
    }
    m_resv += static_cast<u64>(delta);
    return {};
}

void Hstate::return_unused_surplus(u64 unused_resv)
{
    m_resv -= unused_resv;
    u64 nr_pages = std::min(unused_resv, m_surplus);
    while (nr_pages-- && remove_free_page(true)) {
    }
}

Result<void> Hstate::acct_memory(i64 delta)
{
    if (delta > 0) {
        TRY(gather_surplus(delta));
        if (static_cast<u64>(delta) > free()) {
            return_unused_surplus(static_cast<u64>(delta));
            return Error::from_errno(ENOMEM, "not enough free huge pages");
        }
    } else if (delta < 0) {
        return_unused_surplus(static_cast<u64>(-delta));
    }
    return {};
}

std::optional<Pfn> Hstate::alloc_page(bool reserved)
{
    // Without a reservation a page may only come from the free pages nobody was promised.
    if (reserved || free() > m_resv) {
        if (!m_free_list.empty()) {
            Pfn head = m_free_list.back();
            m_free_list.pop_back();
            if (reserved)
                --m_resv;
            m_mm.frames()[head].refcount = 1;
            return head;
        }
    }
    if (!alloc_surplus())
        return std::nullopt;
    Pfn head = m_free_list.back();
    m_free_list.pop_back();
    if (reserved)
        --m_resv;
    m_mm.frames()[head].refcount = 1;
    return head;
}

void Hstate::abandon_page(Pfn head, bool reserved)
{
    if (reserved)
        ++m_resv;
    put_page(head);
}

void Hstate::get_page(Pfn head)
{
    ++m_mm.frames()[head].refcount;
}

void Hstate::put_page(Pfn head)
{
    Frame& f = m_mm.frames()[head];
    VERIFY(f.refcount > 0 && "a huge page freed twice");
    if (--f.refcount > 0)
        return;
    VERIFY(f.mapcount == 0 && "a huge page freed while mapped");
    f.private_data = 0;
    f.index = 0;
    if (m_surplus > 0) {
        --m_nr;
        --m_surplus;
        free_fresh(head);
        return;
    }
    m_mm.allocator().frames_changed(head, pages_per_huge());
    enqueue(head);
}

bool Hstate::check(std::string* why) const
{
    u64 in_use = 0;
    for (u64 head : m_pages)
        in_use += m_mm.frames()[Pfn(head)].refcount > 0;
    if (m_pages.size() != m_nr || free() + in_use != m_nr) {
        *why = name() + ": " + std::to_string(m_nr) + " pages counted, " + std::to_string(m_pages.size()) +
               " owned, " + std::to_string(free()) + " free + " + std::to_string(in_use) + " in use";
        return false;
    }
    if (m_resv > free() || m_surplus > m_nr) {
        *why = name() + ": resv " + std::to_string(m_resv) + " / surplus " + std::to_string(m_surplus) +
               " beyond free " + std::to_string(free()) + " / total " + std::to_string(m_nr);
        return false;
    }
    return true;
}

// ==== HugetlbPool ====

HugetlbPool::HugetlbPool(MmCore& mm)
    : m_mm(mm)
{
    m_hstates[0] = std::make_unique<Hstate>(mm, HUGETLB_ORDER_2M);
    m_hstates[1] = std::make_unique<Hstate>(mm, HUGETLB_ORDER_1G);
}

HugetlbPool::~HugetlbPool()
{
    // Files still held elsewhere no longer call back once the pool is gone.
    *m_alive = false;
}

Hstate* HugetlbPool::hstate_for_shift(unsigned shift)
{
    if (shift == 0)
        return &default_hstate();
    for (auto& h : m_hstates)
        if (h->shift() == shift)
            return h.get();
    return nullptr;
}

Hstate* HugetlbPool::hstate_of(Pfn pfn) const
{
    if (!m_mm.frames().contains(pfn))
        return nullptr;
    const Frame& f = m_mm.frames()[pfn];
    if (!f.has(FF_HEAD) || !f.has(FF_KERNEL))
        return nullptr;
    for (auto& h : m_hstates)
        if (f.hstate() == h.get())
            return h.get();
    return nullptr;
}

u64 HugetlbPool::total_kb() const
{
    u64 kb = 0;
    for (auto& h : m_hstates)
        kb += h->nr() * h->kb();
    return kb;
}

std::shared_ptr<Inode> HugetlbPool::create_file(Hstate& h, std::string name, u64 size, std::optional<u64> ino)
{
    std::weak_ptr<bool> alive = m_alive;
    auto* inode = new Inode(m_mm.page_cache(), Inode::Kind::Shmem, ino ? *ino : m_next_ino++, std::move(name),
                            -1, size);
    m_files[inode].hstate = &h;
    return std::shared_ptr<Inode>(inode, [this, alive](Inode* dying) {
        if (auto live = alive.lock(); live && *live)
            file_gone(dying);
        delete dying;
    });
}

HugetlbFile* HugetlbPool::file_of(const Inode* inode)
{
    auto it = m_files.find(inode);
    return it == m_files.end() ? nullptr : &it->second;
}

void HugetlbPool::truncate_file(Inode& inode, u64 from, u64 to)
{
    HugetlbFile* file = file_of(&inode);
    if (!file)
        return;
    u64 freed = 0;
    for (auto it = file->pages.lower_bound(from); it != file->pages.end() && it->first < to;) {
        Frame& f = m_mm.frames()[it->second];
        VERIFY(f.mapcount == 0 && "truncating a mapped huge page");
        f.private_data = 0;
        file->hstate->put_page(it->second);
        it = file->pages.erase(it);
        ++freed;
    }
    u64 removed = 0;
    for (auto it = file->resv.lower_bound(from); it != file->resv.end() && *it < to;
         it = file->resv.erase(it))
        ++removed;
    // hugetlb_unreserve_pages: reservations never turned into pages are given back.
    if (removed > freed)
        (void)file->hstate->acct_memory(-static_cast<i64>(removed - freed));
}

void HugetlbPool::file_gone(const Inode* inode)
{
    if (!m_files.count(inode))
        return;
    truncate_file(const_cast<Inode&>(*inode), 0);
    m_files.erase(inode);
}

HugetlbPrivateResv* HugetlbPool::private_resv(const std::shared_ptr<AnonVma>& anon)
{
    if (!anon)
        return nullptr;
    auto it = m_private.find(anon.get());
    if (it == m_private.end())
        return nullptr;
    if (it->second.anon.lock() != anon) {
        m_private.erase(it); // a stale entry of an AnonVma that died at the same address
        return nullptr;
    }
    return &it->second;
}

HugetlbPrivateResv& HugetlbPool::add_private_resv(const std::shared_ptr<AnonVma>& anon, AddressSpace* owner,
                                                  Hstate& h)
{
    for (auto it = m_private.begin(); it != m_private.end();)
        it = it->second.anon.expired() ? m_private.erase(it) : std::next(it);
    HugetlbPrivateResv& r = m_private[anon.get()];
    r = HugetlbPrivateResv{};
    r.anon = anon;
    r.owner = owner;
    r.hstate = &h;
    return r;
}

} // namespace kioku
