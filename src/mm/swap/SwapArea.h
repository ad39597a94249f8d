// One swap area (Linux: struct swap_info_struct): a block device divided into page-sized slots,
// with a use count per slot (swap_map) and an allocator that hands out slots in clusters so that
// pages reclaimed together land next to each other on the device, as Linux's cluster allocator
// does (SWAPFILE_CLUSTER = 256 slots). Slot 0 holds the swap header and is never handed out.
//
// Invariants: count[0] is reserved; a slot is free exactly when its count is 0; used() equals the
// number of slots with a non-zero count. A slot's count is the references to it: swap PTEs, shmem
// inodes whose page slot holds the entry, and one while the swap cache holds a page for it. As
// Linux's swap_map, a byte per slot holds counts up to SWAP_MAP_MAX; what lies beyond it (a page
// swapped out before many forks) is continued in a side table, as swap_count_continued keeps it in
// continuation pages, so a count never overflows.
// An area that is not writable (swapoff in progress, SWP_WRITEOK clear) hands out no slots.
// Owned by the SwapManager.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class BlockDevice;

class SwapArea {
  public:
    static constexpr u64 CLUSTER = 256;
    static constexpr u8 MAX_COUNT = 0x3e; // SWAP_MAP_MAX: more references are continued

    // A host file ("file" in /proc/swaps) or a device of the machine ("partition").
    enum class Kind : u8 { Partition, File };

    SwapArea(std::unique_ptr<BlockDevice> device, int priority, std::string name,
             Kind kind = Kind::Partition);
    ~SwapArea();

    const std::string& name() const { return m_name; }
    int priority() const { return m_priority; }
    // swapoff renumbers the default (negative) priorities below the area it removes.
    void set_priority(int priority) { m_priority = priority; }
    Kind kind() const { return m_kind; }
    bool writable() const { return m_writable; }
    void set_writable(bool writable) { m_writable = writable; }
    u64 slots() const { return m_count.size(); }      // including the header slot
    u64 usable() const { return m_count.size() - 1; } // Linux's "Size" in /proc/swaps, in pages
    u64 used() const { return m_used; }
    u64 free_slots() const { return usable() - m_used; }
    bool full() const { return m_used == usable(); }

    // A free slot with count 1, preferring the next slot of the current cluster.
    std::optional<u64> allocate();
    u64 count(u64 slot) const;
    // Adds a reference (fork copying a swap PTE).
    void duplicate(u64 slot);
    // Drops a reference; returns the remaining count (0: the slot is free again).
    u64 release(u64 slot);

    Result<void> write_page(u64 slot, const u8* src);
    Result<void> read_page(u64 slot, u8* dst);
    // Reads `count` consecutive slots in one request (swap readahead).
    Result<void> read_pages(u64 first, u64 count, u8* dst);

    BlockDevice& device() { return *m_device; }

  private:
    std::unique_ptr<BlockDevice> m_device;
    int m_priority;
    std::string m_name;
    Kind m_kind;
    bool m_writable = true;
    std::vector<u8> m_count;
    std::unordered_map<u64, u64> m_continued; // slot -> references beyond MAX_COUNT
    u64 m_used = 0;
    u64 m_cluster_next = 1; // next slot to try in the current cluster
    u64 m_cluster_end = 1;  // end of the current cluster
};

} // namespace kioku
