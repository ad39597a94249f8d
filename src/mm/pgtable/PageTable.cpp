#include "mm/pgtable/PageTable.h"

#include <algorithm>

#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"

namespace kioku {

using namespace isa;

Result<std::unique_ptr<PageTable>> PageTable::create(PhysicalMemory& memory, TableAllocator& tables,
                                                     SatpMode mode, TlbFlushPort& tlb, Asid asid)
{
    auto root = tables.allocate_table();
    if (!root)
        return Error::from_errno(ENOMEM, "no memory for a page-table root");
    return std::unique_ptr<PageTable>(new PageTable(memory, tables, mode, tlb, asid, *root));
}

PageTable::PageTable(PhysicalMemory& memory, TableAllocator& tables, SatpMode mode, TlbFlushPort& tlb,
                     Asid asid, Pfn root)
    : m_memory(memory)
    , m_tables(tables)
    , m_mode(mode)
    , m_tlb(tlb)
    , m_asid(asid)
    , m_root(root)
{
}

PageTable::~PageTable()
{
    // Leaves are gone by now, and zapping them freed their deposits; free any left all the same.
    while (!m_deposits.empty())
        free_deposit(VirtAddr(m_deposits.begin()->first));
    free_all(m_root, levels() - 1);
    m_tables.free_table(m_root);
}

u64 PageTable::user_limit() const
{
    // The lower half of the canonical space: 128 TiB for Sv48, 256 GiB for Sv39.
    return u64{1} << (va_bits_of(m_mode) - 1);
}

u64* PageTable::entry(Pfn table, unsigned index) const
{
    return reinterpret_cast<u64*>(m_memory.frame(table)) + index;
}

PageSlot PageTable::entry_at(VirtAddr va, unsigned target, bool create)
{
    VERIFY(target < levels());
    Pfn table = m_root;
    for (unsigned level = levels() - 1; level > target; --level) {
        u64* e = entry(table, vpn_index(va.value(), level));
        if (!pte_valid(*e)) {
            if (!create)
                return {};
            auto fresh = allocate_table();
            if (!fresh)
                return {};
            *e = make_pte(fresh->value(), PTE_V);
        }
        VERIFY(!pte_is_leaf(*e) && "a huge leaf must be split before a lower-level walk");
        table = Pfn(pte_ppn(*e));
    }
    u64 size = level_page_size(target);
    return PageSlot(*this, entry(table, vpn_index(va.value(), target)), VirtAddr(va.value() & ~(size - 1)));
}

std::optional<PageTable::HugeLeaf> PageTable::huge_leaf(VirtAddr va)
{
    Pfn table = m_root;
    for (unsigned level = levels() - 1; level > 0; --level) {
        u64* e = entry(table, vpn_index(va.value(), level));
        if (*e == 0)
            return std::nullopt;
        bool leaf = pte_valid(*e) ? pte_is_leaf(*e) : true; // a non-valid non-zero entry above
                                                            // level 0 is a protnone huge leaf
        if (leaf) {
            if (level > 2)
                return std::nullopt;
            u64 size = level_page_size(level);
            VirtAddr base(va.value() & ~(size - 1));
            return HugeLeaf{PageSlot(*this, e, base), level, base};
        }
        table = Pfn(pte_ppn(*e));
    }
    return std::nullopt;
}

bool PageTable::split_leaf(VirtAddr va, std::optional<Pfn> every)
{
    auto leaf = huge_leaf(va);
    if (!leaf)
        return true;
    // __split_huge_pmd_locked fills the table deposited with the leaf; only a leaf without one
    // (a gigapage) needs a fresh table here.
    auto fresh = leaf->level == 1 ? withdraw(leaf->base) : std::nullopt;
    if (!fresh)
        fresh = allocate_table();
    if (!fresh)
        return false;
    u64 old = *leaf->entry;
    u64 bits = old & ~PTE_PPN_MASK;
    u64 ppn = pte_ppn(old);
    u64 step = level_page_size(leaf->level - 1) >> PAGE_SHIFT;
    for (unsigned i = 0; i < PTES_PER_TABLE; ++i)
        *entry(*fresh, i) = make_pte(every ? every->value() : ppn + i * step, bits);
    *leaf->entry.m_entry = make_pte(fresh->value(), PTE_V);
    m_tlb.flush_page(m_asid, leaf->base);
    return true;
}

PageSlot PageTable::huge_slot(VirtAddr base, unsigned level)
{
    VERIFY(level == 1 || level == 2);
    PageSlot slot = entry_at(base, level, true);
    if (slot && pte_valid(*slot) && !pte_is_leaf(*slot)) {
        if (!free_if_empty(Pfn(pte_ppn(*slot)), level - 1))
            return {};
        *slot.m_entry = 0; // pointed to a table nothing was mapped through: no flush
    }
    return slot;
}

bool PageTable::free_if_empty(Pfn table, unsigned level)
{
    for (unsigned i = 0; i < PTES_PER_TABLE; ++i) {
        u64* e = entry(table, i);
        if (*e == 0)
            continue;
        if (level == 0 || !pte_valid(*e) || pte_is_leaf(*e))
            return false;
        if (!free_if_empty(Pfn(pte_ppn(*e)), level - 1))
            return false;
        *e = 0;
    }
    release_table(table);
    return true;
}

std::optional<Pfn> PageTable::detach_table(VirtAddr base)
{
    PageSlot pmd = entry_at(base, 1, false);
    if (!pmd || !pte_valid(*pmd) || pte_is_leaf(*pmd))
        return std::nullopt;
    Pfn table(pte_ppn(*pmd));
    *pmd.m_entry = 0;
    m_tlb.flush_asid(m_asid);
    m_memory.zero_frame(table);
    return table;
}

std::optional<Pfn> PageTable::allocate_table()
{
    auto fresh = m_tables.allocate_table();
    if (fresh)
        ++m_table_pages;
    return fresh;
}

void PageTable::release_table(Pfn table)
{
    m_tables.free_table(table);
    --m_table_pages;
}

void PageTable::deposit(VirtAddr base, Pfn table)
{
    VERIFY(base.value() % level_page_size(1) == 0 && "a deposit for an unaligned megapage");
    bool fresh = m_deposits.emplace(base.value(), table).second;
    VERIFY(fresh && "a megapage leaf with two deposited tables");
}

std::optional<Pfn> PageTable::withdraw(VirtAddr base)
{
    auto it = m_deposits.find(base.value());
    if (it == m_deposits.end())
        return std::nullopt;
    Pfn table = it->second;
    m_deposits.erase(it);
    return table;
}

void PageTable::free_deposit(VirtAddr base)
{
    if (auto table = withdraw(base))
        release_table(*table);
}

u64 PageTable::reachable_table_pages() const
{
    return reachable_in(m_root, levels() - 1);
}

u64 PageTable::reachable_in(Pfn table, unsigned level) const
{
    if (level == 0)
        return 0;
    u64 count = 0;
    for (unsigned i = 0; i < PTES_PER_TABLE; ++i) {
        u64 e = *entry(table, i);
        if (pte_valid(e) && !pte_is_leaf(e))
            count += 1 + reachable_in(Pfn(pte_ppn(e)), level - 1);
    }
    return count;
}

PageSlot PageTable::find_pte(VirtAddr va)
{
    if (huge_leaf(va))
        return {};
    return slot(va, false);
}

u64 PageTable::read(VirtAddr va) const
{
    auto* self = const_cast<PageTable*>(this);
    if (auto leaf = self->huge_leaf(va)) {
        u64 offset = (va - leaf->base) >> PAGE_SHIFT;
        return make_pte(pte_ppn(*leaf->entry) + offset, *leaf->entry & ~PTE_PPN_MASK);
    }
    PageSlot s = self->slot(va, false);
    return s ? *s : 0;
}

void PageTable::for_each(VirtAddr start, VirtAddr end, const LeafVisitor& fn)
{
    if (start >= end)
        return;
    for_each_in(m_root, levels() - 1, 0, start.value(), end.value(), fn, nullptr);
}

void PageTable::for_each(VirtAddr start, VirtAddr end, const LeafVisitor& fn, const HugeVisitor& huge)
{
    if (start >= end)
        return;
    for_each_in(m_root, levels() - 1, 0, start.value(), end.value(), fn, &huge);
}

void PageTable::for_each_in(Pfn table, unsigned level, u64 base, u64 start, u64 end, const LeafVisitor& fn,
                            const HugeVisitor* huge)
{
    u64 span = level_page_size(level);
    unsigned first = base >= start ? 0 : static_cast<unsigned>((start - base) / span);
    for (unsigned i = first; i < PTES_PER_TABLE; ++i) {
        u64 lo = base + i * span;
        if (lo >= end)
            break;
        u64* e = entry(table, i);
        if (*e == 0)
            continue;
        if (level == 0) {
            fn(VirtAddr(lo), PageSlot(*this, e, VirtAddr(lo)));
            continue;
        }
        if (pte_valid(*e) && !pte_is_leaf(*e)) {
            for_each_in(Pfn(pte_ppn(*e)), level - 1, lo, start, end, fn, huge);
            continue;
        }
        VERIFY(huge && "a huge leaf met by a walk that does not handle huge pages");
        (*huge)(VirtAddr(lo), level, PageSlot(*this, e, VirtAddr(lo)));
    }
}

u64 PageTable::free_tables(VirtAddr start, VirtAddr end, VirtAddr floor, VirtAddr ceiling)
{
    u64 freed = 0;
    if (start < end)
        free_in(m_root, levels() - 1, 0,
                FreeRange{start.value(), end.value(), floor.value(), ceiling.value()}, freed);
    return freed;
}

// Walks the entries over [start, end) only, so that freeing after a small unmap costs a few
// entries per level, not the tables of the whole hole around it. A child table is freed when its
// whole span lies within [floor, ceiling) and it holds no entry (looked at only then, once per
// table freed).
void PageTable::free_in(Pfn table, unsigned level, u64 base, const FreeRange& r, u64& freed)
{
    if (level == 0)
        return;
    u64 span = level_page_size(level);
    u64 first = r.start > base ? (r.start - base) / span : 0;
    u64 last = std::min<u64>((r.end - base + span - 1) / span, PTES_PER_TABLE);
    for (u64 i = first; i < last; ++i) {
        u64 lo = base + i * span;
        u64* e = entry(table, static_cast<unsigned>(i));
        if (*e == 0 || !pte_valid(*e) || pte_is_leaf(*e))
            continue;
        Pfn child(pte_ppn(*e));
        free_in(child, level - 1, lo, r, freed);
        if (lo >= r.floor && lo + span <= r.ceiling && table_empty(child)) {
            *e = 0;
            m_tables.free_table(child);
            --m_table_pages;
            ++freed;
        }
    }
}

bool PageTable::table_empty(Pfn table) const
{
    for (unsigned i = 0; i < PTES_PER_TABLE; ++i)
        if (*entry(table, i) != 0)
            return false;
    return true;
}

void PageTable::free_all(Pfn table, unsigned level)
{
    if (level == 0)
        return;
    for (unsigned i = 0; i < PTES_PER_TABLE; ++i) {
        u64* e = entry(table, i);
        if (*e == 0)
            continue;
        VERIFY(pte_valid(*e) && !pte_is_leaf(*e) && "a huge leaf left when its page table is freed");
        Pfn child(pte_ppn(*e));
        free_all(child, level - 1);
        *e = 0;
        m_tables.free_table(child);
        --m_table_pages;
    }
}

} // namespace kioku
