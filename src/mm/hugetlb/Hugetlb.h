// The hugetlb side of the memory calls (Linux: mm/hugetlb.c and fs/hugetlbfs/inode.c as the VM
// sees them): mmap of MAP_HUGETLB memory and of hugetlbfs files with reservations taken at mmap
// time, the hugetlb fault (a megapage or gigapage leaf over a pool page, copy-on-write at
// huge-page granularity for private mappings), zap, fork's copy, mprotect, and the views /proc
// needs. The address-space code calls these through small hooks for VMAs with VM_HUGETLB set;
// such a VMA is mapped only by huge leaves, never by 4 KiB PTEs.
//
// Every hugetlb VMA maps a hugetlbfs inode (anonymous MAP_HUGETLB memory is an unlinked one,
// "/anon_hugepage (deleted)", as in Linux), whose HugetlbFile in the pool gives the page size.
// Free functions over the pool's state; single-threaded.
#pragma once

#include <memory>
#include <string>

#include "base/Result.h"
#include "base/Types.h"
#include "isa/Paging.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/HugetlbOps.h"

namespace kioku {

class AddressSpace;
class Hstate;
class Inode;
class MmCore;
struct FileAccess;
struct Vma;

// mmap's huge page size field (Linux: MAP_HUGE_SHIFT, MAP_HUGE_MASK).
inline constexpr int MAP_HUGE_SHIFT_ = 26;
inline constexpr int MAP_HUGE_MASK_ = 0x3f;
inline constexpr int MAP_HUGE_2MB_ = 21 << MAP_HUGE_SHIFT_;
inline constexpr int MAP_HUGE_1GB_ = 30 << MAP_HUGE_SHIFT_;

// The hstate of a VM_HUGETLB VMA (null for any other).
Hstate* hugetlb_hstate(MmCore& mm, const Vma& vma);
// UFFDIO_COPY into the huge page at va of a hugetlb VMA registered with a userfaultfd (Linux:
// hugetlb_mfill_atomic_pte): a new pool page with src's bytes (the huge page's size) is mapped
// there, and for a shared mapping put in the file. EEXIST when the leaf or the file has a page,
// ENOMEM when the pool has none, EFAULT past the end of a shared file.
Result<void> hugetlb_userfault_fill(MmCore& mm, AddressSpace& space, Vma& vma, VirtAddr va, const u8* src);
// Is this inode a hugetlbfs file?
bool is_hugetlbfs(MmCore& mm, const Inode* inode);

// ksys_mmap_pgoff's hugetlb part, before do_mmap: for MAP_HUGETLB anonymous memory, checks the
// size field (EINVAL), rounds len up to the huge page size and sets up the unlinked hugetlbfs file
// behind the mapping; for a hugetlbfs file, rounds len up; MAP_HUGETLB on another file is EINVAL.
// Returns the huge page size, 0 when the mapping is not hugetlb.
Result<u64> hugetlb_mmap_setup(MmCore& mm, u64& len, int flags, std::shared_ptr<Inode>& file,
                               FileAccess& access);
// hugetlb_get_unmapped_area's alignment: `where` was found for len + huge - PAGE_SIZE bytes (or is
// the MAP_FIXED address, which must be aligned). Returns the aligned start.
Result<u64> hugetlb_align_area(u64 where, int flags, u64 huge);
// hugetlbfs_file_mmap, before the VMA is inserted: the offset must be huge-aligned; takes the
// reservation (hugetlb_reserve_pages; ENOMEM when the pool cannot back it) and grows the file.
Result<void> hugetlb_mmap_vma(MmCore& mm, AddressSpace& space, Vma& vma);
// hugetlb_vm_op_close: a private mapping's owner gives back the reservations it did not use.
void hugetlb_vma_close(MmCore& mm, Vma& vma);
// hugetlb_vm_op_split: EINVAL unless each split point inside a hugetlb VMA is huge-aligned.
Result<void> hugetlb_split_check(MmCore& mm, const Vma& vma, u64 start, u64 end);
// munmap over hugetlb VMAs: a boundary of [start, start + len) that falls inside a hugetlb VMA
// must be huge-aligned, since the VMA would split there (EINVAL, as hugetlb_vm_op_split refuses).
// The length is not rounded: munmap(addr, 4096) on a 2 MiB mapping fails, as on Linux.
Result<void> hugetlb_munmap_check(AddressSpace& space, u64 start, u64 len);

// madvise(MADV_DONTNEED) on a hugetlb VMA (madvise_dontneed_free_valid_vma): EINVAL for a start
// inside a huge page; the end is rounded down to the huge page size so that no huge page is freed
// that the caller did not cover whole. Returns the new end (which may equal start).
Result<u64> hugetlb_dontneed_end(MmCore& mm, const Vma& vma, u64 start, u64 end);
// MADV_REMOVE and a hole punched in a hugetlbfs file (hugetlbfs_punch_hole): the whole huge pages
// inside [offset, offset + len) of the file leave every mapping (private copies included, as on
// Linux) and the file, and their reservations are released.
void hugetlb_punch_hole(MmCore& mm, Inode& inode, u64 offset, u64 len);
// fallocate on a hugetlbfs file (hugetlbfs_fallocate): mode 0 or KEEP_SIZE puts a zeroed pool page
// at every huge page index the range touches (ENOSPC when the pool runs out) and, without
// KEEP_SIZE, grows the size to the range's end; PUNCH_HOLE|KEEP_SIZE zeroes the partly covered
// huge pages and removes the whole ones. EOPNOTSUPP for the other modes, EPERM against the memfd
// seals.
Result<void> hugetlb_fallocate(MmCore& mm, Inode& inode, int mode, u64 offset, u64 len);
// Unmaps the file range [first, end) (bytes, huge-aligned) from every VMA mapping the inode
// (Linux: hugetlb_vmdelete_list).
void hugetlb_unmap_file_range(Inode& inode, u64 first, u64 end);

// mremap's hugetlb rules (Linux 6.x SYSCALL_DEFINE5(mremap)): the lengths are rounded up to the
// huge page size, addr and new_addr must be huge-aligned, and the mapping may not grow (EINVAL).
Result<void> hugetlb_mremap_check(MmCore& mm, const Vma& vma, u64 addr, u64& old_len, u64& new_len,
                                  u64 new_addr);
// move_hugetlb_page_tables: moves the huge leaves of [old_addr, old_addr + len) to new_addr.
void hugetlb_move_leaves(AddressSpace& space, u64 old_addr, u64 new_addr, u64 len);
// clear_vma_resv_huge_pages: the VMA being unmapped after mremap moved it gives its private
// reservation to the moved copy instead of releasing it.
void hugetlb_forget_resv(Vma& vma);

// The hugetlb fault (Linux: hugetlb_fault, hugetlb_no_page, hugetlb_wp). va lies in vma, the
// access is allowed. Sigbus when the pool cannot give a page or va lies beyond the file.
FaultOutcome hugetlb_fault(MmCore& mm, AddressSpace& space, Vma& vma, VirtAddr va, isa::AccessType access);
// The end of the huge page holding va (for populate, which steps one huge page at a time).
u64 hugetlb_page_end(MmCore& mm, const Vma& vma, VirtAddr va);
// Unmaps the huge pages of [start, end) (Linux: __unmap_hugepage_range). A private anonymous page
// the reservation owner frees gives its reservation back to the mapping while the pool has no
// surplus pages, so that a later fault there cannot find the pool taken (Linux 6.9+).
void hugetlb_zap(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end);
// fork (Linux: copy_hugetlb_page_range): shared pages are shared, private ones write-protected in
// both for copy-on-write.
void hugetlb_copy(AddressSpace& parent, AddressSpace& child, const Vma& src);
// mprotect (Linux: hugetlb_change_protection).
void hugetlb_change_protection(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end, u64 new_flags);

// What /proc shows of a hugetlb VMA: bytes mapped from pages mapped more than once or not
// (smaps Shared_Hugetlb / Private_Hugetlb), and their sum (status HugetlbPages).
struct HugetlbUsage {
    u64 shared = 0;
    u64 private_ = 0;
};
HugetlbUsage hugetlb_usage(MmCore& mm, AddressSpace& space, const Vma& vma);
// The leaf entry mapping va in a hugetlb VMA (0 when none), for pagemap: its pfn plus the 4 KiB
// offset inside the huge page.
u64 hugetlb_pagemap_pfn(AddressSpace& space, VirtAddr va, bool* present, bool* exclusive);

// The invariant checker's part: every hugetlb page's refcount and mapcount equal the huge leaves
// (and the hugetlbfs page cache) holding it; pool counts add up.
bool hugetlb_check(MmCore& mm, std::string* why);

// The address-space layer's port (vm/HugetlbOps.h), onto the functions above.
class HugetlbVmOps final : public HugetlbOps {
  public:
    explicit HugetlbVmOps(MmCore& mm)
        : m_mm(mm)
    {
    }
    u64 page_size(const Vma& vma) override;
    Result<u64> mmap_setup(u64& len, int flags, std::shared_ptr<Inode>& file, FileAccess& access) override;
    Result<u64> align_area(u64 where, int flags, u64 huge) override;
    Result<void> mmap_vma(AddressSpace& space, Vma& vma) override;
    void vma_close(Vma& vma) override;
    Result<void> split_check(const Vma& vma, u64 start, u64 end) override;
    Result<void> munmap_check(AddressSpace& space, u64 start, u64 len) override;
    FaultOutcome fault(AddressSpace& space, Vma& vma, VirtAddr va, isa::AccessType access) override;
    Result<void> userfault_fill(AddressSpace& space, Vma& vma, VirtAddr va, const u8* src) override;
    u64 page_end(const Vma& vma, VirtAddr va) override;
    void zap(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end) override;
    void copy(AddressSpace& parent, AddressSpace& child, const Vma& src) override;
    void change_protection(AddressSpace& space, Vma& vma, VirtAddr start, VirtAddr end,
                           u64 new_flags) override;
    Result<u64> dontneed_end(const Vma& vma, u64 start, u64 end) override;
    void punch_hole(Inode& inode, u64 offset, u64 len) override;
    Result<void> mremap_check(const Vma& vma, u64 addr, u64& old_len, u64& new_len, u64 new_addr) override;
    void move_leaves(AddressSpace& space, u64 old_addr, u64 new_addr, u64 len) override;
    void forget_resv(Vma& vma) override;

  private:
    MmCore& m_mm;
};

} // namespace kioku
