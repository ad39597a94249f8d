// Scenario input that once crashed kioku itself: deep nesting and very long expressions (stack
// exhaustion while parsing, evaluating or freeing the tree), INT64_MIN / -1 (SIGFPE), signed
// overflow (undefined behaviour), a swap area too large to count, and control bytes echoed into
// messages. Each must end in a clear message and a non-zero status, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "unit/front/ScenarioRun.h"

using namespace kioku;
using kioku::test::run;
using kioku::test::RunResult;

namespace {

std::string repeated(std::string_view piece, int times)
{
    std::string out;
    for (int i = 0; i < times; ++i)
        out += piece;
    return out;
}

} // namespace

TEST(ScenarioHostileInput, DeepParenthesesAreAParseError)
{
    RunResult r = run("let x = " + repeated("(", 20000) + "1" + repeated(")", 20000) + "\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("t.kio:1: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nested too deeply"), std::string::npos) << r.err;
}

TEST(ScenarioHostileInput, LongUnarySignChainsAreAParseError)
{
    RunResult r = run("let x = " + repeated("-", 20000) + "1\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("nested too deeply"), std::string::npos) << r.err;
    r = run("let x = " + repeated("+", 20000) + "1\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("nested too deeply"), std::string::npos) << r.err;
}

TEST(ScenarioHostileInput, VeryLongExpressionsAreAParseError)
{
    RunResult r = run("let x = 1" + repeated(" + 1", 20000) + "\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("expression too long"), std::string::npos) << r.err;
    // Within the bound the sum is computed.
    r = run("let x = 0" + repeated(" + 1", 1000) + "\nexpect x == 1000\n");
    EXPECT_EQ(r.status, 0) << r.err;
}

TEST(ScenarioHostileInput, OverflowingArithmeticIsAnErrorNotACrash)
{
    const char* cases[] = {
        "let m = 0 - 9223372036854775807 - 1\nlet x = m / -1\n",
        "let m = 0 - 9223372036854775807 - 1\nlet x = m % -1\n",
        "let m = 0 - 9223372036854775807 - 1\nlet x = -m\n",
        "let x = 9223372036854775807 + 1\n",
        "let x = 0 - 9223372036854775807 - 2\n",
        "let x = 4611686018427387904 * 2\n",
    };
    for (const char* text : cases) {
        RunResult r = run(text);
        EXPECT_EQ(r.status, 1) << text;
        EXPECT_NE(r.err.find("arithmetic overflow"), std::string::npos) << text << r.err;
    }
}

TEST(ScenarioHostileInput, AHugeSwapAreaIsRefusedBeforeAnythingIsAllocated)
{
    RunResult r = run("machine mem=16M swap=1000000T\nspawn A\n");
    EXPECT_NE(r.status, 0);
    EXPECT_FALSE(r.err.empty());
}

TEST(ScenarioHostileInput, ControlBytesInMessagesAreEscaped)
{
    RunResult r = run("frob\x1b[2J\x07\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\x07'), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\\x1b[2J\\x07"), std::string::npos) << r.err;
}

TEST(ScenarioHostileInput, ExpectOnAProcessWithOnlyKeyedFieldsIsAParseError)
{
    // Found by the scenario fuzzer: "expect A" followed by key=value fields once looked for a
    // state word that was not there (a null field).
    RunResult r = run("machine mem=32M\nspawn A\nexpect A name=buf len=14M\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("t.kio:3: "), std::string::npos) << r.err;
}
