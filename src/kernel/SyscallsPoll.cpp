// Waiting for descriptors: ppoll, pselect6, the epoll family and eventfd2. Readiness comes from
// each file object (poll_file, Linux's f_op->poll); a call that finds nothing ready blocks as a
// Retry wait and looks again whenever the run loop retries it, until its timeout on the
// simulated clock.
#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <poll.h>

#include "kernel/Epoll.h"
#include "kernel/EventFd.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/TimerFd.h"
#include "kernel/UnixSocket.h"

namespace kioku {

namespace {

constexpr u64 SIGSET_SIZE = 8;
constexpr int EP_MAX_NESTS = 4;                // Linux's limit on epoll inside epoll
constexpr i64 EP_MAX_EVENTS = 0x7fffffff / 16; // INT_MAX / sizeof(struct epoll_event)
constexpr u64 NOFILE_LIMIT = 1024;             // RLIMIT_NOFILE's soft limit (prlimit64)
constexpr u64 EFD_SEMAPHORE_ = 1;
constexpr int EPOLL_CTL_ADD_ = 1, EPOLL_CTL_DEL_ = 2, EPOLL_CTL_MOD_ = 3;
// The events EPOLLEXCLUSIVE may be combined with.
constexpr u32 EPOLLEXCLUSIVE_OK = EPOLLIN_ | EPOLLOUT_ | EPOLLERR_ | EPOLLHUP_ | EPOLLWAKEUP_ | EPOLLET_ |
                                  EPOLLEXCLUSIVE_ | EPOLLRDNORM_ | EPOLLWRNORM_ | EPOLLRDBAND_ |
                                  EPOLLWRBAND_ | EPOLLMSG_ | EPOLLRDHUP_;
// select's sets (fs/select.c): what counts as readable, writable and exceptional.
constexpr u32 POLLIN_SET = EPOLLRDNORM_ | EPOLLRDBAND_ | EPOLLIN_ | EPOLLHUP_ | EPOLLERR_;
constexpr u32 POLLOUT_SET = EPOLLWRBAND_ | EPOLLWRNORM_ | EPOLLOUT_ | EPOLLERR_;
constexpr u32 POLLEX_SET = EPOLLPRI_;

bool is_kind(const OpenFile& f, SpecialFile::Kind kind)
{
    return f.special && f.special->kind == kind;
}

// Whether the file has a poll method, which epoll requires (EPERM otherwise): regular files,
// directories, /dev/null, /dev/zero and /proc text have none on Linux.
bool can_poll(const OpenFile& f)
{
    if (!f.special)
        return false;
    using K = SpecialFile::Kind;
    switch (f.special->kind) {
    case K::Text:
    case K::Null:
    case K::Zero:
    case K::Full:
    case K::Directory: return false;
    default: return true;
    }
}

PollState poll_pipe(const SpecialFile& s)
{
    const Pipe& p = *s.pipe;
    PollState st{0, p.wakes};
    if (s.kind == SpecialFile::Kind::PipeRead) {
        if (!p.data.empty())
            st.mask |= EPOLLIN_ | EPOLLRDNORM_;
        if (p.writers == 0)
            st.mask |= EPOLLHUP_;
    }
    if (s.kind == SpecialFile::Kind::PipeRead && s.both_ends) {
        if (p.data.size() < p.capacity)
            st.mask |= EPOLLOUT_ | EPOLLWRNORM_;
    } else if (s.kind == SpecialFile::Kind::PipeWrite) {
        if (p.data.size() < p.capacity)
            st.mask |= EPOLLOUT_ | EPOLLWRNORM_;
        if (p.readers == 0)
            st.mask |= EPOLLERR_;
    }
    return st;
}

// The host's own answer for its standard streams (their poll bits have the same values).
PollState poll_host(int host_fd)
{
    struct pollfd p {
        host_fd, POLLIN | POLLOUT, 0
    };
    if (::poll(&p, 1, 0) < 0)
        return {EPOLLERR_, {}};
    return {static_cast<u32>(static_cast<u16>(p.revents)), {}};
}

} // namespace

std::shared_ptr<OpenFile> anon_file(const char* name)
{
    auto file = std::make_shared<OpenFile>();
    file->path = name;
    file->readable = true;
    file->writable = true;
    return file;
}

PollState Syscalls::poll_file(OpenFile& f, int depth)
{
    if (!f.special)
        return {DEFAULT_POLLMASK, {}};
    SpecialFile& s = *f.special;
    using K = SpecialFile::Kind;
    switch (s.kind) {
    case K::HostFd: return poll_host(s.host_fd);
    case K::PipeRead:
    case K::PipeWrite: return poll_pipe(s);
    case K::EventFd: return s.eventfd->poll();
    case K::Socket: return s.socket->poll();
    case K::TimerFd: return s.timerfd->poll(kernel().now_ns());
    case K::Pidfd: return poll_pidfd(s);
    case K::Userfaultfd: return poll_userfault(s);
    case K::Epoll: {
        if (depth > EP_MAX_NESTS)
            return {};
        bool ready = s.epoll->any_ready([&](OpenFile& inner) { return poll_file(inner, depth + 1); });
        return {ready ? EPOLLIN_ | EPOLLRDNORM_ : 0u, {}};
    }
    default: return {DEFAULT_POLLMASK, {}};
    }
}

// --- waiting -------------------------------------------------------------------------------------

SyscallResult Syscalls::block_retry(Task& t, std::optional<u64> until, RestartAfterHandler restart)
{
    t.block = BlockKind::Retry;
    t.no_restart_after_handler = restart == RestartAfterHandler::No;
    t.wait_until = until;
    std::optional<u64> timer = next_timer();
    t.deadline_ns = until;
    if (timer && (!until || *timer < *until))
        t.deadline_ns = timer;
    return SyscallResult::block();
}

void Syscalls::end_wait(Task& t)
{
    t.wait_until.reset();
    t.deadline_ns.reset();
}

Result<void> Syscalls::swap_sigmask(Task& t, u64 mask_addr, u64 size)
{
    if (!mask_addr)
        return {};
    if (size != SIGSET_SIZE)
        return Error::from_errno(EINVAL, "bad sigset size");
    u64 mask = 0;
    TRY(get_bytes(t, mask_addr, &mask, 8));
    if (!t.saved_mask)
        t.saved_mask = t.blocked;
    t.blocked = mask & ~UNBLOCKABLE;
    return {};
}

void Syscalls::restore_sigmask(Task& t)
{
    if (t.saved_mask) {
        t.blocked = *t.saved_mask;
        t.saved_mask.reset();
    }
}

namespace {

// A relative timespec turned into a deadline; EINVAL when malformed.
Result<std::optional<u64>> read_timeout(Result<void> copied, const i64 ts[2], u64 now)
{
    TRY(copied);
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= static_cast<i64>(NS_PER_SEC))
        return Error::from_errno(EINVAL, "bad timespec");
    u64 s = static_cast<u64>(ts[0]);
    if (s > (~u64{0} - now) / NS_PER_SEC - 1)
        return std::optional<u64>{}; // beyond the end of time: no timeout
    return std::optional<u64>(now + s * NS_PER_SEC + static_cast<u64>(ts[1]));
}

} // namespace

