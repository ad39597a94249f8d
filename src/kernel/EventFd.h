// An eventfd (Linux: fs/eventfd.c): a 64-bit counter a read takes and a write adds to. A read
// finds the counter at zero and would block; in semaphore mode it takes 1 at a time, otherwise
// the whole count. A write that would take the counter past 0xfffffffffffffffe would block.
// Invariant: count() <= MAX_COUNT.
//
// Owned by the SpecialFile of the descriptors that share it (dup, fork).
#pragma once

#include "base/Result.h"
#include "kernel/PollEvents.h"

namespace kioku {

class EventFd {
  public:
    static constexpr u64 MAX_COUNT = 0xffff'ffff'ffff'fffeull;

    EventFd(u64 initial, bool semaphore)
        : m_count(initial)
        , m_semaphore(semaphore)
    {
    }

    u64 count() const { return m_count; }
    bool semaphore() const { return m_semaphore; }

    // The value a read returns; EAGAIN while the counter is zero.
    Result<u64> read();
    // Adds to the counter; EINVAL for the value ~0, EAGAIN while it does not fit.
    Result<void> write(u64 value);
    PollState poll() const;

  private:
    u64 m_count;
    bool m_semaphore;
    WakeCounts m_wakes;
};

} // namespace kioku
