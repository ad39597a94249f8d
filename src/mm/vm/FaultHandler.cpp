#include "mm/vm/FaultHandler.h"

#include <cstring>

#include "abi/Signal.h"
#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;

const char* fault_outcome_name(FaultOutcome o)
{
    switch (o) {
    case FaultOutcome::Minor: return "minor";
    case FaultOutcome::Major: return "major";
    case FaultOutcome::SegvMapErr: return "segv-maperr";
    case FaultOutcome::SegvAccErr: return "segv-accerr";
    case FaultOutcome::Sigbus: return "sigbus";
    case FaultOutcome::Oom: return "oom";
    case FaultOutcome::Userfault: return "userfault";
    }
    return "?";
}

FaultSignal fault_signal(FaultOutcome o)
{
    switch (o) {
    case FaultOutcome::Minor:
    case FaultOutcome::Major: return {};
    case FaultOutcome::SegvMapErr: return {SIGSEGV_, SEGV_MAPERR_};
    case FaultOutcome::SegvAccErr: return {SIGSEGV_, SEGV_ACCERR_};
    case FaultOutcome::Sigbus:
    case FaultOutcome::Userfault: return {SIGBUS_, BUS_ADRERR_};
    case FaultOutcome::Oom: return {SIGKILL_, 0};
    }
    return {SIGKILL_, 0};
}

namespace {

// riscv's access_error(): which VMA flag an access needs. A load is allowed by VM_WRITE too.
bool access_allowed(const Vma& vma, AccessType access)
{
    switch (access) {
    case AccessType::Execute: return vma.flags & VM_EXEC;
    case AccessType::Read: return vma.flags & (VM_READ | VM_WRITE);
    case AccessType::Write: return vma.flags & VM_WRITE;
    }
    return false;
}

} // namespace

FaultOutcome FaultHandler::handle(AddressSpace& space, VirtAddr va, AccessType access)
{
    m_mm.clock().advance(m_mm.clock().costs().minor_fault_ns);
    Vma* vma = space.find_vma(va);
    if (!vma)
        return FaultOutcome::SegvMapErr;
    if (va < vma->start) {
        if (!(vma->flags & VM_GROWSDOWN) || !space.expand_stack(*vma, va))
            return FaultOutcome::SegvMapErr;
        vma = space.vma_containing(va);
        VERIFY(vma);
    }
    if (!access_allowed(*vma, access))
        return FaultOutcome::SegvAccErr;
    return handle_in_vma(space, *vma, va, access);
}

const char* fault_cause_name(FaultCause cause)
{
    switch (cause) {
    case FaultCause::ZeroPage: return "zero_page";
    case FaultCause::Anon: return "anon";
    case FaultCause::File: return "file";
    case FaultCause::Cow: return "cow";
    case FaultCause::SwapIn: return "swap_in";
    case FaultCause::Huge: return "huge";
    case FaultCause::Other: return "other";
    case FaultCause::Count: break;
    }
    return "?";
}

void FaultHandler::account(AddressSpace& space, FaultOutcome outcome, FaultCause cause)
{
    // mm_account_fault: pgfault counts every fault that reached the handler; the task's
    // counters only the ones that succeeded.
    m_mm.vmstat().add(VmItem::Pgfault, 1);
    if (outcome == FaultOutcome::Major)
        m_mm.vmstat().add(VmItem::Pgmajfault, 1);
    if (FaultCounters* c = space.fault_counters(); c && fault_resolved(outcome)) {
        if (outcome == FaultOutcome::Major)
            ++c->maj_flt;
        else
            ++c->min_flt;
        ++c->by_cause[static_cast<unsigned>(cause)];
    }
}

