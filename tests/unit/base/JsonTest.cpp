// The one JSON writer: escaping, separators, nesting.
#include <gtest/gtest.h>

#include "base/Json.h"

namespace kioku {
namespace {

TEST(Json, EscapeHandlesQuotesBackslashesAndControlCharacters)
{
    EXPECT_EQ(json_escape("plain"), "plain");
    EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(json_escape("tab\tnl\n"), "tab\\tnl\\n");
    EXPECT_EQ(json_escape(std::string_view("\x01", 1)), "\\u0001");
    EXPECT_EQ(json_escape("\xc3\xa9"), "\xc3\xa9");
}

TEST(Json, WriterSeparatesValuesButNotAKeyFromItsValue)
{
    JsonWriter json;
    json.open('{');
    json.key("n");
    json.number(3);
    json.key("list");
    json.open('[');
    json.string("a\"b");
    json.boolean(true);
    json.null();
    json.hex(255);
    json.open('{');
    json.close('}');
    json.close(']');
    json.key("end");
    json.boolean(false);
    json.close('}');
    EXPECT_EQ(json.take(), "{\"n\": 3, \"list\": [\"a\\\"b\", true, null, \"0xff\", {}], \"end\": false}");
}

} // namespace
} // namespace kioku
