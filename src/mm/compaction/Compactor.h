// Memory compaction (Linux: mm/compaction.c and mm/migrate.c): moves movable pages, through the
// reverse map, out of a region so that free pages there merge into large buddy blocks; direct
// compaction when a high-order allocation fails, and kcompactd in the background.
// Owned by the MemoryManager.
#pragma once

#include "base/Types.h"

namespace kioku {

class MemoryManager;

class Compactor {
  public:
    explicit Compactor(MemoryManager& mm);
    ~Compactor();

    // Direct compaction for an allocation of 2^order frames that just failed: true when a free
    // block of that order exists afterwards.
    bool compact_for_allocation(Order order);
    // kcompactd's turn: called as simulated time passes (MemoryManager::background_work).
    void background_work();

  private:
    MemoryManager& m_mm;
};

} // namespace kioku
