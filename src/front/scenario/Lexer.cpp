#include "front/scenario/Lexer.h"

#include <cctype>
#include <limits>

#include "base/Size.h"

namespace kioku::scenario {

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}
bool is_name_start(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// Where the comment starts (or npos), honouring quotes; sets unterminated when a quote is open.
size_t comment_start(std::string_view line, bool& unterminated)
{
    bool in_quote = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (in_quote && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"')
            in_quote = !in_quote;
        else if (c == '#' && !in_quote)
            return i;
    }
    unterminated = in_quote;
    return std::string_view::npos;
}

char unescape(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    default: return c;
    }
}

// Splits a field into key and value when it starts with an identifier followed by '='.
void split_key(Field& field, const std::string& raw)
{
    size_t eq = raw.find('=');
    if (eq == std::string::npos || eq == 0 || !is_identifier(raw.substr(0, eq)))
        return;
    field.key = raw.substr(0, eq);
}

} // namespace

bool is_identifier(std::string_view text)
{
    if (text.empty() || !is_name_start(text[0]))
        return false;
    for (char c : text)
        if (!is_name_char(c))
            return false;
    return true;
}

SplitLine split_line(std::string_view line)
{
    SplitLine out;
    bool unterminated = false;
    size_t hash = comment_start(line, unterminated);
    out.text = std::string(trim(line.substr(0, hash)));
    if (unterminated) {
        out.error = "unterminated string";
        return out;
    }
    std::string_view s = out.text;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i]))
            ++i;
        if (i == s.size())
            break;
        Field field;
        std::string raw; // the field as written up to any quote, to find a key
        std::string value;
        bool in_quote = false;
        for (; i < s.size() && (in_quote || !is_space(s[i])); ++i) {
            char c = s[i];
            if (c == '"') {
                if (!in_quote && field.key.empty() && !field.quoted)
                    split_key(field, raw);
                in_quote = !in_quote;
                field.quoted = true;
            } else if (in_quote && c == '\\' && i + 1 < s.size()) {
                value += unescape(s[++i]);
            } else {
                value += c;
                if (!field.quoted)
                    raw += c;
            }
        }
        if (!field.quoted)
            split_key(field, raw);
        field.value = field.key.empty() ? value : value.substr(field.key.size() + 1);
        out.fields.push_back(std::move(field));
    }
    return out;
}

std::string_view rest_after_verb(std::string_view text)
{
    size_t i = 0;
    while (i < text.size() && !is_space(text[i]))
        ++i;
    return trim(text.substr(i));
}

std::optional<i64> parse_number(std::string_view text)
{
    constexpr u64 MAX = static_cast<u64>(std::numeric_limits<i64>::max());
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        u64 value = 0;
        for (char c : text.substr(2)) {
            if (!std::isxdigit(static_cast<unsigned char>(c)) || value > (MAX >> 4))
                return std::nullopt;
            value =
                value * 16 + static_cast<u64>(std::isdigit(static_cast<unsigned char>(c))
                                                  ? c - '0'
                                                  : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        }
        return static_cast<i64>(value);
    }
    std::optional<u64> value;
    if (text.size() > 1 && text.back() == 'p') {
        auto pages = parse_size(text.substr(0, text.size() - 1));
        if (pages && std::isdigit(static_cast<unsigned char>(text[text.size() - 2])) &&
            *pages <= (MAX >> PAGE_SHIFT))
            value = *pages << PAGE_SHIFT;
    } else {
        value = parse_size(text);
    }
    if (!value || *value > MAX)
        return std::nullopt;
    return static_cast<i64>(*value);
}

std::optional<std::vector<Token>> tokenize_expression(std::string_view text, std::string& error)
{
    std::vector<Token> tokens;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (is_space(c)) {
            ++i;
            continue;
        }
        size_t start = i;
        Token token;
        if (std::isdigit(static_cast<unsigned char>(c))) {
            while (i < text.size() && is_name_char(text[i]))
                ++i;
            token.kind = Token::Kind::Number;
            token.text = std::string(text.substr(start, i - start));
            auto number = parse_number(token.text);
            if (!number) {
                error = "bad number '" + token.text + "'";
                return std::nullopt;
            }
            token.number = *number;
        } else if (is_name_start(c)) {
            while (i < text.size() && is_name_char(text[i]))
                ++i;
            token.kind = Token::Kind::Name;
            token.text = std::string(text.substr(start, i - start));
        } else {
            static constexpr std::string_view TWO[] = {"==", "!=", "<=", ">="};
            static constexpr std::string_view ONE = "+-*/%().<>";
            token.kind = Token::Kind::Op;
            for (auto op : TWO)
                if (text.substr(i, 2) == op)
                    token.text = std::string(op);
            if (token.text.empty() && ONE.find(c) != std::string_view::npos)
                token.text = std::string(1, c);
            if (token.text.empty()) {
                error = "unexpected character '" + std::string(1, c) + "'";
                return std::nullopt;
            }
            i += token.text.size();
        }
        tokens.push_back(std::move(token));
    }
    tokens.push_back(Token{});
    return tokens;
}

} // namespace kioku::scenario
