#include "mm/vm/Rmap.h"

#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/FolioLru.h"
#include "mm/core/MmCore.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"

namespace kioku {

using namespace isa;

void Rmap::for_each_mapping(Pfn pfn, const RmapVisitor& fn)
{
    Frame& f = m_mm.frames()[pfn];
    if (!f.has_owner())
        return;
    // Copy the candidate list: a visitor may split or unmap, but never adds VMAs.
    std::vector<Vma*> candidates;
    if (f.has(FF_ANON))
        candidates = f.anon_vma()->vmas();
    else if (f.has(FF_FILE))
        candidates = f.inode()->mappings();
    for (Vma* vma : candidates) {
        if (f.index < vma->pgoff || f.index >= vma->pgoff + vma->pages())
            continue;
        VirtAddr va = vma->start + ((f.index - vma->pgoff) << PAGE_SHIFT);
        PageSlot slot = vma->mm->page_table().find_pte(va);
        if (slot && pte_present(*slot) && pte_pfn(*slot) == pfn)
            fn(*vma->mm, *vma, va, slot);
    }
}

void Rmap::for_each_huge_mapping(Pfn head, const RmapVisitor& fn)
{
    Frame& f = m_mm.frames()[head];
    if (!f.has_owner() || !f.has(FF_HEAD) || !f.has(FF_ANON))
        return;
    std::vector<Vma*> candidates = f.anon_vma()->vmas();
    for (Vma* vma : candidates) {
        if (f.index < vma->pgoff || f.index >= vma->pgoff + vma->pages())
            continue;
        VirtAddr va = vma->start + ((f.index - vma->pgoff) << PAGE_SHIFT);
        auto leaf = vma->mm->page_table().huge_leaf(va);
        if (leaf && leaf->level == 1 && leaf->base == va && pte_pfn(*leaf->entry) == head)
            fn(*vma->mm, *vma, va, leaf->entry);
    }
}

bool Rmap::mkclean(Pfn pfn)
{
    bool dirty = false;
    for_each_mapping(pfn, [&](AddressSpace&, Vma&, VirtAddr, PageSlot slot) {
        dirty |= (*slot & PTE_D) != 0;
        slot.clear_bits_flush(PTE_W | PTE_D);
    });
    return dirty;
}

void Rmap::unmap_all(Pfn pfn)
{
    for_each_mapping(
        pfn, [&](AddressSpace& space, Vma&, VirtAddr, PageSlot slot) { unmap_one(space, slot, Unmap::Zap); });
}

i64& Rmap::rss_counter(AddressSpace& space, const Frame& frame)
{
    if (frame.has(FF_ANON))
        return space.rss().anon;
    if (frame.has(FF_SHMEM))
        return space.rss().shmem;
    return space.rss().file;
}

void Rmap::add_mapping(AddressSpace& space, Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    VERIFY(f.has(FF_ANON | FF_FILE));
    if (f.mapcount++ == 0)
        m_mm.vmstat().add(f.has(FF_ANON) ? VmItem::NrAnonPages : VmItem::NrMapped, 1);
    ++rss_counter(space, f);
}

void Rmap::remove_mapping(AddressSpace& space, Pfn pfn, u64 pte)
{
    (void)pte;
    Frame& f = m_mm.frames()[pfn];
    VERIFY(f.mapcount > 0);
    if (--f.mapcount == 0) {
        m_mm.vmstat().add(f.has(FF_ANON) ? VmItem::NrAnonPages : VmItem::NrMapped, -1);
        if (f.has(FF_MLOCKED))
            munlock_folio(m_mm, pfn); // nothing maps it, so nothing locks it
    }
    --rss_counter(space, f);
}

bool RmapFileMappings::mkclean(Pfn pfn)
{
    return Rmap(m_mm).mkclean(pfn);
}

void RmapFileMappings::unmap_all(Pfn pfn)
{
    Rmap(m_mm).unmap_all(pfn);
}

void RmapFileMappings::unmap_from(Inode& inode, u64 first)
{
    for (Vma* vma : std::vector<Vma*>(inode.mappings())) {
        u64 from = std::max(first, vma->pgoff);
        if (from < vma->pgoff + vma->pages())
            vma->mm->zap_range(*vma, vma->start + ((from - vma->pgoff) << PAGE_SHIFT), vma->end);
    }
}

} // namespace kioku
