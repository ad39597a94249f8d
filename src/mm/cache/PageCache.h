// The page cache (Linux: mm/filemap.c and the shmem side of mm/shmem.c): finds or reads a file's
// page, writes dirty pages back to the host file that backs them, truncates, and drops clean pages
// (drop_caches). The pages themselves are indexed in each Inode.
//
// A cached page holds one reference for the cache; each PTE mapping it holds one more. Reads
// from a host file charge the disk model; a cache miss in a fault reads around the faulting page
// (read_ahead_kb, as Linux's mmap read-around does).
//
// shmem pages go to swap under pressure (shmem_writepage): the inode's slot then holds the swap
// entry, and the next lookup swaps the page back in (shmem_swapin_folio), dirty and out of the
// swap cache. The page cache also owns the dirty-page Flusher; the Workingset (shadow entries) is
// the core's.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"
#include "mm/cache/Flusher.h"
#include "mm/pgtable/Pte.h"

namespace kioku {

class BlockDevice;
class FileMappings;
class Inode;
class MmCore;

class PageCache {
  public:
    explicit PageCache(MmCore& mm);
    ~PageCache();

    // ino: the inode number shown in /proc/PID/maps (System V segments show their id); unset
    // picks the next of shmem's own numbers.
    std::shared_ptr<Inode> create_shmem(u64 size, std::string name, std::optional<u64> ino = std::nullopt);
    std::shared_ptr<Inode> create_host(int host_fd, u64 ino, std::string name, u64 size);
    // The disk whose latency file I/O is charged to (may be null: no charge).
    void set_disk(BlockDevice* disk) { m_disk = disk; }
    // The layer that maps the cache's pages (FileMappings.h), set once by the MemoryManager.
    void set_mappings(FileMappings* mappings) { m_mappings = mappings; }

    std::optional<Pfn> find(Inode& inode, u64 index);
    // Finds the page, or reads it (with read-around of `around` pages when > 1) from the backing
    // file, or for shmem allocates a zeroed one. Sets *major when I/O was done. The page comes
    // pinned (one extra reference) so that reclaim cannot take it; the caller puts it.
    Result<Pfn> get_page(Inode& inode, u64 index, u64 around, bool* major);

    BlockDevice* disk() const { return m_disk; }

    // filemap_write_and_wait_range: waits for the inode's pages already under writeback, then
    // writes back the dirty pages with index in [first, last] (all when last is ~0) at once.
    Result<void> writeback(Inode& inode, u64 first = 0, u64 last = ~u64{0});
    // The flusher's side of writeback: hands every dirty page of the inode that is not already
    // under writeback to the backing file, marks it clean and under writeback, and appends it to
    // `pages`. The device's time is the flusher's to account (it is asynchronous).
    Result<void> start_writeback(Inode& inode, std::vector<Pfn>& pages);
    // The device completed the write of a page started by start_writeback.
    void end_writeback(Pfn pfn);
    // shmem_writepage's bookkeeping: the page at index (unmapped, in the swap cache under entry)
    // leaves the page cache and the inode's slot holds the entry, with one reference on it.
    void shmem_swapped_out(Inode& inode, u64 index, SwapEntry entry);
    // Cuts the file to new_size: waits for the inode's writeback, then pages wholly beyond the
    // new size are unmapped and dropped and the tail of the last page is zeroed.
    void truncate(Inode& inode, u64 new_size);
    // Drops one clean, unmapped page that is not under writeback (reclaim).
    void evict(Inode& inode, u64 index);
    // truncate_pagecache_range over whole pages [first, first + count): the cached pages leave
    // every mapping and the cache (private copies stay), a shmem file's swapped pages are freed.
    // The bytes of partial pages at the edges are the caller's to zero.
    void punch_hole(Inode& inode, u64 first, u64 count);
    // Releases every page (the inode is dying), after waiting for its writeback. Pages must be
    // unmapped.
    void release_all(Inode& inode);
    // drop_caches=1: drops clean, unmapped page-cache pages of host files that are not under
    // writeback. Returns pages dropped.
    u64 drop_clean();
    // The same for one inode (a block device's BLKFLSBUF, after writing it back).
    u64 drop_clean(Inode& inode);

    u64 nr_pages() const { return m_nr_pages; }
    u64 nr_shmem() const { return m_nr_shmem; }
    // Pages of block devices' inodes: the buffer cache (meminfo's Buffers, nr_blockdev_pages).
    u64 nr_blockdev() const { return m_nr_blockdev; }
    u64 nr_dirty() const { return m_nr_dirty; }
    // Dirty accounting of host-file pages; a page becoming dirty is also the flusher's business.
    void count_dirty(i64 delta);
    // Marks a page-cache page dirty (folio_mark_dirty), with Linux's accounting: shmem pages have
    // no writeback, so they are not counted as Dirty; a host file's first store after writeback
    // moves its mtime.
    void set_page_dirty(Pfn pfn);
    // Told of every host file whose contents change (a page made dirty, by a store through a
    // mapping or by a write): the filesystem moves its times.
    void set_contents_hook(std::function<void(Inode&)> hook) { m_contents_hook = std::move(hook); }
    // shmem pages out on swap, over all inodes.
    u64 nr_shmem_swapped() const { return m_nr_shmem_swapped; }

    // The kernel's own read of a file (Linux: kernel_read, as exec reads a program's headers):
    // through the page cache, so what a process wrote and is not yet written back is seen.
    // EIO when the range passes the end of the file.
    Result<void> read(Inode& inode, u64 offset, u64 len, u8* dst);

    MmCore& mm() { return m_mm; }
    const std::vector<Inode*>& inodes() const { return m_inodes; }
    Flusher& flusher() { return m_flusher; }

  private:
    Result<Pfn> read_page(Inode& inode, u64 index);
    Result<Pfn> shmem_swapin(Inode& inode, u64 index, bool* major);
    void insert(Inode& inode, u64 index, Pfn pfn);
    void remove(Inode& inode, u64 index, Pfn pfn);
    void account_insert(Inode& inode);
    // Frees the swap entries of a shmem inode at index in [first, end) (truncation, a hole, the
    // inode dying).
    void free_swapped(Inode& inode, u64 first, u64 end = ~u64{0});

    MmCore& m_mm;
    BlockDevice* m_disk = nullptr;
    FileMappings* m_mappings = nullptr;
    std::vector<Inode*> m_inodes;
    u64 m_nr_pages = 0;
    u64 m_nr_shmem = 0;
    u64 m_nr_blockdev = 0;
    u64 m_nr_dirty = 0;
    u64 m_nr_shmem_swapped = 0;
    u64 m_next_shmem_ino = 1;
    Flusher m_flusher;
    std::function<void(Inode&)> m_contents_hook;
};

} // namespace kioku
