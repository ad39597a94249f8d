#include "mm/hugetlb/HugetlbPool.h"

namespace kioku {

HugetlbPool::HugetlbPool(MemoryManager& mm)
    : m_mm(mm)
{
}

HugetlbPool::~HugetlbPool() = default;

} // namespace kioku
