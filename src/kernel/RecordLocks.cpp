#include "kernel/RecordLocks.h"

#include <algorithm>

namespace kioku {

bool RecordLock::same_owner(const RecordLock& other) const
{
    if (is_ofd != other.is_ofd)
        return false;
    if (!is_ofd)
        return pid == other.pid;
    return !ofd.owner_before(other.ofd) && !other.ofd.owner_before(ofd);
}

std::vector<RecordLock>& RecordLocks::locks_of(const Inode& file)
{
    auto& locks = m_locks[&file];
    std::erase_if(locks, [&](const RecordLock& l) { return l.is_ofd ? l.ofd.expired() : !m_alive(l.pid); });
    return locks;
}

std::optional<RecordLock> RecordLocks::conflict(const Inode& file, const RecordLock& want)
{
    for (const RecordLock& held : locks_of(file)) {
        if (held.same_owner(want) || !held.overlaps(want))
            continue;
        if (held.type == RecordLock::Type::Write || want.type == RecordLock::Type::Write)
            return held;
    }
    return std::nullopt;
}

void RecordLocks::unlock(const Inode& file, const RecordLock& range)
{
    auto& locks = locks_of(file);
    std::vector<RecordLock> pieces;
    std::erase_if(locks, [&](const RecordLock& held) {
        if (!held.same_owner(range) || !held.overlaps(range))
            return false;
        // What lies outside the range stays locked.
        if (held.start < range.start) {
            RecordLock left = held;
            left.end = range.start - 1;
            pieces.push_back(left);
        }
        if (range.end != RecordLock::TO_EOF && held.end > range.end) {
            RecordLock right = held;
            right.start = range.end + 1;
            pieces.push_back(right);
        }
        return true;
    });
    locks.insert(locks.end(), pieces.begin(), pieces.end());
    std::sort(locks.begin(), locks.end(),
              [](const RecordLock& a, const RecordLock& b) { return a.start < b.start; });
    if (locks.empty())
        m_locks.erase(&file);
}

void RecordLocks::set(const Inode& file, const RecordLock& want)
{
    unlock(file, want);
    auto& locks = locks_of(file);
    RecordLock merged = want;
    auto touches = [&](const RecordLock& held) {
        return held.overlaps(merged) || (held.end != RecordLock::TO_EOF && held.end + 1 == merged.start) ||
               (merged.end != RecordLock::TO_EOF && merged.end + 1 == held.start);
    };
    std::erase_if(locks, [&](const RecordLock& held) {
        if (!held.same_owner(want) || held.type != want.type || !touches(held))
            return false;
        merged.start = std::min(merged.start, held.start);
        merged.end = std::max(merged.end, held.end);
        return true;
    });
    locks.push_back(merged);
    std::sort(locks.begin(), locks.end(),
              [](const RecordLock& a, const RecordLock& b) { return a.start < b.start; });
}

void RecordLocks::release_posix(const Inode& file, Pid pid)
{
    auto it = m_locks.find(&file);
    if (it == m_locks.end())
        return;
    std::erase_if(it->second, [&](const RecordLock& l) { return !l.is_ofd && l.pid == pid; });
    if (it->second.empty())
        m_locks.erase(it);
}

bool RecordLocks::would_deadlock(Pid waiter, Pid holder) const
{
    // Follow who the holder waits for; a chain longer than the sleepers is a cycle not through us.
    for (size_t steps = 0; steps <= m_waits_for.size(); ++steps) {
        if (holder == waiter)
            return true;
        auto next = m_waits_for.find(holder);
        if (next == m_waits_for.end() || !m_alive(next->second))
            return false;
        holder = next->second;
    }
    return false;
}

} // namespace kioku