FaultOutcome FaultHandler::handle_in_vma(AddressSpace& space, Vma& vma, VirtAddr va, AccessType access)
{
    if (vma.flags & VM_HUGETLB) { // hugetlb memory is mapped only by huge leaves (Hugetlb.cpp)
        FaultOutcome huge = m_mm.hugetlb_ops().fault(space, vma, va, access);
        account(space, huge, FaultCause::Huge);
        if (m_mm.page_events() && fault_resolved(huge))
            m_mm.page_event({PageEventKind::Fault, &space, page_base(va).value(), 0, "huge hugetlb"});
        return huge;
    }
    va = page_base(va);
    bool write = access == AccessType::Write;
    AddressSpace* previous = m_mm.current_space();
    m_mm.set_current_space(&space);
    // A fault charges the space's owner, whoever is being served (a kernel access on another's
    // behalf, a populate).
    ActiveMemcg charge_to(m_mm.memcg(), space.memcg());
    FaultOutcome outcome;
    // Transparent huge pages first: a fault on a huge leaf, or one that maps a new THP. When
    // they decline, the range is mapped (or was just split) at 4 KiB.
    // A range registered for missing faults gets no new THP (do_huge_pmd_anonymous_page hands
    // the fault to user space instead); one already mapped there is handled as usual.
    bool userfault = vma.flags & VM_UFFD_MISSING;
    std::optional<FaultOutcome> huge;
    if (!userfault || space.page_table().huge_leaf(va))
        huge = m_mm.thp_ops().handle_fault(space, vma, va, write);
    PageSlot slot = huge ? PageSlot() : space.page_table().slot(va, true);
    FaultCause cause = FaultCause::Other;
    if (huge) {
        outcome = *huge;
        cause = FaultCause::Huge;
    } else if (!slot) {
        outcome = FaultOutcome::Oom;
    } else if (pte_none(*slot) && userfault && vma.is_anonymous()) {
        outcome = FaultOutcome::Userfault; // do_anonymous_page: handle_userfault(VM_UFFD_MISSING)
    } else if (pte_none(*slot)) {
        if (vma.is_anonymous()) {
            outcome = do_anonymous_page(space, vma, va, slot, write);
            cause = write ? FaultCause::Anon : FaultCause::ZeroPage;
        } else if (!write) {
            outcome = do_read_fault(space, vma, va, slot);
            cause = FaultCause::File;
        } else if (!vma.is_shared()) {
            outcome = do_cow_fault(space, vma, va, slot);
            cause = FaultCause::Cow;
        } else {
            outcome = do_shared_fault(space, vma, va, slot);
            cause = FaultCause::File;
        }
    } else if (pte_is_guard(*slot)) {
        outcome = FaultOutcome::SegvMapErr; // handle_pte_marker: VM_FAULT_SIGSEGV
    } else if (pte_is_swap(*slot)) {
        outcome = do_swap_page(space, vma, va, slot, write);
        cause = FaultCause::SwapIn;
    } else if (write && !(*slot & PTE_W)) {
        outcome = do_wp_page(space, vma, va, slot);
        cause = FaultCause::Cow;
    } else {
        // A spurious fault: the PTE already allows the access, so the TLB held a stale, weaker
        // copy of it. Drop that entry, as Linux's flush_tlb_fix_spurious_fault does.
        slot.set_access_flags(PTE_A | (write ? PTE_D : 0));
        outcome = FaultOutcome::Minor;
    }
    if (fault_resolved(outcome))
        space.fault_done(vma, va, write, slot); // mlock and soft-dirty bookkeeping (Mlock.cpp)
    m_mm.set_current_space(previous);
    account(space, outcome, cause);
    if (m_mm.page_events() && fault_resolved(outcome)) {
        u64 pfn = slot && pte_present(*slot) ? pte_pfn(*slot).value() : 0;
        std::string detail = std::string(fault_cause_name(cause)) + (write ? " write" : " read") +
                             (outcome == FaultOutcome::Major ? ", major" : "");
        m_mm.page_event({cause == FaultCause::SwapIn ? PageEventKind::SwapIn : PageEventKind::Fault, &space,
                         va.value(), pfn, detail});
    }
    space.update_hiwater_rss();
    // balance_dirty_pages_ratelimited, and the flusher's timer, at a point where no page is
    // half set up.
    m_mm.page_cache().flusher().poll();
    return outcome;
}

FaultOutcome FaultHandler::do_anonymous_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot,
                                             bool write)
{
    u64 bits = pte_bits_for(vma);
    if (!write) {
        // Reads of never-written anonymous memory share the zero page, read-only.
        slot.set(make_pte(m_mm.zero_pfn().value(), (bits & ~PTE_W) | PTE_A));
        return FaultOutcome::Minor;
    }
    auto pfn = new_anon_page(space, vma, va, ZeroFill::Yes);
    if (!pfn)
        return FaultOutcome::Oom;
    if (!pte_none(*slot)) {
        m_mm.put_page(*pfn);
        return FaultOutcome::Minor;
    }
    map_new_anon_page(space, vma, *pfn, slot);
    return FaultOutcome::Minor;
}