// --- ppoll ---------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_ppoll(Task& t, const SyscallArgs& a)
{
    u64 nfds = a[1];
    if (nfds > NOFILE_LIMIT)
        return SyscallResult::err(EINVAL);
    u64 now = kernel().now_ns();
    if (first_run(t)) {
        std::optional<u64> until;
        if (a[2]) {
            i64 ts[2] = {};
            auto d = read_timeout(get_bytes(t, a[2], ts, sizeof ts), ts, now);
            if (d.is_error())
                return SyscallResult::err(d.error().code);
            until = d.value();
        }
        t.wait_until = until;
        if (auto r = swap_sigmask(t, a[3], a[4]); r.is_error())
            return SyscallResult::err(r.error().code);
    }
    std::vector<struct pollfd> fds(nfds);
    if (nfds && get_bytes(t, a[0], fds.data(), nfds * sizeof(struct pollfd)).is_error()) {
        restore_sigmask(t);
        return SyscallResult::err(EFAULT);
    }
    i64 ready = 0;
    for (auto& p : fds) {
        p.revents = 0;
        if (p.fd < 0)
            continue;
        auto f = open_file(t, p.fd);
        u32 mask = f.is_error() ? EPOLLNVAL_ : poll_file(*f.value()).mask;
        u32 wanted = static_cast<u16>(p.events) | EPOLLERR_ | EPOLLHUP_ | EPOLLNVAL_;
        p.revents = static_cast<short>(mask & wanted);
        ready += p.revents != 0;
    }
    bool timed_out = t.wait_until && now >= *t.wait_until;
    if (!ready && !timed_out)
        return block_retry(t, t.wait_until, RestartAfterHandler::No);
    restore_sigmask(t);
    if (a[2] && t.wait_until) {
        u64 left = *t.wait_until > now ? *t.wait_until - now : 0;
        i64 ts[2] = {static_cast<i64>(left / NS_PER_SEC), static_cast<i64>(left % NS_PER_SEC)};
        (void)put_bytes(t, a[2], ts, sizeof ts);
    }
    end_wait(t);
    if (nfds && put_bytes(t, a[0], fds.data(), nfds * sizeof(struct pollfd)).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(ready);
}

// --- pselect6 ------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_pselect6(Task& t, const SyscallArgs& a)
{
    i64 n = a.i(0);
    if (static_cast<i32>(n) < 0)
        return SyscallResult::err(EINVAL);
    n = std::min<i64>(static_cast<i32>(n), static_cast<i64>(NOFILE_LIMIT));
    u64 words = static_cast<u64>(n + 63) / 64;
    u64 now = kernel().now_ns();
    if (first_run(t)) {
        std::optional<u64> until;
        if (a[4]) {
            i64 ts[2] = {};
            auto d = read_timeout(get_bytes(t, a[4], ts, sizeof ts), ts, now);
            if (d.is_error())
                return SyscallResult::err(d.error().code);
            until = d.value();
        }
        t.wait_until = until;
        if (a[5]) {
            u64 sig[2] = {};
            if (get_bytes(t, a[5], sig, sizeof sig).is_error())
                return SyscallResult::err(EFAULT);
            if (auto r = swap_sigmask(t, sig[0], sig[1]); r.is_error())
                return SyscallResult::err(r.error().code);
        }
    }
    std::array<std::vector<u64>, 3> in, out;
    for (int s = 0; s < 3; ++s) {
        in[s].assign(words, 0);
        out[s].assign(words, 0);
        if (a[s + 1] && words && get_bytes(t, a[s + 1], in[s].data(), words * 8).is_error()) {
            restore_sigmask(t);
            return SyscallResult::err(EFAULT);
        }
    }
    constexpr u32 SETS[3] = {POLLIN_SET, POLLOUT_SET, POLLEX_SET};
    i64 ready = 0;
    for (i64 fd = 0; fd < n; ++fd) {
        u64 w = static_cast<u64>(fd) / 64, bit = u64{1} << (fd % 64);
        if (!((in[0][w] | in[1][w] | in[2][w]) & bit))
            continue;
        auto f = open_file(t, static_cast<int>(fd));
        if (f.is_error()) {
            restore_sigmask(t);
            end_wait(t);
            return SyscallResult::err(EBADF);
        }
        u32 mask = poll_file(*f.value()).mask;
        for (int s = 0; s < 3; ++s)
            if ((in[s][w] & bit) && (mask & SETS[s])) {
                out[s][w] |= bit;
                ++ready;
            }
    }
    bool timed_out = t.wait_until && now >= *t.wait_until;
    if (!ready && !timed_out)
        return block_retry(t, t.wait_until, RestartAfterHandler::No);
    restore_sigmask(t);
    if (a[4] && t.wait_until) {
        u64 left = *t.wait_until > now ? *t.wait_until - now : 0;
        i64 ts[2] = {static_cast<i64>(left / NS_PER_SEC), static_cast<i64>(left % NS_PER_SEC)};
        (void)put_bytes(t, a[4], ts, sizeof ts);
    }
    end_wait(t);
    for (int s = 0; s < 3; ++s)
        if (a[s + 1] && words && put_bytes(t, a[s + 1], out[s].data(), words * 8).is_error())
            return SyscallResult::err(EFAULT);
    return SyscallResult::ret(ready);
}

// --- epoll ---------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_epoll_create1(Task& t, const SyscallArgs& a)
{
    if (a[0] & ~u64{O_CLOEXEC})
        return SyscallResult::err(EINVAL);
    auto file = anon_file("anon_inode:[eventpoll]");
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Epoll);
    file->special->epoll = std::make_shared<Epoll>();
    return install_fd(t, std::move(file), a[0] & O_CLOEXEC);
}

