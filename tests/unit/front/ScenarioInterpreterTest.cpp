// Interpreter tests: scenarios run against a real (small) kioku kernel. They check the exit
// status, the messages, the quiet mode, and that every example scenario holds.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "front/scenario/Scenario.h"
#include "unit/front/ScenarioRun.h"

using namespace kioku;
using kioku::test::run;
using kioku::test::RunResult;

namespace {

// Small machines keep the tests fast.
constexpr std::string_view MACHINE = "machine mem=16M seed=1\n";

std::string script(std::string_view body)
{
    return std::string(MACHINE) + std::string(body);
}

} // namespace

TEST(ScenarioInterpreter, DemandPagingTakesOneFaultPerPage)
{
    RunResult r = run(script("spawn A\nmmap A name=buf len=64K\nlet f0 = A.minflt\nlet r0 = A.rss\n"
                             "touch A buf write\nexpect A.minflt - f0 == 16\nexpect A.rss - r0 == 64K\n"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("touch A buf write -> 16 pages\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("-- 2 of 2 expectations held\n"), std::string::npos) << r.out;
}

TEST(ScenarioInterpreter, QuietModePrintsOnlyOutput)
{
    RunResult r =
        run(script("spawn A\necho hello\nlet x = 1 + 2\nprint \"x={x} {x * 1K}\"\nexpect x == 3\n"), true);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello\nx=3 3072\n");
}

TEST(ScenarioInterpreter, ParseErrorsRunNothing)
{
    RunResult r = run(script("echo before\nfrob\n"));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "t.kio:3: unknown command 'frob'\n");
}

TEST(ScenarioInterpreter, AMistypedProcFieldGetsTheClosestName)
{
    RunResult r = run(script("spawn A\nexpect meminfo.MemFre > 0\n"));
    EXPECT_NE(r.err.find("/proc/meminfo has no 'MemFre' (did you mean 'MemFree'?)"), std::string::npos)
        << r.err;
    r = run(script("spawn A\nexpect vmstat.zzzzzz > 0\n"));
    EXPECT_NE(r.err.find("/proc/vmstat has no 'zzzzzz'\n"), std::string::npos) << r.err;
}

TEST(ScenarioInterpreter, UnexpectedCallFailureStopsTheRun)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=0\necho after\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind("t.kio:3: mmap failed: EINVAL (expected success)", 0), 0u) << r.err;
    EXPECT_EQ(r.out.find("after"), std::string::npos);
}

TEST(ScenarioInterpreter, ExpectedCallFailureLetsTheRunGoOn)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=0\nexpect error EINVAL\necho after\n"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("mmap A name=b len=0 -> EINVAL\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("after\n"), std::string::npos);
}

TEST(ScenarioInterpreter, ExpectErrorFailsWhenTheCallSucceeds)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=4K\nexpect error EINVAL\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:4: expectation failed: expected error EINVAL, but the call succeeded\n");
}

