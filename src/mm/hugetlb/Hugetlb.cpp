#include "mm/hugetlb/Hugetlb.h"

#include <cstring>

#include "base/Assert.h"
#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/core/MmCore.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"

namespace kioku {

using namespace isa;

namespace {

unsigned leaf_level(const Hstate& h)
{
    return h.order() == HUGETLB_ORDER_2M ? 1 : 2;
}

u64 align_up(u64 v, u64 size)
{
    return (v + size - 1) & ~(size - 1);
}

// The huge page index in the file of the huge page at `base` (Linux: vma_hugecache_offset).
u64 huge_index(const Vma& vma, const Hstate& h, VirtAddr base)
{
    return (vma.pgoff + ((base - vma.start) >> PAGE_SHIFT)) >> h.order();
}

HugetlbFile& file_of(MmCore& mm, const Vma& vma)
{
    HugetlbFile* file = mm.hugetlb().file_of(vma.file.get());
    VERIFY(file && "a hugetlb VMA without a hugetlbfs file");
    return *file;
}

void map_leaf(MmCore& mm, AddressSpace& space, const Vma& vma, PageSlot e, Pfn head, bool writable)
{
    u64 bits = pte_bits_for(vma) & ~PTE_W;
    if (writable)
        bits |= PTE_W | PTE_D;
    if (bits & PTE_V)
        bits |= PTE_A;
    e.set(make_pte(head.value(), bits));
    ++mm.frames()[head].mapcount;
    (void)space;
}

void unmap_leaf(MmCore& mm, PageSlot e)
{
    Pfn head = pte_pfn(*e);
    Hstate* h = mm.hugetlb().hstate_of(head);
    VERIFY(h && "a huge leaf of a hugetlb VMA maps no pool page");
    e.clear_flush();
    --mm.frames()[head].mapcount;
    h->put_page(head);
}

// The reservation a private anonymous page gives back when zapping it frees it: only the owner's,
// only while the pool has no surplus pages (__unmap_hugepage_range). A page another process still
// maps keeps its reservation consumed here (Linux restores it when the last user frees it).
HugetlbPrivateResv* restored_resv(MmCore& mm, AddressSpace& space, const Vma& vma, const Hstate& h,
                                  VirtAddr base, u64 e)
{
    if ((vma.flags & VM_MAYSHARE) || h.surplus() > 0)
        return nullptr;
    const Frame& f = mm.frames()[pte_pfn(e)];
    if (f.private_data != 0 || f.refcount != 1)
        return nullptr;
    HugetlbPrivateResv* r = mm.hugetlb().private_resv(vma.anon);
    if (!r || r->owner != &space || !r->consumed.count(huge_index(vma, h, base)))
        return nullptr;
    return r;
}

// Has this fault a reservation to consume (Linux: vma_needs_reservation == 0 and
// vma_has_reserves)?
bool has_reservation(MmCore& mm, AddressSpace& space, const Vma& vma, u64 idx)
{
    if (vma.flags & VM_MAYSHARE)
        return file_of(mm, vma).resv.count(idx) > 0;
    if (vma.flags & VM_NORESERVE)
        return false;
    HugetlbPrivateResv* r = mm.hugetlb().private_resv(vma.anon);
    return r && r->owner == &space && !r->consumed.count(idx);
}

void commit_reservation(MmCore& mm, AddressSpace& space, const Vma& vma, u64 idx)
{
    if (vma.flags & VM_MAYSHARE) {
        file_of(mm, vma).resv.insert(idx);
        return;
    }
    HugetlbPrivateResv* r = mm.hugetlb().private_resv(vma.anon);
    if (r && r->owner == &space)
        r->consumed.insert(idx);
}

// Puts a new pool page in the file at idx (hugetlb_add_to_page_cache); the file keeps the
// reference the pool's allocation gave.
void add_file_page(MmCore& mm, HugetlbFile& file, const Inode& inode, u64 idx, Pfn head)
{
    mm.frames()[head].private_data = reinterpret_cast<u64>(&inode);
    mm.frames()[head].index = idx;
    file.pages.emplace(idx, head);
}

// A fresh zeroed page for idx (clear_huge_page), or nullopt (SIGBUS).
std::optional<Pfn> new_page(MmCore& mm, AddressSpace& space, const Vma& vma, Hstate& h, u64 idx,
                            bool use_reserve)
{
    bool reserved = use_reserve && has_reservation(mm, space, vma, idx);
    auto head = h.alloc_page(reserved);
    if (!head)
        return std::nullopt;
    commit_reservation(mm, space, vma, idx);
    return head;
}

FaultOutcome no_page(MmCore& mm, AddressSpace& space, Vma& vma, Hstate& h, VirtAddr base, PageSlot e,
                     bool write)
{
    HugetlbFile& file = file_of(mm, vma);
    u64 idx = huge_index(vma, h, base);
    if (idx >= align_up(vma.file->size(), h.bytes()) >> h.shift())
        return FaultOutcome::Sigbus;
    bool shared = vma.flags & VM_MAYSHARE;
    auto cached = file.pages.find(idx);
    if (cached == file.pages.end() && (vma.flags & VM_UFFD_MISSING))
        return FaultOutcome::Userfault; // hugetlb_handle_userfault
    if (shared || (cached != file.pages.end() && !write)) {
        Pfn head;
        if (cached != file.pages.end()) {
            head = cached->second;
        } else {
            auto fresh = new_page(mm, space, vma, h, idx, true);
            if (!fresh)
                return FaultOutcome::Sigbus;
            mm.memory().discard(*fresh, h.pages_per_huge());
            head = *fresh;
            add_file_page(mm, file, *vma.file, idx, head);
        }
        h.get_page(head);
        map_leaf(mm, space, vma, e, head, shared && (vma.flags & VM_WRITE));
        return FaultOutcome::Minor;
    }
    // A private page: a copy of the file's page when there is one, else zeroes.
    auto fresh = new_page(mm, space, vma, h, idx, true);
    if (!fresh)
        return FaultOutcome::Sigbus;
    if (cached != file.pages.end())
        std::memcpy(mm.memory().frame(*fresh), mm.memory().frame(cached->second), h.bytes());
    else
        mm.memory().discard(*fresh, h.pages_per_huge());
    map_leaf(mm, space, vma, e, *fresh, write);
    return FaultOutcome::Minor;
}

FaultOutcome wp_page(MmCore& mm, AddressSpace& space, Vma& vma, Hstate& h, VirtAddr base, PageSlot e)
{
    Pfn old = pte_pfn(*e);
    Frame& f = mm.frames()[old];
    bool anon = f.private_data == 0;
    if ((vma.flags & VM_MAYSHARE) || (anon && f.refcount == 1)) {
        // A shared page, or a private one nobody else maps any more: write in place.
        e.set_access_flags(PTE_W | PTE_D | PTE_A);
        return FaultOutcome::Minor;
    }
    // Copy-on-write. The owner copying a page it shares with a child does not use its
    // reservations for it (Linux's outside_reserve); copying the file's page does.
    u64 idx = huge_index(vma, h, base);
    auto fresh = new_page(mm, space, vma, h, idx, !anon);
    if (!fresh)
        return FaultOutcome::Sigbus;
    std::memcpy(mm.memory().frame(*fresh), mm.memory().frame(old), h.bytes());
    unmap_leaf(mm, e);
    map_leaf(mm, space, vma, e, *fresh, true);
    return FaultOutcome::Minor;
}

} // namespace

Hstate* hugetlb_hstate(MmCore& mm, const Vma& vma)
{
    if (!(vma.flags & VM_HUGETLB) || !vma.file)
        return nullptr;
    HugetlbFile* file = mm.hugetlb().file_of(vma.file.get());
    return file ? file->hstate : nullptr;
}

bool is_hugetlbfs(MmCore& mm, const Inode* inode)
{
    return inode && mm.hugetlb().file_of(inode);
}

Result<u64> hugetlb_mmap_setup(MmCore& mm, u64& len, int flags, std::shared_ptr<Inode>& file,
                               FileAccess& access)
{
    if (file) {
        if (!is_hugetlbfs(mm, file.get())) {
            if (flags & MAP_HUGETLB_)
                return Error::from_errno(EINVAL, "MAP_HUGETLB on a file outside hugetlbfs");
            return u64{0};
        }
        u64 huge = mm.hugetlb().file_of(file.get())->hstate->bytes();
        len = align_up(len, huge);
        return huge;
    }
    if (!(flags & MAP_HUGETLB_))
        return u64{0};
    Hstate* h =
        mm.hugetlb().hstate_for_shift(static_cast<unsigned>((flags >> MAP_HUGE_SHIFT_) & MAP_HUGE_MASK_));
    if (!h)
        return Error::from_errno(EINVAL, "no huge page size of that size");
    u64 rounded = align_up(len, h->bytes());
    if (rounded < len)
        return Error::from_errno(ENOMEM, "length overflows");
    len = rounded;
    file = mm.hugetlb().create_file(*h, "/anon_hugepage (deleted)", len);
    access.readable = access.writable = true;
    return h->bytes();
}

Result<u64> hugetlb_align_area(u64 where, int flags, u64 huge)
{
    if (flags & MAP_FIXED_)
        return (where & (huge - 1)) ? Result<u64>(Error::from_errno(EINVAL, "hugetlb address not aligned"))
                                    : Result<u64>(where);
    return align_up(where, huge);
}

Result<void> hugetlb_mmap_vma(MmCore& mm, AddressSpace& space, Vma& vma)
{
    HugetlbFile& file = file_of(mm, vma);
    Hstate& h = *file.hstate;
    if (vma.pgoff & (h.pages_per_huge() - 1))
        return Error::from_errno(EINVAL, "offset not aligned to the huge page size");
    // mmap_region: a hugetlb VMA is never locked, even under mlockall(MCL_FUTURE).
    vma.flags = (vma.flags | VM_HUGETLB | VM_DONTEXPAND) & ~u64{VM_LOCKED | VM_LOCKONFAULT};
    u64 from = vma.pgoff >> h.order();
    u64 to = from + (vma.size() >> h.shift());
    if (!(vma.flags & VM_NORESERVE)) {
        // hugetlb_reserve_pages: a shared mapping reserves the file's indices once, whoever maps
        // them; a private mapping reserves its whole range for itself.
        i64 chg = 0;
        if (vma.flags & VM_MAYSHARE) {
            for (u64 i = from; i < to; ++i)
                chg += !file.resv.count(i);
        } else {
            chg = static_cast<i64>(to - from);
        }
        TRY(h.acct_memory(chg));
        if (vma.flags & VM_MAYSHARE) {
            for (u64 i = from; i < to; ++i)
                file.resv.insert(i);
        } else {
            vma.anon = std::make_shared<AnonVma>();
            mm.hugetlb().add_private_resv(vma.anon, &space, h);
        }
    }
    u64 end = (vma.pgoff << PAGE_SHIFT) + vma.size();
    if ((vma.flags & VM_WRITE) && vma.file->size() < end)
        vma.file->set_size(end);
    return {};
}

void hugetlb_vma_close(MmCore& mm, Vma& vma)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    if (!h || (vma.flags & VM_MAYSHARE))
        return;
    HugetlbPrivateResv* r = mm.hugetlb().private_resv(vma.anon);
    if (!r || r->owner != vma.mm)
        return;
    u64 from = vma.pgoff >> h->order();
    u64 to = from + (vma.size() >> h->shift());
    u64 consumed = 0;
    for (auto it = r->consumed.lower_bound(from); it != r->consumed.end() && *it < to;
         it = r->consumed.erase(it))
        ++consumed;
    if (to - from > consumed)
        (void)h->acct_memory(-static_cast<i64>(to - from - consumed));
}

