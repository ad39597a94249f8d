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

void TlbGather::finish()
{
    if (m_pages > m_limit)
        m_port.flush_asid(m_asid);
    m_pages = 0;
}

u64 PageSlot::clear_flush()
{
    TlbGather tlb(*m_table, TlbGather::EACH_PAGE);
    return clear_flush(tlb);
}

void PageSlot::modify_flush(u64 pte)
{
    TlbGather tlb(*m_table, TlbGather::EACH_PAGE);
    modify_flush(pte, tlb);
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
