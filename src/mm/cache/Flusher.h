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
// Writeback by the flusher is asynchronous, as the flusher thread's bios are in Linux: the dirty
// pages of an inode are handed to the device in one request, leave the dirty count and stay under
// writeback (FF_WRITEBACK, nr_writeback, Writeback in meminfo) until the simulated clock reaches
// the time the device completes the request. The device serves these requests in order, each
// taking its latency plus transfer time after the one before (BlockDevice::submit_write). The
// data reaches the backing file at submission, so nothing can be lost while a request is in
// flight; a store to a page under writeback simply dirties it again. Completed requests are
// retired whenever the flusher runs (poll) and by anyone who waits:
//   - fsync, msync(MS_SYNC), truncation and a dying inode wait for the inode's requests
//     (filemap_fdatawait);
//   - a writer over dirty_ratio (dirty + writeback pages over the threshold) waits for
//     completions until it is under the threshold again;
//   - direct reclaim that frees nothing while pages are under writeback waits for the next
//     completion (reclaim_throttle with VMSCAN_THROTTLE_WRITEBACK) before trying again.
// Waiting moves the simulated clock to the completion time. Reclaim and drop_caches pass over
// pages under writeback; compaction does not migrate them.

// Owned by the PageCache. Single-threaded; poll() does not re-enter itself.
#pragma once

#include <deque>
#include <vector>

#include "base/Types.h"

namespace kioku {

class Inode;
class MmCore;
class PageCache;

struct DirtyLimits {
    u64 background = 0; // pages (nr_dirty_background_threshold)
    u64 threshold = 0;  // pages (nr_dirty_threshold)
};

class Flusher {
  public:
    Flusher(PageCache& cache, MmCore& mm)
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
    // Retires the requests the device has completed, then does the writeback that is due now.
    void poll();
    // The next periodic wakeup, on the simulated clock.
    u64 next_wakeup_ns() const { return m_next_wakeup_ns; }
    // The next time the flusher has something to do: its periodic wakeup or the completion of
    // the oldest request in flight, whichever is sooner (for an idle machine's clock).
    u64 next_event_ns() const;

    // Requests in flight and the pages they carry.
    u64 requests_in_flight() const { return m_in_flight.size(); }
    u64 pages_in_flight() const { return m_pages_in_flight; }
    // Waits (moves the clock) for the oldest request in flight and retires it. False when none is.
    bool wait_one();
    // Waits for every request carrying pages of the inode (and so for those before them).
    void wait_inode(const Inode& inode);
    // Waits for every request in flight.
    void wait_all();
    // wakeup_flusher_threads: starts asynchronous writeback of every dirty page, whatever its
    // age, and the periodic timer starts again from now.
    void wakeup_all();

    // Counts of what ran, for tests and reports.
    u64 background_runs() const { return m_background_runs; }
    u64 throttled() const { return m_throttled; }
    u64 periodic_runs() const { return m_periodic_runs; }

  private:
    // One request on the device: pages of one inode, submitted together.
    struct Request {
        u64 done_ns = 0;
        const Inode* inode = nullptr;
        std::vector<Pfn> pages;
    };

    // Starts writeback of whole inodes, the longest-dirty first, until at most `target` pages are
    // dirty (or no dirty page can be submitted now).
    void write_oldest(u64 target);
    // kupdate: inodes dirtied at or before `cutoff`.
    void write_expired(u64 cutoff);
    void write_inode(Inode& inode);
    // Retires the requests whose completion time has come.
    void complete_due();
    // Moves the clock to `ns` if it is behind, then retires what is due.
    void wait_until(u64 ns);
    // balance_dirty_pages' pause: waits for completions while dirty + writeback pages are over
    // the threshold.
    void throttle(u64 threshold);

    PageCache& m_cache;
    MmCore& m_mm;
    u64 ratelimit() const;

    std::deque<Request> m_in_flight; // in submission order, which is also completion order
    u64 m_pages_in_flight = 0;
    u64 m_dirtied_since_check = 0;
    bool m_running = false;
    u64 m_next_wakeup_ns = 0;
    u64 m_background_runs = 0;
    u64 m_throttled = 0;
    u64 m_periodic_runs = 0;
};

} // namespace kioku
