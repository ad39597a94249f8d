// The anonymous-memory owner shared by a family of VMAs (Linux: struct anon_vma with its chain).
// Every anonymous page points at the AnonVma of the VMA that created it and records its linear
// page index; the reverse map finds the page's mappings by visiting the VMAs listed here whose
// pgoff range covers that index. A fork links the child's VMAs into the parent's AnonVma, so a
// copy-on-write-shared page is found from both sides.
//
// Lifetime: shared_ptr held by the VMAs that use it.
#pragma once

#include <algorithm>
#include <vector>

#include "mm/vm/Vma.h"

namespace kioku {

class AnonVma {
  public:
    std::vector<Vma*>& vmas() { return m_vmas; }
    void link(Vma* vma)
    {
        m_vmas.push_back(vma);
        m_chains.push();
    }
    void unlink(Vma* vma)
    {
        auto it = std::find(m_vmas.begin(), m_vmas.end(), vma);
        if (it != m_vmas.end()) {
            m_vmas.erase(it);
            m_chains.pop();
        }
    }

  private:
    std::vector<Vma*> m_vmas;
    SlabCharge m_slab{KmemCache::AnonVma};
    SlabChargeList m_chains{KmemCache::AnonVmaChain}; // one anon_vma_chain per linked VMA
};

} // namespace kioku
