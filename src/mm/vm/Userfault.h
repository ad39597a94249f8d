// userfaultfd's memory side (Linux: fs/userfaultfd.c and mm/userfaultfd.c): a context that ranges
// of one address space are registered with, so that a fault on a missing page there is handed to
// a program thread instead of being resolved by the kernel.
//
// A VMA registered with a context has VM_UFFD_MISSING and points at it (Vma::uffd). Anonymous
// private memory, shmem (shared anonymous memory, memfd, /dev/shm, System V segments, and private
// mappings of them) and hugetlb memory can be registered, in "missing" mode only (write-protect
// and minor modes are not modelled). A fault in such a VMA finds its page missing when the slot is
// empty and, for shmem and hugetlb, the file has no page at that index either; FaultHandler then
// answers FaultOutcome::Userfault. The system-call layer records the waiting thread here, blocks
// it, and lets a reader of the descriptor see the fault; UFFDIO_COPY and UFFDIO_ZEROPAGE fill
// pages (FaultHandler::userfault_fill), and a wake of the range lets the thread run its access
// again. Closing the descriptor unregisters every range, and a fork's child, or the new VMA of an
// mremap move, does not inherit the registration (the fork and remap events are not modelled).
//
// Invariants: a VMA has VM_UFFD_MISSING exactly when its uffd is set, and only contexts of its own
// address space point at it; a context outlives no address space it names (the space detaches it).
#pragma once

#include <memory>
#include <vector>

#include "base/Types.h"

namespace kioku {

class AddressSpace;

// The uapi values (include/uapi/linux/userfaultfd.h) the memory side and the system calls share.
inline constexpr u64 UFFD_FEATURE_MISSING_HUGETLBFS_ = 1 << 4;
inline constexpr u64 UFFD_FEATURE_MISSING_SHMEM_ = 1 << 5;
inline constexpr u64 UFFD_FEATURE_SIGBUS_ = 1 << 7;
inline constexpr u64 UFFD_FEATURE_THREAD_ID_ = 1 << 8;
inline constexpr u64 UFFD_FEATURE_EXACT_ADDRESS_ = 1 << 11;
inline constexpr u64 UFFD_PAGEFAULT_FLAG_WRITE_ = 1;

// One thread waiting for a missing page (Linux: a userfaultfd_wait_queue).
struct UserfaultWait {
    i32 tid = 0;
    u64 address = 0;   // as the message reports it
    u64 flags = 0;     // UFFD_PAGEFAULT_FLAG_*
    bool read = false; // its message has been read from the descriptor
};

class UserfaultContext : public std::enable_shared_from_this<UserfaultContext> {
  public:
    // A context for `space` (the creator's address space, as Linux's ctx->mm).
    explicit UserfaultContext(AddressSpace& space);
    // The descriptor is closed: every range registered with it is unregistered.
    ~UserfaultContext();
    UserfaultContext(const UserfaultContext&) = delete;
    UserfaultContext& operator=(const UserfaultContext&) = delete;

    // The address space, or null once it is gone (its process exited or exec'd).
    AddressSpace* space() const { return m_space; }
    void space_gone() { m_space = nullptr; }

    // UFFDIO_API: the features asked for; a context is usable once they are set.
    bool initialized() const { return m_initialized; }
    void initialize(u64 features)
    {
        m_features = features;
        m_initialized = true;
    }
    u64 features() const { return m_features; }

    // The waiting faults, oldest first.
    void add_wait(const UserfaultWait& w) { m_waits.push_back(w); }
    bool waiting(i32 tid) const;
    void cancel(i32 tid);
    // Ends the waits of faults at addresses in [start, start + len).
    void wake(u64 start, u64 len);
    std::vector<UserfaultWait>& waits() { return m_waits; }

  private:
    AddressSpace* m_space;
    u64 m_features = 0;
    bool m_initialized = false;
    std::vector<UserfaultWait> m_waits;
};

} // namespace kioku
