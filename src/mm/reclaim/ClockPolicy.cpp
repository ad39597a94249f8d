#include "mm/reclaim/ClockPolicy.h"

namespace kioku {

void ClockPolicy::select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    // The chosen pages leave the circle while the hand sweeps on, so that it does not meet them
    // again in this call.
    std::vector<Pfn> chosen;
    // Two turns of the hand are enough: the first clears every bit it passes.
    u64 steps = 2 * m_queue.size();
    while (chosen.size() < count && steps-- > 0 && !m_queue.empty()) {
        Pfn pfn = m_queue.back();
        if (!still_evictable(pfn))
            continue;
        scan.scanned(pfn);
        m_queue.remove(pfn);
        if (scan.test_and_clear_referenced(pfn)) {
            m_queue.push_front(pfn); // second chance: the hand moves past it
            continue;
        }
        chosen.push_back(pfn);
    }
    // They go back at the hand in the order chosen: reclaim frees them, or keep() moves one it
    // could not take behind the hand.
    for (auto it = chosen.rbegin(); it != chosen.rend(); ++it)
        m_queue.push_back(*it);
    victims.insert(victims.end(), chosen.begin(), chosen.end());
}

} // namespace kioku
