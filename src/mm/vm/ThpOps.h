// What the address-space layer asks of transparent huge pages (src/mm/thp, which sits above it):
// the fault that may map a huge page, the splits that give a range 4 KiB granularity, and the
// whole-leaf operations of zap, fork and mprotect on a huge mapping. The Thp implements it, and
// the core hands it out (MmCore::thp_ops()); the model itself is described in thp/Thp.h.
#pragma once

#include <optional>

#include "base/Types.h"
#include "mm/pgtable/PageSlot.h"

namespace kioku {

class AddressSpace;
struct Vma;
enum class FaultOutcome : u8;

inline constexpr unsigned HPAGE_PMD_ORDER = 9;
inline constexpr u64 HPAGE_PMD_NR = u64{1} << HPAGE_PMD_ORDER;
inline constexpr u64 HPAGE_PMD_SIZE = HPAGE_PMD_NR << PAGE_SHIFT;

class ThpOps {
  public:
    // A fault at va in an anonymous VMA, before the 4 KiB path looks at the PTE: resolves faults
    // on huge leaves and makes new huge mappings. nullopt means "continue on the 4 KiB path"
    // (not eligible, allocation failed, or the THP was split for copy-on-write).
    virtual std::optional<FaultOutcome> handle_fault(AddressSpace& space, Vma& vma, VirtAddr va,
                                                     bool write) = 0;
    // Splits every THP mapped in [start, end) of space (also ones reaching outside the range).
    virtual void split_range(AddressSpace& space, VirtAddr start, VirtAddr end) = 0;
    // Splits the THPs that [start, end) covers only in part, leaving those wholly inside.
    virtual void split_partial(AddressSpace& space, VirtAddr start, VirtAddr end) = 0;
    // zap_huge_pmd: clears the leaf, frees its deposited table and drops the mapping (freeing the
    // page with the last one).
    virtual void zap_huge_pmd(AddressSpace& space, VirtAddr base, PageSlot entry) = 0;
    // copy_huge_pmd for fork: the child's leaf and its deposited table; both leaves become
    // read-only when cow is set. Failed, with nothing changed, when the child's tables cannot be
    // allocated: the fork must then fail with ENOMEM. Allocating them may reclaim, and reclaim may
    // split the parent's huge page: then nothing is copied and the caller copies the PTE table
    // that took the leaf's place (Split).
    enum class CopyHuge : u8 { Copied, Failed, Split };
    virtual CopyHuge copy_huge_pmd(AddressSpace& child, VirtAddr base, PageSlot entry, bool cow) = 0;
    // change_huge_pmd for mprotect: new permission bits, keeping A, D and soft-dirty.
    virtual void change_huge_pmd(const Vma& vma, PageSlot entry) = 0;
    // Whether pfn is the huge zero page.
    virtual bool is_huge_zero(Pfn pfn) const = 0;

  protected:
    ~ThpOps() = default;
};

} // namespace kioku