Result<void> hugetlb_split_check(MmCore& mm, const Vma& vma, u64 start, u64 end)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    if (!h)
        return {};
    u64 mask = h->bytes() - 1;
    if ((start > vma.start.value() && (start & mask)) || (end < vma.end.value() && (end & mask)))
        return Error::from_errno(EINVAL, "hugetlb VMAs split only at huge page boundaries");
    return {};
}

Result<void> hugetlb_munmap_check(AddressSpace& space, u64 start, u64 len)
{
    // Only the first and the last VMA of the range can be split.
    u64 end = start + len;
    if (Vma* first = space.find_vma(VirtAddr(start)); first && first->start.value() < end)
        TRY(hugetlb_split_check(space.mm(), *first, start, end));
    if (Vma* last = space.vma_containing(VirtAddr(end - 1)))
        TRY(hugetlb_split_check(space.mm(), *last, start, end));
    return {};
}

Result<u64> hugetlb_dontneed_end(MmCore& mm, const Vma& vma, u64 start, u64 end)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    VERIFY(h && "hugetlb_dontneed_end outside a hugetlb VMA");
    u64 mask = h->bytes() - 1;
    if (start & mask)
        return Error::from_errno(EINVAL, "MADV_DONTNEED inside a huge page");
    return std::max(start, end & ~mask);
}

