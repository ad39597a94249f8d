// RecordLocks: how an owner's locks split and merge, what conflicts with whom, and release.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "kernel/Process.h"
#include "kernel/RecordLocks.h"

using namespace kioku;

namespace {

struct RecordLocksTest : testing::Test {
    std::set<Pid> alive{1, 2};
    RecordLocks locks{[this](Pid pid) { return alive.count(pid) > 0; }};
    const Inode& file = *reinterpret_cast<const Inode*>(&alive); // only its address is used

    static RecordLock posix(Pid pid, u64 start, u64 end, RecordLock::Type type = RecordLock::Type::Write)
    {
        RecordLock l;
        l.pid = pid;
        l.start = start;
        l.end = end;
        l.type = type;
        return l;
    }
};

} // namespace

TEST_F(RecordLocksTest, AWriteLockInsideAReadLockSplitsIt)
{
    locks.set(file, posix(1, 0, 9, RecordLock::Type::Read));
    locks.set(file, posix(1, 5, 5));
    // Another owner's read lock conflicts only with byte 5.
    EXPECT_FALSE(locks.conflict(file, posix(2, 0, 4, RecordLock::Type::Read)));
    auto held = locks.conflict(file, posix(2, 0, 9, RecordLock::Type::Read));
    ASSERT_TRUE(held);
    EXPECT_EQ(held->start, 5u);
    EXPECT_EQ(held->end, 5u);
    // A write lock of another owner meets the first read piece first.
    held = locks.conflict(file, posix(2, 0, 9));
    ASSERT_TRUE(held);
    EXPECT_EQ(held->start, 0u);
    EXPECT_EQ(held->end, 4u);
}

TEST_F(RecordLocksTest, AdjacentLocksOfOneOwnerAndTypeMerge)
{
    locks.set(file, posix(1, 0, 4));
    locks.set(file, posix(1, 5, 9));
    auto held = locks.conflict(file, posix(2, 7, 7));
    ASSERT_TRUE(held);
    EXPECT_EQ(held->start, 0u);
    EXPECT_EQ(held->end, 9u);
}

TEST_F(RecordLocksTest, UnlockingTheMiddleLeavesBothEnds)
{
    locks.set(file, posix(1, 0, RecordLock::TO_EOF));
    locks.unlock(file, posix(1, 10, 19));
    EXPECT_FALSE(locks.conflict(file, posix(2, 10, 19)));
    ASSERT_TRUE(locks.conflict(file, posix(2, 9, 9)));
    auto tail = locks.conflict(file, posix(2, 20, 20));
    ASSERT_TRUE(tail);
    EXPECT_EQ(tail->end, RecordLock::TO_EOF);
}

TEST_F(RecordLocksTest, LocksOfAnExitedProcessAreGone)
{
    locks.set(file, posix(1, 0, 0));
    ASSERT_TRUE(locks.conflict(file, posix(2, 0, 0)));
    alive.erase(1);
    EXPECT_FALSE(locks.conflict(file, posix(2, 0, 0)));
}

TEST_F(RecordLocksTest, OfdLocksBelongToTheDescription)
{
    auto description = std::make_shared<OpenFile>();
    RecordLock ofd = posix(-1, 0, 0);
    ofd.is_ofd = true;
    ofd.ofd = description;
    locks.set(file, ofd);
    // The same description never conflicts with itself; a POSIX lock of any process does.
    EXPECT_FALSE(locks.conflict(file, ofd));
    EXPECT_TRUE(locks.conflict(file, posix(1, 0, 0)));
    description.reset(); // its last descriptor closed
    EXPECT_FALSE(locks.conflict(file, posix(1, 0, 0)));
}

TEST_F(RecordLocksTest, WaitingInACircleIsADeadlock)
{
    locks.set_waiting(1, 2);
    EXPECT_TRUE(locks.would_deadlock(2, 1));
    EXPECT_FALSE(locks.would_deadlock(3, 1));
    locks.clear_waiting(1);
    EXPECT_FALSE(locks.would_deadlock(2, 1));
}
