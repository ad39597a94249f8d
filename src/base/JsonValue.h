// The one JSON reader: a value parsed from text, for the tools that read kioku's own JSON back
// (`kioku sweep` reading its runs' reports). Numbers keep their text, so a 64-bit count is read
// exactly (as_u64) and a decimal as a double (as_double). Strings are unescaped (\uXXXX to UTF-8).
// Malformed text is an error value, never a crash; nesting is bounded.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class JsonValue {
  public:
    enum class Kind : u8 { Null, Boolean, Number, String, Array, Object };

    static Result<JsonValue> parse(std::string_view text);

    Kind kind() const { return m_kind; }
    bool is_null() const { return m_kind == Kind::Null; }
    // The member of an object by key (the first, if repeated), or of an array by index; null
    // when there is none or this is not an object (array).
    const JsonValue* get(std::string_view key) const;
    const JsonValue* at(size_t i) const;
    // A path of keys: value.find({"totals", "swap_ins"}).
    const JsonValue* find(std::initializer_list<std::string_view> keys) const;
    size_t size() const { return m_kind == Kind::Object ? m_members.size() : m_items.size(); }
    const std::vector<std::pair<std::string, JsonValue>>& members() const { return m_members; }
    const std::vector<JsonValue>& items() const { return m_items; }

    // The number as a whole number (nullopt unless it is a non-negative integer that fits),
    // a signed one, or a double; the text of a number or string as written (unescaped).
    std::optional<u64> as_u64() const;
    std::optional<i64> as_i64() const;
    std::optional<double> as_double() const;
    std::optional<bool> as_bool() const;
    const std::string& text() const { return m_text; }

  private:
    friend class JsonParser;
    Kind m_kind = Kind::Null;
    bool m_bool = false;
    std::string m_text; // a number's text, a string's value
    std::vector<JsonValue> m_items;
    std::vector<std::pair<std::string, JsonValue>> m_members;
};

} // namespace kioku