void FaultHandler::fault_around(AddressSpace& space, Vma& vma, VirtAddr va)
{
    // do_fault_around: map the pages of an aligned window around the fault that are already in
    // the page cache, so that nearby reads need no fault of their own. Bounded by the VMA, the
    // page table (2 MiB) and the end of the file.
    u64 window = m_mm.sysctl().fault_around_bytes;
    if (window <= PAGE_SIZE)
        return;
    u64 start = va.value() & ~(window - 1);
    u64 pmd = va.value() & ~(level_page_size(1) - 1);
    start = std::max({start, vma.start.value(), pmd});
    u64 end = std::min({start + window, vma.end.value(), pmd + level_page_size(1)});
    Inode& inode = *vma.file;
    u64 bits = pte_bits_for(vma) | PTE_A;
    Rmap rmap(m_mm);
    // The window lies in one leaf table (it does not cross a 2 MiB boundary), so its slots are
    // consecutive; one ordered pass over the cached pages of the window maps them.
    PageSlot first_slot = space.page_table().slot(VirtAddr(start), true);
    if (!first_slot)
        return;
    u64 first_index = vma.page_index(VirtAddr(start));
    u64 end_index = std::min(vma.page_index(VirtAddr(end - 1)) + 1, inode.size_in_pages());
    auto& pages = inode.pages();
    for (auto it = pages.lower_bound(first_index); it != pages.end() && it->first < end_index; ++it) {
        PageSlot s = first_slot.next(static_cast<unsigned>(it->first - first_index));
        if (!pte_none(*s))
            continue;
        Pfn pfn = it->second;
        m_mm.get_page(pfn);
        rmap.add_mapping(space, pfn);
        s.set(make_pte(pfn.value(), bits));
    }
}

u64 FaultHandler::read_around_pages() const
{
    return m_mm.sysctl().read_ahead_kb >> (PAGE_SHIFT - 10);
}

bool FaultHandler::shmem_userfault(const Vma& vma, u64 index)
{
    // shmem_get_folio_gfp: a page neither in the cache nor on swap is missing.
    Inode& inode = *vma.file;
    return (vma.flags & VM_UFFD_MISSING) && inode.is_shmem() && !m_mm.page_cache().find(inode, index) &&
           !inode.swapped().count(index);
}

FaultOutcome FaultHandler::do_read_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot)
{
    Inode& inode = *vma.file;
    u64 index = vma.page_index(va);
    if (index >= inode.size_in_pages())
        return FaultOutcome::Sigbus;
    fault_around(space, vma, va);
    if (!pte_none(*slot))
        return FaultOutcome::Minor; // fault-around mapped it
    if (shmem_userfault(vma, index))
        return FaultOutcome::Userfault;
    bool major = false;
    auto page = m_mm.page_cache().get_page(inode, index, read_around_pages(), &major);
    if (page.is_error())
        return FaultOutcome::Oom;
    Pfn pfn = page.value();
    // Map what the read-around brought in, too, as filemap_map_pages does on the retry.
    fault_around(space, vma, va);
    if (pte_none(*slot)) {
        m_mm.get_page(pfn);
        Rmap(m_mm).add_mapping(space, pfn);
        slot.set(make_pte(pfn.value(), pte_bits_for(vma) | PTE_A));
    }
    m_mm.put_page(pfn); // the pin get_page took
    return major ? FaultOutcome::Major : FaultOutcome::Minor;
}

std::optional<Pfn> FaultHandler::new_anon_page(AddressSpace& space, Vma& vma, VirtAddr va, ZeroFill zero)
{
    AnonVma& anon = space.anon_vma_prepare(vma);
    auto pfn = m_mm.alloc_user_page(zero);
    if (!pfn)
        return std::nullopt;
    Frame& f = m_mm.frames()[*pfn];
    f.flags = FF_ANON | FF_SWAPBACKED | FF_UPTODATE;
    f.set_owner(&anon);
    f.index = vma.page_index(va);
    return pfn;
}

namespace {

// maybe_mkwrite: a write fault makes the PTE writable only where the VMA allows writing; a
// write forced into a read-only private mapping (ptrace, /proc/PID/mem) unshares the page and
// leaves it read-only and dirty.
u64 maybe_mkwrite(const Vma& vma)
{
    return (vma.flags & VM_WRITE) ? PTE_W : 0;
}

} // namespace

void FaultHandler::map_new_anon_page(AddressSpace& space, Vma& vma, Pfn pfn, PageSlot slot)
{
    m_mm.lru().add_new(pfn);
    Rmap(m_mm).add_mapping(space, pfn);
    u64 pte = make_pte(pfn.value(), pte_bits_for(vma) | maybe_mkwrite(vma) | PTE_A | PTE_D);
    if (pte_present(*slot))
        slot.modify_flush(pte); // copy-on-write: the old page's translation goes
    else
        slot.set(pte);
}

