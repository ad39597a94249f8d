// PidAllocator: cyclic numbers below pid_max, the restart above RESERVED_PIDS, busy numbers
// skipped, EAGAIN when full, and the range of pid_max.
#include <gtest/gtest.h>

#include <set>

#include "kernel/PidAllocator.h"

using namespace kioku;

namespace {

struct PidAllocatorTest : testing::Test {
    PidAllocator pids;
    std::set<Pid> busy;

    Pid next()
    {
        auto n = pids.allocate([this](Pid p) { return busy.contains(p); });
        EXPECT_FALSE(n.is_error());
        return n.is_error() ? -1 : n.value();
    }
};

} // namespace

TEST_F(PidAllocatorTest, NumbersClimbFromOneAndSkipBusyOnes)
{
    EXPECT_EQ(next(), 1);
    busy = {2, 3};
    EXPECT_EQ(next(), 4);
    EXPECT_EQ(pids.last(), 4);
}

TEST_F(PidAllocatorTest, AfterTheWrapTheSearchStartsAtReservedPids)
{
    ASSERT_FALSE(pids.set_pid_max(310).is_error());
    for (Pid expected = 1; expected < 310; ++expected)
        ASSERT_EQ(next(), expected);
    EXPECT_EQ(next(), PidAllocator::RESERVED_PIDS);
    busy = {301, 302};
    EXPECT_EQ(next(), 303);
}

TEST_F(PidAllocatorTest, FullSpaceIsEagain)
{
    ASSERT_FALSE(pids.set_pid_max(320).is_error());
    for (Pid p = 1; p < 320; ++p)
        busy.insert(p);
    auto n = pids.allocate([this](Pid p) { return busy.contains(p); });
    ASSERT_TRUE(n.is_error());
    EXPECT_EQ(n.error().code, EAGAIN);
}

TEST_F(PidAllocatorTest, PidMaxOutsideItsRangeIsEinval)
{
    EXPECT_EQ(pids.set_pid_max(300).error().code, EINVAL);
    EXPECT_EQ(pids.set_pid_max(PidAllocator::PID_MAX_LIMIT + 1).error().code, EINVAL);
    EXPECT_FALSE(pids.set_pid_max(301).is_error());
    EXPECT_EQ(pids.pid_max(), 301);
}

TEST_F(PidAllocatorTest, LoweringPidMaxBelowTheLastNumberWrapsAtOnce)
{
    for (int i = 0; i < 500; ++i)
        next();
    ASSERT_FALSE(pids.set_pid_max(400).is_error());
    EXPECT_EQ(next(), PidAllocator::RESERVED_PIDS);
}