TEST(ScenarioInterpreter, FailedExpectationIsReportedAndTheRunGoesOn)
{
    RunResult r = run(script("let x = 2\nexpect x * 2 == 5\nexpect x == 2\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:3: expectation failed: x * 2 == 5 (left 4, right 5)\n");
    EXPECT_NE(r.out.find("expect x == 2 -> ok\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("-- 1 of 2 expectations held\n"), std::string::npos) << r.out;
}

TEST(ScenarioInterpreter, UnexpectedSegfaultStopsTheRun)
{
    RunResult r = run(script("spawn A\nread A 0x0 len=1\necho after\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:3: read failed: SIGSEGV (SEGV_MAPERR at 0x0), A killed by SIGSEGV (SEGV_MAPERR) "
                     "(expected success)\n");
}

TEST(ScenarioInterpreter, ExpectedSegfaultKillsOnlyThatProcess)
{
    RunResult r = run(script("spawn A\nspawn B\nmmap A name=ro len=4K prot=r\nwrite A ro len=1 pattern=1\n"
                             "expect last segv accerr addr=ro\nexpect A segv accerr\nexpect B alive\n"
                             "touch A ro\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:9: process A is not alive (killed by SIGSEGV (SEGV_ACCERR))\n");
    EXPECT_NE(r.out.find("-- 3 of 3 expectations held"), std::string::npos) << r.out;
}

TEST(ScenarioInterpreter, ReadChecksTheDataAgainstAPattern)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=8K\nwrite A b pattern=seq\nread A b pattern=seq\n"
                             "write A b+5 len=1 pattern=0\nread A b pattern=seq\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:7: expectation failed: read A b pattern=seq: the byte at offset 0x5 is 0x0, "
                     "expected 0x5\n");
}

TEST(ScenarioInterpreter, ChecksumsCompareMemoryAcrossProcesses)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=16K\nwrite A b pattern=seq\nfork A as B\n"
                             "checksum A b as ca\nchecksum B b as cb\nexpect ca == cb\n"
                             "write B b+100 text=\"x\"\nchecksum B b as cb2\nexpect ca != cb2\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, ForkedChildWriteCopiesOnlyForTheChild)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=32K\nwrite A b pattern=0xAA\nfork A as B\n"
                             "let f0 = B.minflt\nwrite B b pattern=0xBB\nexpect B.minflt - f0 == 8\n"
                             "read A b pattern=0xAA\nexpect A.smaps(b).Pss == 32K\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, BrkGrowsTheHeap)
{
    RunResult r =
        run(script("spawn A\nbrk A +64K as heap\nwrite A heap pattern=1\nexpect A.smaps(heap).Rss == 64K\n"
                   "brk A -4K\nexpect A.smaps(heap).Size == 60K\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, SharedFileStoreIsSeenByRead)
{
    RunResult r = run(script("file /tmp/f size=8K pattern=0x41\nspawn A\n"
                             "mmap A name=m len=8K flags=shared file=/tmp/f\nwrite A m text=\"hi\"\n"
                             "mmap A name=buf len=4K\nopen A /tmp/f rdonly as fd\nfread A fd buf len=3 as n\n"
                             "expect n == 3\nread A buf text=\"hiA\"\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, ViewsPrintTheirProcFiles)
{
    RunResult r = run(script("spawn A\nmmap A name=b len=4K\nshow maps A\nshow free\nshow faults A\n"
                             "show smaps A b\nshow tlb\nshow pagemap A b\n"),
                      true);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("rw-p 00000000 00:00 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("buff/cache"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("minflt 0\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Rss:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not-present"), std::string::npos) << r.out;
}

TEST(ScenarioInterpreter, MachineValuesComeFromProc)
{
    RunResult r =
        run(script("spawn A\nmmap A name=b len=64K\nlet free0 = meminfo.MemFree\nlet pf0 = vmstat.pgfault\n"
                   "touch A b write\nexpect free0 - meminfo.MemFree >= 64K\n"
                   "expect vmstat.pgfault - pf0 == 16\nexpect tlb.walks > 0\nexpect clock > 0\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, SysctlWritesAndReadsProcSys)
{
    RunResult r = run(script("sysctl vm.overcommit_memory=2\nexpect sysctl.vm.overcommit_memory == 2\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

TEST(ScenarioInterpreter, ExitAndKillAreRecorded)
{
    RunResult r = run(script("spawn A\nfork A as B\nfork A as C\nexit B status=3\nkill C SIGKILL\n"
                             "expect B exited 3\nexpect C killed SIGKILL\nexpect A alive\n"));
    EXPECT_EQ(r.status, 0) << r.err << r.out;
}

// Every example scenario must hold: they teach facts, and a fact that stops holding is a bug.
class ExampleScenario : public testing::TestWithParam<const char*> {};

TEST_P(ExampleScenario, AllExpectationsHold)
{
    auto path = std::filesystem::path(KIOKU_SOURCE_DIR) / "examples" / GetParam();
    ScenarioOptions options;
    options.quiet = true;
    options.check_invariants = true;
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_scenario_file(path.string(), options, out, err), 0) << err.str();
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleScenario,
                         testing::Values("01_demand_paging.kio", "02_zero_page.kio", "03_cow_fork.kio",
                                         "04_shared_memory.kio", "05_file_mapping_page_cache.kio",
                                         "06_segfault.kio", "07_mprotect_splits_vmas.kio"));

TEST(ScenarioInterpreter, ForkOfAnExitedProcessStopsTheRun)
{
    RunResult r = run(script("spawn A\nexit A\nfork A as B\necho after\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "t.kio:4: process A is not alive (exited with status 0)\n");
}