void hugetlb_unmap_file_range(Inode& inode, u64 first, u64 end)
{
    for (Vma* vma : std::vector<Vma*>(inode.mappings())) {
        u64 vma_first = vma->pgoff << PAGE_SHIFT;
        u64 lo = std::max(first, vma_first);
        u64 hi = std::min(end, vma_first + vma->size());
        if (lo < hi)
            hugetlb_zap(*vma->mm, *vma, VirtAddr(vma->start.value() + (lo - vma_first)),
                        VirtAddr(vma->start.value() + (hi - vma_first)));
    }
}

void hugetlb_punch_hole(MmCore& mm, Inode& inode, u64 offset, u64 len)
{
    HugetlbFile* file = mm.hugetlb().file_of(&inode);
    if (!file)
        return;
    // Only the huge pages wholly inside the hole go; partial ones stay as they are.
    const Hstate& h = *file->hstate;
    u64 first = align_up(offset, h.bytes());
    u64 end = (offset + len) & ~(h.bytes() - 1);
    if (first >= end)
        return;
    hugetlb_unmap_file_range(inode, first, end);
    mm.hugetlb().truncate_file(inode, first >> h.shift(), end >> h.shift());
}

Result<void> hugetlb_fallocate(MmCore& mm, Inode& inode, int mode, u64 offset, u64 len)
{
    constexpr int KEEP_SIZE = 0x01, PUNCH_HOLE = 0x02;
    if (mode & ~(KEEP_SIZE | PUNCH_HOLE))
        return Error::from_errno(EOPNOTSUPP, "hugetlbfs allocates and punches holes only");
    HugetlbFile* file = mm.hugetlb().file_of(&inode);
    VERIFY(file && "hugetlb_fallocate on a file outside hugetlbfs");
    Hstate& h = *file->hstate;
    if (mode & PUNCH_HOLE) {
        // hugetlbfs_punch_hole: the bytes of partly covered huge pages are zeroed, whole ones go.
        if (inode.seals & (Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE))
            return Error::from_errno(EPERM, "the file is sealed against writing");
        u64 end = offset + len;
        u64 hole_start = align_up(offset, h.bytes());
        u64 hole_end = end & ~(h.bytes() - 1);
        auto zero_partial = [&](u64 from, u64 to) {
            auto it = file->pages.find(from >> h.shift());
            if (it == file->pages.end())
                return;
            std::memset(mm.memory().frame(it->second) + (from & (h.bytes() - 1)), 0, to - from);
            mm.allocator().frames_changed(it->second, h.pages_per_huge());
        };
        if (offset < hole_start)
            zero_partial(offset, std::min(end, hole_start));
        if (end > hole_end && end > hole_start)
            zero_partial(hole_end, end);
        hugetlb_punch_hole(mm, inode, offset, len);
        return {};
    }
    // The preallocating form: every huge page of the range is put in the file, using the
    // reservation of an index a shared mapping reserved.
    if ((inode.seals & Inode::SEAL_GROW) && offset + len > inode.size())
        return Error::from_errno(EPERM, "the file is sealed against growing");
    u64 first = offset >> h.shift();
    u64 last = (offset + len + h.bytes() - 1) >> h.shift();
    for (u64 idx = first; idx < last; ++idx) {
        if (file->pages.count(idx))
            continue;
        auto head = h.alloc_page(file->resv.count(idx) > 0);
        if (!head)
            return Error::from_errno(ENOSPC, "the huge page pool is empty");
        mm.memory().discard(*head, h.pages_per_huge());
        add_file_page(mm, *file, inode, idx, *head);
        file->resv.insert(idx);
    }
    if (!(mode & KEEP_SIZE) && offset + len > inode.size())
        inode.set_size(offset + len); // to the byte, as i_size_write, unlike ftruncate
    return {};
}

