// The textbook mode: `reference ... trace` as a textbook draws it (frames in columns, the victim
// and why, the policy's order), `compare`, reference strings from a file, the Japanese texts and
// `kioku quiz`, each checked against the textbook's own answers.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "front/QuizCommand.h"
#include "front/text/Messages.h"
#include "unit/front/ScenarioRun.h"

using namespace kioku;
using kioku::test::run;
using kioku::test::RunResult;

namespace {

const std::string SILBERSCHATZ = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1";

RunResult trace(const std::string& policy, const std::string& pages = SILBERSCHATZ)
{
    return run("machine mem=16M swap=1M policy=" + policy +
               " frames=3 check=on\nspawn A\nmmap A name=buf len=8p\n"
               "reference A buf pages=" +
               pages + " write trace as f\n");
}

bool has(const RunResult& r, const std::string& text)
{
    return r.out.find(text) != std::string::npos;
}

// Restores English whatever a test does.
struct Japanese {
    Japanese() { text::set_lang(text::Lang::Ja); }
    ~Japanese() { text::set_lang(text::Lang::En); }
};

} // namespace

TEST(Textbook, FifoNamesTheFirstToComeAndKeepsColumns)
{
    RunResult r = trace("fifo");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "15 faults")) << r.out;
    // Page 2 takes 7's column, the first; 3 then takes 0's, the second.
    EXPECT_TRUE(has(r, "  4   2     2 0 1   fault              7: came in first (t=1)   0 1 2\n")) << r.out;
    EXPECT_TRUE(has(r, "  6   3     2 3 1   fault              0: came in first (t=2)   1 2 3\n")) << r.out;
    EXPECT_TRUE(has(r, "  7   0     2 3 0   fault, swapped in  1: came in first (t=3)   2 3 0\n")) << r.out;
    EXPECT_TRUE(has(r, "FIFO order, next victim first")) << r.out;
}

TEST(Textbook, LruNamesTheLeastRecentlyUsed)
{
    RunResult r = trace("exact-lru");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "12 faults")) << r.out;
    // At t=6 page 1 was last used at t=3, before 2 (t=4) and 0 (t=5).
    EXPECT_TRUE(has(r, "  6   3     2 0 3   fault              1: last used longest ago (t=3)   2 0 3\n"))
        << r.out;
}

TEST(Textbook, OptNamesTheNextUseOrNever)
{
    RunResult r = trace("opt");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "9 faults")) << r.out;
    EXPECT_TRUE(has(r, "7: next used furthest ahead (t=18)")) << r.out;
    EXPECT_TRUE(has(r, "4: never used again")) << r.out;
    EXPECT_TRUE(has(
        r,
        "  8   4     2 4 3   fault              0: next used furthest ahead (t=11)  4(-) 3(t=10) 2(t=9)\n"))
        << r.out;
}

TEST(Textbook, ClockShowsTheHandAndTheBits)
{
    RunResult r = trace("clock");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    // All three bits set at t=4: the hand clears them all and comes back to 7.
    EXPECT_TRUE(has(r, "7: every bit was set; the hand cleared them all and came round to it")) << r.out;
    // At t=6 the hand passes 0 (bit set: cleared) and takes 1.
    EXPECT_TRUE(
        has(r, "1: its bit was clear when the hand came (0: bit cleared, a second chance)  2* 0 3*\n"))
        << r.out;
}

TEST(Textbook, CompareShowsBeladysAnomaly)
{
    RunResult r = run(
        "machine mem=16M\ncompare policies=fifo,exact-lru,opt frames=3,4 pages=1,2,3,4,1,2,5,1,2,3,4,5\n");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "  page faults  3 frames  4 frames\n")) << r.out;
    EXPECT_TRUE(has(r, "  fifo                9        10\n")) << r.out;
    EXPECT_TRUE(has(r, "  exact-lru          10         8\n")) << r.out;
    EXPECT_TRUE(has(r, "  opt                 7         6\n")) << r.out;
    EXPECT_TRUE(has(r, "fifo: more frames, more faults (Belady's anomaly): 9 with 3 frames, 10 with 4"))
        << r.out;
    EXPECT_FALSE(has(r, "opt: more frames")) << r.out;
    EXPECT_FALSE(has(r, "the textbook's LRU is exact-lru")) << r.out;
}

