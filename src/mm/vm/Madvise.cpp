#include "mm/vm/Madvise.h"
#include "abi/Signal.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/FolioLru.h"
#include "mm/core/MmCore.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/ThpOps.h"

namespace kioku {

using namespace isa;
using namespace abi;

namespace {

bool madvise_behavior_valid(int advice)
{
    // MADV_COLLAPSE (25) waits for transparent huge pages; the hwpoison advice is not modelled.
    // kioku has no KSM: as on a kernel built without CONFIG_KSM, MADV_MERGEABLE and
    // MADV_UNMERGEABLE are unknown advice (EINVAL), and there is no /sys/kernel/mm/ksm.
    if (advice == MADV_MERGEABLE_ || advice == MADV_UNMERGEABLE_)
        return false;
    return (advice >= MADV_NORMAL_ && advice <= MADV_DONTNEED_) ||
           (advice >= MADV_FREE_ && advice <= MADV_DONTNEED_LOCKED_) || advice == MADV_GUARD_INSTALL_ ||
           advice == MADV_GUARD_REMOVE_;
}

// can_madv_lru_vma: locked, PFN-mapped and hugetlb memory is not for the LRU advice.
bool can_madv_lru(const Vma& vma)
{
    return !(vma.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB));
}

constexpr u64 VM_SPECIAL_FLAGS = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

} // namespace

Result<void> AddressSpace::madvise(u64 start, u64 len, int advice)
{
    return MadviseCall(*this).run(start, len, advice);
}

Result<void> MadviseCall::run(u64 start, u64 len_in, int advice)
{
    // do_madvise, in its order of checks.
    if (!madvise_behavior_valid(advice))
        return Error::from_errno(EINVAL, "unknown advice");
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    u64 len = page_round_up(len_in);
    if (len_in && !len)
        return Error::from_errno(EINVAL, "length wraps");
    u64 end = start + len;
    if (end < start)
        return Error::from_errno(EINVAL, "range wraps");
    if (end == start)
        return {};
    if (advice == MADV_POPULATE_READ_ || advice == MADV_POPULATE_WRITE_)
        return madvise_populate(start, end, advice == MADV_POPULATE_WRITE_);
    // madvise_walk_vmas: the advice reaches every mapped part; a hole is reported at the end.
    bool unmapped = false;
    u64 cur = start;
    for (;;) {
        Vma* vma = m_space.find_vma(VirtAddr(cur));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        if (cur < vma->start.value()) {
            unmapped = true;
            cur = vma->start.value();
            if (cur >= end)
                break;
        }
        u64 tmp = std::min(vma->end.value(), end);
        TRY(madvise_vma(*vma, cur, tmp, advice));
        cur = tmp;
        if (cur >= end)
            break;
    }
    if (unmapped)
        return Error::from_errno(ENOMEM, "range not fully mapped");
    return {};
}

Result<void> MadviseCall::madvise_vma(Vma& vma, u64 start, u64 end, int advice)
{
    switch (advice) {
    case MADV_DONTNEED_:
    case MADV_DONTNEED_LOCKED_:
        if (vma.flags & VM_HUGETLB) // whole huge pages only (Hugetlb.cpp)
            end = TRY(m_space.m_mm.hugetlb_ops().dontneed_end(vma, start, end));
        else if ((vma.flags & VM_PFNMAP) || (advice == MADV_DONTNEED_ && (vma.flags & VM_LOCKED)))
            return Error::from_errno(EINVAL, "MADV_DONTNEED on locked or special memory");
        if (start < end)
            m_space.zap_range(vma, VirtAddr(start), VirtAddr(end));
        return {};
    case MADV_FREE_:
        if (!can_madv_lru(vma))
            return Error::from_errno(EINVAL, "MADV_FREE on locked or special memory");
        if (!vma.is_anonymous())
            return Error::from_errno(EINVAL, "MADV_FREE on a file or shared mapping");
        madvise_free(start, end);
        return {};
    case MADV_WILLNEED_: madvise_willneed(vma, start, end); return {};
    case MADV_COLD_:
    case MADV_PAGEOUT_:
        if (!can_madv_lru(vma))
            return Error::from_errno(EINVAL, "LRU advice on locked or special memory");
        madvise_cold_or_pageout(start, end, advice == MADV_PAGEOUT_);
        return {};
    case MADV_REMOVE_: return madvise_remove(vma, start, end);
    case MADV_GUARD_INSTALL_:
    case MADV_GUARD_REMOVE_:
        // is_valid_guard_vma: not hugetlb nor special memory; a locked range may lose its guards
        // but not gain them (that would zap locked pages).
        if ((vma.flags & (VM_HUGETLB | VM_SPECIAL_FLAGS)) ||
            (advice == MADV_GUARD_INSTALL_ && (vma.flags & VM_LOCKED)))
            return Error::from_errno(EINVAL, "guard regions on hugetlb, special or locked memory");
        if (advice == MADV_GUARD_REMOVE_) {
            madvise_guard_remove(start, end);
            return {};
        }
        return madvise_guard_install(vma, start, end);
    default: return madvise_flags(vma, start, end, advice);
    }
}

