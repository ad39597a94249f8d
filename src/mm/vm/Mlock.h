// mlock(2), mlock2(2), munlock(2), mlockall(2) and munlockall(2), after Linux 6.x mm/mlock.c, and
// the page side of locking: a page mapped by a VM_LOCKED VMA is FF_MLOCKED and FF_UNEVICTABLE and
// sits on the unevictable LRU list, where reclaim never looks (Reclaimer::evict refuses it too).
// nr_mlock counts the locked pages (Mlocked in meminfo); the unevictable list is Unevictable.
//
// Linux 6.x keeps a per-page count of the locked VMAs mapping it (mlock_count). kioku asks the
// reverse map instead when a lock goes away: a page stays locked while any VM_LOCKED VMA still
// maps it, and a page nobody maps any more is never locked (Rmap::remove_mapping munlocks it).
//
// RLIMIT_MEMLOCK (8 MiB by default, as on Linux 6.x) is checked as do_mlock and mlockall check
// it, but the owner holds CAP_IPC_LOCK unless told otherwise, because kioku's processes run as
// root; tests switch the capability off to see the limit bite.
#pragma once

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;
class MmCore;
struct Vma;

// The locking calls of one address space (AddressSpace's members of the same names are the entry
// points).
class MlockCall {
  public:
    explicit MlockCall(AddressSpace& space);
    Result<void> mlock(u64 start, u64 len, u64 flags); // mlock2; flags may hold MLOCK_ONFAULT
    Result<void> munlock(u64 start, u64 len);
    Result<void> mlockall(int flags);
    Result<void> munlockall();

  private:
    // apply_vma_lock_flags: the VMAs up to the first hole in [start, start + len) get lock_flags.
    Result<void> apply_lock_flags(u64 start, u64 len, u64 lock_flags);
    // mlock_fixup: [start, end) of vma gets new_flags, and its present pages are locked or
    // unlocked to match.
    void mlock_fixup(Vma& vma, u64 start, u64 end, u64 new_flags);

    AddressSpace& m_space;
    MmCore& m_mm;
};

} // namespace kioku