FaultOutcome FaultHandler::do_cow_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot)
{
    // A write to a private file mapping: copy the file's page into a new anonymous page.
    Inode& inode = *vma.file;
    u64 index = vma.page_index(va);
    if (index >= inode.size_in_pages())
        return FaultOutcome::Sigbus;
    if (shmem_userfault(vma, index))
        return FaultOutcome::Userfault;
    bool major = false;
    auto page = m_mm.page_cache().get_page(inode, index, read_around_pages(), &major);
    if (page.is_error())
        return FaultOutcome::Oom;
    auto copy = new_anon_page(space, vma, va, ZeroFill::No);
    if (!copy) {
        m_mm.put_page(page.value());
        return FaultOutcome::Oom;
    }
    m_mm.memory().copy_frame(*copy, page.value());
    m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
    m_mm.put_page(page.value());
    if (!pte_none(*slot)) {
        m_mm.put_page(*copy); // reclaim changed the slot while we allocated: retry the access
        return FaultOutcome::Minor;
    }
    map_new_anon_page(space, vma, *copy, slot);
    return major ? FaultOutcome::Major : FaultOutcome::Minor;
}

FaultOutcome FaultHandler::do_shared_fault(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot)
{
    Inode& inode = *vma.file;
    u64 index = vma.page_index(va);
    if (index >= inode.size_in_pages())
        return FaultOutcome::Sigbus;
    if (shmem_userfault(vma, index))
        return FaultOutcome::Userfault;
    bool major = false;
    auto page = m_mm.page_cache().get_page(inode, index, read_around_pages(), &major);
    if (page.is_error())
        return FaultOutcome::Oom;
    Pfn pfn = page.value();
    map_shared_page(space, vma, pfn, slot);
    m_mm.put_page(pfn);
    return major ? FaultOutcome::Major : FaultOutcome::Minor;
}

void FaultHandler::map_shared_page(AddressSpace& space, Vma& vma, Pfn pfn, PageSlot slot)
{
    if (!pte_none(*slot))
        return;
    Rmap rmap(m_mm);
    m_mm.get_page(pfn);
    rmap.add_mapping(space, pfn);
    m_mm.page_cache().set_page_dirty(pfn);
    slot.set(make_pte(pfn.value(), pte_bits_for(vma) | maybe_mkwrite(vma) | PTE_A | PTE_D));
}

Result<void> FaultHandler::userfault_fill(AddressSpace& space, Vma& vma, VirtAddr va, const u8* src)
{
    if (vma.flags & VM_HUGETLB)
        return m_mm.hugetlb_ops().userfault_fill(space, vma, va, src);
    va = page_base(va);
    if (space.page_table().huge_leaf(va))
        return Error::from_errno(EEXIST, "a huge page is mapped there");
    PageSlot slot = space.page_table().slot(va, true);
    if (!slot)
        return Error::from_errno(ENOMEM, "no memory for a page table");
    if (!pte_none(*slot))
        return Error::from_errno(EEXIST, "the page is already there");
    if (vma.is_shared() && vma.file && vma.file->is_shmem()) {
        // shmem_mfill_atomic_pte: a new page in the file, mapped here.
        Inode& inode = *vma.file;
        u64 index = vma.page_index(va);
        if (index >= inode.size_in_pages())
            return Error::from_errno(EFAULT, "past the end of the shmem file");
        if (m_mm.page_cache().find(inode, index) || inode.swapped().count(index))
            return Error::from_errno(EEXIST, "the file has a page there");
        bool major = false;
        auto page = m_mm.page_cache().get_page(inode, index, 1, &major); // a zeroed page, pinned
        if (page.is_error())
            return Error::from_errno(ENOMEM, "no memory for the page");
        Pfn pfn = page.value();
        if (src) {
            std::memcpy(m_mm.memory().frame(pfn), src, PAGE_SIZE);
            m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
        }
        map_shared_page(space, vma, pfn, slot);
        m_mm.put_page(pfn);
    } else if (!src) {
        // mfill_atomic_pte_zeropage: the shared zero page, read-only.
        slot.set(make_pte(m_mm.zero_pfn().value(), (pte_bits_for(vma) & ~PTE_W) | PTE_A));
    } else {
        // mfill_atomic_pte_copy: a new anonymous page holding src's bytes.
        auto pfn = new_anon_page(space, vma, va, ZeroFill::No);
        if (!pfn)
            return Error::from_errno(ENOMEM, "no memory for the page");
        std::memcpy(m_mm.memory().frame(*pfn), src, PAGE_SIZE);
        m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
        if (!pte_none(*slot)) {
            m_mm.put_page(*pfn);
            return Error::from_errno(EEXIST, "the page appeared meanwhile");
        }
        map_new_anon_page(space, vma, *pfn, slot);
    }
    space.fault_done(vma, va, false); // mlock bookkeeping
    space.update_hiwater_rss();
    return {};
}