Result<void> MadviseCall::madvise_guard_install(Vma& vma, u64 start, u64 end)
{
    // madvise_guard_install: the VMA gets an anon_vma so that fork copies its page tables (and
    // the markers with them); what is mapped in the range goes as with MADV_DONTNEED, then each
    // empty PTE becomes a guard marker. Markers already there stay; there is no nesting.
    m_space.anon_vma_prepare(vma);
    m_space.zap_range(vma, VirtAddr(start), VirtAddr(end));
    for (u64 va = start; va < end; va += PAGE_SIZE) {
        PageSlot slot = m_space.m_page_table->slot(VirtAddr(va), true);
        if (!slot)
            return Error::from_errno(ENOMEM, "no memory for a page table");
        if (pte_none(*slot))
            slot.set(PTE_GUARD_MARKER);
    }
    return {};
}

void MadviseCall::madvise_guard_remove(u64 start, u64 end)
{
    // madvise_guard_remove: only the markers go; pages mapped in the range stay. A huge leaf
    // holds no marker.
    m_space.m_page_table->for_each(
        VirtAddr(start), VirtAddr(end),
        [](VirtAddr, PageSlot slot) {
            if (pte_is_guard(*slot))
                slot.clear();
        },
        [](VirtAddr, unsigned, PageSlot) {});
}

Result<void> MadviseCall::madvise_flags(Vma& vma, u64 start, u64 end, int advice)
{
    // madvise_behavior: the advice that only changes the VMA's flags.
    u64 flags = vma.flags;
    switch (advice) {
    case MADV_NORMAL_: flags &= ~u64{VM_SEQ_READ | VM_RAND_READ}; break;
    case MADV_RANDOM_: flags = (flags & ~u64{VM_SEQ_READ}) | VM_RAND_READ; break;
    case MADV_SEQUENTIAL_: flags = (flags & ~u64{VM_RAND_READ}) | VM_SEQ_READ; break;
    case MADV_DONTFORK_: flags |= VM_DONTCOPY; break;
    case MADV_DOFORK_:
        if (flags & VM_IO)
            return Error::from_errno(EINVAL, "MADV_DOFORK on I/O memory");
        flags &= ~u64{VM_DONTCOPY};
        break;
    case MADV_WIPEONFORK_:
        if (vma.file || (flags & VM_SHARED))
            return Error::from_errno(EINVAL, "MADV_WIPEONFORK on a file or shared mapping");
        flags |= VM_WIPEONFORK;
        break;
    case MADV_KEEPONFORK_: flags &= ~u64{VM_WIPEONFORK}; break;
    case MADV_DONTDUMP_: flags |= VM_DONTDUMP; break;
    case MADV_DODUMP_:
        if (!(flags & VM_HUGETLB) && (flags & VM_SPECIAL_FLAGS))
            return Error::from_errno(EINVAL, "MADV_DODUMP on special memory");
        flags &= ~u64{VM_DONTDUMP};
        break;
    case MADV_HUGEPAGE_: flags = (flags & ~u64{VM_NOHUGEPAGE}) | VM_HUGEPAGE; break;
    case MADV_NOHUGEPAGE_: flags = (flags & ~u64{VM_HUGEPAGE}) | VM_NOHUGEPAGE; break;
    default: return Error::from_errno(EINVAL, "unknown advice");
    }
    if (flags == vma.flags)
        return {};
    TRY(m_space.m_mm.hugetlb_ops().split_check(vma, start, end)); // hugetlb_vm_op_split (Hugetlb.cpp)
    m_space.modify_flags(vma, start, end, flags);
    return {};
}

