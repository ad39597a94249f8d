// Parses the integer expressions of the scenario language and resolves the names in them
// against the names the script has defined so far:
//
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary)*
//   unary   := ('-' | '+') unary | primary
//   primary := NUMBER | ref | '(' expr ')'
//   ref     := NAME ('.' NAME ('(' NAME ')')?)*
//
// A ref is a variable (`m0`, `buf`, `fd1`), a process value (`A.minflt`, `A.status.VmRSS`,
// `A.smaps(buf).Pss`, `A.maps(buf).vmas`), a machine value (`meminfo.MemFree`, `vmstat.pgfault`,
// `tlb.misses`, `sysctl.vm.overcommit_memory`, `clock`) or what the last call or access did
// (`last.errno`, `last.signal`). See docs/scenarios.md for the full list.
//
// A `print` placeholder is a little wider: placeholder := expr (CMP expr)?, where a comparison
// gives 1 or 0, and a text value (`A.maps(buf).perms`) may stand alone.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "front/scenario/Lexer.h"
#include "front/scenario/Script.h"

namespace kioku::scenario {

enum class SymbolKind : u8 { Process, Region, Fd, Number };
using Symbols = std::map<std::string, SymbolKind, std::less<>>;

const char* symbol_kind_name(SymbolKind kind);

// Names that are not variables: the roots of machine values and keywords of `expect`.
bool is_reserved_name(std::string_view name);

// A value that is text rather than a number (`A.maps(buf).perms`): printable, not computable.
bool is_text_value(const ValueRef& ref);
// Whether the expression reads a value from `source` anywhere in it.
bool reads_value(const Expr& expr, ValueRef::Source source);

class ExpressionParser {
  public:
    ExpressionParser(const std::vector<Token>& tokens, const Symbols& symbols)
        : m_tokens(tokens)
        , m_symbols(symbols)
    {
    }

    std::optional<Expr> parse_expression();
    // The whole of a `print` placeholder: an expression, a comparison, or a text value alone.
    std::optional<Expr> parse_placeholder();
    bool at_end() const { return peek().kind == Token::Kind::End; }
    const Token& peek() const { return m_tokens[m_pos]; }
    const Token& next() { return m_tokens[m_pos < m_tokens.size() - 1 ? m_pos++ : m_pos]; }
    const std::string& error() const { return m_error; }

  private:
    struct Segment {
        std::string name;
        std::optional<std::string> arg;
    };

    std::optional<Expr> parse_term();
    std::optional<Expr> parse_unary();
    std::optional<Expr> parse_primary();
    std::optional<Expr> parse_ref();
    std::optional<ValueRef> resolve(const std::vector<Segment>& path);
    std::optional<ValueRef> resolve_process(const std::vector<Segment>& path);
    std::optional<ValueRef> resolve_machine(const std::vector<Segment>& path);
    std::optional<ValueRef> resolve_last(const std::vector<Segment>& path);
    bool accept(std::string_view op);
    std::nullopt_t fail(std::string message);

    // Bounds that keep hostile input from exhausting the stack: parsing, evaluating and freeing
    // an expression all recurse over its tree.
    static constexpr unsigned MAX_DEPTH = 64;   // nested parentheses and unary signs
    static constexpr unsigned MAX_NODES = 1024; // operators in one expression

    const std::vector<Token>& m_tokens;
    const Symbols& m_symbols;
    size_t m_pos = 0;
    bool m_text_allowed = false;
    unsigned m_depth = 0;
    unsigned m_nodes = 0;
    std::string m_error;
};

// Parses the whole of `text` as one expression.
std::optional<Expr> parse_expression_text(std::string_view text, const Symbols& symbols, std::string& error);
// Parses the whole of `text` as a print placeholder.
std::optional<Expr> parse_placeholder_text(std::string_view text, const Symbols& symbols, std::string& error);

} // namespace kioku::scenario
