// The hugetlb pools (Linux: mm/hugetlb.c, struct hstate): persistent 2 MiB and 1 GiB pages set
// aside from the buddy allocator by vm.nr_hugepages (and nr_overcommit_hugepages for surplus
// pages), reserved at mmap time, mapped by megapage/gigapage leaves, never swapped.
// Owned by the MemoryManager.
#pragma once

namespace kioku {

class MemoryManager;

class HugetlbPool {
  public:
    explicit HugetlbPool(MemoryManager& mm);
    ~HugetlbPool();

  private:
    MemoryManager& m_mm;
};

} // namespace kioku
