#include "mm/reclaim/S3FifoPolicy.h"

namespace kioku {

namespace {

constexpr u8 MAX_FREQ = 3;
constexpr u64 SMALL_SHARE = 10; // small holds 1/10 of the resident pages

} // namespace

S3FifoPolicy::S3FifoPolicy(FrameTable& frames)
    : m_frames(frames)
    , m_small(frames)
    , m_main(frames)
    , m_freq(frames.size(), 0)
    , m_seen(frames.size(), false)
    , m_from(frames.size(), From::Small)
{
}

std::string S3FifoPolicy::victim_reason(Pfn pfn) const
{
    return m_from[index(pfn)] == From::Small ? "s3fifo: oldest in small, not referenced"
                                             : "s3fifo: oldest in main, frequency 0";
}

PageKey S3FifoPolicy::key_of(Pfn pfn) const
{
    const Frame& f = m_frames[pfn];
    return PageKey{f.owner_identity(), f.index};
}

void S3FifoPolicy::page_added(Pfn pfn)
{
    if (m_small.contains(pfn) || m_main.contains(pfn))
        return;
    m_small.push_front(pfn);
    m_freq[index(pfn)] = 0;
    m_seen[index(pfn)] = false;
}

void S3FifoPolicy::page_removed(Pfn pfn)
{
    m_small.remove(pfn);
    m_main.remove(pfn);
}

bool S3FifoPolicy::evictable(Pfn pfn)
{
    const Frame& f = m_frames[pfn];
    if (f.has(FF_LRU) && !f.has(FF_UNEVICTABLE))
        return true;
    page_removed(pfn);
    return false;
}

void S3FifoPolicy::remember(const PageKey& key)
{
    if (!key.owner)
        return;
    m_ghost.push_back(key);
    ++m_ghost_count[key];
    // The ghost holds as many identities as main may hold pages: nine tenths of the resident.
    u64 capacity = std::max<u64>((m_small.size() + m_main.size()) * (SMALL_SHARE - 1) / SMALL_SHARE, 1);
    while (m_ghost.size() > capacity) {
        auto it = m_ghost_count.find(m_ghost.front());
        if (--it->second == 0)
            m_ghost_count.erase(it);
        m_ghost.pop_front();
    }
}

bool S3FifoPolicy::recalled(const PageKey& key)
{
    return key.owner && m_ghost_count.count(key);
}

void S3FifoPolicy::look(Pfn pfn, ReclaimScan& scan)
{
    scan.scanned(pfn);
    u8& freq = m_freq[index(pfn)];
    if (scan.test_and_clear_referenced(pfn) && freq < MAX_FREQ)
        ++freq;
}

void S3FifoPolicy::select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    // Each look moves a page or chooses it; a referenced page in main is looked at most four
    // times before its frequency is spent, so this bounds the work.
    u64 budget = 8 * (m_small.size() + m_main.size()) + 8;
    while (count > 0 && budget-- > 0 && (!m_small.empty() || !m_main.empty())) {
        u64 resident = m_small.size() + m_main.size();
        bool from_small = !m_small.empty() && (m_small.size() * SMALL_SHARE >= resident || m_main.empty());
        PageQueue& queue = from_small ? m_small : m_main;
        Pfn pfn = queue.back();
        if (!evictable(pfn))
            continue;
        if (!scan.eligible(pfn)) {
            queue.move_to_front(pfn); // another group's page: passed over
            continue;
        }
        look(pfn, scan);
        u8& freq = m_freq[index(pfn)];
        if (from_small) {
            bool first = !m_seen[index(pfn)];
            m_seen[index(pfn)] = true;
            if ((first && recalled(key_of(pfn))) || (!first && freq > 0)) {
                m_small.remove(pfn); // proved itself: into main
                m_main.push_front(pfn);
                freq = 0;
                continue;
            }
            if (first && freq > 0) {
                // The bit may be only the access that brought the page in: once more through small.
                freq = 0;
                m_small.move_to_front(pfn);
                continue;
            }
            remember(key_of(pfn));
        } else if (freq > 0) {
            --freq;
            m_main.move_to_front(pfn); // round again
            continue;
        }
        queue.remove(pfn);
        m_from[index(pfn)] = from_small ? From::Small : From::Main;
        victims.push_back(pfn);
        --count;
    }
}

void S3FifoPolicy::keep(Pfn pfn)
{
    // A victim that could not go stays resident, at the head of main.
    if (!m_small.contains(pfn) && !m_main.contains(pfn))
        m_main.push_front(pfn);
}

} // namespace kioku
