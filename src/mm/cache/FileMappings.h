// What the page cache asks of the layer that maps its pages into address spaces (vm, which sits
// above it): cleaning and unmapping one page through the reverse map before writeback and
// truncation, and zapping the mappings of a file past an offset. vm implements it
// (RmapFileMappings in src/mm/vm/Rmap.h); the MemoryManager hands it to the PageCache.
#pragma once

#include "base/Types.h"

namespace kioku {

class Inode;

class FileMappings {
  public:
    virtual ~FileMappings() = default;
    // folio_mkclean: write-protects and cleans every PTE mapping pfn; whether one was dirty.
    virtual bool mkclean(Pfn pfn) = 0;
    // try_to_unmap for truncation: every PTE mapping pfn goes, dirty bits moving to the page.
    virtual void unmap_all(Pfn pfn) = 0;
    // unmap_mapping_range(even_cows): every PTE at file page `first` or beyond in every mapping
    // of the inode goes, the private copies of those pages too.
    virtual void unmap_from(Inode& inode, u64 first) = 0;
};

} // namespace kioku
