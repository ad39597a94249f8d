// Page migration (Linux: mm/migrate.c, migrate_pages and its unmap_and_move for one folio): moves
// the contents and the identity of one movable order-0 user page to another frame, so that the old
// frame can be freed. Compaction uses it to empty pageblocks.
//
// What moves with the page: its bytes, its flags (dirty, referenced, active, mlocked, swap-backed,
// lazy-free...), its owner and index, its counts, its place in the page-cache index of its inode
// or in the swap cache, its LRU list (the new frame enters at the head of the same list, as
// Linux's putback does, and the replacement policy hears of one page leaving and one arriving),
// and every PTE that maps it: each keeps its permission, A, D and soft-dirty bits and gets the new
// frame number, and its TLB entry is flushed. The old frame goes back to the allocator.
//
// What does not move (Linux would, but kioku leaves it in place): compound pages (transparent huge
// pages and hugetlb pages; Linux migrates a THP whole or splits it first). What cannot move, as
// in Linux: free frames, kernel memory (page tables, slab, reserved frames), pages pinned by
// someone other than their mappings and caches (refcount above mapcount + cache references),
// pages under writeback, and unevictable (mlocked) pages unless vm.compact_unevictable_allowed.
//
// Migration is atomic here: one machine is single-threaded, so no migration entries are needed
// in the PTEs while the copy is made. A stateless helper over the core (MmCore), like Rmap.
#pragma once

#include <optional>

#include "base/Types.h"

namespace kioku {

class MmCore;

// Whether compaction's migration scanner may isolate a frame, and if not, why.
enum class Movability : u8 {
    Movable,     // an order-0 user page nothing else holds
    Free,        // on a buddy free list
    Kernel,      // reserved, page table, slab or other kernel memory
    Compound,    // part of a huge page (FF_HEAD / FF_TAIL)
    Pinned,      // extra references beyond its mappings and caches
    Writeback,   // being written to its backing store
    Unevictable, // mlocked, and vm.compact_unevictable_allowed is 0
    NotOnLru,    // a user page in transit (not yet on, or just taken off, its LRU list)
};

const char* movability_name(Movability m);

class Migrator {
  public:
    explicit Migrator(MmCore& mm)
        : m_mm(mm)
    {
    }

    Movability movability(Pfn pfn) const;
    // Moves the page at src into dst, a frame just taken from the allocator (blank, refcount 0).
    // True on success, counted in pgmigrate_success; false when the page cannot move (counted in
    // pgmigrate_fail), in which case nothing changed and dst is still the caller's.
    bool move(Pfn src, Pfn dst);
    // Migrates src to a frame taken from the allocator; the new frame, or nullopt when the page
    // cannot move or no frame could be had (nothing changed then).
    std::optional<Pfn> migrate(Pfn src);

  private:
    void move_lru(Pfn src, Pfn dst, u32 flags);
    void move_indexes(Pfn src, Pfn dst);
    void release_old(Pfn src);

    MmCore& m_mm;
};

} // namespace kioku
