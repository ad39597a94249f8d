// fork's copy of an address space, after Linux 6.x dup_mmap and copy_page_range (kernel/fork.c,
// mm/memory.c). The child gets a copy of every VMA but those marked VM_DONTCOPY, without mlock
// or userfaultfd registrations; an anonymous VMA's pages are shared copy-on-write (both sides
// write-protected), swap entries take another reference on their slot, and shared mappings'
// pages are simply mapped again. File pages of private mappings are left to fault, as Linux
// leaves VMAs without an anon_vma. When memory for the child runs out the copy stops, and the
// half-made child is torn down (ENOMEM).
#pragma once

#include <memory>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
class MmCore;
struct Vma;

// One fork of one address space (AddressSpace::fork is its entry point).
class ForkCall {
  public:
    explicit ForkCall(AddressSpace& parent);
    Result<std::unique_ptr<AddressSpace>> run(Asid child_asid);

  private:
    // copy_page_range: the page-table entries of src into the child's dst; false when a table
    // for the child could not be had.
    bool copy_page_range(AddressSpace& child, Vma& src, Vma& dst);

    AddressSpace& m_space;
    MmCore& m_mm;
};

} // namespace kioku
