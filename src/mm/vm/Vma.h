// A virtual memory area (Linux: struct vm_area_struct): one contiguous, page-aligned range of an
// address space with one set of permissions and one backing. Owned by its AddressSpace's VmaTree.
//
// Backing:
//   - anonymous private: file == nullptr, pages belong to `anon` (created on first write fault);
//     pgoff is the linear page index of `start` (start >> PAGE_SHIFT when created), kept through
//     splits so that a page's index = pgoff + (addr - start) / PAGE_SIZE, as in Linux.
//   - file (private or shared): file != nullptr, pgoff is the file page offset of `start`.
//     Shared anonymous memory is a shmem file created for the mapping (VM_SHARED set).
// Private file mappings get an `anon` too once a write fault copies a page.
//
// Invariants: start < end, both page-aligned; VM_WRITE implies VM_MAYWRITE (and likewise for
// READ/EXEC); VM_SHARED implies VM_MAYSHARE.
#pragma once

#include <memory>
#include <string>

#include "base/Types.h"
#include "mm/slab/SlabCharge.h"

namespace kioku {

class Inode;
class AnonVma;
class AddressSpace;
class UserfaultContext;

// vm_flags values as Linux defines them (include/linux/mm.h), so dumps read the same.
enum VmFlag : u64 {
    VM_READ = 0x1,
    VM_WRITE = 0x2,
    VM_EXEC = 0x4,
    VM_SHARED = 0x8,
    VM_MAYREAD = 0x10,
    VM_MAYWRITE = 0x20,
    VM_MAYEXEC = 0x40,
    VM_MAYSHARE = 0x80,
    VM_GROWSDOWN = 0x100,
    VM_PFNMAP = 0x400,
    VM_UFFD_MISSING = 0x200,
    VM_UFFD_WP = 0x1000,
    VM_LOCKED = 0x2000,
    VM_IO = 0x4000,
    VM_SEQ_READ = 0x8000,
    VM_RAND_READ = 0x10000,
    VM_DONTCOPY = 0x20000,
    VM_DONTEXPAND = 0x40000,
    VM_LOCKONFAULT = 0x80000,
    VM_ACCOUNT = 0x100000,
    VM_NORESERVE = 0x200000,
    VM_HUGETLB = 0x400000,
    VM_SYNC = 0x800000,
    VM_ARCH_1 = 0x1000000,
    VM_WIPEONFORK = 0x2000000,
    VM_DONTDUMP = 0x4000000,
    VM_SOFTDIRTY = 0x8000000,
    VM_MIXEDMAP = 0x10000000,
    VM_HUGEPAGE = 0x20000000,
    VM_NOHUGEPAGE = 0x40000000,
    VM_MERGEABLE = 0x80000000,
};

inline constexpr u64 VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

struct Vma {
    VirtAddr start;
    VirtAddr end; // exclusive
    u64 flags = 0;
    u64 pgoff = 0; // in pages; see the header comment
    std::shared_ptr<Inode> file;
    std::shared_ptr<AnonVma> anon;
    // The anon was inherited by fork (Linux: an anon_vma_chain of more than one link, the parent's
    // anon_vma among them). Such a VMA never merges with one that has no anon yet, as
    // vma_had_uncowed_parents forbids.
    bool anon_inherited = false;
    std::string name; // a name given by the kernel ("[vdso]"); [heap] and [stack] are derived
    AddressSpace* mm = nullptr;
    // The userfaultfd context the VMA is registered with (VM_UFFD_MISSING set); Userfault.h.
    UserfaultContext* uffd = nullptr;
    SlabCharge slab{KmemCache::VmAreaStruct}; // its vm_area_struct; a copy charges a new one

    u64 size() const { return end - start; }
    u64 pages() const { return size() >> PAGE_SHIFT; }
    bool contains(VirtAddr va) const { return va >= start && va < end; }
    bool is_shared() const { return flags & VM_SHARED; }
    bool is_anonymous() const { return file == nullptr; }
    // Page offset (in the file, or the anon linear index) of the page containing va.
    u64 page_index(VirtAddr va) const { return pgoff + ((va - start) >> PAGE_SHIFT); }
};

} // namespace kioku
