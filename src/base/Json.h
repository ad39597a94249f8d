// The one JSON writer: compact JSON on one line, as the /proc JSON views, `show ... json` and the
// run reports print it. Commas are written before every value but the first of its object or
// array, and a value directly after a key takes none; the caller nests open and close correctly.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "base/Types.h"

namespace kioku {

// `text` as the inside of a JSON string: quotes, backslashes and control characters escaped;
// other bytes pass through, so UTF-8 stays UTF-8.
std::string json_escape(std::string_view text);
// The same, appended to out.
void json_escape_into(std::string& out, std::string_view text);

class JsonWriter {
  public:
    void open(char bracket)
    {
        separate();
        m_text += bracket;
        m_first = true;
    }
    void close(char bracket)
    {
        m_text += bracket;
        m_first = false;
    }
    void key(std::string_view name)
    {
        separate();
        m_text += '"';
        json_escape_into(m_text, name);
        m_text += "\": ";
        m_after_key = true;
    }
    void number(u64 value)
    {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        raw(std::string_view(buf, static_cast<size_t>(end - buf)));
    }
    void string(std::string_view value)
    {
        separate();
        m_text += '"';
        json_escape_into(m_text, value);
        m_text += '"';
    }
    void hex(u64 value)
    {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, 16);
        string("0x" + std::string(buf, end));
    }
    void boolean(bool value) { raw(value ? "true" : "false"); }
    void null() { raw("null"); }
    // A value already encoded as JSON (a /proc view's JSON form, a decimal such as 9.05).
    void encoded(std::string_view json) { raw(json); }
    std::string take() { return std::move(m_text); }

  private:
    void raw(std::string_view token)
    {
        separate();
        m_text += token;
    }
    void separate()
    {
        if (m_after_key) {
            m_after_key = false;
            return;
        }
        if (!m_first)
            m_text += ", ";
        m_first = false;
    }

    std::string m_text;
    bool m_first = true;
    bool m_after_key = false;
};

} // namespace kioku
