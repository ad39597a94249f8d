#include <gtest/gtest.h>

#include "base/Json.h"
#include "base/JsonValue.h"

using namespace kioku;

TEST(JsonValue, ReadsWhatTheWriterWrites)
{
    JsonWriter w;
    w.open('{');
    w.key("big");
    w.number(18446744073709551615ull);
    w.key("neg");
    w.encoded("-42");
    w.key("avg");
    w.encoded("9.05");
    w.key("name");
    w.string("a \"quoted\"\nline \x01");
    w.key("list");
    w.open('[');
    w.boolean(true);
    w.null();
    w.close(']');
    w.close('}');
    auto v = JsonValue::parse(w.take());
    ASSERT_FALSE(v.is_error());
    EXPECT_EQ(v.value().get("big")->as_u64(), 18446744073709551615ull) << "64-bit counts stay exact";
    EXPECT_EQ(v.value().get("neg")->as_i64(), -42);
    EXPECT_EQ(v.value().get("neg")->as_u64(), std::nullopt);
    EXPECT_DOUBLE_EQ(*v.value().get("avg")->as_double(), 9.05);
    EXPECT_EQ(v.value().get("name")->text(), "a \"quoted\"\nline \x01");
    EXPECT_EQ(v.value().find({"list"})->size(), 2u);
    EXPECT_EQ(v.value().get("list")->at(0)->as_bool(), true);
    EXPECT_TRUE(v.value().get("list")->at(1)->is_null());
    EXPECT_EQ(v.value().get("missing"), nullptr);
    EXPECT_EQ(v.value().find({"list", "x"}), nullptr);
}

TEST(JsonValue, UnicodeEscapesBecomeUtf8)
{
    auto v = JsonValue::parse(R"(["\u8a18\u61b6", "\ud83d\ude00", "\/"])");
    ASSERT_FALSE(v.is_error());
    EXPECT_EQ(v.value().at(0)->text(), "\xe8\xa8\x98\xe6\x86\xb6"); // 記憶
    EXPECT_EQ(v.value().at(1)->text(), "\xf0\x9f\x98\x80");
    EXPECT_EQ(v.value().at(2)->text(), "/");
}

TEST(JsonValue, MalformedTextIsAnErrorNeverACrash)
{
    for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"open", "01x", "-", "1.", "1e", "tru", "[1] 2",
                            "\"\\q\"", "\"\\u12\"", "{1: 2}", "\"a\x01\""})
        EXPECT_TRUE(JsonValue::parse(bad).is_error()) << bad;
    std::string deep(10000, '[');
    EXPECT_TRUE(JsonValue::parse(deep).is_error()) << "nesting is bounded";
}
