#include "mm/thp/Thp.h"

namespace kioku {

Thp::Thp(MemoryManager& mm)
    : m_mm(mm)
{
}

Thp::~Thp() = default;

void Thp::background_work() {}

} // namespace kioku
