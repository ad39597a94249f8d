// mmap(2), remap_file_pages(2), brk(2) and msync(2), after Linux 6.x mm/mmap.c and mm/msync.c.
// mmap checks its arguments in do_mmap's order, turns the protection and flags into VM flags,
// finds room (AddressSpace::get_unmapped_area, top down from mmap_base) and lets mmap_region
// replace what was there with one new VMA, merged with its neighbours. Writable private memory
// is charged to the overcommit account (VM_ACCOUNT); shared anonymous memory becomes a shmem
// file. brk grows and shrinks the heap VMA the same way; msync writes dirty shared file pages
// back. munmap is AddressSpace::do_munmap, which the other calls use as well.
#pragma once

#include <memory>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
class Inode;
class MmCore;
struct FileAccess;

// Whether a shared mapping that may write maps the file (mapping_writably_mapped).
bool writably_mapped(const Inode& file);

// The VM_READ / VM_WRITE / VM_EXEC flags of a PROT_* protection (calc_vm_prot_bits).
u64 calc_vm_prot_bits(int prot);

// The mapping calls of one address space (AddressSpace's members of the same names are the entry
// points).
class MmapCall {
  public:
    explicit MmapCall(AddressSpace& space);
    Result<u64> mmap(u64 addr, u64 len, int prot, int flags, std::shared_ptr<Inode> file, u64 offset,
                     FileAccess access);
    Result<void> remap_file_pages(u64 start, u64 size, int prot, u64 pgoff, int flags);
    u64 brk(u64 requested);
    Result<void> msync(u64 start, u64 len, int flags);

  private:
    // The new VMA for [addr, addr + len), after unmapping what was there and charging the
    // overcommit account.
    Result<u64> mmap_region(u64 addr, u64 len, u64 vm_flags, u64 pgoff, std::shared_ptr<Inode> file);

    AddressSpace& m_space;
    MmCore& m_mm;
};

} // namespace kioku
