#include "mm/vm/Mincore.h"

#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

using namespace isa;

Result<void> AddressSpace::mincore(u64 start, u64 len, std::vector<u8>& out)
{
    return kioku::mincore(*this, start, len, out);
}

Result<void> mincore(AddressSpace& space, u64 start, u64 len, std::vector<u8>& out)
{
    MmCore& mm = space.mm();
    out.clear();
    if (!is_page_aligned(start))
        return Error::from_errno(EINVAL, "address not page aligned");
    // access_ok on the range: it must lie in the user address space.
    if (len > space.task_size() || start > space.task_size() - len)
        return Error::from_errno(ENOMEM, "range outside the user address space");
    u64 pages = (len >> PAGE_SHIFT) + ((len & (PAGE_SIZE - 1)) != 0);
    u64 addr = start;
    while (pages) {
        // do_mincore: each step covers the rest of one VMA; a hole ends the call with ENOMEM,
        // after the bytes of the VMAs before it were handed back.
        Vma* vma = space.vma_containing(VirtAddr(addr));
        if (!vma)
            return Error::from_errno(ENOMEM, "range not mapped");
        u64 end = std::min(vma->end.value(), addr + (pages << PAGE_SHIFT));
        for (; addr < end; addr += PAGE_SIZE, --pages) {
            u64 pte = space.page_table().read(VirtAddr(addr));
            bool resident = false;
            if (pte_present(pte))
                resident = true;
            else if (pte_is_swap(pte))
                resident = mm.swap().lookup(swap_entry_of(pte)).has_value();
            else if (vma->file)
                resident = mm.page_cache().find(*vma->file, vma->page_index(VirtAddr(addr))).has_value();
            out.push_back(resident ? 1 : 0);
        }
    }
    return {};
}

} // namespace kioku
