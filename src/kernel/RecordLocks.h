// Advisory record locks (Linux: fs/locks.c, fcntl F_GETLK/F_SETLK/F_SETLKW and the open file
// description ("OFD") variants F_OFD_*). A lock covers a byte range of a file, shared (F_RDLCK)
// or exclusive (F_WRLCK), and has an owner:
//   - a POSIX lock belongs to a process: closing any of its descriptors of the file releases all
//     of them (release_posix), and so does exit;
//   - an OFD lock belongs to an open file description: it goes when the description's last
//     descriptor closes.
// Two locks conflict when their ranges overlap, one of them is exclusive and their owners differ.
// Setting a lock replaces the owner's own locks in that range (splitting them), and the owner's
// adjacent or overlapping locks of the same type merge, so F_GETLK sees what Linux shows.
//
// Locks of an owner that is gone (a process that exited, a description whose last descriptor was
// closed) are dropped the next time the file's locks are looked at. Owned by the Kernel; files are
// identified by their Inode, which an open descriptor keeps alive while it holds a lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/Types.h"

namespace kioku {

class Inode;
struct OpenFile;
using Pid = i32;

struct RecordLock {
    static constexpr u64 TO_EOF = ~u64{0}; // end of a lock that runs to the end of the file

    enum class Type : u8 { Read, Write };
    u64 start = 0;
    u64 end = TO_EOF; // inclusive
    Type type = Type::Read;
    Pid pid = 0;                 // POSIX: the owner; OFD: -1
    std::weak_ptr<OpenFile> ofd; // OFD: the owning description
    bool is_ofd = false;

    bool same_owner(const RecordLock& other) const;
    bool overlaps(const RecordLock& other) const { return start <= other.end && other.start <= end; }
};

class RecordLocks {
  public:
    // Whether a process is still alive (its POSIX locks count while it is).
    using Alive = std::function<bool(Pid)>;
    explicit RecordLocks(Alive alive)
        : m_alive(std::move(alive))
    {
    }

    // F_GETLK: the first lock of another owner that conflicts with `want`.
    std::optional<RecordLock> conflict(const Inode& file, const RecordLock& want);
    // F_SETLK once nothing conflicts: takes the range for want's owner (unlock: gives it up).
    void set(const Inode& file, const RecordLock& want);
    void unlock(const Inode& file, const RecordLock& range);
    // Every POSIX lock `pid` holds on the file (close of any of its descriptors of it).
    void release_posix(const Inode& file, Pid pid);

    // F_SETLKW deadlock detection between processes: `waiter` is about to sleep until `holder`
    // releases a lock. True when holder is (transitively) waiting for waiter: EDEADLK.
    bool would_deadlock(Pid waiter, Pid holder) const;
    void set_waiting(Pid waiter, Pid holder) { m_waits_for[waiter] = holder; }
    void clear_waiting(Pid waiter) { m_waits_for.erase(waiter); }

  private:
    std::vector<RecordLock>& locks_of(const Inode& file);

    Alive m_alive;
    std::map<const Inode*, std::vector<RecordLock>> m_locks;
    std::map<Pid, Pid> m_waits_for; // POSIX F_SETLKW sleepers -> the owner they wait for
};

} // namespace kioku
