// The scenario commands `swapon SIZE [prio=N]` and `swapoff NAME`.
#include <gtest/gtest.h>

#include <sstream>

#include "front/scenario/Scenario.h"
#include "unit/front/ScenarioRun.h"

using namespace kioku;
using kioku::test::run;
using kioku::test::RunResult;

TEST(ScenarioSwapCommands, SwaponAddsToSwapTotalAndSwapoffTakesItAway)
{
    RunResult r = run("machine mem=16M check=on\nswapon 4M\nswapon 2M prio=3\n"
                      "expect meminfo.SwapTotal == 6M - 8K\nswapoff /dev/swap0\n"
                      "expect meminfo.SwapTotal == 2M - 4K\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("swapoff /dev/swap0 -> ok\n"), std::string::npos) << r.out;
}

TEST(ScenarioSwapCommands, SwapoffBringsPagesBackAndTheirDataSurvives)
{
    RunResult r = run("machine mem=16M check=on\nswapon 32M\nspawn A\nmmap A name=buf len=24M\n"
                      "write A buf pattern=seq\nexpect A.vmswap > 0\nmunmap A buf len=16M\n"
                      "swapoff /dev/swap0\nexpect A.vmswap == 0\nread A buf+16M len=8M pattern=seq\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioSwapCommands, SwapoffFailuresAreExpectable)
{
    RunResult r = run("machine mem=16M check=on\nswapon 32M\nspawn A\nmmap A name=buf len=24M\n"
                      "write A buf pattern=1\nswapoff /dev/swap0\nexpect error ENOMEM\n"
                      "swapoff /dev/swap9\nexpect error EINVAL\nread A buf len=24M pattern=1\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioSwapCommands, AnUnexpectedSwapoffFailureStopsTheScenario)
{
    RunResult r = run("machine mem=16M\nswapoff /dev/swap0\necho not reached\n");
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.out.find("not reached"), std::string::npos) << r.out;
}

TEST(ScenarioSwapCommands, MalformedSwaponLinesAreRejectedBeforeAnythingRuns)
{
    RunResult bad_size = run("machine mem=16M\nswapon 12Q\n");
    EXPECT_EQ(bad_size.status, 2);
    EXPECT_NE(bad_size.err.find("t.kio:2: bad swap size '12Q'"), std::string::npos) << bad_size.err;
    RunResult bad_prio = run("machine mem=16M\nswapon 1M prio=40000\n");
    EXPECT_NE(bad_prio.err.find("t.kio:2: bad prio '40000' (0 to 32767)"), std::string::npos) << bad_prio.err;
    RunResult no_name = run("machine mem=16M\nswapoff\n");
    EXPECT_NE(no_name.err.find("swapoff NAME"), std::string::npos) << no_name.err;
}
