// What the address-space layer asks of hugetlb (src/mm/hugetlb, which sits above it) for VMAs with
// VM_HUGETLB set: the mmap setup and reservation, the splitting rules at huge-page boundaries, the
// fault, and the huge-leaf versions of zap, fork's copy, mprotect, mremap's move and MADV_REMOVE.
// Such a VMA is mapped only by huge leaves, never by 4 KiB PTEs. hugetlb implements it
// (HugetlbVmOps in hugetlb/Hugetlb.h, whose free functions say what each operation does after
// Linux's mm/hugetlb.c), and the core hands it out (MmCore::hugetlb_ops()).
#pragma once

#include <memory>

#include "base/Result.h"
#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

class AddressSpace;
class Inode;
struct FileAccess;
struct Vma;
enum class FaultOutcome : u8;

class HugetlbOps {
  public:
    // The huge page size of a VM_HUGETLB VMA; 0 for any other.
    virtual u64 page_size(const Vma& vma) = 0;

    // ==== mmap, munmap, splits ====
    // Before do_mmap: the length in huge pages and the hugetlbfs file behind the mapping; 0 when
    // the mapping is not hugetlb.
    virtual Result<u64> mmap_setup(u64& len, int flags, std::shared_ptr<Inode>& file, FileAccess& access) = 0;
    // The start of a mapping aligned to its huge page size.
    virtual Result<u64> align_area(u64 where, int flags, u64 huge) = 0;
    // Before the VMA is inserted: the offset check and the reservation.
    virtual Result<void> mmap_vma(AddressSpace& space, Vma& vma) = 0;
    // The VMA goes away: unused private reservations go back.
    virtual void vma_close(Vma& vma) = 0;
    // EINVAL unless each split point inside a hugetlb VMA is huge-aligned.
    virtual Result<void> split_check(const Vma& vma, u64 start, u64 end) = 0;
    virtual Result<void> munmap_check(AddressSpace& space, u64 start, u64 len) = 0;

    // ==== Faults and the page-table walks ====
    virtual FaultOutcome fault(AddressSpace& space, Vma& vma, VirtAddr va, isa::AccessType access) = 0;
    virtual Result<void> userfault_fill(AddressSpace& space, Vma& vma, VirtAddr va, const u8* src) = 0;
    // The end of the huge page holding va.
    virtual u64 page_end(const Vma& vma, VirtAddr va) = 0;
    virtual void zap(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end) = 0;
    virtual void copy(AddressSpace& parent, AddressSpace& child, const Vma& src) = 0;
    virtual void change_protection(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end,
                                   u64 new_flags) = 0;

    // ==== madvise and mremap ====
    virtual Result<u64> dontneed_end(const Vma& vma, u64 start, u64 end) = 0;
    virtual void punch_hole(Inode& inode, u64 offset, u64 len) = 0;
    virtual Result<void> mremap_check(const Vma& vma, u64 addr, u64& old_len, u64& new_len, u64 new_addr) = 0;
    virtual void move_leaves(AddressSpace& space, u64 old_addr, u64 new_addr, u64 len) = 0;
    virtual void forget_resv(Vma& vma) = 0;

  protected:
    ~HugetlbOps() = default;
};

} // namespace kioku