namespace {

// Whether watching `target` from `ep` would close a loop of epoll descriptors.
// ep_loop_check, for adding the epoll descriptor `to` into `ep`: the epoll descriptors under
// one, and how many levels of them there are above and below.
std::vector<std::shared_ptr<OpenFile>> nested_epolls(OpenFile& e)
{
    std::vector<std::shared_ptr<OpenFile>> out;
    for (auto& f : e.special->epoll->watched())
        if (is_kind(*f, SpecialFile::Kind::Epoll))
            out.push_back(std::move(f));
    return out;
}

// Whether `target` is `from` or under it (a loop if `from` were added to `target`).
bool reaches(OpenFile& from, const OpenFile& target, int depth)
{
    if (&from == &target)
        return true;
    if (depth > 2 * EP_MAX_NESTS) // deeper chains are refused before they can be made
        return false;
    for (const auto& inner : nested_epolls(from))
        if (reaches(*inner, target, depth + 1))
            return true;
    return false;
}

// Levels of epoll descriptors from e down, e included.
int levels_below(OpenFile& e, int depth)
{
    int deepest = 0;
    if (depth <= 2 * EP_MAX_NESTS)
        for (const auto& inner : nested_epolls(e))
            deepest = std::max(deepest, levels_below(*inner, depth + 1));
    return deepest + 1;
}

// Levels of epoll descriptors from e up, e included, among the caller's descriptors.
int levels_above(const OpenFile& e, std::map<int, std::shared_ptr<OpenFile>>& files, int depth)
{
    int highest = 0;
    if (depth <= 2 * EP_MAX_NESTS)
        for (auto& [fd, f] : files)
            if (is_kind(*f, SpecialFile::Kind::Epoll) && f->special->epoll->watches(&e))
                highest = std::max(highest, levels_above(*f, files, depth + 1));
    return highest + 1;
}

} // namespace

