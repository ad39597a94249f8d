// Dirty-page writeback policy (Linux: mm/page-writeback.c for the limits and balance_dirty_pages,
// fs/fs-writeback.c for the flusher's background and periodic work).
//
// Limits, as global_dirty_limits computes them: the dirtyable memory is the free pages above the
// reserves plus the file LRU pages; vm.dirty_ratio and vm.dirty_background_ratio are taken of it
// in Linux's per-PAGE_SIZE fixed point; a background limit at or above the hard limit becomes half
// of it.
//
// Work, done synchronously at deterministic points (each page fault and each page-cache lookup
// by a read or write, the places Linux calls balance_dirty_pages_ratelimited or could notice the
// flusher's timer):
//   - writers look at the limits once per ratelimit pages dirtied (dirty_thresh / 32, at least
//     16, as writeback_set_ratelimit gives one CPU); dirty pages over the freerun ceiling (halfway
//     between the two limits) start background writeback; over dirty_ratio the writer is
//     throttled, which here means it waits while that writeback runs (balance_dirty_pages);
//   - background writeback writes whole inodes, the longest-dirty first, until the dirty pages
//     are at or under the background limit;
//   - every dirty_writeback_centisecs of simulated time the flusher wakes and writes back the
//     inodes dirty for longer than dirty_expire_centisecs (kupdate), then checks the background
//     limit.
// Writes complete at once (the device's time is charged to the clock), so no page stays under
// writeback: Writeback in meminfo is 0 between operations.
//
// Owned by the PageCache. Single-threaded; poll() does not re-enter itself.
#pragma once

#include "base/Types.h"

namespace kioku {

class Inode;
class MemoryManager;
class PageCache;

struct DirtyLimits {
    u64 background = 0; // pages (nr_dirty_background_threshold)
    u64 threshold = 0;  // pages (nr_dirty_threshold)
};

class Flusher {
  public:
    Flusher(PageCache& cache, MemoryManager& mm)
        : m_cache(cache)
        , m_mm(mm)
    {
    }

    // global_dirtyable_memory, in pages.
    u64 dirtyable_pages() const;
    DirtyLimits limits() const;

    // account_page_dirtied: a page went from clean to dirty. Counts nr_dirtied, stamps the inodes
    // that just became dirty, and leaves the throttling check to the next poll().
    void page_dirtied();
    // Does the writeback that is due now.
    void poll();
    // The next periodic wakeup, on the simulated clock.
    u64 next_wakeup_ns() const { return m_next_wakeup_ns; }

    // Counts of what ran, for tests and reports.
    u64 background_runs() const { return m_background_runs; }
    u64 throttled() const { return m_throttled; }
    u64 periodic_runs() const { return m_periodic_runs; }

  private:
    // Writes back whole inodes, the longest-dirty first, until at most `target` pages are dirty.
    void write_oldest(u64 target);
    // kupdate: inodes dirtied at or before `cutoff`.
    void write_expired(u64 cutoff);
    void write_inode(Inode& inode);
    Inode* oldest_dirty_inode() const;

    PageCache& m_cache;
    MemoryManager& m_mm;
    u64 ratelimit() const;

    u64 m_dirtied_since_check = 0;
    bool m_running = false;
    u64 m_next_wakeup_ns = 0;
    u64 m_background_runs = 0;
    u64 m_throttled = 0;
    u64 m_periodic_runs = 0;
};

} // namespace kioku
