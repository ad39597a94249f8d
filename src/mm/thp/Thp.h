// Transparent huge pages (Linux: mm/huge_memory.c and mm/khugepaged.c): 2 MiB anonymous pages
// mapped by megapage leaves, the huge zero page, splitting, and khugepaged collapsing ranges.
// Owned by the MemoryManager.
#pragma once

namespace kioku {

class MemoryManager;

class Thp {
  public:
    explicit Thp(MemoryManager& mm);
    ~Thp();

    // khugepaged's turn: called as simulated time passes (MemoryManager::background_work).
    void background_work();

  private:
    MemoryManager& m_mm;
};

} // namespace kioku
