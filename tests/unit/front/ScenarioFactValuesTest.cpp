// Tests for the values that let a scenario print the same facts a C program prints (the parity
// tests in tests/parity/ rely on them): last.errno / last.signal / last.si_code / last.addr,
// comparisons in print placeholders, A.maps(region).vmas and .perms, touch's size=, value= and
// `as NAME`, numeric protections and size_t mmap lengths.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "front/scenario/Parser.h"
#include "front/scenario/Scenario.h"

using namespace kioku;
using namespace kioku::scenario;

namespace {

struct RunResult {
    int status = -1;
    std::string out;
    std::string err;
};

RunResult run_quiet(const std::string& body)
{
    ScenarioOptions options;
    options.quiet = true;
    std::ostringstream out;
    std::ostringstream err;
    RunResult r;
    r.status = run_scenario_text("machine mem=16M seed=1\nspawn A\n" + body, "t.kio", options, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

std::string errors_of(std::string_view text)
{
    return parse_scenario(text, "t.kio").format_errors();
}

} // namespace

TEST(ScenarioFactValues, PrintPlaceholderMayHoldOneComparison)
{
    auto result = parse_scenario("let x = 3\nprint \"same {x == 3} {x + 1}\"\n", "t.kio");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    const auto& print = std::get<PrintCmd>(result.script.commands[1].op);
    ASSERT_TRUE(print.pieces[0].expr.has_value());
    EXPECT_EQ(print.pieces[0].expr->kind, Expr::Kind::Compare);
    EXPECT_EQ(print.pieces[0].expr->compare, CompareOp::Eq);
    EXPECT_EQ(print.pieces[1].expr->kind, Expr::Kind::Add);
}

TEST(ScenarioFactValues, ComparisonsPrintOneOrZero)
{
    RunResult r = run_quiet("let x = 3\nprint \"{x == 3} {x < 2} {x != 3} {x >= 3}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1 0 0 1\n");
}

TEST(ScenarioFactValues, ReadingLastErrnoLetsTheCallBeforeItFail)
{
    auto result = parse_scenario("spawn A\nmmap A name=b len=0\nprint \"{last.errno}\"\n"
                                 "mmap A name=c len=0\nprint \"no errno here\"\n",
                                 "t.kio");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_TRUE(result.script.commands[1].failure_expected);
    EXPECT_FALSE(result.script.commands[3].failure_expected);
}

TEST(ScenarioFactValues, LastErrnoPrintsTheErrnoNameOrOk)
{
    RunResult r = run_quiet("mmap A name=bad len=0\nprint \"{last.errno} {last.errno + 0}\"\n"
                            "mmap A name=good len=4K\nprint \"{last.errno}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "EINVAL 22\nOK\n");
}

TEST(ScenarioFactValues, AFailureNobodyLooksAtStillStopsTheRun)
{
    RunResult r = run_quiet("mmap A name=bad len=0\nprint \"after\"\n");
    EXPECT_EQ(r.status, SCENARIO_FAILED);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("t.kio:3: mmap failed: EINVAL (expected success)", 0), 0u) << r.err;
}

TEST(ScenarioFactValues, ReadingLastSignalLetsTheAccessBeforeItFault)
{
    auto result = parse_scenario("spawn A\ntouch A 0 len=1\nprint \"{last.si_code}\"\n", "t.kio");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_TRUE(result.script.commands[1].failure_expected);
}

TEST(ScenarioFactValues, LastSignalNamesTheFaultOfTheLastAccess)
{
    RunResult r = run_quiet("mmap A name=ro len=4K prot=r\nfork A as B\n"
                            "touch B ro+16 len=1 write value=1\n"
                            "print \"{last.signal} {last.si_code} {last.addr == ro+16} {last.signal + 0}\"\n"
                            "touch A ro+16 len=1\nprint \"{last.signal} {last.si_code} {last.addr}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "SIGSEGV SEGV_ACCERR 1 " + std::to_string(SIGSEGV) + "\nnone none 0\n");
}

TEST(ScenarioFactValues, MapsValuesDescribeTheVmasOverlappingARegion)
{
    RunResult r = run_quiet("mmap A name=r len=8p\nprint \"{A.maps(r).vmas} {A.maps(r).perms}\"\n"
                            "mprotect A r offset=3p len=2p prot=r\n"
                            "print \"{A.maps(r).vmas} {A.maps(r).perms}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1 rw-p\n3 rw-p,r--p,rw-p\n");
}

TEST(ScenarioFactValues, TextValuesArePrintedAlone)
{
    EXPECT_EQ(
        errors_of("spawn A\nmmap A name=r len=4K\nprint \"{A.maps(r).perms + 1}\"\n"),
        "t.kio:3: a text value (such as A.maps(buf).perms) must be printed alone, as the whole {...}\n");
    EXPECT_EQ(errors_of("spawn A\nmmap A name=r len=4K\nlet x = A.maps(r).perms\n"),
              "t.kio:3: 'A.maps(r).perms' is text: print it alone, as {A.maps(r).perms}\n");
    EXPECT_EQ(errors_of("spawn A\nmmap A name=r len=4K\nprint \"{A.maps(r).size}\"\n"),
              "t.kio:3: unknown maps value 'size' (vmas or perms)\n");
    EXPECT_EQ(errors_of("print \"{last.pid}\"\n"),
              "t.kio:1: 'last' values are last.errno, last.signal, last.si_code and last.addr\n");
}

TEST(ScenarioFactValues, TouchStoresAndSumsWideValues)
{
    RunResult r = run_quiet("mmap A name=b len=4p\ntouch A b write size=4 value=4242\n"
                            "touch A b size=4 as sum\ntouch A b+1 len=1 as high\n"
                            "print \"{sum} {high}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    // 4242 is 0x1092: the second byte of the little-endian store is 0x10.
    EXPECT_EQ(r.out, "16968 16\n");
}

TEST(ScenarioFactValues, TouchValueMustFitItsSize)
{
    EXPECT_EQ(errors_of("spawn A\nmmap A name=b len=4K\ntouch A b write value=256\n"),
              "t.kio:3: value= is a number that fits size= bytes (one byte by default, such as 0x5A) and "
              "needs touch ... write\n");
    EXPECT_EQ(errors_of("spawn A\nmmap A name=b len=4K\ntouch A b size=3\n"),
              "t.kio:3: size= is 1, 2, 4 or 8 (bytes per access)\n");
    EXPECT_EQ(errors_of("spawn A\nmmap A name=b len=4K\ntouch A b write as x\n"),
              "t.kio:3: touch ... write does not take 'as NAME'\n");
}

TEST(ScenarioFactValues, NumericProtectionIsPassedAsIs)
{
    auto result = parse_scenario("spawn A\nmmap A name=b len=4K\nmprotect A b prot=0x100\n", "t.kio");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_EQ(std::get<RangeCmd>(result.script.commands[2].op).prot, 0x100);
    RunResult r = run_quiet("mmap A name=b len=4K\nmprotect A b prot=0x100\nprint \"{last.errno}\"\n");
    EXPECT_EQ(r.out, "EINVAL\n") << r.err;
}

TEST(ScenarioFactValues, MmapLengthIsASizeT)
{
    RunResult r = run_quiet("mmap A name=b len=-11\nprint \"{last.errno}\"\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "ENOMEM\n");
}
