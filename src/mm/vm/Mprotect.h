// mprotect(2), after Linux 6.x mm/mprotect.c: each VMA of the range gets the new protection
// (split at the range's edges, merged afterwards), and its present PTEs are rewritten with the
// protection bits of the new flags. A page that may become writable without a fault (an
// exclusively owned anonymous page, or a dirty page of a shared mapping) does so at once, as
// can_change_pte_writable allows; the rest are write-protected and take a fault on the first
// store. A private mapping that becomes writable is charged to the overcommit account.
#pragma once

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
class MmCore;
struct Vma;

// One mprotect call on one address space (AddressSpace::mprotect is its entry point).
class MprotectCall {
  public:
    explicit MprotectCall(AddressSpace& space);
    Result<void> run(u64 start, u64 len, int prot);

  private:
    // change_protection: the present PTEs of [start, end) in vma get the bits of new_flags.
    void change_protection(Vma& vma, VirtAddr start, VirtAddr end, u64 new_flags);

    AddressSpace& m_space;
    MmCore& m_mm;
};

} // namespace kioku
