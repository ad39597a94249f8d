// The readiness objects on their own: Epoll's level, edge and one-shot rules with a fake probe,
// EventFd's counter rules and TimerFd's expirations on a clock the test moves.
#include <gtest/gtest.h>

#include <map>

#include "kernel/Epoll.h"
#include "kernel/EventFd.h"
#include "kernel/Process.h"
#include "kernel/TimerFd.h"

namespace kioku {
namespace {

// Files whose readiness the test sets by hand.
struct FakeFiles {
    std::map<const OpenFile*, PollState> states;
    Epoll::Probe probe()
    {
        return [this](OpenFile& f) { return states[&f]; };
    }
};

TEST(Epoll, LevelTriggeredReportsWhileReady)
{
    Epoll ep;
    FakeFiles files;
    auto f = std::make_shared<OpenFile>();
    ASSERT_FALSE(ep.add(3, f, EPOLLIN_, 42).is_error());
    EXPECT_TRUE(ep.harvest(8, files.probe()).empty());
    files.states[f.get()] = {EPOLLIN_, {1, 0}};
    auto first = ep.harvest(8, files.probe());
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].data, 42u);
    EXPECT_EQ(ep.harvest(8, files.probe()).size(), 1u);
}

TEST(Epoll, EdgeTriggeredReportsOnlyNewWakeUps)
{
    Epoll ep;
    FakeFiles files;
    auto f = std::make_shared<OpenFile>();
    ASSERT_FALSE(ep.add(3, f, EPOLLIN_ | EPOLLET_, 1).is_error());
    files.states[f.get()] = {EPOLLIN_, {1, 0}};
    EXPECT_EQ(ep.harvest(8, files.probe()).size(), 1u);
    EXPECT_TRUE(ep.harvest(8, files.probe()).empty());
    // A read (a writer-side wake-up) does not trigger an EPOLLIN item; a new write does.
    files.states[f.get()] = {EPOLLIN_, {1, 1}};
    EXPECT_TRUE(ep.harvest(8, files.probe()).empty());
    files.states[f.get()] = {EPOLLIN_, {2, 1}};
    EXPECT_EQ(ep.harvest(8, files.probe()).size(), 1u);
}

TEST(Epoll, OneShotDisablesUntilModified)
{
    Epoll ep;
    FakeFiles files;
    auto f = std::make_shared<OpenFile>();
    ASSERT_FALSE(ep.add(3, f, EPOLLIN_ | EPOLLONESHOT_, 1).is_error());
    files.states[f.get()] = {EPOLLIN_ | EPOLLHUP_, {1, 0}};
    EXPECT_EQ(ep.harvest(8, files.probe()).size(), 1u);
    EXPECT_TRUE(ep.harvest(8, files.probe()).empty());
    ASSERT_FALSE(ep.modify(3, f.get(), EPOLLIN_ | EPOLLONESHOT_, 2).is_error());
    auto again = ep.harvest(8, files.probe());
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].data, 2u);
}

TEST(Epoll, ItemGoesWhenItsFileIsClosedAndDuplicatesAreRefused)
{
    Epoll ep;
    auto f = std::make_shared<OpenFile>();
    ASSERT_FALSE(ep.add(3, f, EPOLLIN_, 0).is_error());
    EXPECT_EQ(ep.add(3, f, EPOLLIN_, 0).error().code, EEXIST);
    EXPECT_EQ(ep.remove(4, f.get()).error().code, ENOENT);
    f.reset();
    EXPECT_EQ(ep.size(), 0u);
}

TEST(Epoll, HarvestHonoursMaxAndRotatesLevelItems)
{
    Epoll ep;
    FakeFiles files;
    auto a = std::make_shared<OpenFile>();
    auto b = std::make_shared<OpenFile>();
    ASSERT_FALSE(ep.add(3, a, EPOLLIN_, 1).is_error());
    ASSERT_FALSE(ep.add(4, b, EPOLLIN_, 2).is_error());
    files.states[a.get()] = files.states[b.get()] = {EPOLLIN_, {}};
    auto first = ep.harvest(1, files.probe());
    auto second = ep.harvest(1, files.probe());
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first[0].data, 1u);
    EXPECT_EQ(second[0].data, 2u);
}

TEST(EventFd, SemaphoreModeTakesOneAtATime)
{
    EventFd e(2, true);
    EXPECT_EQ(e.read().value(), 1u);
    EXPECT_EQ(e.read().value(), 1u);
    EXPECT_EQ(e.read().error().code, EAGAIN);
}

TEST(EventFd, WritesStopShortOfTheMaximum)
{
    EventFd e(0, false);
    EXPECT_EQ(e.write(~u64{0}).error().code, EINVAL);
    ASSERT_FALSE(e.write(EventFd::MAX_COUNT).is_error());
    EXPECT_EQ(e.write(1).error().code, EAGAIN);
    EXPECT_FALSE(e.poll().mask & EPOLLOUT_);
    EXPECT_EQ(e.read().value(), EventFd::MAX_COUNT);
    EXPECT_TRUE(e.poll().mask & EPOLLOUT_);
}

TEST(TimerFd, PeriodicTimerCountsMissedExpirations)
{
    TimerFd t(1);
    t.arm(u64{1000}, 100);
    EXPECT_EQ(t.take(999).error().code, EAGAIN);
    EXPECT_EQ(t.take(1250).value(), 3u);
    EXPECT_EQ(t.setting(1250).remaining_ns, 50u);
    EXPECT_EQ(*t.next_expiry(), 1300u);
}

TEST(TimerFd, OneShotDisarmsAfterExpiry)
{
    TimerFd t(1);
    t.arm(u64{500}, 0);
    EXPECT_TRUE(t.poll(600).mask & EPOLLIN_);
    EXPECT_EQ(t.take(600).value(), 1u);
    EXPECT_FALSE(t.next_expiry());
    EXPECT_EQ(t.setting(700).remaining_ns, 0u);
}

} // namespace
} // namespace kioku
