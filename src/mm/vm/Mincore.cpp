// mincore(2), after Linux 6.x mm/mincore.c: one byte per page, 1 when the page is resident. A
// page of a file mapping counts as resident when it is in the page cache even if this mapping
// has not faulted it in, and a swapped-out page when it is still in the swap cache.
#include "mm/vm/AddressSpace.h"

#include "mm/MemoryManager.h"
#include "mm/cache/PageCache.h"
#include "mm/swap/SwapManager.h"

namespace kioku {

using namespace isa;

Result<void> AddressSpace::mincore(u64 start, u64 len, std::vector<u8>& out)
{
    out.clear();
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    // access_ok on the range: it must lie in the user address space.
    if (len > task_size() || start > task_size() - len)
        return Error::from_errno(ENOMEM, "range outside the user address space");
    u64 pages = (len >> PAGE_SHIFT) + ((len & (PAGE_SIZE - 1)) != 0);
    u64 addr = start;
    while (pages) {
        // do_mincore: each step covers the rest of one VMA; a hole ends the call with ENOMEM,
        // after the bytes of the VMAs before it were handed back.
        Vma* vma = vma_containing(VirtAddr(addr));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        u64 end = std::min(vma->end.value(), addr + (pages << PAGE_SHIFT));
        for (; addr < end; addr += PAGE_SIZE, --pages) {
            u64 pte = m_page_table->read(VirtAddr(addr));
            bool resident = false;
            if (pte_present(pte))
                resident = true;
            else if (pte_is_swap(pte))
                resident = m_mm.swap().lookup(swap_entry_of(pte)).has_value();
            else if (vma->file)
                resident = m_mm.page_cache().find(*vma->file, vma->page_index(VirtAddr(addr))).has_value();
            out.push_back(resident ? 1 : 0);
        }
    }
    return {};
}

} // namespace kioku
