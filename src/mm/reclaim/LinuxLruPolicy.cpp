#include "mm/reclaim/LinuxLruPolicy.h"

#include "mm/core/Lru.h"
#include "mm/core/Sysctl.h"

namespace kioku {

LinuxLruPolicy::LinuxLruPolicy(Lru& lru, FrameTable& frames, const VmSysctl& sysctl)
    : m_lru(lru)
    , m_frames(frames)
    , m_sysctl(sysctl)
{
}

void LinuxLruPolicy::refill(bool anon, u64 count, ReclaimScan& scan)
{
    // shrink_active_list: move pages from the active tail to the inactive list. Anon pages go
    // regardless of their references (the inactive list gives them a second chance); a referenced
    // file page stays active when one of its referencing mappings is executable, so that a
    // program's text survives while its data is reclaimed.
    LruList active = anon ? LruList::ActiveAnon : LruList::ActiveFile;
    LruList inactive = anon ? LruList::InactiveAnon : LruList::InactiveFile;
    // count is in pages, as nr_to_scan is: a THP head moves 512 of them at once. Each entry is
    // looked at once per call, as Linux isolates a batch off the tail once.
    // The walk goes from the tail towards the head; each page looked at leaves the tail region
    // (to either head), and a page the scan may not take (another memory cgroup's) stays put.
    u64 limit = m_lru.entries(active);
    u32 next = m_lru.list(active).back();
    for (u64 scanned = 0, steps = 0; scanned < count && steps < limit && next != FrameList::NIL; ++steps) {
        Pfn pfn = m_frames.pfn_at(next);
        next = m_frames.links(next).prev();
        if (!scan.eligible(pfn))
            continue;
        References refs = scan.test_and_clear_referenced(pfn);
        u64 pages = Lru::pages_of(m_frames[pfn]);
        scanned += pages;
        scan.vmstat().add(VmItem::Pgrefill, static_cast<i64>(pages));
        if (!anon && refs && refs.exec) {
            m_lru.move(pfn, active); // back to the head of the active list
            continue;
        }
        m_frames[pfn].clear(FF_REFERENCED);
        m_lru.move(pfn, inactive);
        scan.vmstat().add(VmItem::Pgdeactivate, static_cast<i64>(pages));
    }
}

void LinuxLruPolicy::scan_inactive(bool anon, u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    LruList inactive = anon ? LruList::InactiveAnon : LruList::InactiveFile;
    LruList active = anon ? LruList::ActiveAnon : LruList::ActiveFile;
    u64 chosen = 0;
    // Look at each entry of the list at most once per call, from the tail, passing over the pages
    // the scan may not take (as refill does).
    u64 limit = m_lru.entries(inactive);
    u32 next = m_lru.list(inactive).back();
    for (u64 steps = 0; chosen < count && steps < limit && next != FrameList::NIL; ++steps) {
        Pfn pfn = m_frames.pfn_at(next);
        next = m_frames.links(next).prev();
        if (!scan.eligible(pfn))
            continue;
        Frame& f = m_frames[pfn];
        scan.scanned(pfn);
        References refs = scan.test_and_clear_referenced(pfn);
        bool referenced = static_cast<bool>(refs);
        // folio_check_references: a mapped, referenced anon page is activated; a file page must
        // have been referenced on an earlier pass too (PG_referenced), or by more than one
        // mapping, or be program text (an executable mapping: activated after its first use).
        if (referenced && (anon || f.has(FF_REFERENCED) || refs.young > 1 || refs.exec)) {
            m_lru.move(pfn, active);
            scan.vmstat().add(VmItem::Pgactivate, static_cast<i64>(Lru::pages_of(f)));
            continue;
        }
        if (referenced) {
            f.set(FF_REFERENCED);
            m_lru.move(pfn, inactive); // rotate: another round on the inactive list
            continue;
        }
        // Take it off the tail so the next look sees the next page; the reclaimer puts it back
        // (keep) if it cannot be evicted.
        m_lru.move(pfn, inactive);
        victims.push_back(pfn);
        ++chosen;
    }
}

void LinuxLruPolicy::keep(Pfn pfn)
{
    Frame& f = m_frames[pfn];
    if (f.has(FF_LRU))
        m_lru.move(pfn, Lru::list_of(f));
}

void LinuxLruPolicy::select(u64 count, ReclaimScan& scan, std::vector<Pfn>& victims)
{
    bool swap = scan.may_swap();
    // get_scan_count: the share of anon is swappiness / 200 of the scan, none without swap.
    u64 anon_pages = m_lru.size(LruList::InactiveAnon) + m_lru.size(LruList::ActiveAnon);
    u64 file_pages = m_lru.size(LruList::InactiveFile) + m_lru.size(LruList::ActiveFile);
    u64 anon_share = 0;
    if (swap && anon_pages) {
        u64 anon_prio = m_sysctl.swappiness;
        u64 file_prio = 200 - std::min<u64>(m_sysctl.swappiness, 200);
        anon_share = file_pages == 0 ? count : (count * anon_prio + 199) / 200;
        if (file_prio == 0)
            anon_share = count;
    }
    u64 file_share = count - std::min(count, anon_share);
    for (bool anon : {false, true}) {
        u64 want = anon ? anon_share : file_share;
        if (!want)
            continue;
        LruList inactive = anon ? LruList::InactiveAnon : LruList::InactiveFile;
        LruList active = anon ? LruList::ActiveAnon : LruList::ActiveFile;
        // inactive_is_low with an inactive ratio of 1 (machines under 1 GiB; kioku uses it always).
        if (m_lru.size(inactive) < m_lru.size(active) || m_lru.size(inactive) < want)
            refill(anon,
                   std::max(want, m_lru.size(active) - std::min(m_lru.size(active), m_lru.size(inactive))),
                   scan);
        scan_inactive(anon, want, scan, victims);
    }
    // When one kind had nothing to give, let the other make up the difference.
    if (victims.size() < count) {
        if (file_pages)
            scan_inactive(false, count - victims.size(), scan, victims);
        if (swap && victims.size() < count) {
            refill(true, count - victims.size(), scan);
            scan_inactive(true, count - victims.size(), scan, victims);
        }
    }
}

std::string LinuxLruPolicy::victim_reason(Pfn pfn) const
{
    // A victim left the tail of its inactive list unreferenced (shrink_folio_list's reclaim).
    const Frame& f = m_frames[pfn];
    return std::string("lru: ") +
           (f.has(FF_ANON) && f.has(FF_SWAPBACKED) ? "inactive_anon" : "inactive_file") +
           " tail, not referenced";
}

} // namespace kioku
