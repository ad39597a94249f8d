#include "mm/vm/AddressSpace.h"

#include "hw/Tlb.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/HugetlbOps.h"
#include "mm/vm/Rmap.h"
#include "mm/vm/ThpOps.h"
#include "mm/vm/Userfault.h"

namespace kioku {

using namespace isa;

namespace {

// Linux's mmap_base() with randomisation off: the gap below the stack is the stack rlimit plus
// the guard gap, at least 128 MiB.
constexpr u64 MIN_STACK_GAP = u64{128} << 20;
constexpr u64 STACK_RLIMIT = u64{8} << 20;

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

Result<std::unique_ptr<AddressSpace>> AddressSpace::create(MmCore& mm, Asid asid)
{
    auto table = TRY(PageTable::create(mm.memory(), mm, mm.paging_mode(), mm.tlb(), asid));
    auto space = std::unique_ptr<AddressSpace>(new AddressSpace(mm, asid, std::move(table)));
    if (space->m_slab.failed()) // mm_alloc: no memory for the mm_struct
        return Error::from_errno(ENOMEM, "no memory for an mm_struct");
    return space;
}

AddressSpace::AddressSpace(MmCore& mm, Asid asid, std::unique_ptr<PageTable> table)
    : m_mm(mm)
    , m_asid(asid)
    , m_page_table(std::move(table))
{
    u64 gap = std::max(MIN_STACK_GAP, STACK_RLIMIT + (mm.sysctl().stack_guard_gap_pages << PAGE_SHIFT));
    m_mmap_base = task_size() - gap;
    m_memcg = &mm.memcg().target();
    m_mm.register_space(this, asid);
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
        m_mm.hugetlb_ops().vma_close(vma); // unused hugetlb reservations go back (Hugetlb.cpp)
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
    m_mm.thp_ops().split_partial(*this, at, at);
    return m_tree.split(vma, at);
}

Vma& AddressSpace::modify_flags(Vma& vma, u64 start, u64 end, u64 new_flags)
{
    Vma* target = &vma;
    if (start > target->start.value())
        target = &split_vma(*target, VirtAddr(start));
    if (end < target->end.value())
        split_vma(*target, VirtAddr(end));
    m_tree.set_flags(*target, new_flags);
    return m_tree.merge(*target);
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

void AddressSpace::zap_range(Vma& vma, VirtAddr start, VirtAddr end, ZapGuards guards)
{
    if (vma.flags & VM_HUGETLB)
        return m_mm.hugetlb_ops().zap(*this, vma, start, end);
    if (vma.flags & VM_LOCKED)
        munlock_range(vma, start, end); // Mlock.cpp: pages no other locked VMA maps are unlocked
    Rmap rmap(m_mm);
    TlbGather tlb(*m_page_table);
    // A THP the range covers in part is split; whole ones go at once (zap_huge_pmd).
    m_mm.thp_ops().split_partial(*this, start, end);
    auto huge = [&](VirtAddr base, unsigned level, PageSlot entry) {
        if (level == 1 && !(vma.flags & VM_HUGETLB))
            m_mm.thp_ops().zap_huge_pmd(*this, base, entry);
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
    TRY(m_mm.hugetlb_ops().munmap_check(*this, start, len)); // hugetlb VMAs split only at huge boundaries
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
        m_mm.hugetlb_ops().vma_close(*vma);
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

void AddressSpace::set_brk_start(u64 start_brk)
{
    m_start_brk = start_brk;
    m_brk = start_brk;
}

Result<void> AddressSpace::setup_stack(u64 stack_top, u64 initial_size)
{
    u64 top = stack_top & PAGE_MASK;
    u64 size = page_round_up(initial_size);
    TRY(m_mm.vm_enough_memory(size >> PAGE_SHIFT, total_vm()));
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
    if ((vma.flags & VM_ACCOUNT) && m_mm.vm_enough_memory(grow, total_vm()).is_error())
        return false;
    m_tree.set_start(vma, VirtAddr(new_start));
    return true;
}

VirtAddr AddressSpace::populate(VirtAddr start, VirtAddr end)
{
    FaultHandler& handler = m_mm.fault_handler();
    for (VirtAddr va = start; va < end; va += PAGE_SIZE) {
        // A memory.high penalty owed stops it here: the caller may go on after the sleep.
        if (m_mm.throttle_pending())
            return va;
        Vma* vma = vma_containing(va);
        if (!vma)
            return va;
        if (!(vma->flags & VM_ACCESS_FLAGS)) {
            va = VirtAddr(vma->end.value() - PAGE_SIZE);
            continue;
        }
        bool write = (vma->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
        if (vma->flags & VM_HUGETLB) { // one fault per huge page
            if (!fault_resolved(
                    m_mm.hugetlb_ops().fault(*this, *vma, va, write ? AccessType::Write : AccessType::Read)))
                return va;
            va = VirtAddr(m_mm.hugetlb_ops().page_end(*vma, va) - PAGE_SIZE);
            continue;
        }
        u64 pte = m_page_table->read(va);
        if ((pte & PTE_V) && (!write || (pte & PTE_W)))
            continue;
        FaultOutcome outcome =
            handler.handle_in_vma(*this, *vma, va, write ? AccessType::Write : AccessType::Read);
        if (!fault_resolved(outcome))
            return va;
    }
    return end;
}

u64 AddressSpace::hiwater_rss() const
{
    return std::max(m_hiwater_rss, static_cast<u64>(std::max<i64>(0, m_rss.total())));
}

void AddressSpace::update_hiwater_rss()
{
    m_hiwater_rss = hiwater_rss();
}

} // namespace kioku
