#include "mm/thp/Thp.h"

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "mm/compaction/Compactor.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Rmap.h"

namespace kioku {

using namespace isa;

namespace {

constexpr u64 NS_PER_MS = 1'000'000;

u64 pmd_base(VirtAddr va)
{
    return va.value() & ~(HPAGE_PMD_SIZE - 1);
}

} // namespace

Pfn compound_head(const FrameTable& frames, Pfn pfn)
{
    if (!frames[pfn].has(FF_TAIL))
        return pfn;
    // Compound pages are aligned to their size: the head is the first aligned frame below with
    // FF_HEAD and an order that reaches pfn (THPs, hugetlb pages and slabs alike).
    for (unsigned order = 1; order < 64; ++order) {
        Pfn candidate(pfn.value() & ~((u64{1} << order) - 1));
        if (!frames.contains(candidate))
            break;
        const Frame& f = frames[candidate];
        if (f.has(FF_HEAD) && f.order == order)
            return candidate;
    }
    VERIFY(false && "a tail frame without a head");
    return pfn;
}

Thp::Thp(MmCore& mm)
    : m_mm(mm)
{
}

Thp::~Thp() = default;

bool Thp::is_huge_zero(Pfn pfn) const
{
    return m_huge_zero && pfn >= *m_huge_zero && pfn < *m_huge_zero + HPAGE_PMD_NR;
}

// ==== Eligibility ====

bool Thp::vma_allowed(const AddressSpace& space, const Vma& vma) const
{
    // hugepage_vma_check for anonymous memory: the sysfs mode, the VMA's advice, prctl, and the
    // kinds of VMA THP is never used for (shared, file, hugetlb, special; locked in kioku).
    if (m_settings.enabled == ThpMode::Never || space.thp_disabled())
        return false;
    if (vma.flags & (VM_NOHUGEPAGE | VM_HUGETLB | VM_LOCKED | VM_SHARED | VM_IO | VM_PFNMAP | VM_MIXEDMAP))
        return false;
    if (!vma.is_anonymous())
        return false;
    return m_settings.enabled == ThpMode::Always || (vma.flags & VM_HUGEPAGE);
}

bool Thp::fault_allowed(const AddressSpace& space, const Vma& vma, VirtAddr va) const
{
    if (!vma_allowed(space, vma))
        return false;
    // transhuge_vma_suitable: the aligned range lies in the VMA. Linux checks no pgoff alignment
    // for anonymous memory, and none is needed: page i of the THP has index head index + i
    // whatever the VMA's pgoff.
    u64 base = pmd_base(va);
    return base >= vma.start.value() && base + HPAGE_PMD_SIZE <= vma.end.value();
}

bool Thp::direct_compaction_allowed(const Vma& vma) const
{
    // alloc_hugepage_direct_gfpmask: which settings let the faulting task stall for compaction.
    bool advised = vma.flags & VM_HUGEPAGE;
    switch (m_settings.defrag) {
    case ThpDefrag::Always: return true;
    case ThpDefrag::DeferMadvise:
    case ThpDefrag::Madvise: return advised;
    case ThpDefrag::Defer:
    case ThpDefrag::Never: return false;
    }
    return false;
}

// ==== Allocation and mapping ====

std::optional<Pfn> Thp::alloc_huge_page(bool direct_compaction)
{
    // A THP is never worth reclaiming for here, and never allowed in fixed-frame mode.
    if (m_mm.user_frame_limit())
        return std::nullopt;
    // Nor charged past memory.max: it falls back to 4 KiB pages (thp_fault_fallback_charge).
    if (!m_mm.try_charge(m_mm.memcg().target(), HPAGE_PMD_NR, false)) {
        m_mm.vmstat().inc(VmItem::ThpFaultFallbackCharge);
        return std::nullopt;
    }
    auto pfn = m_mm.allocator().allocate(HPAGE_PMD_ORDER);
    if (!pfn && direct_compaction) {
        MmCore::Memstall stall(m_mm); // __alloc_pages_direct_compact
        if (m_mm.compactor().compact_for_allocation(HPAGE_PMD_ORDER))
            pfn = m_mm.allocator().allocate(HPAGE_PMD_ORDER);
    }
    if (pfn) // charged whole to the active memory cgroup, as a 4 KiB page would be
        m_mm.memcg().charge(*pfn, HPAGE_PMD_NR, m_mm.memcg().target());
    else
        m_mm.memcg().cancel(m_mm.memcg().target(), HPAGE_PMD_NR);
    return pfn;
}

void Thp::prep_huge_page(Pfn head, AddressSpace& space, Vma& vma, VirtAddr base)
{
    // prep_compound_page plus folio_add_new_anon_rmap's owner and index.
    AnonVma& anon = space.anon_vma_prepare(vma);
    FrameTable& frames = m_mm.frames();
    Frame& h = frames[head];
    h.flags = FF_ANON | FF_SWAPBACKED | FF_UPTODATE | FF_HEAD;
    h.order = HPAGE_PMD_ORDER;
    h.refcount = 1;
    h.mapcount = 0;
    h.set_owner(&anon);
    h.index = vma.page_index(base);
    for (u64 i = 1; i < HPAGE_PMD_NR; ++i) {
        Frame& t = frames[head + i];
        t.flags = FF_ANON | FF_TAIL;
        t.refcount = 0;
        t.mapcount = 0;
        t.clear_owner();
        t.index = 0;
    }
}

void Thp::add_huge_rmap(AddressSpace& space, Pfn head)
{
    Frame& f = m_mm.frames()[head];
    if (f.mapcount++ == 0) {
        m_mm.vmstat().add(VmItem::NrAnonPages, static_cast<i64>(HPAGE_PMD_NR));
        m_mm.vmstat().add(VmItem::NrAnonTransparentHugepages, static_cast<i64>(HPAGE_PMD_NR));
    }
    space.rss().anon += static_cast<i64>(HPAGE_PMD_NR);
}

void Thp::remove_huge_rmap(AddressSpace& space, Pfn head)
{
    Frame& f = m_mm.frames()[head];
    VERIFY(f.mapcount > 0 && "unmapping a THP nobody maps");
    if (--f.mapcount == 0) {
        m_mm.vmstat().add(VmItem::NrAnonPages, -static_cast<i64>(HPAGE_PMD_NR));
        m_mm.vmstat().add(VmItem::NrAnonTransparentHugepages, -static_cast<i64>(HPAGE_PMD_NR));
    }
    space.rss().anon -= static_cast<i64>(HPAGE_PMD_NR);
}

void Thp::map_huge_page(AddressSpace& space, Pfn head, PageSlot pmd, u64 bits)
{
    m_mm.lru().add_new(head);
    add_huge_rmap(space, head);
    pmd.set(make_pte(head.value(), bits));
}

void Thp::put_huge_page(Pfn head)
{
    Frame& f = m_mm.frames()[head];
    VERIFY(f.has(FF_HEAD) && f.refcount > 0);
    if (--f.refcount > 0)
        return;
    VERIFY(f.mapcount == 0 && "a THP freed while still mapped");
    m_mm.memcg().uncharge(head, HPAGE_PMD_NR);
    m_mm.lru().remove(head);
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i) {
        Frame& p = m_mm.frames()[head + i];
        p.flags = 0;
        p.clear_owner();
        p.index = 0;
        p.private_data = 0;
    }
    f.order = 0;
    m_mm.allocator().free(head, HPAGE_PMD_ORDER);
}

