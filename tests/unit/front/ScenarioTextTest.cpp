// Tests for the lexical layer of the scenario language and for the /proc text readers the
// interpreter's values come from. No kernel needed.
#include <gtest/gtest.h>

#include "base/Hash.h"
#include "front/scenario/Lexer.h"
#include "kernel/ProcText.h"

using namespace kioku;
using namespace kioku::scenario;
using namespace kioku::proc_text;

TEST(ScenarioLexer, NumbersTakeSizeSuffixesHexAndPages)
{
    EXPECT_EQ(parse_number("4096"), 4096);
    EXPECT_EQ(parse_number("4K"), 4096);
    EXPECT_EQ(parse_number("2M"), 2 << 20);
    EXPECT_EQ(parse_number("1G"), i64{1} << 30);
    EXPECT_EQ(parse_number("1024kB"), 1 << 20);
    EXPECT_EQ(parse_number("0x1000"), 4096);
    EXPECT_EQ(parse_number("0xAB"), 0xab);
    EXPECT_EQ(parse_number("16p"), 16 * 4096);
}

TEST(ScenarioLexer, BadNumbersAreRejected)
{
    EXPECT_FALSE(parse_number("12Q"));
    EXPECT_FALSE(parse_number("p"));
    EXPECT_FALSE(parse_number("0x"));
    EXPECT_FALSE(parse_number("0xZZ"));
    EXPECT_FALSE(parse_number("4P"));
    EXPECT_FALSE(parse_number("0x8000000000000000")); // does not fit a signed 64-bit value
}

TEST(ScenarioLexer, SplitsFieldsKeysAndQuotedStrings)
{
    SplitLine line = split_line("  write A buf+4K len=16K text=\"a b # c\" # comment");
    ASSERT_TRUE(line.error.empty());
    EXPECT_EQ(line.text, "write A buf+4K len=16K text=\"a b # c\"");
    ASSERT_EQ(line.fields.size(), 5u);
    EXPECT_EQ(line.fields[2].value, "buf+4K");
    EXPECT_TRUE(line.fields[2].key.empty());
    EXPECT_EQ(line.fields[3].key, "len");
    EXPECT_EQ(line.fields[3].value, "16K");
    EXPECT_EQ(line.fields[4].key, "text");
    EXPECT_EQ(line.fields[4].value, "a b # c");
    EXPECT_TRUE(line.fields[4].quoted);
}

TEST(ScenarioLexer, UnterminatedStringIsAnError)
{
    EXPECT_EQ(split_line("echo \"abc").error, "unterminated string");
}

TEST(ScenarioLexer, ExpressionTokens)
{
    std::string error;
    auto tokens = tokenize_expression("A.smaps(buf).Pss-1M >= 0x10", error);
    ASSERT_TRUE(tokens) << error;
    std::vector<std::string> texts;
    for (const auto& t : *tokens)
        texts.push_back(t.text);
    EXPECT_EQ(texts, (std::vector<std::string>{"A", ".", "smaps", "(", "buf", ")", ".", "Pss", "-", "1M",
                                               ">=", "0x10", ""}));
    EXPECT_EQ((*tokens)[9].number, 1 << 20);
    EXPECT_FALSE(tokenize_expression("a & b", error));
    EXPECT_EQ(error, "unexpected character '&'");
}

TEST(ScenarioProcText, ColonFieldsConvertKilobytesToBytes)
{
    std::string_view status = "Name:\tA\nVmRSS:\t    1024 kB\nThreads:\t1\n";
    EXPECT_EQ(colon_field(status, "VmRSS"), 1 << 20);
    EXPECT_EQ(colon_field(status, "Threads"), 1);
    EXPECT_FALSE(colon_field(status, "VmRS"));
    EXPECT_EQ(colon_field("Active(anon):      8 kB\n", "Active(anon)"), 8192);
}

TEST(ScenarioProcText, SpaceFieldsAreVmstatStyle)
{
    std::string_view vmstat = "nr_free_pages 100\npgfault 256\npgfault_extra 3\n";
    EXPECT_EQ(space_field(vmstat, "pgfault"), 256);
    EXPECT_EQ(space_field(vmstat, "nr_free_pages"), 100);
    EXPECT_FALSE(space_field(vmstat, "pgmajfault"));
}

TEST(ScenarioProcText, StatFieldsCountAfterTheCommandName)
{
    // The command name may hold spaces and parentheses; minflt is field 10, majflt field 12.
    std::string_view stat = "42 (a) (b c) S 1 42 42 0 -1 4194304 256 0 7 0 0 0\n";
    EXPECT_EQ(stat_field(stat, 1), 42);
    EXPECT_EQ(stat_field(stat, 4), 1);
    EXPECT_EQ(stat_field(stat, 8), -1);
    EXPECT_EQ(stat_field(stat, 10), 256);
    EXPECT_EQ(stat_field(stat, 12), 7);
    EXPECT_FALSE(stat_field(stat, 3)); // the state letter is not a number
}

TEST(ScenarioProcText, ColumnsAndLineCounts)
{
    EXPECT_EQ(column("300 16 0 1 0 40 0\n", 1), 16);
    EXPECT_EQ(column("2\n", 0), 2);
    EXPECT_FALSE(column("1 2\n", 2));
    EXPECT_EQ(line_count("a\nb\n\nc"), 3);
}

TEST(ScenarioProcText, SmapsEntryIsTheOneHoldingTheAddress)
{
    std::string_view smaps = "1000-3000 rw-p 00000000 00:00 0 \nRss:  8 kB\nPss:  4 kB\n"
                             "5000-6000 r--p 00000000 00:00 0   [stack]\nRss:  4 kB\n";
    auto first = smaps_entry(smaps, 0x2fff);
    ASSERT_TRUE(first);
    EXPECT_EQ(colon_field(*first, "Pss"), 4096);
    auto second = smaps_entry(smaps, 0x5000);
    ASSERT_TRUE(second);
    EXPECT_EQ(colon_field(*second, "Rss"), 4096);
    EXPECT_FALSE(colon_field(*second, "Pss"));
    EXPECT_FALSE(smaps_entry(smaps, 0x3000));
}

TEST(ScenarioProcText, ChecksumIsFnv1a)
{
    const u8 a = 'a';
    EXPECT_EQ(fnv1a(&a, 1), 0xe40c292cu);
    EXPECT_EQ(fnv1a(nullptr, 0), 2166136261u);
}
