// An epoll instance (Linux: fs/eventpoll.c): an interest list of (descriptor, open file) items,
// each with the events it asks for and the 64-bit data it hands back.
//
// Readiness is not pushed by callbacks as in Linux; a harvest asks every item's file for its
// state through a probe and decides as ep_send_events would:
// - level-triggered: reported whenever the file's mask meets the item's events;
// - edge-triggered (EPOLLET): reported only when the file has woken waiters in a direction the
//   item asked for since the item was last reported (or since it was added or modified);
// - EPOLLONESHOT: after one report the item is disabled until EPOLL_CTL_MOD re-arms it.
// EPOLLERR and EPOLLHUP are always reported. Items are visited in ready-list order: a reported
// level-triggered item goes to the back, as Linux re-queues it at the tail.
//
// An item holds its file weakly: it goes when the last descriptor of the file is closed, not
// when its own descriptor number is, which is Linux's behaviour. Owned by the SpecialFile of the
// epoll descriptor.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "base/Result.h"
#include "kernel/PollEvents.h"

namespace kioku {

struct OpenFile;

struct EpollEvent {
    u32 events = 0;
    u64 data = 0;
};

class Epoll {
  public:
    using Probe = std::function<PollState(OpenFile&)>;

    // EPOLL_CTL_ADD: EEXIST when (fd, file) is already watched.
    Result<void> add(int fd, const std::shared_ptr<OpenFile>& file, u32 events, u64 data);
    // EPOLL_CTL_MOD: ENOENT when it is not watched; EINVAL for an EPOLLEXCLUSIVE item.
    Result<void> modify(int fd, const OpenFile* file, u32 events, u64 data);
    // EPOLL_CTL_DEL: ENOENT when it is not watched.
    Result<void> remove(int fd, const OpenFile* file);

    // Reports up to `max` ready items (epoll_wait's harvest).
    std::vector<EpollEvent> harvest(size_t max, const Probe& probe);
    // Whether a harvest would report anything (poll on the epoll descriptor itself).
    bool any_ready(const Probe& probe);
    // Whether `file` is watched here (loop checks when nesting epoll descriptors).
    bool watches(const OpenFile* file);
    // The files watched that are still open.
    std::vector<std::shared_ptr<OpenFile>> watched();
    size_t size();

  private:
    struct Item {
        int fd = -1;
        std::weak_ptr<OpenFile> file;
        u32 events = 0;
        u64 data = 0;
        bool fresh = true; // added or modified since last reported: check it once regardless
        WakeCounts seen;   // the file's wake-ups when last reported
    };
    std::list<Item>::iterator find(int fd, const OpenFile* file);
    void drop_closed();
    u32 ready_events(Item& item, const PollState& state) const;

    std::list<Item> m_items;
};

} // namespace kioku
