// The scenario commands for memory pressure: swap and the fixed-frame mode on `machine`,
// `policy`, `reference`, `procwrite`, `show dmesg` and `expect panic`.
#include <gtest/gtest.h>

#include <sstream>

#include "front/scenario/Scenario.h"
#include "unit/front/ScenarioRun.h"

using namespace kioku;
using kioku::test::run;
using kioku::test::RunResult;

namespace {

const std::string FIXED = "machine mem=16M swap=1M policy=fifo frames=3 check=on\nsysctl vm.page-cluster=0\n"
                          "spawn A\nmmap A name=buf len=6p\n";

} // namespace

TEST(ScenarioPressure, ReferenceCountsTheFaultsOfTheString)
{
    RunResult r = run(FIXED + "reference A buf pages=1,2,3,4,1,2,5,1,2,3,4,5 write as f\nexpect f == 9\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("-> 12 references, 9 faults (4 major)\n"), std::string::npos) << r.out;
}

TEST(ScenarioPressure, FixedFramesTurnSwapReadaheadOffAndSayWhenSwapIsMissing)
{
    // No `sysctl vm.page-cluster=0`: frames=3 sets it, or readahead would fill the frames with
    // neighbours and the textbook's 9 faults would not come out.
    RunResult r =
        run("machine mem=16M swap=1M policy=fifo frames=3 check=on\nspawn A\nmmap A name=buf len=6p\n"
            "reference A buf pages=1,2,3,4,1,2,5,1,2,3,4,5 write as f\nexpect f == 9\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("frames=3 page-cluster=0"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("note:"), std::string::npos) << r.err;
    RunResult no_swap = run("machine mem=16M frames=3\nspawn A\n");
    EXPECT_NE(no_swap.err.find("t.kio:1: note: frames=N without swap"), std::string::npos) << no_swap.err;
}

TEST(ScenarioPressure, TraceShowsHitsFaultsTheFramesAndTheVictims)
{
    RunResult r = run(FIXED + "reference A buf pages=1,2,1,3,4 write trace\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("  3  1     1 2 .   hit                             1 2\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  5  4     4 2 3   fault   1: came in first (t=1)  2 3 4\n"), std::string::npos)
        << r.out;
}

TEST(ScenarioPressure, PolicyChangesThePolicyAndTheFrames)
{
    RunResult r =
        run(FIXED + "policy fifo frames=4\nreference A buf pages=1,2,3,4,1,2,5,1,2,3,4,5 write as f\n"
                    "expect f == 10\npolicy opt frames=3\nmunmap A buf\nmmap A name=b2 len=8p\n"
                    "reference A b2 pages=7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1 write as g\n"
                    "expect g == 9\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioPressure, BadReferencesAreRefused)
{
    RunResult parse = run(FIXED + "reference A buf pages=1,x write\nreference A buf write\n"
                                  "reference A buf pages=1 sideways\n");
    EXPECT_EQ(parse.status, SCENARIO_BAD_SCRIPT);
    EXPECT_NE(parse.err.find("t.kio:5: bad page number 'x' in pages="), std::string::npos) << parse.err;
    EXPECT_NE(parse.err.find("t.kio:6: reference needs pages="), std::string::npos) << parse.err;
    EXPECT_NE(parse.err.find("t.kio:7: reference takes read, write or trace, not 'sideways'"),
              std::string::npos)
        << parse.err;
    RunResult outside = run(FIXED + "reference A buf pages=6\n");
    EXPECT_EQ(outside.status, SCENARIO_FAILED);
    EXPECT_NE(outside.err.find("page 6 is outside buf (6 pages)"), std::string::npos) << outside.err;
    RunResult policy = run(FIXED + "policy random\n");
    EXPECT_NE(policy.err.find("unknown replacement policy 'random'"), std::string::npos) << policy.err;
}

TEST(ScenarioPressure, ProcwriteSetsOomScoreAdj)
{
    RunResult r = run("machine mem=16M\nspawn A\nprocwrite A oom_score_adj=-1000\n"
                      "expect A.oom_score_adj == -1000\nexpect A.oom_score == 0\n"
                      "procwrite A oom_score_adj=5000\nexpect error EINVAL\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioPressure, PanicOnOomIsExpectedAndLogged)
{
    RunResult r = run("machine mem=16M\nsysctl vm.panic_on_oom=1\nspawn A\nmmap A name=buf len=12M\n"
                      "write A buf pattern=1\nmmap A name=more len=6M\nwrite A more pattern=1\nexpect panic\n"
                      "show dmesg\nshow dmesg json\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_NE(
        r.out.find("\nKernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled\n"),
        std::string::npos)
        << r.out;
    // Linux logs the OOM report before the panic line, so the JSON log holds the panic further on.
    EXPECT_NE(r.out.find("\"Kernel panic - not syncing: Out of memory"), std::string::npos) << r.out;
    EXPECT_LT(r.out.find("invoked oom-killer"), r.out.find("Kernel panic - not syncing")) << r.out;
    RunResult calm = run("machine mem=16M\nspawn A\nexpect panic\n");
    EXPECT_EQ(calm.status, SCENARIO_FAILED);
    EXPECT_NE(calm.err.find("the kernel has not panicked"), std::string::npos) << calm.err;
}