// Takes a page out of the swap cache when nothing else needs its slot: the page is then the only
// copy of the data and can be written in place (Linux's folio_free_swap on a write fault).
bool FaultHandler::try_free_swap(Pfn pfn)
{
    return SwapCache(m_mm).try_free_swap(pfn);
}

FaultOutcome FaultHandler::do_wp_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot)
{
    Pfn old = pte_pfn(*slot);
    Rmap rmap(m_mm);
    bool zero = m_mm.is_zero_pfn(old);
    if (vma.is_shared() && !zero) {
        // wp_page_shared: the first store to a write-notified shared page dirties it.
        m_mm.page_cache().set_page_dirty(old);
        slot.set_access_flags(PTE_W | PTE_A | PTE_D);
        return FaultOutcome::Minor;
    }
    Frame& of = m_mm.frames()[old];
    if (!zero && of.has(FF_ANON) && of.mapcount == 1 && of.refcount == 1 + (of.has(FF_SWAPCACHE) ? 1 : 0) &&
        try_free_swap(old)) {
        // The last user of a copy-on-write page keeps it: no copy needed.
        slot.set_access_flags(maybe_mkwrite(vma) | PTE_A | PTE_D);
        m_mm.vmstat().add(VmItem::Pgreuse, 1);
        return FaultOutcome::Minor;
    }
    if (!zero)
        m_mm.get_page(old); // keep it while allocating: reclaim may unmap it meanwhile
    auto copy = new_anon_page(space, vma, va, zero ? ZeroFill::Yes : ZeroFill::No);
    if (!copy) {
        if (!zero)
            m_mm.put_page(old);
        return FaultOutcome::Oom;
    }
    if (!zero) {
        m_mm.memory().copy_frame(*copy, old);
        m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
    }
    if (!pte_present(*slot) || pte_pfn(*slot) != old || (*slot & PTE_W)) {
        // Reclaim took the page away while we allocated: drop the copy, retry the access.
        m_mm.put_page(*copy);
        if (!zero)
            m_mm.put_page(old);
        return FaultOutcome::Minor;
    }
    u64 old_pte = *slot;
    map_new_anon_page(space, vma, *copy, slot);
    if (!zero) {
        rmap.remove_mapping(space, old, old_pte);
        m_mm.put_page(old); // the PTE's reference
        m_mm.put_page(old); // our pin
    }
    return FaultOutcome::Minor;
}

FaultOutcome FaultHandler::do_swap_page(AddressSpace& space, Vma& vma, VirtAddr va, PageSlot slot, bool write)
{
    // Bring a swapped-out anonymous page back through the swap cache: a page still there (or
    // read ahead) is a minor fault, one read from the device a major fault.
    SwapCache swap_cache(m_mm);
    u64 swap_pte = *slot;
    SwapEntry entry = swap_entry_of(swap_pte);
    bool major = false;
    std::optional<Pfn> pfn = swap_cache.read(entry, &major);
    if (*slot != swap_pte) {
        // Another path resolved or removed the entry while we read: retry the access.
        if (pfn)
            m_mm.put_page(*pfn);
        return FaultOutcome::Minor;
    }
    if (!pfn)
        return FaultOutcome::Oom;
    Frame& f = m_mm.frames()[*pfn];
    if (!f.has_owner()) {
        // A page read into the swap cache belongs to no one until it is mapped.
        f.set_owner(&space.anon_vma_prepare(vma));
        f.index = vma.page_index(va);
    }
    m_mm.swap().release(entry);
    --space.rss().swapents;
    Rmap(m_mm).add_mapping(space, *pfn); // our pin becomes the PTE's reference
    u64 bits = pte_bits_for(vma) | PTE_A;
    // should_try_to_free_swap: a write by the only user, or any fault once swap is half full,
    // lets the slot go.
    if (write && f.mapcount == 1 && swap_cache.try_free_swap(*pfn)) {
        slot.set(make_pte(pfn->value(), bits | maybe_mkwrite(vma) | PTE_D));
        return major ? FaultOutcome::Major : FaultOutcome::Minor;
    }
    if (!write && swap_cache.swap_full())
        swap_cache.try_free_swap(*pfn);
    slot.set(make_pte(pfn->value(), bits & ~PTE_W));
    if (write) {
        FaultOutcome wp = do_wp_page(space, vma, va, slot);
        if (!fault_resolved(wp))
            return wp;
    }
    return major ? FaultOutcome::Major : FaultOutcome::Minor;
}

} // namespace kioku
