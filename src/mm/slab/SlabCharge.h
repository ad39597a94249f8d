// How a kernel object of kioku becomes guest kernel memory. The C++ objects that model Linux's
// kernel objects (Vma for vm_area_struct, AddressSpace for mm_struct, Process for task_struct...)
// live on the host heap; each one also holds a SlabCharge, which takes one object slot of the
// matching slab cache for as long as the C++ object lives. The slot sits in a slab whose frames
// came from the guest's buddy allocator, so the guest's memory accounting is real: Slab in
// meminfo grows and shrinks with the objects, and a machine can run out of memory because of them.
//
// A charge finds its allocator in one of two ways: given explicitly (an object that knows its
// MemoryManager passes it), or through SlabAllocator::current(), the allocator of the machine
// that runs on this host thread (see SlabAllocator.h for why that pointer is thread-local).
// Without any allocator (a test of a lower layer with no MemoryManager) a charge holds nothing.
//
// States: empty (no allocator, or moved from) | charged (holds one slot) | failed (the cache had
// no memory; the owner should fail its creation with ENOMEM where Linux would). Copying an object
// charges a new slot of the same cache, as Linux allocates a new vm_area_struct for a split VMA or
// a forked one; assigning one object to another keeps each object's own slot; moving hands the
// slot over. Single-threaded, like the machine it belongs to.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "base/Types.h"

namespace kioku {

class MmCore;
struct ObjCgroup;
class SlabAllocator;
class SlabCache;

// The caches kioku's kernel objects charge (Linux's cache names are in SlabAllocator.cpp).
enum class KmemCache : u8 {
    VmAreaStruct,    // Vma
    MmStruct,        // AddressSpace
    AnonVma,         // AnonVma
    AnonVmaChain,    // one per VMA linked into an AnonVma
    TaskStruct,      // Process
    SignalCache,     // Process (signal_struct)
    SighandCache,    // Process (sighand_struct)
    FilesCache,      // Process (files_struct)
    Filp,            // OpenFile (struct file)
    InodeCache,      // Inode of a host file
    ShmemInodeCache, // Inode of shmem
    RadixTreeNode,   // page-cache index nodes (xa_node)
    Count,
};

// How hard an allocation may try (Linux's gfp_t, reduced to the two kinds kioku needs).
enum class SlabGfp : u8 {
    Kernel, // GFP_KERNEL: may reclaim and wake kswapd; respects the min watermark
    Atomic, // GFP_ATOMIC: never reclaims, may dip below min; for callers in the middle of an update
};

// One object slot: the slab's first frame and the object's index in it.
struct SlabObject {
    Pfn slab;
    u32 index = 0;
};

// The allocator of a memory manager (defined with SlabAllocator, so that headers that only know
// MemoryManager by name can charge through it).
SlabAllocator* slab_allocator_of(MmCore* mm);

class SlabCharge {
  public:
    SlabCharge() = default;
    // Charges one object of `which` from the allocator, or from the current one when null.
    explicit SlabCharge(KmemCache which, SlabAllocator* allocator = nullptr, SlabGfp gfp = SlabGfp::Kernel);
    SlabCharge(std::shared_ptr<SlabCache> cache, SlabGfp gfp);
    SlabCharge(const SlabCharge& other);
    SlabCharge(SlabCharge&& other) noexcept;
    SlabCharge& operator=(const SlabCharge& other);
    SlabCharge& operator=(SlabCharge&& other) noexcept;
    ~SlabCharge();

    bool charged() const { return m_cache && !m_failed; }
    bool failed() const { return m_failed; }
    const SlabCache* cache() const { return m_cache.get(); }
    // Where the object lives in guest physical memory, when charged.
    std::optional<PhysAddr> address() const;
    // Frees the slot now (the object stays, uncharged).
    void release();

  private:
    void charge(std::shared_ptr<SlabCache> cache, SlabGfp gfp);

    std::shared_ptr<SlabCache> m_cache; // the cache charged (or that failed); shared so that a
                                        // charge outliving its machine stays safe (see detach())
    std::shared_ptr<ObjCgroup> m_objcg; // the memory cgroup charged for it, if any
    SlabObject m_object;
    bool m_failed = false;
};

// A set of charges of one cache that grows and shrinks by one: the anon_vma_chain objects of an
// AnonVma (one per VMA linked to it). Uses the current allocator.
class SlabChargeList {
  public:
    explicit SlabChargeList(KmemCache which)
        : m_which(which)
    {
    }
    void push() { m_charges.emplace_back(m_which); }
    void pop()
    {
        if (!m_charges.empty())
            m_charges.pop_back();
    }
    u64 size() const { return m_charges.size(); }
    bool failed() const { return !m_charges.empty() && m_charges.back().failed(); }

  private:
    KmemCache m_which;
    std::vector<SlabCharge> m_charges;
};

// The fixed kernel objects of a process: task_struct, signal_struct, sighand_struct and
// files_struct (Linux allocates each at fork, copy_process).
struct TaskCharges {
    explicit TaskCharges(MmCore* mm);
    bool failed() const { return task.failed() || signal.failed() || sighand.failed() || files.failed(); }

    SlabCharge task;
    SlabCharge signal;
    SlabCharge sighand;
    SlabCharge files;
};

} // namespace kioku
