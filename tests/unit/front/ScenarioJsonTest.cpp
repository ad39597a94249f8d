// `show VIEW ... json` and `show vmstat_cmd`: how they parse, and what a run prints for them.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "front/scenario/Parser.h"
#include "front/scenario/Scenario.h"

using namespace kioku;
using namespace kioku::scenario;

namespace {

const ShowCmd& only_show(const ParseResult& result)
{
    EXPECT_TRUE(result.ok()) << result.format_errors();
    return std::get<ShowCmd>(result.script.commands.back().op);
}

// The output of a quiet run of `body` on a small machine with a process A and a touched region.
std::string run_quiet(std::string_view body, int* status = nullptr)
{
    std::string text = "machine mem=16M seed=1\nspawn A\nmmap A name=buf len=16K\ntouch A buf write\n";
    text += body;
    ScenarioOptions options;
    options.quiet = true;
    std::ostringstream out, err;
    int rc = run_scenario_text(text, "t.kio", options, out, err);
    if (status)
        *status = rc;
    EXPECT_EQ(err.str(), "");
    return out.str();
}

} // namespace

TEST(ScenarioJson, TrailingJsonSelectsTheJsonForm)
{
    auto plain = parse_scenario("show meminfo\n", "t.kio");
    EXPECT_FALSE(only_show(plain).json);
    auto machine = parse_scenario("show meminfo json\n", "t.kio");
    EXPECT_TRUE(only_show(machine).json);
    EXPECT_EQ(only_show(machine).what, ShowCmd::What::Meminfo);

    auto smaps = parse_scenario("spawn A\nmmap A name=buf len=4K\nshow smaps A buf json\n", "t.kio");
    EXPECT_TRUE(only_show(smaps).json);
    EXPECT_TRUE(only_show(smaps).addr.has_value());

    auto whole = parse_scenario("spawn A\nshow smaps A json\n", "t.kio");
    EXPECT_TRUE(only_show(whole).json);
    EXPECT_FALSE(only_show(whole).addr.has_value());
}

TEST(ScenarioJson, VmstatCmdIsAMachineView)
{
    auto result = parse_scenario("show vmstat_cmd\n", "t.kio");
    EXPECT_EQ(only_show(result).what, ShowCmd::What::VmstatCmd);
    EXPECT_TRUE(only_show(result).process.empty());
    EXPECT_FALSE(parse_scenario("show vmstat_cmd json extra\n", "t.kio").ok());
}

TEST(ScenarioJson, ShowPrintsOneLineOfJsonPerView)
{
    int status = -1;
    std::string out = run_quiet("show meminfo json\nshow vmstat json\nshow buddyinfo json\nshow free json\n"
                                "show tlb json\nshow vmstat_cmd json\nshow maps A json\nshow smaps A json\n"
                                "show status A json\nshow statm A json\nshow faults A json\n"
                                "show pagemap A buf json\n",
                                &status);
    EXPECT_EQ(status, 0);
    std::istringstream lines(out);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        ++count;
        ASSERT_FALSE(line.empty());
        EXPECT_TRUE((line.front() == '{' && line.back() == '}') ||
                    (line.front() == '[' && line.back() == ']'))
            << line;
    }
    EXPECT_EQ(count, 12);
    EXPECT_NE(out.find("{\"minflt\": 4, \"majflt\": 0}\n"), std::string::npos) << out;
    EXPECT_EQ(out.rfind("{\"MemTotal\": ", 0), 0u) << out; // meminfo comes first
}

TEST(ScenarioJson, SmapsOfOneRegionAndPagemapAreExact)
{
    std::string out = run_quiet("show pagemap A buf+4K len=1p json\nshow smaps A buf json\n");
    std::string pagemap = out.substr(0, out.find('\n'));
    EXPECT_EQ(pagemap.rfind("[{\"addr\": \"0x", 0), 0u) << pagemap;
    EXPECT_NE(pagemap.find("\"present\": true, \"swapped\": false, \"file_or_shared\": false, "
                           "\"exclusive\": true, \"soft_dirty\": "),
              std::string::npos)
        << pagemap;
    std::string smaps = out.substr(out.find('\n') + 1);
    EXPECT_EQ(std::count(smaps.begin(), smaps.end(), '{'), 1); // only the entry holding buf
    EXPECT_NE(
        smaps.find("\"perms\": \"rw-p\", \"offset\": \"0x0\", \"dev\": \"00:00\", \"inode\": 0, "
                   "\"path\": \"\", \"Size\": 16, \"KernelPageSize\": 4, \"MMUPageSize\": 4, \"Rss\": 16, "),
        std::string::npos)
        << smaps;
}

TEST(ScenarioJson, VmstatCmdPrintsTheProcpsHeadings)
{
    std::string out = run_quiet("show vmstat_cmd\n");
    EXPECT_EQ(out.rfind("procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n"
                        " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n",
                        0),
              0u)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}
