#include "kernel/Futex.h"

#include "mm/vm/AddressSpace.h"

namespace kioku {

FutexKey futex_key(AddressSpace& space, u64 uaddr, bool private_futex)
{
    if (!private_futex) {
        const Vma* vma = space.find_vma(VirtAddr(uaddr));
        if (vma && vma->contains(VirtAddr(uaddr)) && vma->is_shared() && vma->file)
            return {vma->file.get(), (vma->pgoff << PAGE_SHIFT) + (uaddr - vma->start.value())};
    }
    return {&space, uaddr};
}

} // namespace kioku
