// The scenario commands `sleep DURATION` and `sync`: simulated time passing with the flusher's
// work done on the way, and sync(2).
#include <gtest/gtest.h>

#include "unit/front/ScenarioRun.h"

using kioku::test::run;
using kioku::test::RunResult;

namespace {

// 64 KiB written to a fresh file through write(): sixteen dirty pages.
constexpr const char* DIRTY_FILE = "machine mem=32M check=on\nspawn A\n"
                                   "mmap A name=buf len=64K prot=rw flags=private,anon\n"
                                   "write A buf pattern=7\nopen A /tmp/f rdwr,creat as fd\n"
                                   "fwrite A fd buf len=64K\nexpect meminfo.Dirty == 64K\n";

} // namespace

TEST(ScenarioTimeCommands, SleepAdvancesTheClockByExactlyTheDuration)
{
    RunResult r =
        run("machine mem=16M\nlet t0 = clock\nsleep 1500ms\nexpect clock - t0 == 1500000000\n"
            "sleep 7us\nexpect clock - t0 == 1500007000\nsleep 3ns\nexpect clock - t0 == 1500007003\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioTimeCommands, SleepingPastTheExpiryLetsTheFlusherWriteAndTheDiskComplete)
{
    RunResult r =
        run(std::string(DIRTY_FILE) + "sleep 29s\nexpect meminfo.Dirty == 64K\n"
                                      "sleep 10s\nexpect meminfo.Dirty == 0\nexpect meminfo.Writeback == 0\n"
                                      "expect vmstat.nr_written >= 16\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioTimeCommands, SyncLeavesNothingDirtyOrInFlight)
{
    RunResult r = run(std::string(DIRTY_FILE) + "let t0 = clock\nsync\nexpect meminfo.Dirty == 0\n"
                                                "expect meminfo.Writeback == 0\nexpect clock > t0\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioTimeCommands, DurationsNeedAUnit)
{
    RunResult bare = run("machine mem=16M\nsleep 5\n");
    EXPECT_EQ(bare.status, 2);
    EXPECT_NE(bare.err.find("t.kio:2: bad duration '5'"), std::string::npos) << bare.err;
    RunResult unknown = run("machine mem=16M\nsleep 5m\n");
    EXPECT_NE(unknown.err.find("bad duration '5m'"), std::string::npos) << unknown.err;
    RunResult negative = run("machine mem=16M\nsleep -1s\n");
    EXPECT_NE(negative.err.find("bad duration"), std::string::npos) << negative.err;
    RunResult extra = run("machine mem=16M\nsync now\n");
    EXPECT_NE(extra.err.find("unexpected argument 'now'"), std::string::npos) << extra.err;
}
