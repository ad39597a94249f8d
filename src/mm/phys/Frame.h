// One descriptor per physical frame (Linux: struct page). The frame table holds one for every frame
// of physical memory, indexed by frame number, so that the memory manager can find from a frame
// who owns it, how many references and mappings it has, and which list it is on.
//
// States (exactly one of the "kind" flags is set while the frame is allocated):
//   Free      on a buddy free list (Buddy set on the head frame of the free block, `order` valid)
//   Reserved  never allocatable: the kernel image, the shared zero page
//   PageTable a page-table page of some address space
//   Anon      anonymous memory of processes (owner = AnonVma, index = linear page index)
//   File      a page-cache page of a file or of shmem (owner = Inode, index = page offset)
//   Kernel    other kernel memory (slab pages and the like)
// Transitions: Free -> any kind on allocation; any kind -> Free when the last reference drops.
//
// Counts: `refcount` is the number of holders: one per PTE that maps it, one for the page cache
// when it is cached, and transient pins. `mapcount` is the number of PTEs mapping it. The
// invariant checker proves both against the page tables.
#pragma once

#include "base/IndexList.h"
#include "base/Types.h"

namespace kioku {

enum FrameFlag : u32 {
    FF_BUDDY = 1u << 0,       // head of a free block on a buddy list
    FF_RESERVED = 1u << 1,    // never allocated (kernel image, zero page)
    FF_PAGETABLE = 1u << 2,   // page-table page
    FF_ANON = 1u << 3,        // anonymous page
    FF_FILE = 1u << 4,        // page-cache page (file or shmem)
    FF_KERNEL = 1u << 5,      // other kernel allocation
    FF_DIRTY = 1u << 6,       // contents newer than the backing store
    FF_UPTODATE = 1u << 7,    // contents valid
    FF_LRU = 1u << 8,         // on an LRU list
    FF_ACTIVE = 1u << 9,      // on the active list (with FF_LRU)
    FF_REFERENCED = 1u << 10, // software referenced bit for LRU ageing
    FF_SWAPBACKED = 1u << 11, // backed by swap rather than a file (anon, shmem)
    FF_SWAPCACHE = 1u << 12,  // in the swap cache (`private_data` is the swap entry)
    FF_WRITEBACK = 1u << 13,  // under writeback
    FF_UNEVICTABLE = 1u << 14,
    FF_MLOCKED = 1u << 15,
    FF_HEAD = 1u << 16,     // head of a compound (huge) page
    FF_TAIL = 1u << 17,     // tail of a compound page
    FF_ZERO = 1u << 18,     // the shared zero page
    FF_SLAB = 1u << 19,     // belongs to a slab cache
    FF_SHMEM = 1u << 20,    // with FF_FILE: a shmem (tmpfs, shared anonymous) page
    FF_LAZYFREE = 1u << 21, // MADV_FREE'd anon page (FF_SWAPBACKED clear): reclaim discards it if clean
};

inline constexpr u32 FF_KIND_MASK = FF_RESERVED | FF_PAGETABLE | FF_ANON | FF_FILE | FF_KERNEL;

struct Frame {
    u32 flags = 0;
    i32 refcount = 0;
    i32 mapcount = 0;
    u8 order = 0;     // buddy order while free; compound order on a head page
    u8 zone = 0;      // index of the zone the frame belongs to
    u8 free_type = 0; // while free (FF_BUDDY head): the migrate type of the free list it is on
    u8 unused = 0;
    IndexLinks links;      // buddy free list or LRU list
    void* owner = nullptr; // AnonVma* for anon, Inode* for page cache
    u64 index = 0;         // page offset in the owner
    u64 private_data = 0;  // swap entry while in the swap cache

    bool has(u32 f) const { return (flags & f) != 0; }
    void set(u32 f) { flags |= f; }
    void clear(u32 f) { flags &= ~f; }
};

static_assert(sizeof(Frame) <= 64, "a frame descriptor must stay within 64 bytes");

} // namespace kioku