Result<void> hugetlb_mremap_check(MmCore& mm, const Vma& vma, u64 addr, u64& old_len, u64& new_len,
                                  u64 new_addr)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    if (!h)
        return {};
    old_len = align_up(old_len, h->bytes());
    new_len = align_up(new_len, h->bytes());
    // new_addr is checked even without MREMAP_FIXED, as Linux does.
    if ((addr | new_addr) & (h->bytes() - 1))
        return Error::from_errno(EINVAL, "hugetlb mremap address not huge-aligned");
    // The reservation map cannot be split, so a hugetlb mapping never grows.
    if (new_len > old_len)
        return Error::from_errno(EINVAL, "hugetlb mappings cannot grow");
    return {};
}

void hugetlb_move_leaves(AddressSpace& space, u64 old_addr, u64 new_addr, u64 len)
{
    std::vector<std::pair<VirtAddr, unsigned>> leaves;
    space.page_table().for_each(
        VirtAddr(old_addr), VirtAddr(old_addr + len), [](VirtAddr, PageSlot) {},
        [&](VirtAddr base, unsigned level, PageSlot) { leaves.emplace_back(base, level); });
    for (auto [base, level] : leaves) {
        PageSlot dst = space.page_table().huge_slot(VirtAddr(new_addr + (base - VirtAddr(old_addr))), level);
        VERIFY(dst && "out of memory for page tables while moving a hugetlb mapping");
        PageSlot src = space.page_table().entry_at(base, level, false);
        VERIFY(src && "a huge leaf vanished while moving");
        dst.set(src.clear_flush());
    }
}