std::optional<Pfn> Thp::get_huge_zero_page()
{
    if (m_huge_zero)
        return m_huge_zero;
    auto pfn = m_mm.allocator().allocate(HPAGE_PMD_ORDER);
    if (!pfn) {
        m_mm.vmstat().inc(VmItem::ThpZeroPageAllocFailed);
        return std::nullopt;
    }
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i) {
        m_mm.memory().zero_frame(*pfn + i);
        m_mm.frames()[*pfn + i].flags = FF_RESERVED | FF_ZERO | FF_UPTODATE;
    }
    m_mm.vmstat().inc(VmItem::ThpZeroPageAlloc);
    m_huge_zero = pfn;
    return pfn;
}

// ==== Faults ====

std::optional<FaultOutcome> Thp::handle_fault(AddressSpace& space, Vma& vma, VirtAddr va, bool write)
{
    if (!vma.is_anonymous() || (vma.flags & VM_HUGETLB))
        return std::nullopt;
    VirtAddr base(pmd_base(va));
    if (auto leaf = space.page_table().huge_leaf(va); leaf && leaf->level == 1)
        return huge_pmd_fault(space, vma, base, leaf->entry, write);
    if (!fault_allowed(space, vma, va))
        return std::nullopt;
    PageSlot pmd = space.page_table().entry_at(base, 1, true);
    if (!pmd)
        return FaultOutcome::Oom;
    if (*pmd != 0)
        return std::nullopt; // a PTE table is there already: the 4 KiB path serves it
    return anonymous_huge_fault(space, vma, base, pmd, write);
}

