// Readiness as poll, select and epoll see it (Linux: include/uapi/linux/eventpoll.h and the
// f_op->poll masks). A file reports a mask of EPOLL* bits; objects that can wake a waiter also
// count their wake-ups per direction, which is what edge-triggered epoll reacts to: Linux queues
// an edge-triggered item when the file's wait queue is woken with a key the item asked for, so a
// second write to a still-readable pipe triggers it again, while a read from it does not.
//
// Plain data; owned by whichever file object embeds it.
#pragma once

#include "base/Types.h"

namespace kioku {

inline constexpr u32 EPOLLIN_ = 0x001, EPOLLPRI_ = 0x002, EPOLLOUT_ = 0x004, EPOLLERR_ = 0x008,
                     EPOLLHUP_ = 0x010, EPOLLNVAL_ = 0x020, EPOLLRDNORM_ = 0x040, EPOLLRDBAND_ = 0x080,
                     EPOLLWRNORM_ = 0x100, EPOLLWRBAND_ = 0x200, EPOLLMSG_ = 0x400, EPOLLRDHUP_ = 0x2000;
inline constexpr u32 EPOLLEXCLUSIVE_ = 1u << 28, EPOLLWAKEUP_ = 1u << 29, EPOLLONESHOT_ = 1u << 30,
                     EPOLLET_ = 1u << 31;

// What a file with no poll method reports (DEFAULT_POLLMASK): always readable and writable.
inline constexpr u32 DEFAULT_POLLMASK = EPOLLIN_ | EPOLLOUT_ | EPOLLRDNORM_ | EPOLLWRNORM_;
inline constexpr u32 POLL_IN_MASK = EPOLLIN_ | EPOLLRDNORM_ | EPOLLRDBAND_;
inline constexpr u32 POLL_OUT_MASK = EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_;

// Wake-ups of a file's waiters, by the direction they announced.
struct WakeCounts {
    u64 in = 0;  // new data to read, or the other end closed
    u64 out = 0; // room to write again, or the other end closed
    void wake_readers() { ++in; }
    void wake_writers() { ++out; }
    void wake_all()
    {
        ++in;
        ++out;
    }
    bool operator==(const WakeCounts&) const = default;
};

// A file's readiness at one moment: its mask and its wake-up counts so far.
struct PollState {
    u32 mask = 0;
    WakeCounts wakes;
};

} // namespace kioku
