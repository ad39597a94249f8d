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
//   Kernel    other kernel memory (slab pages, owner = SlabCache; hugetlb pool pages, owner =
//             Hstate)
// Transitions: Free -> any kind on allocation; any kind -> Free when the last reference drops.
//
// Counts: `refcount` is the number of holders: one per PTE that maps it, one for the page cache
// when it is cached, and transient pins. `mapcount` is the number of PTEs mapping it. The
// invariant checker proves both against the page tables.
//
// A blank descriptor (Frame{}: free, or never used) is all zero bytes, so the frame table starts
// as untouched zero memory and costs the host only the descriptors that are used.
#pragma once

#include "base/IndexList.h"
#include "base/Types.h"

namespace kioku {

class AnonVma;
class Hstate;
class Inode;
class SlabCache;

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
  private:
    enum class Owner : u8 { None, AnonVma, Inode, Slab, Hstate };

  public:
    u32 flags = 0;
    i32 refcount = 0;
    i32 mapcount = 0;
    u8 order = 0;     // buddy order while free; compound order on a head page
    u8 free_type = 0; // while free (FF_BUDDY head): the migrate type of the free list it is on

  private:
    Owner m_owner_kind = Owner::None;

  public:
    IndexLinks links; // buddy free list or LRU list

  private:
    void* m_owner = nullptr; // see the owner accessors below

  public:
    u64 index = 0;        // page offset in the owner
    u64 private_data = 0; // swap entry while in the swap cache

    bool has(u32 f) const { return (flags & f) != 0; }
    void set(u32 f) { flags |= f; }
    void clear(u32 f) { flags &= ~f; }

    // ==== The owner (Linux: folio->mapping, tagged by kind) ====
    // Each accessor answers null unless the owner is of its kind: a frame cannot be taken for
    // another kind's.
    AnonVma* anon_vma() const { return owned_by(Owner::AnonVma) ? static_cast<AnonVma*>(m_owner) : nullptr; }
    Inode* inode() const { return owned_by(Owner::Inode) ? static_cast<Inode*>(m_owner) : nullptr; }
    SlabCache* slab_cache() const
    {
        return owned_by(Owner::Slab) ? static_cast<SlabCache*>(m_owner) : nullptr;
    }
    Hstate* hstate() const { return owned_by(Owner::Hstate) ? static_cast<Hstate*>(m_owner) : nullptr; }
    bool has_owner() const { return m_owner != nullptr; }
    // The owner as an identity only (the OPT policy's page key), whatever its kind.
    const void* owner_identity() const { return m_owner; }
    void set_owner(AnonVma* anon) { set_owner(anon, Owner::AnonVma); }
    void set_owner(Inode* inode) { set_owner(inode, Owner::Inode); }
    void set_owner(SlabCache* cache) { set_owner(cache, Owner::Slab); }
    void set_owner(Hstate* hstate) { set_owner(hstate, Owner::Hstate); }
    void copy_owner(const Frame& other)
    {
        m_owner = other.m_owner;
        m_owner_kind = other.m_owner_kind;
    }
    void clear_owner() { set_owner(static_cast<void*>(nullptr), Owner::None); }

  private:
    bool owned_by(Owner kind) const { return m_owner_kind == kind; }
    void set_owner(void* owner, Owner kind)
    {
        m_owner = owner;
        m_owner_kind = owner ? kind : Owner::None;
    }
};

static_assert(sizeof(Frame) <= 48, "a frame descriptor must stay within 48 bytes");

} // namespace kioku