std::optional<FaultOutcome> Thp::anonymous_huge_fault(AddressSpace& space, Vma& vma, VirtAddr base,
                                                      PageSlot pmd, bool write)
{
    // do_huge_pmd_anonymous_page. Every leaf installed here gets its deposited PTE table first;
    // a table that cannot be had is VM_FAULT_OOM, as pte_alloc_one's failure is in Linux.
    PageTable& pt = space.page_table();
    u64 bits = pte_bits_for(vma);
    if (!write && m_settings.use_zero_page) {
        auto table = pt.allocate_table();
        if (!table)
            return FaultOutcome::Oom;
        if (auto zero = get_huge_zero_page()) {
            space.anon_vma_prepare(vma);
            pt.deposit(base, *table);
            pmd.set(make_pte(zero->value(), (bits & ~PTE_W) | PTE_A));
            return FaultOutcome::Minor;
        }
        // Without the huge zero page Linux counts a fallback and maps the range at 4 KiB.
        pt.release_table(*table);
        m_mm.vmstat().inc(VmItem::ThpFaultFallback);
        return std::nullopt;
    }
    auto head = alloc_huge_page(direct_compaction_allowed(vma));
    if (!head) {
        m_mm.vmstat().inc(VmItem::ThpFaultFallback);
        return std::nullopt;
    }
    auto table = pt.allocate_table();
    if (!table) {
        m_mm.memcg().uncharge(*head, HPAGE_PMD_NR);
        m_mm.allocator().free(*head, HPAGE_PMD_ORDER);
        return FaultOutcome::Oom;
    }
    for (u64 i = 0; i < HPAGE_PMD_NR; ++i)
        m_mm.memory().zero_frame(*head + i);
    m_mm.clock().advance(m_mm.clock().costs().zero_page_fill_ns * HPAGE_PMD_NR);
    prep_huge_page(*head, space, vma, base);
    pt.deposit(base, *table);
    // maybe_mkwrite: writable only where the VMA allows it (a forced write does not make it so).
    map_huge_page(space, *head, pmd, bits | ((vma.flags & VM_WRITE) ? PTE_W : 0) | PTE_A | PTE_D);
    m_mm.vmstat().inc(VmItem::ThpFaultAlloc);
    return FaultOutcome::Minor;
}

std::optional<FaultOutcome> Thp::huge_pmd_fault(AddressSpace& space, Vma& vma, VirtAddr base, PageSlot pmd,
                                                bool write)
{
    Pfn head = pte_pfn(*pmd);
    if (!write || (*pmd & PTE_W)) {
        // huge_pmd_set_accessed: a spurious fault on a leaf that already allows the access.
        pmd.set_access_flags(PTE_A | (write ? PTE_D : 0));
        return FaultOutcome::Minor;
    }
    if (is_huge_zero(head)) {
        // do_huge_pmd_wp_page on the huge zero page: split the PMD, then the 4 KiB path copies.
        split_zero_pmd(space, base);
        return std::nullopt;
    }
    const Frame& f = m_mm.frames()[head];
    if (f.mapcount == 1 && f.refcount == 1 && !f.has(FF_SWAPCACHE)) {
        // Exclusively owned: reuse it in place.
        pmd.set_access_flags(((vma.flags & VM_WRITE) ? PTE_W : 0) | PTE_A | PTE_D);
        return FaultOutcome::Minor;
    }
    // Shared with another address space: split and copy the one 4 KiB page on the PTE path.
    split_huge_page(head);
    (void)vma;
    return std::nullopt;
}

// ==== Splitting ====

void Thp::split_pmd(AddressSpace& space, VirtAddr base, std::optional<Pfn> every)
{
    // The leaf's deposited table becomes its PTE table, so this needs no memory.
    bool split = space.page_table().split_leaf(base, every);
    VERIFY(split && "a THP leaf without its deposited table");
    m_mm.vmstat().inc(VmItem::ThpSplitPmd);
}

