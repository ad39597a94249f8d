#include "kernel/Epoll.h"

#include <algorithm>

namespace kioku {

std::list<Epoll::Item>::iterator Epoll::find(int fd, const OpenFile* file)
{
    return std::find_if(m_items.begin(), m_items.end(),
                        [&](const Item& i) { return i.fd == fd && i.file.lock().get() == file; });
}

void Epoll::drop_closed()
{
    m_items.remove_if([](const Item& i) { return i.file.expired(); });
}

size_t Epoll::size()
{
    drop_closed();
    return m_items.size();
}

bool Epoll::watches(const OpenFile* file)
{
    return std::any_of(m_items.begin(), m_items.end(),
                       [&](const Item& i) { return i.file.lock().get() == file; });
}

std::vector<std::shared_ptr<OpenFile>> Epoll::watched()
{
    std::vector<std::shared_ptr<OpenFile>> out;
    for (const Item& i : m_items)
        if (auto f = i.file.lock())
            out.push_back(std::move(f));
    return out;
}

Result<void> Epoll::add(int fd, const std::shared_ptr<OpenFile>& file, u32 events, u64 data)
{
    drop_closed();
    if (find(fd, file.get()) != m_items.end())
        return Error::from_errno(EEXIST, "already watched");
    Item item;
    item.fd = fd;
    item.file = file;
    item.events = events;
    item.data = data;
    m_items.push_back(item);
    return {};
}

Result<void> Epoll::modify(int fd, const OpenFile* file, u32 events, u64 data)
{
    drop_closed();
    auto it = find(fd, file);
    if (it == m_items.end())
        return Error::from_errno(ENOENT, "not watched");
    if (it->events & EPOLLEXCLUSIVE_)
        return Error::from_errno(EINVAL, "EPOLLEXCLUSIVE items cannot be modified");
    it->events = events;
    it->data = data;
    it->fresh = true;
    return {};
}

Result<void> Epoll::remove(int fd, const OpenFile* file)
{
    drop_closed();
    auto it = find(fd, file);
    if (it == m_items.end())
        return Error::from_errno(ENOENT, "not watched");
    m_items.erase(it);
    return {};
}

// The events the item reports now, or 0. A disabled one-shot item asks for nothing but error
// and hang-up, and Linux does not report even those until it is re-armed.
u32 Epoll::ready_events(Item& item, const PollState& state) const
{
    constexpr u32 WANTED = ~(EPOLLET_ | EPOLLONESHOT_ | EPOLLEXCLUSIVE_ | EPOLLWAKEUP_);
    u32 asked = item.events & WANTED;
    if (!asked)
        return 0;
    u32 revents = state.mask & (asked | EPOLLERR_ | EPOLLHUP_);
    if (!(item.events & EPOLLET_))
        return revents;
    bool woken_in = (asked & (POLL_IN_MASK | EPOLLRDHUP_)) && state.wakes.in != item.seen.in;
    bool woken_out = (asked & POLL_OUT_MASK) && state.wakes.out != item.seen.out;
    bool hung = (revents & (EPOLLERR_ | EPOLLHUP_)) && !(state.wakes == item.seen);
    return item.fresh || woken_in || woken_out || hung ? revents : 0;
}

std::vector<EpollEvent> Epoll::harvest(size_t max, const Probe& probe)
{
    drop_closed();
    std::vector<EpollEvent> out;
    std::vector<std::list<Item>::iterator> requeue;
    for (auto it = m_items.begin(); it != m_items.end() && out.size() < max; ++it) {
        auto file = it->file.lock();
        PollState state = probe(*file);
        u32 revents = ready_events(*it, state);
        // An edge that found the file not ready is used up, as the ready list drops it.
        it->seen = state.wakes;
        it->fresh = false;
        if (!revents)
            continue;
        out.push_back({revents, it->data});
        if (it->events & EPOLLONESHOT_)
            it->events &= EPOLLET_ | EPOLLONESHOT_ | EPOLLEXCLUSIVE_ | EPOLLWAKEUP_;
        else if (!(it->events & EPOLLET_))
            requeue.push_back(it);
    }
    for (auto it : requeue)
        m_items.splice(m_items.end(), m_items, it);
    return out;
}

bool Epoll::any_ready(const Probe& probe)
{
    drop_closed();
    for (Item& item : m_items) {
        auto file = item.file.lock();
        if (ready_events(item, probe(*file)))
            return true;
    }
    return false;
}

} // namespace kioku
