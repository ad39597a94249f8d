// The message catalogue: every message in both languages, with the same arguments.
#include <gtest/gtest.h>

#include <set>

#include "front/text/Messages.h"

using namespace kioku::text;

namespace {

std::set<std::string> placeholders(const std::string& text)
{
    std::set<std::string> out;
    for (size_t i = 0; i + 2 < text.size(); ++i)
        if (text[i] == '{' && text[i + 2] == '}' && text[i + 1] >= '0' && text[i + 1] <= '9')
            out.insert(text.substr(i, 3));
    return out;
}

} // namespace

TEST(Messages, EveryMessageHasBothLanguagesWithTheSameArguments)
{
    for (int m = 0; m < static_cast<int>(Msg::Count); ++m) {
        std::string en = raw(Lang::En, static_cast<Msg>(m));
        std::string ja = raw(Lang::Ja, static_cast<Msg>(m));
        EXPECT_FALSE(en.empty()) << "message " << m;
        EXPECT_FALSE(ja.empty()) << "message " << m;
        EXPECT_NE(en, ja) << "message " << m << " is not translated";
        EXPECT_EQ(placeholders(en), placeholders(ja)) << "message " << m << ": " << en << " / " << ja;
        EXPECT_EQ(std::count(en.begin(), en.end(), '|'), std::count(ja.begin(), ja.end(), '|')) << en;
    }
}

TEST(Messages, ArgumentsAndLanguages)
{
    EXPECT_EQ(say_in(Lang::En, Msg::WhyFifo, {"7", "1"}), "7: came in first (t=1)");
    EXPECT_EQ(say_in(Lang::Ja, Msg::WhyFifo, {"7", "1"}), "7：最初に入った（t=1）");
    EXPECT_EQ(parse_lang("ja"), Lang::Ja);
    EXPECT_EQ(parse_lang("fr"), std::nullopt);
}

TEST(Messages, WideCharactersTakeTwoColumns)
{
    EXPECT_EQ(display_width("abc"), 3u);
    EXPECT_EQ(display_width("ページ"), 6u);
    EXPECT_EQ(display_width("（t=1）"), 7u);
    EXPECT_EQ(pad("時刻", 6), "時刻  ");
}
