// The lexical layer of the scenario language. A line is split into whitespace-separated fields
// (a double-quoted string keeps its spaces; `#` outside quotes starts a comment), and a field
// of the form key=value becomes a named argument. Expressions have their own small token set
// (numbers with size suffixes, names, operators), used by `expect`, `let`, `print` and by any
// argument that holds a number or an address.
//
// Nothing here knows what a verb means; errors come back as text for the parser to place.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/Types.h"

namespace kioku::scenario {

struct Field {
    std::string key;   // empty for a positional field
    std::string value; // quotes removed, escapes resolved
    bool quoted = false;
};

struct SplitLine {
    std::string text;          // the line without its comment, trimmed
    std::vector<Field> fields; // fields[0] is the verb
    std::string error;         // non-empty when the line cannot be split
};

// Splits one source line. Recognised escapes inside quotes: \" \\ \n \t.
SplitLine split_line(std::string_view line);

// The text after the first field (the verb), trimmed, from a comment-free line.
std::string_view rest_after_verb(std::string_view text);

// A number as the language writes it: decimal, 0x hexadecimal, a size with a K/M/G/T suffix
// (binary multiples, optional B or iB: 64K, 2MiB, 1024kB), or a page count with a p suffix (16p).
std::optional<i64> parse_number(std::string_view text);

struct Token {
    enum class Kind : u8 { Number, Name, Op, End };
    Kind kind = Kind::End;
    std::string text;
    i64 number = 0;
};

// Tokenises an expression. Operators: + - * / % ( ) . == != < <= > >=.
// On a malformed token, returns nullopt and sets error.
std::optional<std::vector<Token>> tokenize_expression(std::string_view text, std::string& error);

bool is_identifier(std::string_view text);

} // namespace kioku::scenario