Result<void> MadviseCall::madvise_populate(u64 start, u64 end, bool write)
{
    // faultin_page_range without FOLL_FORCE: the mapping must allow the access. A hole is
    // ENOMEM, a mapping that forbids it EINVAL, a fault that would signal EFAULT.
    FaultHandler& handler = m_space.m_mm.fault_handler();
    u64 cur = start;
    while (cur < end) {
        Vma* vma = m_space.vma_containing(VirtAddr(cur));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        bool allowed = write ? (vma->flags & VM_WRITE) : (vma->flags & VM_READ);
        if (!allowed || (vma->flags & (VM_IO | VM_PFNMAP)))
            return Error::from_errno(EINVAL, "mapping does not allow the access");
        u64 stop = std::min(end, vma->end.value());
        for (; cur < stop; cur += PAGE_SIZE) {
            if (m_space.m_mm.throttle_pending()) // the call takes its memory.high penalty, then runs again
                return Error::from_errno(ERESTARTNOINTR_, "memory.high penalty owed");
            u64 pte = m_space.m_page_table->read(VirtAddr(cur));
            if ((pte & PTE_V) && (!write || (pte & PTE_W)))
                continue;
            FaultOutcome outcome = handler.handle_in_vma(m_space, *vma, VirtAddr(cur),
                                                         write ? AccessType::Write : AccessType::Read);
            if (outcome == FaultOutcome::Oom)
                return Error::from_errno(ENOMEM, "out of memory");
            if (!fault_resolved(outcome))
                return Error::from_errno(EFAULT, "fault would signal");
        }
    }
    return {};
}

void MadviseCall::madvise_free(u64 start, u64 end)
{
    // madvise_free_pte_range: swap entries are released; each exclusively owned anonymous page
    // is cleaned and marked lazily freeable, its PTE made old and clean so that a later store
    // shows in the D bit.
    // Lazy freeing works on 4 KiB pages here: THPs in the range are split first (Linux frees a
    // wholly covered one lazily as one folio).
    m_space.m_mm.thp_ops().split_range(m_space, VirtAddr(start), VirtAddr(end));
    m_space.m_page_table->for_each(VirtAddr(start), VirtAddr(end), [&](VirtAddr, PageSlot slot) {
        u64 pte = *slot;
        if (pte_is_swap(pte)) {
            m_space.release_swap_entry(swap_entry_of(pte));
            slot.clear();
            return;
        }
        if (!pte_present(pte) || m_space.m_mm.is_zero_pfn(pte_pfn(pte)))
            return;
        Pfn pfn = pte_pfn(pte);
        Frame& f = m_space.m_mm.frames()[pfn];
        if (!f.has(FF_ANON))
            return;
        if (f.has(FF_SWAPCACHE) || f.has(FF_DIRTY)) {
            if (f.mapcount != 1 || !SwapCache(m_space.m_mm).try_free_swap(pfn)) // folio_free_swap
                return;
            f.clear(FF_DIRTY);
        }
        slot.clear_bits_flush(PTE_A | PTE_D);
        mark_lazyfree(m_space.m_mm, pfn);
    });
}

void MadviseCall::madvise_willneed(Vma& vma, u64 start, u64 end)
{
    if (vma.file) {
        // vfs_fadvise(POSIX_FADV_WILLNEED): read the range into the page cache, mapping nothing.
        // shmem holds no holes to read and is never swapped here, so there is nothing to do.
        if (vma.file->is_shmem())
            return;
        Inode& inode = *vma.file;
        u64 last = std::min(vma.page_index(VirtAddr(end - 1)) + 1, inode.size_in_pages());
        for (u64 index = vma.page_index(VirtAddr(start)); index < last; ++index) {
            if (m_space.m_mm.page_cache().find(inode, index))
                continue;
            auto page = m_space.m_mm.page_cache().get_page(inode, index, 1, nullptr);
            if (page.is_error())
                return;
            m_space.m_mm.put_page(page.value());
        }
        return;
    }
    // swapin_walk: read swapped-out pages back into the swap cache; the PTEs stay swap entries
    // and the later fault finds the page there (a minor fault).
    std::vector<VirtAddr> swapped;
    m_space.m_page_table->for_each(
        VirtAddr(start), VirtAddr(end),
        [&](VirtAddr va, PageSlot slot) {
            if (pte_is_swap(*slot))
                swapped.push_back(va);
        },
        [](VirtAddr, unsigned, PageSlot) {}); // a huge page is resident
    SwapManager& swap = m_space.m_mm.swap();
    for (VirtAddr va : swapped) {
        u64 pte = m_space.m_page_table->read(va);
        if (!pte_is_swap(pte) || swap.lookup(swap_entry_of(pte)))
            continue;
        auto pfn = m_space.m_mm.alloc_user_page(ZeroFill::No);
        if (!pfn)
            return;
        SwapEntry entry = swap_entry_of(pte);
        if (m_space.m_page_table->read(va) != pte || swap.lookup(entry)) {
            m_space.m_mm.put_page(*pfn); // reclaim ran meanwhile and changed the slot
            continue;
        }
        auto r = swap.area(entry.type)->read_page(entry.offset, m_space.m_mm.memory().frame(*pfn));
        VERIFY(!r.is_error() && "swap device read failed");
        SwapCache(m_space.m_mm).insert_read(entry, *pfn); // the allocation's reference becomes the cache's
        Frame& f = m_space.m_mm.frames()[*pfn];
        f.set_owner(&m_space.anon_vma_prepare(vma));
        f.index = vma.page_index(va);
    }
}

