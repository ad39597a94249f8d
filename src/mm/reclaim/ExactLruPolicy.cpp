#include "mm/reclaim/ExactLruPolicy.h"

namespace kioku {

void ExactLruPolicy::page_accessed(Pfn pfn)
{
    // Pages the policy does not hold (the zero page, page tables, unevictable pages) are ignored.
    m_queue.move_to_front(pfn);
}

} // namespace kioku