SyscallResult Syscalls::sys_epoll_ctl(Task& t, const SyscallArgs& a)
{
    int op = static_cast<int>(a[1]);
    u8 raw[16] = {};
    bool has_event = op != EPOLL_CTL_DEL_;
    if (has_event && get_bytes(t, a[3], raw, sizeof raw).is_error())
        return SyscallResult::err(EFAULT);
    u32 events;
    u64 data;
    std::memcpy(&events, raw, 4);
    std::memcpy(&data, raw + 8, 8);
    auto& files = process(t).files();
    auto ep_it = files.find(a.fd(0));
    auto target_it = files.find(a.fd(2));
    if (ep_it == files.end() || target_it == files.end() ||
        is_kind(*ep_it->second, SpecialFile::Kind::Path) ||
        is_kind(*target_it->second, SpecialFile::Kind::Path))
        return SyscallResult::err(EBADF); // fdget: an O_PATH descriptor is none
    OpenFile& ep = *ep_it->second;
    const std::shared_ptr<OpenFile>& target = target_it->second;
    if (!can_poll(*target))
        return SyscallResult::err(EPERM);
    if (ep_it->second == target || !is_kind(ep, SpecialFile::Kind::Epoll))
        return SyscallResult::err(EINVAL);
    if (has_event && (events & EPOLLEXCLUSIVE_)) {
        if (op == EPOLL_CTL_MOD_ || is_kind(*target, SpecialFile::Kind::Epoll) ||
            (events & ~EPOLLEXCLUSIVE_OK) || (events & EPOLLONESHOT_))
            return SyscallResult::err(EINVAL);
    }
    Epoll& epoll = *ep.special->epoll;
    Result<void> r;
    switch (op) {
    case EPOLL_CTL_ADD_:
        // A loop, or more than EP_MAX_NESTS + 1 levels of epoll descriptors, is ELOOP.
        if (is_kind(*target, SpecialFile::Kind::Epoll) &&
            (reaches(*target, ep, 0) ||
             levels_above(ep, files, 0) + levels_below(*target, 0) > EP_MAX_NESTS + 1))
            return SyscallResult::err(ELOOP);
        r = epoll.add(a.fd(2), target, events | EPOLLERR_ | EPOLLHUP_, data);
        break;
    case EPOLL_CTL_MOD_: r = epoll.modify(a.fd(2), target.get(), events | EPOLLERR_ | EPOLLHUP_, data); break;
    case EPOLL_CTL_DEL_: r = epoll.remove(a.fd(2), target.get()); break;
    default: return SyscallResult::err(EINVAL);
    }
    return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_epoll_pwait(Task& t, const SyscallArgs& a)
{
    std::optional<u64> timeout;
    if (a.i(3) >= 0 && static_cast<i32>(a[3]) >= 0)
        timeout = static_cast<u64>(static_cast<i32>(a[3])) * 1'000'000;
    return epoll_wait_until(t, a, timeout);
}

SyscallResult Syscalls::sys_epoll_pwait2(Task& t, const SyscallArgs& a)
{
    std::optional<u64> timeout;
    if (a[3] && first_run(t)) {
        i64 ts[2] = {};
        auto d = read_timeout(get_bytes(t, a[3], ts, sizeof ts), ts, 0);
        if (d.is_error())
            return SyscallResult::err(d.error().code);
        timeout = d.value();
    }
    return epoll_wait_until(t, a, timeout);
}

// epoll_pwait and epoll_pwait2 once their timeout is read (relative nanoseconds, or none).
SyscallResult Syscalls::epoll_wait_until(Task& t, const SyscallArgs& a, std::optional<u64> timeout_ns)
{
    i64 max = static_cast<i32>(a[2]);
    if (max <= 0 || max > EP_MAX_EVENTS)
        return SyscallResult::err(EINVAL);
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    if (!is_kind(*f.value(), SpecialFile::Kind::Epoll))
        return SyscallResult::err(EINVAL);
    u64 now = kernel().now_ns();
    if (first_run(t)) {
        t.wait_until.reset();
        if (timeout_ns)
            t.wait_until = now + *timeout_ns;
        if (auto r = swap_sigmask(t, a[4], a[5]); r.is_error())
            return SyscallResult::err(r.error().code);
    }
    // Keeps the epoll object alive even if the wait's own descriptor is closed meanwhile.
    std::shared_ptr<Epoll> epoll = f.value()->special->epoll;
    auto events = epoll->harvest(static_cast<size_t>(max), [&](OpenFile& file) { return poll_file(file); });
    bool timed_out = t.wait_until && now >= *t.wait_until;
    if (events.empty() && !timed_out)
        return block_retry(t, t.wait_until, RestartAfterHandler::No);
    restore_sigmask(t);
    end_wait(t);
    std::vector<u8> out(events.size() * 16, 0);
    for (size_t i = 0; i < events.size(); ++i) {
        std::memcpy(&out[i * 16], &events[i].events, 4);
        std::memcpy(&out[i * 16 + 8], &events[i].data, 8);
    }
    if (!out.empty() && put_bytes(t, a[1], out.data(), out.size()).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(events.size()));
}

// --- eventfd -------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_eventfd2(Task& t, const SyscallArgs& a)
{
    u64 flags = a[1];
    if (flags & ~u64{O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE_})
        return SyscallResult::err(EINVAL);
    auto file = anon_file("anon_inode:[eventfd]");
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::EventFd);
    file->special->eventfd = std::make_shared<EventFd>(static_cast<u32>(a[0]), flags & EFD_SEMAPHORE_);
    file->special->nonblock = flags & O_NONBLOCK;
    return install_fd(t, std::move(file), flags & O_CLOEXEC);
}

} // namespace kioku
