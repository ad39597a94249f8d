// The invariant checker: proves the memory manager's bookkeeping against the ground truth of the
// frame table and the page tables. It recounts everything from scratch (so it is slow, linear in
// memory size, and meant for tests and `--check`), and reports the first few broken invariants:
//   - the buddy allocator's lists are consistent (PhysicalAllocator::check);
//   - every frame's mapcount equals the number of PTEs that map it, and its refcount equals
//     mapcount + 1 for a page-cache page, mapcount for an anonymous page;
//   - no PTE maps a free frame or a frame that is not user memory;
//   - a transparent huge page is mapped only by megapage leaves (never by a PTE), its head's
//     mapcount counts them, its tails hold no counts, and nr_anon_transparent_hugepages equals the
//     mapped THPs;
//   - every user page is on exactly the LRU list its flags name;
//   - each address space's RSS counters equal what its page table maps, its table-page count
//     equals the tables reachable from its root, and its VMAs are ordered, aligned, disjoint and
//     linked into their AnonVma and file;
//   - the page cache's counters equal the pages indexed by the inodes;
//   - the vmstat gauges (anon, mapped, file, shmem) equal their recount;
//   - free + anon + page cache + page tables + other kernel pages = managed pages (MemTotal).
#pragma once

#include <string>

namespace kioku {

class MemoryManager;

class InvariantChecker {
  public:
    explicit InvariantChecker(const MemoryManager& mm)
        : m_mm(const_cast<MemoryManager&>(mm))
    {
    }
    // Empty when every invariant holds; otherwise one line per broken invariant.
    std::string report();

  private:
    MemoryManager& m_mm;
};

} // namespace kioku