void MadviseCall::madvise_cold_or_pageout(u64 start, u64 end, bool pageout)
{
    // madvise_cold_or_pageout_pte_range: only pages this mapping alone maps are touched; their
    // accessed bits are cleared so reclaim sees them as old. COLD deactivates them; PAGEOUT
    // reclaims them at once.
    std::vector<Pfn> victims;
    Lru& lru = m_space.m_mm.lru();
    // madvise_cold_or_pageout_pte_range: PAGEOUT splits a THP (riscv cannot swap one whole), as
    // does a range covering one in part; COLD deactivates a wholly covered THP as one page.
    if (pageout)
        m_space.m_mm.thp_ops().split_range(m_space, VirtAddr(start), VirtAddr(end));
    else
        m_space.m_mm.thp_ops().split_partial(m_space, VirtAddr(start), VirtAddr(end));
    auto visit = [&](VirtAddr, PageSlot slot) {
        u64 pte = *slot;
        if (!pte_present(pte) || m_space.m_mm.is_zero_pfn(pte_pfn(pte)) ||
            m_space.m_mm.thp_ops().is_huge_zero(pte_pfn(pte)))
            return;
        Pfn pfn = pte_pfn(pte);
        Frame& f = m_space.m_mm.frames()[pfn];
        if (!f.has(FF_LRU) || f.mapcount != 1)
            return;
        slot.mkold_flush();
        f.clear(FF_REFERENCED);
        if (f.has(FF_UNEVICTABLE))
            return;
        if (pageout) {
            victims.push_back(pfn);
        } else if (f.has(FF_ACTIVE)) {
            // folio_deactivate: to the inactive list of its kind.
            lru.move(pfn, f.has(FF_SWAPBACKED) ? LruList::InactiveAnon : LruList::InactiveFile);
            m_space.m_mm.vmstat().add(VmItem::Pgdeactivate, 1);
        }
    };
    m_space.m_page_table->for_each(VirtAddr(start), VirtAddr(end), visit,
                                   [&](VirtAddr base, unsigned level, PageSlot entry) {
                                       if (level == 1)
                                           visit(base, entry);
                                   });
    for (Pfn pfn : victims)
        (void)m_space.m_mm.reclaim_page(pfn);
}

Result<void> MadviseCall::madvise_remove(Vma& vma, u64 start, u64 end)
{
    // madvise_remove: punch the range out of the file behind a shared writable mapping. Every
    // mapping of those file pages loses them; private copies made by copy-on-write stay.
    if (vma.flags & VM_LOCKED)
        return Error::from_errno(EINVAL, "MADV_REMOVE on locked memory");
    if (!vma.file)
        return Error::from_errno(EINVAL, "MADV_REMOVE needs a file mapping");
    if ((vma.flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
        return Error::from_errno(EACCES, "MADV_REMOVE needs a shared writable mapping");
    if (vma.flags & VM_HUGETLB) { // hugetlbfs_punch_hole (Hugetlb.cpp)
        m_space.m_mm.hugetlb_ops().punch_hole(
            *vma.file, (vma.pgoff << PAGE_SHIFT) + (start - vma.start.value()), end - start);
        return {};
    }
    std::shared_ptr<Inode> inode = vma.file;
    u64 first = vma.page_index(VirtAddr(start));
    u64 count = (end - start) >> PAGE_SHIFT;
    if (!inode->is_shmem() &&
        ::fallocate(inode->host_fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(first << PAGE_SHIFT), static_cast<off_t>(count << PAGE_SHIFT)) != 0)
        return Error::from_errno(errno, "punching the host file failed");
    // truncate_pagecache_range waits for the pages' writeback before it drops them.
    if (inode->writeback_pages)
        m_space.m_mm.page_cache().flusher().wait_inode(*inode);
    Rmap rmap(m_space.m_mm);
    std::vector<std::pair<u64, Pfn>> doomed;
    for (auto it = inode->pages().lower_bound(first); it != inode->pages().end() && it->first < first + count;
         ++it)
        doomed.push_back(*it);
    for (auto [index, pfn] : doomed) {
        rmap.unmap_all(pfn);
        m_space.m_mm.page_cache().evict(*inode, index);
    }
    return {};
}

} // namespace kioku