TEST(Textbook, CompareSaysWhatLruIs)
{
    // Linux's two lists are not the textbook's LRU: on Silberschatz's string they fault as FIFO.
    RunResult r =
        run("machine mem=16M\ncompare policies=lru,exact-lru frames=3 pages=" + SILBERSCHATZ + "\n");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "  lru                15\n")) << r.out;
    EXPECT_TRUE(has(r, "  exact-lru          12\n")) << r.out;
    EXPECT_TRUE(
        has(r, "(lru is Linux's two lists, which see only accessed bits; the textbook's LRU is exact-lru)"))
        << r.out;
}

TEST(Textbook, CompareChecksItsNamesAtParseTime)
{
    RunResult r = run("machine mem=16M\ncompare policies=fifo,lur frames=3 pages=1,2\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("t.kio:2: unknown policy 'lur' - did you mean 'lru'?"), std::string::npos) << r.err;
    RunResult frames = run("machine mem=16M\ncompare policies=fifo frames=0 pages=1,2\n");
    EXPECT_NE(frames.err.find("bad frame count '0'"), std::string::npos) << frames.err;
}

TEST(Textbook, PagesComeFromAFile)
{
    std::string path = ::testing::TempDir() + "kioku-textbook-pages.txt";
    std::ofstream(path) << "# Belady's string\n1 2 3 4\n1, 2, 5   # and more\n1 2 3 4 5\n";
    RunResult r = run("machine mem=16M\ncompare policies=fifo frames=3,4 pages=@" + path + "\n");
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "-> 12 references")) << r.out;
    EXPECT_TRUE(has(r, "  fifo                9        10\n")) << r.out;
    std::remove(path.c_str());
    RunResult missing = run("machine mem=16M\ncompare policies=fifo frames=3 pages=@" + path + "\n");
    EXPECT_NE(missing.err.find("cannot read the reference string"), std::string::npos) << missing.err;
}

TEST(Textbook, JapaneseExplains)
{
    Japanese ja;
    RunResult r = trace("fifo");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_TRUE(has(r, "7：最初に入った（t=1）")) << r.out;
    EXPECT_TRUE(has(r, "フォールト（スワップイン）")) << r.out;
    EXPECT_TRUE(has(r, "FIFO の順（次に追い出すものが先頭）")) << r.out;
}

TEST(Textbook, QuizChecksEachAnswer)
{
    // Seed 42 draws 1 4 0 2 1 3 1 4 0 2 0 2 from five pages; FIFO with 3 frames makes 9 faults.
    std::istringstream answers("-\n-\n-\n1\nh\n0\n");
    std::ostringstream out, err;
    std::vector<std::string> words{"--seed", "42", "--length", "12", "--pages", "5"};
    std::vector<char*> argv;
    for (auto& w : words)
        argv.push_back(w.data());
    EXPECT_EQ(quiz_command(static_cast<int>(argv.size()), argv.data(), answers, out, err), 0) << err.str();
    const std::string text = out.str();
    EXPECT_NE(text.find("The reference string: 1 4 0 2 1 3 1 4 0 2 0 2"), std::string::npos) << text;
    EXPECT_NE(text.find("page 2; frames: 1 4 0 > right: a fault; 1 goes (1: came in first (t=1))"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("page 1; frames: 2 4 0 > no: a fault; 4 goes"), std::string::npos) << text;
    EXPECT_NE(text.find("page 3; frames: 2 1 0 > right: a fault; 0 goes"), std::string::npos) << text;
    // Out of answers at t=7: the score so far, and the whole trace.
    EXPECT_NE(text.find("5 of 6 right; 9 faults in all"), std::string::npos) << text;
    EXPECT_NE(text.find("  12  2     4 0 2   hit"), std::string::npos) << text;
    std::vector<std::string> bad{"--policy", "lru"};
    std::vector<char*> bad_argv{bad[0].data(), bad[1].data()};
    EXPECT_EQ(quiz_command(2, bad_argv.data(), answers, out, err), 2);
}
