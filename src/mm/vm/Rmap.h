// The reverse map (Linux: mm/rmap.c): from a frame to every PTE that maps it. Anonymous pages are
// found through their AnonVma and linear index, page-cache pages through their inode's list of
// mappings and page offset; for each candidate VMA the page table is consulted, so no per-PTE
// records are kept. Also the mapping and unmapping bookkeeping every path shares
// (page_add_*_rmap / page_remove_rmap) and the RSS counter of a page's kind.
#pragma once

#include <functional>

#include "base/Types.h"
#include "mm/cache/FileMappings.h"
#include "mm/cache/PageCache.h"
#include "mm/core/MmCore.h"
#include "mm/pgtable/PageSlot.h"

namespace kioku {

class AddressSpace;
class MmCore;
struct Vma;
struct Frame;

using RmapVisitor = std::function<void(AddressSpace&, Vma&, VirtAddr, PageSlot pte)>;

class Rmap {
  public:
    explicit Rmap(MmCore& mm)
        : m_mm(mm)
    {
    }

    // Visits every present PTE that maps pfn (never a huge leaf: a THP is mapped only by those).
    void for_each_mapping(Pfn pfn, const RmapVisitor& fn);
    // Visits every huge leaf (present or protnone) that maps the THP with head frame `head`; the
    // address is the base of the 2 MiB range.
    void for_each_huge_mapping(Pfn head, const RmapVisitor& fn);
    // Write-protects and cleans every PTE mapping pfn, returning whether any was dirty
    // (folio_mkclean, used before writeback so the next store faults and re-dirties).
    bool mkclean(Pfn pfn);
    // Removes every PTE mapping pfn (try_to_unmap for truncation), moving dirty bits to the page.
    void unmap_all(Pfn pfn);

    // The one way a PTE stops mapping a page (try_to_unmap_one, zap_present_pte): the slot is
    // emptied, or given `replacement` (a swap entry), its translation flushed (through `tlb` when
    // given), a dirty PTE's D bit passed to the page, the mapping counted off and the PTE's
    // reference dropped. Reclaim passes every dirty bit on; a zap only a file page's, since an
    // anonymous page's data dies with its mappings.
    enum class Unmap : u8 { Reclaim, Zap };
    void unmap_one(AddressSpace& space, PageSlot slot, Unmap why, u64 replacement = 0,
                   TlbGather* tlb = nullptr);

    // Bookkeeping when a PTE starts or stops mapping a page (not the zero page).
    void add_mapping(AddressSpace& space, Pfn pfn);
    void remove_mapping(AddressSpace& space, Pfn pfn, u64 pte);

  private:
    i64& rss_counter(AddressSpace& space, const Frame& frame);
    MmCore& m_mm;
};

// The page cache's view of the reverse map (FileMappings.h).
class RmapFileMappings final : public FileMappings {
  public:
    explicit RmapFileMappings(MmCore& mm)
        : m_mm(mm)
    {
    }
    bool mkclean(Pfn pfn) override;
    void unmap_all(Pfn pfn) override;
    void unmap_from(Inode& inode, u64 first) override;

  private:
    MmCore& m_mm;
};

// Inline: it is the per-page step of every zap, and a call per page showed in the benchmarks.
inline void Rmap::unmap_one(AddressSpace& space, PageSlot slot, Unmap why, u64 replacement, TlbGather* tlb)
{
    u64 old = *slot;
    Pfn pfn = pte_pfn(old);
    VERIFY(pte_present(old) && !m_mm.is_zero_pfn(pfn) && "unmap_one of a slot that maps no page");
    if (tlb)
        slot.modify_flush(replacement, *tlb);
    else
        slot.modify_flush(replacement);
    if ((old & isa::PTE_D) && (why == Unmap::Reclaim || m_mm.frames()[pfn].has(FF_FILE)))
        m_mm.page_cache().set_page_dirty(pfn);
    remove_mapping(space, pfn, old);
    m_mm.put_page(pfn);
}

} // namespace kioku