void hugetlb_forget_resv(Vma& vma)
{
    if (!(vma.flags & VM_HUGETLB) || (vma.flags & VM_MAYSHARE) || !vma.anon)
        return;
    vma.anon->unlink(&vma);
    vma.anon.reset();
}

FaultOutcome hugetlb_fault(MmCore& mm, AddressSpace& space, Vma& vma, VirtAddr va, AccessType access)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    VERIFY(h && "hugetlb_fault outside a hugetlb VMA");
    VirtAddr base(va.value() & ~(h->bytes() - 1));
    bool write = access == AccessType::Write;
    AddressSpace* previous = mm.current_space();
    mm.set_current_space(&space);
    FaultOutcome outcome = FaultOutcome::Minor;
    PageSlot e = space.page_table().huge_slot(base, leaf_level(*h));
    if (!e) {
        outcome = FaultOutcome::Oom;
    } else if (*e == 0) {
        outcome = no_page(mm, space, vma, *h, base, e, write);
    } else if (write && !(*e & PTE_W)) {
        outcome = wp_page(mm, space, vma, *h, base, e);
    } else {
        e.set_access_flags(PTE_A | (write ? PTE_D : 0)); // spurious: a stale TLB entry
    }
    mm.set_current_space(previous);
    return outcome;
}

Result<void> hugetlb_userfault_fill(MmCore& mm, AddressSpace& space, Vma& vma, VirtAddr va, const u8* src)
{
    // hugetlb_mfill_atomic_pte for UFFDIO_COPY.
    Hstate* h = hugetlb_hstate(mm, vma);
    VERIFY(h && "hugetlb_userfault_fill outside a hugetlb VMA");
    VirtAddr base(va.value() & ~(h->bytes() - 1));
    HugetlbFile& file = file_of(mm, vma);
    u64 idx = huge_index(vma, *h, base);
    bool shared = vma.flags & VM_MAYSHARE;
    if (shared && idx >= align_up(vma.file->size(), h->bytes()) >> h->shift())
        return Error::from_errno(EFAULT, "past the end of the hugetlbfs file");
    PageSlot e = space.page_table().huge_slot(base, leaf_level(*h));
    if (!e)
        return Error::from_errno(ENOMEM, "no memory for a page table");
    if (*e != 0 || (shared && file.pages.count(idx)))
        return Error::from_errno(EEXIST, "a huge page is already there");
    auto fresh = new_page(mm, space, vma, *h, idx, true);
    if (!fresh)
        return Error::from_errno(ENOMEM, "the huge page pool is empty");
    if (src)
        std::memcpy(mm.memory().frame(*fresh), src, h->bytes());
    else
        mm.memory().discard(*fresh, h->pages_per_huge());
    if (shared) {
        add_file_page(mm, file, *vma.file, idx, *fresh);
        h->get_page(*fresh);
    }
    map_leaf(mm, space, vma, e, *fresh, vma.flags & VM_WRITE);
    return {};
}