void Thp::split_zero_pmd(AddressSpace& space, VirtAddr base)
{
    // __split_huge_zero_page_pmd: the same read-only mapping, now of the 4 KiB zero page.
    if (!space.page_table().huge_leaf(base))
        return;
    split_pmd(space, base, m_mm.zero_pfn());
}

bool Thp::split_huge_page(Pfn head)
{
    FrameTable& frames = m_mm.frames();
    Frame& h = frames[head];
    VERIFY(h.has(FF_HEAD) && "split_huge_page on a page that is not a THP head");
    // First every PMD mapping becomes a PTE table (__split_huge_pmd for each mapping).
    Rmap(m_mm).for_each_huge_mapping(
        head, [&](AddressSpace& space, Vma&, VirtAddr base, PageSlot) { split_pmd(space, base); });
    // Then the compound page becomes 512 pages (__split_huge_page): each is mapped wherever the
    // head was, so it takes the head's mapping count as its references and mappings.
    bool was_mapped = h.mapcount > 0;
    LruList list = Lru::list_of(h);
    bool on_lru = h.has(FF_LRU);
    m_mm.lru().split_compound(head); // the head's list now counts it as one page
    u32 inherited = h.flags & (FF_ANON | FF_SWAPBACKED | FF_UPTODATE | FF_DIRTY | FF_REFERENCED);
    for (u64 i = 1; i < HPAGE_PMD_NR; ++i) {
        Frame& t = frames[head + i];
        t.flags = inherited;
        t.refcount = h.mapcount;
        t.mapcount = h.mapcount;
        t.copy_owner(h);
        t.index = h.index + i;
        t.order = 0;
        if (t.refcount == 0) {
            // Nobody maps the page (only a pin held the THP): the tail has no use and goes back.
            t.flags = 0;
            t.clear_owner();
            t.index = 0;
            m_mm.memcg().uncharge(head + i, 1);
            m_mm.allocator().free(head + i, 0);
            continue;
        }
        if (on_lru) {
            m_mm.lru().add_new(head + i);
            if (Lru::list_of(t) != list)
                m_mm.lru().move(head + i, list);
        }
    }
    h.clear(FF_HEAD);
    h.order = 0;
    if (was_mapped)
        m_mm.vmstat().add(VmItem::NrAnonTransparentHugepages, -static_cast<i64>(HPAGE_PMD_NR));
    m_mm.vmstat().inc(VmItem::ThpSplitPage);
    return true;
}

void Thp::split_range(AddressSpace& space, VirtAddr start, VirtAddr end)
{
    std::vector<VirtAddr> bases;
    space.page_table().for_each(
        start, end, [](VirtAddr, PageSlot) {},
        [&](VirtAddr base, unsigned level, PageSlot) {
            if (level == 1)
                bases.push_back(base);
        });
    for (VirtAddr base : bases) {
        auto leaf = space.page_table().huge_leaf(base);
        if (!leaf || leaf->level != 1)
            continue;
        Pfn pfn = pte_pfn(*leaf->entry);
        if (is_huge_zero(pfn))
            split_zero_pmd(space, base);
        else if (m_mm.frames()[pfn].has(FF_HEAD))
            split_huge_page(pfn);
    }
}

void Thp::split_partial(AddressSpace& space, VirtAddr start, VirtAddr end)
{
    // Only the 2 MiB ranges holding the two edges can be covered in part.
    for (VirtAddr edge : {start, end}) {
        if ((edge.value() & (HPAGE_PMD_SIZE - 1)) == 0)
            continue;
        VirtAddr base(pmd_base(edge));
        split_range(space, base, base + PAGE_SIZE);
    }
}

// ==== Whole-PMD operations ====

void Thp::zap_huge_pmd(AddressSpace& space, VirtAddr base, PageSlot entry)
{
    u64 old = entry.clear_flush();
    space.page_table().free_deposit(base); // zap_deposited_table
    Pfn head = pte_pfn(old);
    if (is_huge_zero(head))
        return;
    remove_huge_rmap(space, head);
    put_huge_page(head);
}

