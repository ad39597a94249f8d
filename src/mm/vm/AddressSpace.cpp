#include "mm/vm/AddressSpace.h"

#include "hw/Tlb.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/swap/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/Userfault.h"

namespace kioku {

using namespace isa;

namespace {

// Linux's mmap_base() with randomisation off: the gap below the stack is the stack rlimit plus
// the guard gap, at least 128 MiB.
constexpr u64 MIN_STACK_GAP = u64{128} << 20;
constexpr u64 STACK_RLIMIT = u64{8} << 20;
// PROT_SEM: accepted by mprotect (the generic arch_validate_prot) and otherwise ignored.
constexpr int PROT_SEM_ = 0x8;
constexpr int MAP_UNINITIALIZED_ = 0x4000000;
constexpr u64 MAX_LFS_FILESIZE = u64{INT64_MAX};
// The flags every file's mmap accepts; MAP_SHARED_VALIDATE refuses any other (EOPNOTSUPP), since
// no file here supports MAP_SYNC.
constexpr int LEGACY_MAP_MASK = MAP_SHARED_ | MAP_PRIVATE_ | MAP_FIXED_ | MAP_ANONYMOUS_ | MAP_DENYWRITE_ |
                                MAP_EXECUTABLE_ | MAP_UNINITIALIZED_ | MAP_GROWSDOWN_ | MAP_LOCKED_ |
                                MAP_NORESERVE_ | MAP_POPULATE_ | MAP_NONBLOCK_ | MAP_STACK_ | MAP_HUGETLB_;

u64 calc_vm_prot_bits(int prot)
{
    u64 f = 0;
    if (prot & PROT_READ_)
        f |= VM_READ;
    if (prot & PROT_WRITE_)
        f |= VM_WRITE;
    if (prot & PROT_EXEC_)
        f |= VM_EXEC;
    return f;
}

u64 calc_vm_flag_bits(int flags)
{
    u64 f = 0;
    if (flags & MAP_GROWSDOWN_)
        f |= VM_GROWSDOWN;
    if (flags & MAP_LOCKED_)
        f |= VM_LOCKED;
    return f;
}

bool wants_writenotify(const Vma& vma)
{
    // Shared writable file mappings start write-protected so that the first store is seen and the
    // page dirtied (page_mkwrite / dirty accounting). shmem has no writeback, so it needs none,
    // except while soft-dirty is tracked (clear_refs cleared VM_SOFTDIRTY): then every shared
    // writable mapping write-protects, so that a write faults and marks its page.
    if ((vma.flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE))
        return false;
    if (!(vma.flags & VM_SOFTDIRTY))
        return true;
    return vma.file && !vma.file->is_shmem();
}

} // namespace

u64 pte_bits_for(const Vma& vma)
{
    bool entry_writable = (vma.flags & VM_SHARED) && !wants_writenotify(vma);
    return protection_bits(vma.flags & VM_READ, vma.flags & VM_WRITE, vma.flags & VM_EXEC, entry_writable);
}

Result<std::unique_ptr<AddressSpace>> AddressSpace::create(MemoryManager& mm, Asid asid)
{
    auto table = TRY(PageTable::create(mm.memory(), mm, mm.paging_mode(), mm.tlb(), asid));
    auto space = std::unique_ptr<AddressSpace>(new AddressSpace(mm, asid, std::move(table)));
    if (space->m_slab.failed()) // mm_alloc: no memory for the mm_struct
        return Error::from_errno(ENOMEM, "no memory for an mm_struct");
    return space;
}

AddressSpace::AddressSpace(MemoryManager& mm, Asid asid, std::unique_ptr<PageTable> table)
    : m_mm(mm)
    , m_asid(asid)
    , m_page_table(std::move(table))
{
    u64 gap = std::max(MIN_STACK_GAP, STACK_RLIMIT + (mm.sysctl().stack_guard_gap_pages << PAGE_SHIFT));
    m_mmap_base = task_size() - gap;
    m_mm.register_space(this);
}

Result<void> AddressSpace::set_exe_file(std::shared_ptr<Inode> file)
{
    if (file)
        TRY(file->deny_write_access());
    if (m_exe_file)
        m_exe_file->allow_write_access();
    m_exe_file = std::move(file);
    return {};
}

AddressSpace::~AddressSpace()
{
    if (m_exe_file)
        m_exe_file->allow_write_access();
    for (UserfaultContext* ctx : m_userfaults)
        ctx->space_gone();
    while (Vma* first = m_tree.first()) {
        Vma& vma = *first;
        if (vma.flags & VM_ACCOUNT)
            m_mm.vm_unacct_memory(vma.pages());
        zap_range(vma, vma.start, vma.end, ZapGuards::Clear);
        (void)writeback_range(vma, vma.start, vma.end);
        hugetlb_vma_close(m_mm, vma); // unused hugetlb reservations go back (Hugetlb.cpp)
        m_tree.remove(vma);
    }
    m_page_table.reset();
    m_mm.unregister_space(this);
}

u64 AddressSpace::vm_start_gap(const Vma& vma) const
{
    u64 start = vma.start.value();
    if (vma.flags & VM_GROWSDOWN) {
        u64 gap = m_mm.sysctl().stack_guard_gap_pages << PAGE_SHIFT;
        start = start > gap ? start - gap : 0;
    }
    return start;
}

Vma& AddressSpace::split_vma(Vma& vma, VirtAddr at)
{
    // vma_adjust_trans_huge: a THP the new boundary cuts through is split first.
    m_mm.thp().split_partial(*this, at, at);
    return m_tree.split(vma, at);
}

AnonVma& AddressSpace::anon_vma_prepare(Vma& vma)
{
    if (!vma.anon) {
        vma.anon = std::make_shared<AnonVma>();
        vma.anon->link(&vma);
    }
    return *vma.anon;
}

u64 AddressSpace::unmapped_area_topdown(u64 len, u64 low, u64 high) const
{
    // The highest gap [vma.end, gap_end) below high and above low that fits len, where gap_end is
    // the start (minus the guard gap, for a stack) of the VMA above the gap.
    u64 gap_end = high;
    for (auto it = m_tree.all().rbegin(); it != m_tree.all().rend(); ++it) {
        const Vma& vma = *it->second;
        u64 below = vma.end.value();
        if (below < gap_end && gap_end - below >= len && gap_end - len >= low)
            return gap_end - len;
        gap_end = std::min(gap_end, vm_start_gap(vma));
        if (gap_end < low + len)
            return ~u64{0};
    }
    if (gap_end >= low + len)
        return gap_end - len;
    return ~u64{0};
}

u64 AddressSpace::get_unmapped_area(u64 addr, u64 len, int flags, bool& failed)
{
    failed = false;
    u64 mmap_min = std::max(PAGE_SIZE, m_mm.sysctl().mmap_min_addr);
    if (len > task_size() || len > task_size() - mmap_min) {
        failed = true;
        return ENOMEM;
    }
    if (flags & MAP_FIXED_)
        return addr;
    if (addr) {
        addr = page_round_up(addr);
        Vma* next = find_vma(VirtAddr(addr));
        Vma* prev = next ? m_tree.prev(*next) : m_tree.last();
        if (task_size() - len >= addr && addr >= mmap_min && (!next || addr + len <= vm_start_gap(*next)) &&
            (!prev || addr >= prev->end.value()))
            return addr;
    }
    u64 found = unmapped_area_topdown(len, mmap_min, m_mmap_base);
    if (found == ~u64{0}) {
        // Linux falls back to a bottom-up search from TASK_UNMAPPED_BASE; the top-down search
        // above already covered everything below mmap_base, so only the space above it is left.
        found = unmapped_area_topdown(len, m_mmap_base, task_size());
    }
    if (found == ~u64{0}) {
        failed = true;
        return ENOMEM;
    }
    return found;
}

Result<u64> AddressSpace::mmap(u64 addr, u64 len, int prot, int flags, std::shared_ptr<Inode> file,
                               u64 offset, FileAccess access)
{
    // Linux 6.x do_mmap, in its order of checks.
    if (!is_page_aligned(offset))
        return Error::from_errno(EINVAL, "offset not page aligned");
    if (len == 0)
        return Error::from_errno(EINVAL, "zero length");
    // MAP_HUGETLB and hugetlbfs files (Hugetlb.cpp): the length in huge pages, the file behind.
    u64 huge = TRY(hugetlb_mmap_setup(m_mm, len, flags, file, access));
    // MAP_FIXED_NOREPLACE is MAP_FIXED that refuses to replace: set before the hint is rounded,
    // so that an unaligned address is EINVAL for it too (do_mmap's order).
    if (flags & MAP_FIXED_NOREPLACE_)
        flags |= MAP_FIXED_;
    if (!(flags & MAP_FIXED_) && addr) {
        addr &= PAGE_MASK;
        if (addr < m_mm.sysctl().mmap_min_addr)
            addr = page_round_up(m_mm.sysctl().mmap_min_addr);
    }
    u64 rounded = page_round_up(len);
    if (rounded == 0 || rounded < len)
        return Error::from_errno(ENOMEM, "length overflows");
    len = rounded;
    u64 pgoff = offset >> PAGE_SHIFT;
    if (pgoff + (len >> PAGE_SHIFT) < pgoff)
        return Error::from_errno(EOVERFLOW, "offset + length overflows");
    if (map_count() > m_mm.sysctl().max_map_count)
        return Error::from_errno(ENOMEM, "too many mappings");

    u64 vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | m_def_flags | VM_MAYREAD |
                   VM_MAYWRITE | VM_MAYEXEC;
    int type = flags & MAP_TYPE_;
    if (file) {
        // file_mmap_ok: the mapping must end within the largest file offset (MAX_LFS_FILESIZE).
        if (len > MAX_LFS_FILESIZE || pgoff > ((MAX_LFS_FILESIZE - len) >> PAGE_SHIFT))
            return Error::from_errno(EOVERFLOW, "mapping beyond the largest file offset");
        switch (type) {
        case MAP_SHARED_:
        case MAP_SHARED_VALIDATE_:
            if (type == MAP_SHARED_VALIDATE_ && (flags & ~LEGACY_MAP_MASK))
                return Error::from_errno(EOPNOTSUPP,
                                         "MAP_SHARED_VALIDATE with a flag the file does not support");
            if ((prot & PROT_WRITE_) && !access.writable)
                return Error::from_errno(EACCES, "shared writable mapping of a file not open for writing");
            vm_flags |= VM_SHARED | VM_MAYSHARE;
            if (!access.writable)
                vm_flags &= ~u64{VM_MAYWRITE | VM_SHARED};
            // A write-sealed memfd (seal_check_write): no shared writable mapping, and a
            // read-only one may never become writable.
            if (file->seals & (Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE)) {
                if (prot & PROT_WRITE_)
                    return Error::from_errno(EPERM, "shared writable mapping of a write-sealed file");
                vm_flags &= ~u64{VM_MAYWRITE};
            }
            [[fallthrough]];
        case MAP_PRIVATE_:
            if (!access.readable)
                return Error::from_errno(EACCES, "mapping of a file not open for reading");
            if (vm_flags & VM_GROWSDOWN)
                return Error::from_errno(EINVAL, "MAP_GROWSDOWN on a file");
            break;
        default: return Error::from_errno(EINVAL, "neither MAP_SHARED nor MAP_PRIVATE");
        }
    } else {
        // MAP_SHARED_VALIDATE is for files only: anonymous memory takes the default branch.
        if (access.zero_device && !access.readable)
            return Error::from_errno(EACCES, "mapping of /dev/zero not open for reading");
        switch (type) {
        case MAP_SHARED_:
            if (vm_flags & VM_GROWSDOWN)
                return Error::from_errno(EINVAL, "MAP_GROWSDOWN on shared memory");
            pgoff = 0;
            vm_flags |= VM_SHARED | VM_MAYSHARE;
            if (access.zero_device && !access.writable) {
                // do_mmap's file checks: no shared writable mapping of a read-only /dev/zero,
                // and a read-only one may never become writable; mmap_zero then makes it plain
                // anonymous memory, since VM_SHARED is gone.
                if (prot & PROT_WRITE_)
                    return Error::from_errno(EACCES, "shared writable mapping of a read-only /dev/zero");
                vm_flags &= ~u64{VM_MAYWRITE | VM_SHARED};
            }
            break;
        case MAP_PRIVATE_: break;
        default: return Error::from_errno(EINVAL, "neither MAP_SHARED nor MAP_PRIVATE");
        }
    }

    bool failed = false;
    u64 slack = huge && !(flags & MAP_FIXED_) ? huge - PAGE_SIZE : 0; // room to align a hugetlb start
    u64 where = get_unmapped_area(addr, len + slack, flags, failed);
    if (failed)
        return Error::from_errno(static_cast<int>(where), "no room for the mapping");
    if (huge)
        where = TRY(hugetlb_align_area(where, flags, huge));
    if (where > task_size() - len)
        return Error::from_errno(ENOMEM, "mapping beyond the user address space");
    if (!is_page_aligned(where))
        return Error::from_errno(EINVAL, "address not page aligned");
    if ((flags & MAP_FIXED_NOREPLACE_) && find_intersection(VirtAddr(where), VirtAddr(where + len)))
        return Error::from_errno(EEXIST, "MAP_FIXED_NOREPLACE over an existing mapping");
    if (!file && !(vm_flags & VM_SHARED))
        pgoff = where >> PAGE_SHIFT;
    if ((flags & MAP_NORESERVE_) && m_mm.sysctl().overcommit_memory != OvercommitMode::Never)
        vm_flags |= VM_NORESERVE;
    if (huge) // hugetlb reserves strictly unless MAP_NORESERVE, whatever the overcommit mode
        vm_flags |= VM_HUGETLB | ((flags & MAP_NORESERVE_) ? u64{VM_NORESERVE} : 0);

    u64 mapped = TRY(mmap_region(where, len, vm_flags, pgoff, std::move(file)));
    if ((flags & (MAP_POPULATE_ | MAP_NONBLOCK_)) == MAP_POPULATE_ ||
        (vm_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED)
        populate(VirtAddr(mapped), VirtAddr(mapped + len));
    return mapped;
}

Result<void> AddressSpace::remap_file_pages(u64 start, u64 size, int prot, u64 pgoff, int flags)
{
    // mm/mmap.c: the old nonlinear call is emulated by a new shared mapping of the same file over
    // the range, with the mapping's protection, populated, and locked if it was.
    if (prot)
        return Error::from_errno(EINVAL, "remap_file_pages takes no protection");
    start &= PAGE_MASK;
    size &= PAGE_MASK;
    if (start + size <= start)
        return Error::from_errno(EINVAL, "empty or wrapping range");
    if (pgoff + (size >> PAGE_SHIFT) < pgoff)
        return Error::from_errno(EINVAL, "the offset wraps");
    Vma* vma = vma_containing(VirtAddr(start));
    if (!vma || !(vma->flags & VM_SHARED) || !vma->file)
        return Error::from_errno(EINVAL, "not in a shared file mapping");
    // A range past the first VMA must run on through VMAs of the same file and flags.
    for (Vma* prev = vma; prev->end.value() < start + size;) {
        Vma* next = m_tree.next(*prev);
        if (!next || next->start != prev->end || next->file != vma->file || next->flags != vma->flags)
            return Error::from_errno(EINVAL, "the range crosses other mappings");
        prev = next;
    }
    int new_prot = ((vma->flags & VM_READ) ? PROT_READ_ : 0) | ((vma->flags & VM_WRITE) ? PROT_WRITE_ : 0) |
                   ((vma->flags & VM_EXEC) ? PROT_EXEC_ : 0);
    int new_flags = (flags & MAP_NONBLOCK_) | MAP_SHARED_ | MAP_FIXED_ | MAP_POPULATE_;
    if (vma->flags & VM_LOCKED)
        new_flags |= MAP_LOCKED_;
    FileAccess access;
    access.readable = true;
    access.writable = true; // VM_SHARED stays only on mappings of files open for writing
    // mmap_region unmaps the range before the file's mmap method runs. A file watched by its
    // owner (a System V segment) that the owner lets go of with that last mapping (a segment
    // marked for removal) can no longer be mapped: shm_mmap finds no segment (EINVAL), and the
    // range is left empty.
    std::shared_ptr<Inode> file = vma->file;
    MappingObserver* owner = file->observer();
    TRY(do_munmap(start, size));
    if (owner && file->observer() != owner)
        return Error::from_errno(EINVAL, "the file's segment was removed with its last mapping");
    TRY(mmap(start, size, new_prot, new_flags, std::move(file), pgoff << PAGE_SHIFT, access));
    return {};
}

Result<u64> AddressSpace::mmap_region(u64 addr, u64 len, u64 vm_flags, u64 pgoff, std::shared_ptr<Inode> file)
{
    u64 pages = len >> PAGE_SHIFT;
    // may_expand_vm counts only what the mapping adds: pages it replaces go first.
    u64 replaced = 0;
    for (Vma* v = find_vma(VirtAddr(addr)); v && v->start.value() < addr + len; v = m_tree.next(*v))
        replaced += (std::min(v->end.value(), addr + len) - std::max(v->start.value(), addr)) >> PAGE_SHIFT;
    if (!may_expand_vm(vm_flags, pages - replaced))
        return Error::from_errno(ENOMEM, "over RLIMIT_AS or RLIMIT_DATA");
    TRY(do_munmap(addr, len));
    bool accountable = (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE | VM_HUGETLB)) == VM_WRITE;
    if (accountable) {
        TRY(m_mm.vm_enough_memory(pages, this));
        vm_flags |= VM_ACCOUNT;
    }
    if (!file && (vm_flags & VM_SHARED)) {
        // shmem_zero_setup: shared anonymous memory is a file of tmpfs, charged whole unless
        // MAP_NORESERVE.
        if (!(vm_flags & VM_NORESERVE)) {
            if (auto r = m_mm.vm_enough_memory(pages, this); r.is_error())
                return r.error();
        }
        file = m_mm.page_cache().create_shmem(len, "/dev/zero (deleted)");
        if (!(vm_flags & VM_NORESERVE))
            file->accounted_pages = pages;
    }
    auto vma = std::make_unique<Vma>();
    if (vma->slab.failed()) {
        // vm_area_alloc failed; the commit charge goes back (a shmem file returns its own when
        // it is dropped).
        if (accountable)
            m_mm.vm_unacct_memory(pages);
        return Error::from_errno(ENOMEM, "no memory for a vm_area_struct");
    }
    vma->start = VirtAddr(addr);
    vma->end = VirtAddr(addr + len);
    // New mappings start soft-dirty, as Linux marks them for clear_refs/pagemap users.
    vma->flags = vm_flags | VM_SOFTDIRTY;
    vma->pgoff = pgoff;
    vma->file = std::move(file);
    if (vma->flags & VM_HUGETLB) // hugetlbfs_file_mmap: the reservation (Hugetlb.cpp)
        TRY(hugetlb_mmap_vma(m_mm, *this, *vma));
    Vma& inserted = m_tree.insert(std::move(vma));
    Vma& merged = m_tree.merge(inserted);
    (void)merged;
    update_hiwater_rss();
    return addr;
}

void AddressSpace::zap_range(Vma& vma, VirtAddr start, VirtAddr end, ZapGuards guards)
{
    if (vma.flags & VM_HUGETLB)
        return hugetlb_zap(*this, vma, start, end);
    if (vma.flags & VM_LOCKED)
        munlock_range(vma, start, end); // Mlock.cpp: pages no other locked VMA maps are unlocked
    Rmap rmap(m_mm);
    TlbGather tlb(*m_page_table);
    // A THP the range covers in part is split; whole ones go at once (zap_huge_pmd).
    m_mm.thp().split_partial(*this, start, end);
    auto huge = [&](VirtAddr base, unsigned level, PageSlot entry) {
        if (level == 1 && !(vma.flags & VM_HUGETLB))
            m_mm.thp().zap_huge_pmd(*this, base, entry);
    };
    m_page_table->for_each(
        start, end,
        [&](VirtAddr, PageSlot slot) {
            u64 pte = *slot;
            if (pte_present(pte)) {
                if (m_mm.is_zero_pfn(pte_pfn(pte)))
                    slot.clear_flush(tlb);
                else
                    rmap.unmap_one(*this, slot, Rmap::Unmap::Zap, 0, &tlb);
            } else if (pte_is_swap(pte)) {
                release_swap_entry(swap_entry_of(pte));
                slot.clear();
            } else if (pte_is_guard(pte) && guards == ZapGuards::Clear) {
                slot.clear();
            }
        },
        huge);
}

void AddressSpace::release_swap_entry(SwapEntry entry)
{
    // free_swap_and_cache: the last PTE reference gone, a page left only in the swap cache and
    // mapped nowhere is freed along with the slot.
    --m_rss.swapents;
    SwapCache(m_mm).free_entry(entry);
}

Result<void> AddressSpace::writeback_range(Vma& vma, VirtAddr start, VirtAddr end)
{
    // Dirty pages of a shared file mapping go back to the file when the mapping is synced or
    // goes away, so the host file holds what the program wrote.
    if (!vma.file || vma.file->is_shmem() || !(vma.flags & VM_SHARED))
        return {};
    u64 first = vma.page_index(start);
    u64 last = vma.page_index(end - 1);
    return m_mm.page_cache().writeback(*vma.file, first, last);
}

Result<void> AddressSpace::do_munmap(u64 start, u64 len)
{
    if (!is_page_aligned(start) || start > task_size() || len > task_size() - start)
        return Error::from_errno(EINVAL, "bad munmap range");
    len = page_round_up(len);
    if (len == 0)
        return Error::from_errno(EINVAL, "zero length");
    TRY(hugetlb_munmap_check(*this, start, len)); // hugetlb VMAs split only at huge boundaries
    u64 end = start + len;
    Vma* vma = find_vma(VirtAddr(start));
    if (!vma || vma->start.value() >= end)
        return {};
    if (start > vma->start.value()) {
        if (end < vma->end.value() && map_count() >= m_mm.sysctl().max_map_count)
            return Error::from_errno(ENOMEM, "too many mappings to split");
        vma = &split_vma(*vma, VirtAddr(start));
    }
    if (Vma* last = find_vma(VirtAddr(end)); last && last->start.value() < end)
        split_vma(*last, VirtAddr(end));
    // Now every VMA from vma up to end lies wholly inside [start, end).
    while (vma && vma->start.value() < end) {
        Vma* next = m_tree.next(*vma);
        if (vma->flags & VM_ACCOUNT)
            m_mm.vm_unacct_memory(vma->pages());
        zap_range(*vma, vma->start, vma->end, ZapGuards::Clear);
        (void)writeback_range(*vma, vma->start, vma->end);
        hugetlb_vma_close(m_mm, *vma);
        m_tree.remove(*vma);
        vma = next;
    }
    Vma* after = find_vma(VirtAddr(start));
    Vma* before = after ? m_tree.prev(*after) : m_tree.last();
    u64 floor = before ? before->end.value() : 0;
    u64 ceiling = after ? after->start.value() : task_size();
    m_page_table->free_tables(VirtAddr(start), VirtAddr(end), VirtAddr(floor), VirtAddr(ceiling));
    return {};
}

Result<void> AddressSpace::munmap(u64 addr, u64 len)
{
    return do_munmap(addr, len);
}

void AddressSpace::change_protection(Vma& vma, VirtAddr start, VirtAddr end, u64 new_flags)
{
    if (vma.flags & VM_HUGETLB)
        return hugetlb_change_protection(*this, vma, start, end, new_flags);
    Vma shape = vma;
    shape.flags = new_flags;
    u64 bits = pte_bits_for(shape);
    bool may_write = new_flags & VM_WRITE;
    TlbGather tlb(*m_page_table);
    m_mm.thp().split_partial(*this, start, end);
    m_page_table->for_each(
        start, end,
        [&](VirtAddr, PageSlot slot) {
            u64 pte = *slot;
            if (!pte_present(pte))
                return;
            Pfn pfn = pte_pfn(pte);
            // pte_modify keeps the accessed, dirty and soft-dirty bits with the frame.
            u64 keep = pte & (PTE_A | PTE_D | PTE_PPN_MASK | PTE_SOFT_DIRTY);
            u64 next = keep | bits;
            // pte_needs_soft_dirty_wp: while soft-dirty is tracked (clear_refs cleared the VMA's
            // VM_SOFTDIRTY) a clean-for-tracking PTE stays read-only, so the next write faults and
            // marks it.
            bool tracked = !(new_flags & VM_SOFTDIRTY) && !(pte & PTE_SOFT_DIRTY);
            if (may_write && !tracked && (bits & PTE_V) && !m_mm.is_zero_pfn(pfn)) {
                // can_change_pte_writable: an exclusively owned anonymous page of a private mapping,
                // or an already dirty page of a shared one, may become writable without a fault.
                const Frame& f = m_mm.frames()[pfn];
                bool exclusive_anon = !(new_flags & VM_SHARED) && f.has(FF_ANON) && f.refcount == 1;
                bool shared_dirty = (new_flags & VM_SHARED) && (pte & PTE_D);
                if (exclusive_anon || shared_dirty)
                    next |= PTE_W;
            }
            slot.modify_flush(next, tlb);
        },
        [&](VirtAddr, unsigned level, PageSlot entry) {
            // change_huge_pmd: a THP wholly inside the range keeps its leaf (callers split the VMA
            // first, which splits a THP it cuts through).
            if (level == 1 && !(vma.flags & VM_HUGETLB))
                m_mm.thp().change_huge_pmd(shape, entry);
        });
}

Result<void> AddressSpace::mprotect(u64 start, u64 len, int prot)
{
    // Linux's do_mprotect_pkey, without protection keys.
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    if (len == 0)
        return {};
    u64 rounded = page_round_up(len);
    u64 end = start + rounded;
    if (rounded == 0 || end <= start)
        return Error::from_errno(ENOMEM, "range wraps");
    if (prot & ~(PROT_READ_ | PROT_WRITE_ | PROT_EXEC_ | PROT_SEM_))
        return Error::from_errno(EINVAL, "unknown protection bits");
    Vma* vma = find_vma(VirtAddr(start));
    if (!vma || vma->start.value() > start)
        return Error::from_errno(ENOMEM, "range not mapped");
    u64 nstart = start;
    for (;;) {
        u64 new_flags = calc_vm_prot_bits(prot) | (vma->flags & ~VM_ACCESS_FLAGS);
        if ((new_flags & ~(new_flags >> 4)) & VM_ACCESS_FLAGS)
            return Error::from_errno(EACCES, "protection beyond what the mapping may have");
        u64 tmp = std::min(vma->end.value(), end);
        // mprotect_fixup
        if (new_flags != vma->flags) {
            TRY(hugetlb_split_check(m_mm, *vma, nstart, tmp));
            if ((new_flags & VM_WRITE) &&
                !(vma->flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
                u64 pages = (tmp - nstart) >> PAGE_SHIFT;
                TRY(m_mm.vm_enough_memory(pages, this));
                new_flags |= VM_ACCOUNT;
            }
            if (nstart > vma->start.value())
                vma = &split_vma(*vma, VirtAddr(nstart));
            if (tmp < vma->end.value())
                split_vma(*vma, VirtAddr(tmp));
            m_tree.set_flags(*vma, new_flags);
            change_protection(*vma, vma->start, vma->end, new_flags);
            vma = &m_tree.merge(*vma);
        }
        nstart = tmp;
        if (nstart >= end)
            return {};
        // The merge may have absorbed the next VMA, so look nstart up again rather than stepping
        // to the neighbour: the VMA that now covers nstart is the one to continue with.
        Vma* next = find_vma(VirtAddr(nstart));
        if (!next || next->start.value() > nstart)
            return Error::from_errno(ENOMEM, "range not fully mapped");
        vma = next;
    }
}

u64 AddressSpace::brk(u64 requested)
{
    // Linux 6.x sys_brk, without randomisation.
    u64 origbrk = m_brk;
    if (requested < m_start_brk)
        return origbrk;
    u64 newbrk = page_round_up(requested);
    u64 oldbrk = page_round_up(m_brk);
    if (oldbrk == newbrk) {
        m_brk = requested;
        return m_brk;
    }
    if (requested <= m_brk) {
        // Shrinking needs a mapping inside [newbrk, oldbrk); with none there (the program
        // unmapped that part of its heap) Linux 6.x leaves the break where it was.
        if (!find_intersection(VirtAddr(newbrk), VirtAddr(oldbrk)))
            return origbrk;
        if (do_munmap(newbrk, oldbrk - newbrk).is_error())
            return origbrk;
        m_brk = requested;
        return m_brk;
    }
    if (Vma* next = find_vma(VirtAddr(oldbrk)); next && newbrk + PAGE_SIZE > vm_start_gap(*next))
        return origbrk;
    u64 pages = (newbrk - oldbrk) >> PAGE_SHIFT;
    // RLIMIT_DATA: data_vm holds the data segment and the heap, as check_data_rlimit counts them.
    if (map_count() > m_mm.sysctl().max_map_count || !may_expand_vm(VM_WRITE, pages))
        return origbrk;
    if (m_mm.vm_enough_memory(pages, this).is_error())
        return origbrk;
    auto vma = std::make_unique<Vma>();
    vma->start = VirtAddr(oldbrk);
    vma->end = VirtAddr(newbrk);
    vma->flags =
        VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | VM_SOFTDIRTY | m_def_flags;
    vma->pgoff = oldbrk >> PAGE_SHIFT;
    m_tree.merge(m_tree.insert(std::move(vma)));
    m_brk = requested;
    if ((m_def_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED)
        populate(VirtAddr(oldbrk), VirtAddr(newbrk)); // mlockall(MCL_FUTURE)
    return m_brk;
}

void AddressSpace::set_brk_start(u64 start_brk)
{
    m_start_brk = start_brk;
    m_brk = start_brk;
}

Result<void> AddressSpace::setup_stack(u64 stack_top, u64 initial_size)
{
    u64 top = stack_top & PAGE_MASK;
    u64 size = page_round_up(initial_size);
    TRY(m_mm.vm_enough_memory(size >> PAGE_SHIFT, this));
    auto vma = std::make_unique<Vma>();
    vma->start = VirtAddr(top - size);
    vma->end = VirtAddr(top);
    vma->flags =
        VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN | VM_ACCOUNT | VM_SOFTDIRTY;
    vma->pgoff = vma->start.value() >> PAGE_SHIFT;
    m_tree.insert(std::move(vma));
    m_start_stack = top - 16;
    return {};
}

bool AddressSpace::may_expand_vm(u64 vm_flags, u64 pages) const
{
    if (m_tree.total_vm() + pages > (m_limits.as >> PAGE_SHIFT))
        return false;
    bool data = (vm_flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE;
    return !data || m_tree.data_vm() + pages <= (m_limits.data >> PAGE_SHIFT);
}

bool AddressSpace::expand_stack(Vma& vma, VirtAddr addr)
{
    if (!(vma.flags & VM_GROWSDOWN) || addr >= vma.start)
        return false;
    u64 new_start = addr.value() & PAGE_MASK;
    // acct_stack_growth: within RLIMIT_STACK and RLIMIT_AS.
    if (vma.end.value() - new_start > m_limits.stack ||
        !may_expand_vm(vma.flags, (vma.start.value() - new_start) >> PAGE_SHIFT))
        return false;
    if (Vma* prev = m_tree.prev(vma); prev && (prev->flags & VM_ACCESS_FLAGS)) {
        u64 gap = m_mm.sysctl().stack_guard_gap_pages << PAGE_SHIFT;
        if (new_start < prev->end.value() + gap)
            return false;
    }
    u64 grow = (vma.start.value() - new_start) >> PAGE_SHIFT;
    if ((vma.flags & VM_ACCOUNT) && m_mm.vm_enough_memory(grow, this).is_error())
        return false;
    m_tree.set_start(vma, VirtAddr(new_start));
    return true;
}

Result<void> AddressSpace::msync(u64 start, u64 len, int flags)
{
    if (flags & ~(MS_ASYNC_ | MS_INVALIDATE_ | MS_SYNC_))
        return Error::from_errno(EINVAL, "unknown msync flags");
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    if ((flags & MS_ASYNC_) && (flags & MS_SYNC_))
        return Error::from_errno(EINVAL, "MS_ASYNC with MS_SYNC");
    u64 end = start + page_round_up(len);
    if (end < start)
        return Error::from_errno(ENOMEM, "range wraps");
    if (end == start)
        return {};
    bool unmapped = false;
    u64 cur = start;
    for (;;) {
        Vma* vma = find_vma(VirtAddr(cur));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        if (cur < vma->start.value()) {
            if (flags == MS_SYNC_)
                return Error::from_errno(ENOMEM, "range not mapped"); // plain MS_SYNC stops at a hole
            unmapped = true;
            cur = vma->start.value();
            if (cur >= end)
                return Error::from_errno(ENOMEM, "range not mapped");
        }
        if ((flags & MS_INVALIDATE_) && (vma->flags & VM_LOCKED))
            return Error::from_errno(EBUSY, "MS_INVALIDATE on locked memory");
        u64 stop = std::min(end, vma->end.value());
        if ((flags & MS_SYNC_) && (vma->flags & VM_SHARED))
            TRY(writeback_range(*vma, VirtAddr(cur), VirtAddr(stop)));
        cur = stop;
        if (cur >= end)
            break;
    }
    if (unmapped)
        return Error::from_errno(ENOMEM, "range not fully mapped");
    return {};
}

void AddressSpace::populate(VirtAddr start, VirtAddr end)
{
    FaultHandler& handler = m_mm.fault_handler();
    for (VirtAddr va = start; va < end; va += PAGE_SIZE) {
        Vma* vma = vma_containing(va);
        if (!vma)
            return;
        if (!(vma->flags & VM_ACCESS_FLAGS)) {
            va = VirtAddr(vma->end.value() - PAGE_SIZE);
            continue;
        }
        bool write = (vma->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
        if (vma->flags & VM_HUGETLB) { // one fault per huge page
            if (!fault_resolved(
                    hugetlb_fault(m_mm, *this, *vma, va, write ? AccessType::Write : AccessType::Read)))
                return;
            va = VirtAddr(hugetlb_page_end(m_mm, *vma, va) - PAGE_SIZE);
            continue;
        }
        u64 pte = m_page_table->read(va);
        if ((pte & PTE_V) && (!write || (pte & PTE_W)))
            continue;
        FaultOutcome outcome =
            handler.handle_in_vma(*this, *vma, va, write ? AccessType::Write : AccessType::Read);
        if (!fault_resolved(outcome))
            return;
    }
}

u64 AddressSpace::hiwater_rss() const
{
    return std::max(m_hiwater_rss, static_cast<u64>(std::max<i64>(0, m_rss.total())));
}

void AddressSpace::update_hiwater_rss()
{
    m_hiwater_rss = hiwater_rss();
}

Result<std::unique_ptr<AddressSpace>> AddressSpace::fork(Asid child_asid)
{
    // Linux's dup_mmap and copy_page_range.
    auto child = TRY(AddressSpace::create(m_mm, child_asid));
    child->m_mmap_base = m_mmap_base;
    child->m_start_brk = m_start_brk;
    child->m_brk = m_brk;
    child->m_start_stack = m_start_stack;
    child->m_tree.set_hiwater_vm(m_tree.hiwater_vm());
    child->m_thp_disabled = m_thp_disabled;
    child->m_vdso_base = m_vdso_base;
    if (m_exe_file)
        TRY(child->set_exe_file(m_exe_file)); // cannot fail: this space already denies writes
    Rmap rmap(m_mm);
    for (auto& entry : m_tree.all()) {
        Vma* src = entry.second.get(); // a plain name: lambdas below capture it
        if (src->flags & VM_DONTCOPY)
            continue;
        if (src->flags & VM_ACCOUNT)
            TRY(m_mm.vm_enough_memory(src->pages(), this));
        auto copy = std::make_unique<Vma>(*src);
        if (copy->slab.failed()) { // vm_area_dup failed: the child is torn down, as dup_mmap does
            if (src->flags & VM_ACCOUNT)
                m_mm.vm_unacct_memory(src->pages());
            return Error::from_errno(ENOMEM, "no memory for a vm_area_struct");
        }
        // mlock is not inherited: the child's copy is not locked (VmLck 0). Nor is a userfaultfd
        // registration (dup_userfaultfd without UFFD_FEATURE_EVENT_FORK).
        copy->flags &= ~u64{VM_LOCKED | VM_LOCKONFAULT | VM_UFFD_MISSING | VM_UFFD_WP};
        copy->uffd = nullptr;
        bool wipe = src->flags & VM_WIPEONFORK;
        if (wipe)
            copy->anon.reset();
        copy->anon_inherited = copy->anon != nullptr; // anon_vma_fork chains the parent's
        Vma& dst = child->m_tree.insert(std::move(copy));
        if (src->flags & VM_HUGETLB) { // copy_hugetlb_page_range (Hugetlb.cpp)
            hugetlb_copy(*this, *child, *src);
            continue;
        }
        if (wipe || !src->anon)
            continue;
        bool cow = (src->flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
        TlbGather tlb(*m_page_table);
        // Once a table for the child cannot be had, the copy stops and fork fails with ENOMEM;
        // the child, torn down, gives back what was copied (dup_mmap's error path).
        bool copied = true;
        PageTable::LeafVisitor copy_pte = [&](VirtAddr va, PageSlot src_slot) {
            if (!copied)
                return;
            if (!pte_present(*src_slot) && !pte_is_swap(*src_slot) && !pte_is_guard(*src_slot))
                return;
            // The child's table first, as copy_pte_range allocates before it reads: the
            // allocation may reclaim, which can swap this very page out; the entry is read after.
            PageSlot slot = child->m_page_table->slot(va, true);
            if (!slot) {
                copied = false;
                return;
            }
            u64 pte = *src_slot;
            if (!pte_present(pte)) {
                if (pte_is_swap(pte)) {
                    // copy_nonpresent_pte: the child's PTE refers to the same slot.
                    m_mm.swap().duplicate(swap_entry_of(pte));
                    slot.set(pte);
                    ++child->rss().swapents;
                } else if (pte_is_guard(pte)) {
                    slot.set(pte); // the child's range is guarded too
                }
                return;
            }
            u64 child_pte = pte;
            if (cow && (pte & PTE_W)) {
                src_slot.wrprotect_flush(tlb);
                child_pte &= ~PTE_W;
            }
            if (dst.flags & VM_SHARED)
                child_pte &= ~PTE_D;
            child_pte &= ~PTE_A;
            slot.set(child_pte);
            Pfn pfn = pte_pfn(pte);
            if (!m_mm.is_zero_pfn(pfn)) {
                m_mm.get_page(pfn);
                rmap.add_mapping(*child, pfn);
            }
        };
        m_page_table->for_each(
            src->start, src->end, copy_pte, [&](VirtAddr base, unsigned level, PageSlot entry) {
                if (!copied || level != 1 || (src->flags & VM_HUGETLB))
                    return;
                auto done = m_mm.thp().copy_huge_pmd(*child, base, entry, cow);
                if (done == Thp::CopyHuge::Failed)
                    copied = false;
                else if (done == Thp::CopyHuge::Split) // now a PTE table: copied as one
                    m_page_table->for_each(std::max(base, src->start),
                                           std::min(base + HPAGE_PMD_SIZE, src->end), copy_pte);
            });
        tlb.finish();
        if (!copied)
            return Error::from_errno(ENOMEM, "no memory for the child's page tables");
    }
    child->update_hiwater_rss();
    return child;
}

} // namespace kioku