u64 hugetlb_page_end(MmCore& mm, const Vma& vma, VirtAddr va)
{
    Hstate* h = hugetlb_hstate(mm, vma);
    u64 size = h ? h->bytes() : PAGE_SIZE;
    return std::min(vma.end.value(), (va.value() & ~(size - 1)) + size);
}

void hugetlb_zap(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end)
{
    MmCore& mm = space.mm();
    Hstate* h = hugetlb_hstate(mm, vma);
    space.page_table().for_each(
        start, end, [](VirtAddr, PageSlot) {},
        [&](VirtAddr base, unsigned, PageSlot e) {
            if (base < vma.start || base >= vma.end)
                return;
            HugetlbPrivateResv* r = restored_resv(mm, space, vma, *h, base, *e);
            unmap_leaf(mm, e);
            if (r) {
                h->restore_reserve();
                r->consumed.erase(huge_index(vma, *h, base));
            }
        });
}

void hugetlb_copy(AddressSpace& parent, AddressSpace& child, const Vma& src)
{
    MmCore& mm = parent.mm();
    bool cow = (src.flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
    parent.page_table().for_each(
        src.start, src.end, [](VirtAddr, PageSlot) {},
        [&](VirtAddr base, unsigned level, PageSlot e) {
            PageSlot slot = child.page_table().huge_slot(base, level);
            VERIFY(slot && "out of memory for the child's page tables");
            if (cow)
                e.wrprotect_flush();
            slot.set(*e & ~PTE_A);
            Pfn head = pte_pfn(*e);
            ++mm.frames()[head].mapcount;
            mm.hugetlb().hstate_of(head)->get_page(head);
        });
}

void hugetlb_change_protection(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end, u64 new_flags)
{
    Vma shape = vma;
    shape.flags = new_flags;
    u64 bits = pte_bits_for(shape);
    space.page_table().for_each(
        start, end, [](VirtAddr, PageSlot) {},
        [&](VirtAddr, unsigned, PageSlot e) {
            u64 next = (*e & (PTE_A | PTE_D | PTE_PPN_MASK)) | bits;
            if (!(bits & PTE_V))
                next &= ~(PTE_A | PTE_D);
            e.modify_flush(next);
        });
}

HugetlbUsage hugetlb_usage(MmCore& mm, AddressSpace& space, const Vma& vma)
{
    HugetlbUsage u;
    Hstate* h = hugetlb_hstate(mm, vma);
    if (!h)
        return u;
    space.page_table().for_each(
        vma.start, vma.end, [](VirtAddr, PageSlot) {},
        [&](VirtAddr, unsigned, PageSlot e) {
            // smaps_hugetlb_range: a page mapped more than once is shared.
            const Frame& f = mm.frames()[pte_pfn(*e)];
            (f.mapcount > 1 ? u.shared : u.private_) += h->bytes();
        });
    return u;
}

u64 hugetlb_pagemap_pfn(AddressSpace& space, VirtAddr va, bool* present, bool* exclusive)
{
    auto leaf = space.page_table().huge_leaf(va);
    *present = leaf && pte_present(*leaf->entry);
    if (!*present)
        return 0;
    const Frame& f = space.mm().frames()[pte_pfn(*leaf->entry)];
    *exclusive = f.mapcount == 1;
    return pte_ppn(*leaf->entry) + ((va - leaf->base) >> PAGE_SHIFT);
}

bool hugetlb_check(MmCore& mm, std::string* why)
{
    HugetlbPool& pool = mm.hugetlb();
    std::unordered_map<u64, i64> leaves;
    for (AddressSpace* space : mm.spaces()) {
        for (auto& [key, vma] : space->vmas()) {
            if (!(vma->flags & VM_HUGETLB))
                continue;
            bool bad = false;
            space->page_table().for_each(
                vma->start, vma->end, [&](VirtAddr, PageSlot) { bad = true; },
                [&](VirtAddr, unsigned, PageSlot e) { ++leaves[pte_pfn(*e).value()]; });
            if (bad) {
                *why = "a hugetlb VMA mapped by 4 KiB PTEs";
                return false;
            }
        }
    }
    std::unordered_map<u64, i64> cached;
    for (auto& [inode, file] : pool.files())
        for (auto& [idx, head] : file.pages)
            ++cached[head.value()];
    for (auto& h : pool.hstates()) {
        if (!h->check(why))
            return false;
        for (u64 head : h->pages()) {
            const Frame& f = mm.frames()[Pfn(head)];
            i64 maps = leaves.count(head) ? leaves[head] : 0;
            i64 refs = maps + (cached.count(head) ? cached[head] : 0);
            if (f.mapcount != maps || f.refcount != refs) {
                *why = "huge page " + std::to_string(head) + ": refcount " + std::to_string(f.refcount) +
                       " mapcount " + std::to_string(f.mapcount) + " but " + std::to_string(maps) +
                       " leaves and " + std::to_string(refs - maps) + " cache references";
                return false;
            }
            leaves.erase(head);
        }
    }
    if (!leaves.empty()) {
        *why = "a hugetlb leaf maps a frame outside the pools";
        return false;
    }
    return true;
}

u64 HugetlbVmOps::page_size(const Vma& vma)
{
    Hstate* h = hugetlb_hstate(m_mm, vma);
    return h ? h->bytes() : 0;
}

Result<u64> HugetlbVmOps::mmap_setup(u64& len, int flags, std::shared_ptr<Inode>& file, FileAccess& access)
{
    return hugetlb_mmap_setup(m_mm, len, flags, file, access);
}

Result<u64> HugetlbVmOps::align_area(u64 where, int flags, u64 huge)
{
    return hugetlb_align_area(where, flags, huge);
}

Result<void> HugetlbVmOps::mmap_vma(AddressSpace& space, Vma& vma)
{
    return hugetlb_mmap_vma(m_mm, space, vma);
}

void HugetlbVmOps::vma_close(Vma& vma)
{
    hugetlb_vma_close(m_mm, vma);
}

Result<void> HugetlbVmOps::split_check(const Vma& vma, u64 start, u64 end)
{
    return hugetlb_split_check(m_mm, vma, start, end);
}

Result<void> HugetlbVmOps::munmap_check(AddressSpace& space, u64 start, u64 len)
{
    return hugetlb_munmap_check(space, start, len);
}

FaultOutcome HugetlbVmOps::fault(AddressSpace& space, Vma& vma, VirtAddr va, AccessType access)
{
    return hugetlb_fault(m_mm, space, vma, va, access);
}

Result<void> HugetlbVmOps::userfault_fill(AddressSpace& space, Vma& vma, VirtAddr va, const u8* src)
{
    return hugetlb_userfault_fill(m_mm, space, vma, va, src);
}

u64 HugetlbVmOps::page_end(const Vma& vma, VirtAddr va)
{
    return hugetlb_page_end(m_mm, vma, va);
}

void HugetlbVmOps::zap(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end)
{
    hugetlb_zap(space, vma, start, end);
}

void HugetlbVmOps::copy(AddressSpace& parent, AddressSpace& child, const Vma& src)
{
    hugetlb_copy(parent, child, src);
}

void HugetlbVmOps::change_protection(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end,
                                     u64 new_flags)
{
    hugetlb_change_protection(space, vma, start, end, new_flags);
}

Result<u64> HugetlbVmOps::dontneed_end(const Vma& vma, u64 start, u64 end)
{
    return hugetlb_dontneed_end(m_mm, vma, start, end);
}

void HugetlbVmOps::punch_hole(Inode& inode, u64 offset, u64 len)
{
    hugetlb_punch_hole(m_mm, inode, offset, len);
}

Result<void> HugetlbVmOps::mremap_check(const Vma& vma, u64 addr, u64& old_len, u64& new_len, u64 new_addr)
{
    return hugetlb_mremap_check(m_mm, vma, addr, old_len, new_len, new_addr);
}

void HugetlbVmOps::move_leaves(AddressSpace& space, u64 old_addr, u64 new_addr, u64 len)
{
    hugetlb_move_leaves(space, old_addr, new_addr, len);
}

void HugetlbVmOps::forget_resv(Vma& vma)
{
    hugetlb_forget_resv(vma);
}

} // namespace kioku
