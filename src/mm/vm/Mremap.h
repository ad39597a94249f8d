// mremap(2), after Linux 6.x mm/mremap.c: shrinking unmaps the tail; growing extends the VMA in
// place when the range after it is free; otherwise, with MREMAP_MAYMOVE, the VMA is copied to a
// new place and its page-table entries are moved there, so no data is copied. MREMAP_FIXED picks
// the new place (unmapping what was there); MREMAP_DONTUNMAP moves the pages but leaves the old
// range mapped and empty.
//
// A moved anonymous VMA keeps its AnonVma and its vm_pgoff (the linear index of its first page),
// so every page keeps its index and the reverse map finds it at the new address. Only an
// anonymous VMA that never had a page takes the pgoff of its new address, as copy_vma does.
// Overcommit: a VM_ACCOUNT mapping is charged for what it grows; the charge of the moved part
// goes with it (the old range is unmapped with its VM_ACCOUNT concealed).
#pragma once

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
struct Vma;

// One mremap call on one address space (AddressSpace::mremap is its entry point).
class MremapCall {
  public:
    explicit MremapCall(AddressSpace& space)
        : m_space(space)
    {
    }
    Result<u64> run(u64 old_addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr);

  private:
    // The VMA to resize, with mremap's checks of the old range (EFAULT, EINVAL, ENOMEM, EAGAIN).
    Result<Vma*> vma_to_resize(u64 addr, u64 old_len, u64 new_len, u64 flags);
    // MREMAP_FIXED: the new range is cleared first, then the mapping moves there.
    Result<u64> mremap_to(u64 addr, u64 old_len, u64 new_addr, u64 new_len, u64 flags);
    // copy_vma + move_page_tables + the unmap of the old range.
    Result<u64> move_vma(Vma& vma, u64 old_addr, u64 old_len, u64 new_len, u64 new_addr, u64 flags);
    // Moves the page-table entries of [old_addr, old_addr + len) to new_addr; false when a table
    // could not be had (nothing stays moved).
    bool move_ptes(u64 old_addr, u64 new_addr, u64 len);

    AddressSpace& m_space;
};

} // namespace kioku
