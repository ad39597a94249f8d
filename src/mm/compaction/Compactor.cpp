#include "mm/compaction/Compactor.h"

namespace kioku {

Compactor::Compactor(MemoryManager& mm)
    : m_mm(mm)
{
}

Compactor::~Compactor() = default;

bool Compactor::compact_for_allocation(Order)
{
    return false;
}

void Compactor::background_work() {}

} // namespace kioku
