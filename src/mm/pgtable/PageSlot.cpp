#include "mm/pgtable/PageSlot.h"

#include "base/Assert.h"
#include "hw/Tlb.h"
#include "mm/pgtable/PageTable.h"

namespace kioku {

TlbGather::TlbGather(PageTable& table, u64 page_limit)
    : m_port(table.tlb())
    , m_asid(table.asid())
    , m_limit(page_limit)
{
}

void TlbGather::add(VirtAddr va)
{
    if (++m_pages <= m_limit)
        m_port.flush_page(m_asid, va);
}

void TlbGather::finish()
{
    if (m_pages > m_limit)
        m_port.flush_asid(m_asid);
    m_pages = 0;
}

PageSlot PageSlot::next(unsigned n) const
{
    auto index = (reinterpret_cast<uintptr_t>(m_entry) % PAGE_SIZE) / sizeof(u64);
    VERIFY(index + n < isa::PTES_PER_TABLE && "a slot beyond its table");
    return PageSlot(*m_table, m_entry + n, m_va + n * PAGE_SIZE);
}

void PageSlot::set(u64 pte)
{
    VERIFY(!isa::pte_valid(*m_entry) && "set over an entry the TLB may hold: it needs a flush");
    *m_entry = pte;
}

u64 PageSlot::clear()
{
    u64 old = *m_entry;
    VERIFY(!pte_present(old) && "cleared without a flush while a frame was mapped");
    *m_entry = 0;
    return old;
}

void PageSlot::upgrade(u64 bits)
{
    *m_entry |= bits;
}

u64 PageSlot::clear_flush(TlbGather& tlb)
{
    u64 old = *m_entry;
    *m_entry = 0;
    if (pte_present(old))
        tlb.add(m_va);
    return old;
}

u64 PageSlot::clear_flush()
{
    TlbGather tlb(*m_table, TlbGather::EACH_PAGE);
    return clear_flush(tlb);
}

void PageSlot::modify_flush(u64 pte, TlbGather& tlb)
{
    u64 old = *m_entry;
    *m_entry = pte;
    if (pte_present(old) && pte != old)
        tlb.add(m_va);
}

void PageSlot::modify_flush(u64 pte)
{
    TlbGather tlb(*m_table, TlbGather::EACH_PAGE);
    modify_flush(pte, tlb);
}

bool PageSlot::clear_bits_flush(u64 bits, TlbGather& tlb)
{
    u64 old = *m_entry;
    if (!(old & bits))
        return false;
    *m_entry = old & ~bits;
    if (pte_present(old))
        tlb.add(m_va);
    return true;
}

bool PageSlot::clear_bits_flush(u64 bits)
{
    TlbGather tlb(*m_table, TlbGather::EACH_PAGE);
    return clear_bits_flush(bits, tlb);
}

void PageSlot::set_access_flags(u64 bits)
{
    *m_entry |= bits;
    m_table->tlb().flush_page(m_table->asid(), m_va);
}

} // namespace kioku
