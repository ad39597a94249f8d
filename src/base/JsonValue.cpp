#include "base/JsonValue.h"

#include "base/Number.h"

#include <cerrno>
#include <charconv>

namespace kioku {

class JsonParser {
  public:
    explicit JsonParser(std::string_view text)
        : m_text(text)
    {
    }

    Result<JsonValue> document()
    {
        JsonValue v = TRY(value(0));
        skip_space();
        if (m_at != m_text.size())
            return fail("text after the value");
        return v;
    }

  private:
    static constexpr int MAX_DEPTH = 128;

    Error fail(const char* what) const { return Error::from_errno(EINVAL, what); }

    void skip_space()
    {
        while (m_at < m_text.size() &&
               (m_text[m_at] == ' ' || m_text[m_at] == '\n' || m_text[m_at] == '\r' || m_text[m_at] == '\t'))
            ++m_at;
    }

    bool take(std::string_view word)
    {
        if (m_text.substr(m_at, word.size()) != word)
            return false;
        m_at += word.size();
        return true;
    }

    Result<JsonValue> value(int depth)
    {
        if (depth > MAX_DEPTH)
            return fail("JSON nested too deeply");
        skip_space();
        if (m_at >= m_text.size())
            return fail("JSON ends early");
        JsonValue v;
        char c = m_text[m_at];
        if (take("null"))
            return v;
        if (take("true") || take("false")) {
            v.m_kind = JsonValue::Kind::Boolean;
            v.m_bool = c == 't';
            return v;
        }
        if (c == '"') {
            v.m_kind = JsonValue::Kind::String;
            v.m_text = TRY(string());
            return v;
        }
        if (c == '[') {
            ++m_at;
            v.m_kind = JsonValue::Kind::Array;
            skip_space();
            if (take("]"))
                return v;
            for (;;) {
                v.m_items.push_back(TRY(value(depth + 1)));
                skip_space();
                if (take("]"))
                    return v;
                if (!take(","))
                    return fail("expected ',' or ']'");
            }
        }
        if (c == '{') {
            ++m_at;
            v.m_kind = JsonValue::Kind::Object;
            skip_space();
            if (take("}"))
                return v;
            for (;;) {
                skip_space();
                if (m_at >= m_text.size() || m_text[m_at] != '"')
                    return fail("expected a key");
                std::string key = TRY(string());
                skip_space();
                if (!take(":"))
                    return fail("expected ':'");
                v.m_members.emplace_back(std::move(key), TRY(value(depth + 1)));
                skip_space();
                if (take("}"))
                    return v;
                if (!take(","))
                    return fail("expected ',' or '}'");
            }
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = m_at;
            if (m_text[m_at] == '-')
                ++m_at;
            auto digits = [&] {
                size_t from = m_at;
                while (m_at < m_text.size() && m_text[m_at] >= '0' && m_text[m_at] <= '9')
                    ++m_at;
                return m_at > from;
            };
            if (!digits())
                return fail("a number without digits");
            if (take(".") && !digits())
                return fail("a number without digits after '.'");
            if (m_at < m_text.size() && (m_text[m_at] == 'e' || m_text[m_at] == 'E')) {
                ++m_at;
                if (m_at < m_text.size() && (m_text[m_at] == '+' || m_text[m_at] == '-'))
                    ++m_at;
                if (!digits())
                    return fail("an exponent without digits");
            }
            v.m_kind = JsonValue::Kind::Number;
            v.m_text = std::string(m_text.substr(start, m_at - start));
            return v;
        }
        return fail("not a JSON value");
    }

    static void put_utf8(std::string& out, u32 cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    Result<u32> hex4()
    {
        if (m_at + 4 > m_text.size())
            return fail("a short \\u escape");
        u32 cp = 0;
        auto [end, ec] = std::from_chars(m_text.data() + m_at, m_text.data() + m_at + 4, cp, 16);
        if (ec != std::errc() || end != m_text.data() + m_at + 4)
            return fail("a bad \\u escape");
        m_at += 4;
        return cp;
    }

    Result<std::string> string()
    {
        ++m_at; // the opening quote
        std::string out;
        for (;;) {
            if (m_at >= m_text.size())
                return fail("a string without its closing quote");
            char c = m_text[m_at++];
            if (c == '"')
                return out;
            if (static_cast<unsigned char>(c) < 0x20)
                return fail("a control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (m_at >= m_text.size())
                return fail("a string ends in an escape");
            char e = m_text[m_at++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                u32 cp = TRY(hex4());
                if (cp >= 0xd800 && cp < 0xdc00 && take("\\u")) {
                    u32 low = TRY(hex4());
                    if (low >= 0xdc00 && low < 0xe000)
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                put_utf8(out, cp);
                break;
            }
            default: return fail("an unknown escape");
            }
        }
    }

    std::string_view m_text;
    size_t m_at = 0;
};

Result<JsonValue> JsonValue::parse(std::string_view text)
{
    return JsonParser(text).document();
}

const JsonValue* JsonValue::get(std::string_view key) const
{
    if (m_kind != Kind::Object)
        return nullptr;
    for (auto& [k, v] : m_members)
        if (k == key)
            return &v;
    return nullptr;
}

const JsonValue* JsonValue::at(size_t i) const
{
    return m_kind == Kind::Array && i < m_items.size() ? &m_items[i] : nullptr;
}

const JsonValue* JsonValue::find(std::initializer_list<std::string_view> keys) const
{
    const JsonValue* v = this;
    for (std::string_view key : keys)
        if (!(v = v->get(key)))
            return nullptr;
    return v;
}

std::optional<u64> JsonValue::as_u64() const
{
    return m_kind == Kind::Number ? parse_integer<u64>(m_text) : std::nullopt;
}

std::optional<i64> JsonValue::as_i64() const
{
    return m_kind == Kind::Number ? parse_integer<i64>(m_text) : std::nullopt;
}

std::optional<double> JsonValue::as_double() const
{
    if (m_kind != Kind::Number)
        return std::nullopt;
    double d = 0;
    auto [end, ec] = std::from_chars(m_text.data(), m_text.data() + m_text.size(), d);
    if (ec != std::errc() || end != m_text.data() + m_text.size())
        return std::nullopt;
    return d;
}

std::optional<bool> JsonValue::as_bool() const
{
    return m_kind == Kind::Boolean ? std::optional<bool>(m_bool) : std::nullopt;
}

} // namespace kioku