Thp::CopyHuge Thp::copy_huge_pmd(AddressSpace& child, VirtAddr base, PageSlot entry, bool cow)
{
    // Linux allocates the child's deposit first and fails the fork with ENOMEM without one.
    PageTable& pt = child.page_table();
    auto table = pt.allocate_table();
    if (!table)
        return CopyHuge::Failed;
    PageSlot dst = pt.entry_at(base, 1, true);
    if (!dst) {
        pt.release_table(*table);
        return CopyHuge::Failed;
    }
    // The allocations may have reclaimed, and reclaim splits a huge page it takes.
    if (!pte_valid(*entry) || !pte_is_leaf(*entry)) {
        pt.release_table(*table);
        return CopyHuge::Split;
    }
    pt.deposit(base, *table);
    Pfn head = pte_pfn(*entry);
    if (cow)
        entry.wrprotect_flush();
    dst.set(*entry & ~PTE_A);
    if (is_huge_zero(head))
        return CopyHuge::Copied;
    ++m_mm.frames()[head].refcount;
    add_huge_rmap(child, head);
    return CopyHuge::Copied;
}

void Thp::change_huge_pmd(const Vma& vma, PageSlot entry)
{
    u64 bits = pte_bits_for(vma);
    Pfn head = pte_pfn(*entry);
    u64 next = (*entry & (PTE_A | PTE_D | PTE_PPN_MASK | PTE_SOFT_DIRTY)) | bits;
    if ((vma.flags & VM_WRITE) && (bits & PTE_V) && !is_huge_zero(head)) {
        // can_change_pmd_writable: an exclusively owned THP may become writable without a fault.
        const Frame& f = m_mm.frames()[head];
        if (f.refcount == 1 && f.mapcount == 1)
            next |= PTE_W;
    }
    entry.modify_flush(next);
}

// ==== khugepaged ====

void Thp::background_work()
{
    u64 now = m_mm.clock().now_ns();
    if (now < m_next_scan_ns)
        return;
    if (m_next_scan_ns == 0) {
        // khugepaged starts sleeping: its first pass comes one interval after boot.
        m_next_scan_ns = now + m_settings.scan_sleep_millisecs * NS_PER_MS;
        return;
    }
    if (m_settings.enabled != ThpMode::Never)
        khugepaged_scan(m_settings.pages_to_scan);
    m_next_scan_ns = m_mm.clock().now_ns() + m_settings.scan_sleep_millisecs * NS_PER_MS;
}

u64 Thp::khugepaged_scan(u64 pages)
{
    // khugepaged_scan_mm_slot: walk the address spaces in ASID order from the cursor; each
    // 2 MiB range of an eligible VMA costs HPAGE_PMD_NR pages of the budget.
    u64 budget = pages;
    const auto& spaces = m_mm.spaces();
    if (spaces.empty())
        return 0;
    for (size_t visited = 0; budget > 0 && visited <= spaces.size(); ++visited) {
        AddressSpace* next = nullptr;
        for (AddressSpace* s : spaces)
            if (s->asid() >= m_scan_asid && (!next || s->asid() < next->asid()))
                next = s;
        if (!next) {
            // Past the last address space: a full scan is done; start again from the first.
            ++m_full_scans;
            m_scan_asid = 0;
            m_scan_address = 0;
            continue;
        }
        if (next->asid() != m_scan_asid)
            m_scan_address = 0;
        m_scan_asid = next->asid();
        scan_space(*next, budget);
        if (budget > 0) {
            m_scan_asid = static_cast<Asid>(next->asid() + 1);
            m_scan_address = 0;
        }
    }
    return pages - budget;
}

void Thp::scan_space(AddressSpace& space, u64& budget)
{
    std::vector<std::pair<Vma*, u64>> ranges;
    for (auto& [key, vma] : space.vmas()) {
        if (!vma_allowed(space, *vma) || vma->end.value() <= m_scan_address)
            continue;
        u64 first = std::max(vma->start.value() + HPAGE_PMD_SIZE - 1, m_scan_address) & ~(HPAGE_PMD_SIZE - 1);
        for (u64 base = first; base + HPAGE_PMD_SIZE <= vma->end.value(); base += HPAGE_PMD_SIZE)
            ranges.emplace_back(vma.get(), base);
    }
    for (auto [vma, base] : ranges) {
        if (budget == 0)
            return;
        budget -= std::min(budget, HPAGE_PMD_NR);
        m_scan_address = base + HPAGE_PMD_SIZE;
        // A collapse may merge or split nothing, but a swap-in may run reclaim: look the VMA up.
        Vma* current = space.vma_containing(VirtAddr(base));
        if (current == vma && fault_allowed(space, *vma, VirtAddr(base)))
            collapse(space, *vma, VirtAddr(base));
    }
}

} // namespace kioku
