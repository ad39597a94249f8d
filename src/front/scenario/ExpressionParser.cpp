#include "front/scenario/ExpressionParser.h"

#include <array>

namespace kioku::scenario {

namespace {

struct ProcessField {
    std::string_view name;
    ValueRef::Source source;
    std::string_view field; // the /proc/PID/status field
    int stat_field;         // the /proc/PID/stat field
};

// The short process value names and where each comes from. minflt and majflt are fields 10
// and 12 of /proc/PID/stat; map_count counts the lines of /proc/PID/maps; oom_score and
// oom_score_adj are the files of those names; the rest are lines of /proc/PID/status.
constexpr std::array<ProcessField, 19> PROCESS_FIELDS = {{
    {"map_count", ValueRef::Source::ProcessMapCount, "", 0},
    {"minflt", ValueRef::Source::ProcessStat, "", 10},
    {"majflt", ValueRef::Source::ProcessStat, "", 12},
    {"rss", ValueRef::Source::ProcessStatus, "VmRSS", 0},
    {"rss_anon", ValueRef::Source::ProcessStatus, "RssAnon", 0},
    {"rss_file", ValueRef::Source::ProcessStatus, "RssFile", 0},
    {"rss_shmem", ValueRef::Source::ProcessStatus, "RssShmem", 0},
    {"vmsize", ValueRef::Source::ProcessStatus, "VmSize", 0},
    {"vmpeak", ValueRef::Source::ProcessStatus, "VmPeak", 0},
    {"vmhwm", ValueRef::Source::ProcessStatus, "VmHWM", 0},
    {"vmdata", ValueRef::Source::ProcessStatus, "VmData", 0},
    {"vmstk", ValueRef::Source::ProcessStatus, "VmStk", 0},
    {"vmexe", ValueRef::Source::ProcessStatus, "VmExe", 0},
    {"vmlib", ValueRef::Source::ProcessStatus, "VmLib", 0},
    {"vmlck", ValueRef::Source::ProcessStatus, "VmLck", 0},
    {"vmpte", ValueRef::Source::ProcessStatus, "VmPTE", 0},
    {"vmswap", ValueRef::Source::ProcessStatus, "VmSwap", 0},
    {"oom_score", ValueRef::Source::ProcessFile, "oom_score", 0},
    {"oom_score_adj", ValueRef::Source::ProcessFile, "oom_score_adj", 0},
}};

// The columns of /proc/PID/statm, in order.
constexpr std::array<std::string_view, 7> STATM_COLUMNS = {"size", "resident", "shared", "text",
                                                           "lib",  "data",     "dt"};

constexpr std::array<std::string_view, 9> RESERVED = {"meminfo", "vmstat", "tlb", "sysctl", "clock",
                                                      "last",    "error",  "as",  "cgroup"};

bool is_comparison(const std::string& op)
{
    return op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=";
}

bool is_spaced_op(const Token& t)
{
    return t.kind == Token::Kind::Op && t.text != "." && t.text != "(" && t.text != ")";
}

// Rebuilds readable source text from tokens: "A.minflt - m0".
std::string join_tokens(const std::vector<Token>& tokens, size_t begin, size_t end)
{
    std::string text;
    for (size_t i = begin; i < end; ++i) {
        if (i != begin && (is_spaced_op(tokens[i]) || is_spaced_op(tokens[i - 1])))
            text += ' ';
        text += tokens[i].text;
    }
    return text;
}

std::optional<CompareOp> comparison_of(const Token& t)
{
    static constexpr std::pair<std::string_view, CompareOp> OPS[] = {
        {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}, {"<", CompareOp::Lt},
        {"<=", CompareOp::Le}, {">", CompareOp::Gt},  {">=", CompareOp::Ge},
    };
    for (const auto& [text, op] : OPS)
        if (t.kind == Token::Kind::Op && t.text == text)
            return op;
    return std::nullopt;
}

Expr binary(Expr::Kind kind, Expr lhs, Expr rhs)
{
    Expr e;
    e.kind = kind;
    e.lhs = std::make_unique<Expr>(std::move(lhs));
    e.rhs = std::make_unique<Expr>(std::move(rhs));
    return e;
}

} // namespace

const char* symbol_kind_name(SymbolKind kind)
{
    switch (kind) {
    case SymbolKind::Process: return "a process";
    case SymbolKind::Region: return "a region";
    case SymbolKind::Fd: return "a file descriptor";
    case SymbolKind::Number: return "a number";
    }
    return "?";
}

bool is_text_value(const ValueRef& ref)
{
    return ref.source == ValueRef::Source::ProcessPerms;
}

bool reads_value(const Expr& expr, ValueRef::Source source)
{
    if (expr.kind == Expr::Kind::Value)
        return expr.value.source == source;
    return (expr.lhs && reads_value(*expr.lhs, source)) || (expr.rhs && reads_value(*expr.rhs, source));
}

bool is_reserved_name(std::string_view name)
{
    for (auto r : RESERVED)
        if (r == name)
            return true;
    return false;
}

std::nullopt_t ExpressionParser::fail(std::string message)
{
    if (m_error.empty())
        m_error = std::move(message);
    return std::nullopt;
}

bool ExpressionParser::accept(std::string_view op)
{
    if (peek().kind != Token::Kind::Op || peek().text != op)
        return false;
    next();
    return true;
}

std::optional<Expr> ExpressionParser::parse_expression()
{
    size_t begin = m_pos;
    auto lhs = parse_term();
    while (lhs) {
        Expr::Kind kind;
        if (accept("+"))
            kind = Expr::Kind::Add;
        else if (accept("-"))
            kind = Expr::Kind::Sub;
        else
            break;
        if (++m_nodes > MAX_NODES)
            return fail("expression too long");
        auto rhs = parse_term();
        if (!rhs)
            return std::nullopt;
        lhs = binary(kind, std::move(*lhs), std::move(*rhs));
    }
    if (lhs)
        lhs->text = join_tokens(m_tokens, begin, m_pos);
    return lhs;
}

std::optional<Expr> ExpressionParser::parse_term()
{
    auto lhs = parse_unary();
    while (lhs) {
        Expr::Kind kind;
        if (accept("*"))
            kind = Expr::Kind::Mul;
        else if (accept("/"))
            kind = Expr::Kind::Div;
        else if (accept("%"))
            kind = Expr::Kind::Mod;
        else
            break;
        if (++m_nodes > MAX_NODES)
            return fail("expression too long");
        auto rhs = parse_unary();
        if (!rhs)
            return std::nullopt;
        lhs = binary(kind, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
}

std::optional<Expr> ExpressionParser::parse_unary()
{
    if (m_depth >= MAX_DEPTH)
        return fail("expression nested too deeply");
    if (accept("+")) {
        ++m_depth;
        auto operand = parse_unary();
        --m_depth;
        return operand;
    }
    if (!accept("-"))
        return parse_primary();
    if (++m_nodes > MAX_NODES)
        return fail("expression too long");
    ++m_depth;
    auto operand = parse_unary();
    --m_depth;
    if (!operand)
        return std::nullopt;
    Expr e;
    e.kind = Expr::Kind::Negate;
    e.lhs = std::make_unique<Expr>(std::move(*operand));
    return e;
}

std::optional<Expr> ExpressionParser::parse_primary()
{
    const Token& t = peek();
    if (t.kind == Token::Kind::Number) {
        Expr e;
        e.number = next().number;
        return e;
    }
    if (t.kind == Token::Kind::Name)
        return parse_ref();
    if (accept("(")) {
        ++m_depth;
        auto inner = parse_expression();
        --m_depth;
        if (inner && !accept(")"))
            return fail("missing ')'");
        return inner;
    }
    if (t.kind == Token::Kind::End)
        return fail("expression expected");
    return fail("unexpected '" + t.text + "'");
}

std::optional<Expr> ExpressionParser::parse_ref()
{
    size_t begin = m_pos;
    std::vector<Segment> path;
    path.push_back({next().text, std::nullopt});
    while (accept(".")) {
        if (peek().kind != Token::Kind::Name)
            return fail("name expected after '.'");
        Segment segment{next().text, std::nullopt};
        if (accept("(")) {
            if (peek().kind != Token::Kind::Name)
                return fail("name expected in '(...)'");
            segment.arg = next().text;
            if (!accept(")"))
                return fail("missing ')'");
        }
        path.push_back(std::move(segment));
    }
    if (peek().kind == Token::Kind::Op && peek().text == "(")
        return fail("'" + path.back().name + "(...)' must follow a process name and a '.'");
    auto ref = resolve(path);
    if (!ref)
        return std::nullopt;
    if (is_text_value(*ref) && !m_text_allowed)
        return fail("'" + join_tokens(m_tokens, begin, m_pos) + "' is text: print it alone, as {" +
                    join_tokens(m_tokens, begin, m_pos) + "}");
    Expr e;
    e.kind = Expr::Kind::Value;
    e.value = std::move(*ref);
    return e;
}

std::optional<ValueRef> ExpressionParser::resolve(const std::vector<Segment>& path)
{
    const std::string& root = path[0].name;
    if (is_reserved_name(root))
        return resolve_machine(path);
    auto symbol = m_symbols.find(root);
    if (symbol == m_symbols.end())
        return fail("undefined name '" + root + "'");
    if (symbol->second == SymbolKind::Process)
        return resolve_process(path);
    if (path.size() > 1)
        return fail("'" + root + "' is " + symbol_kind_name(symbol->second) + " and has no fields");
    ValueRef ref;
    ref.source = ValueRef::Source::Variable;
    ref.name = root;
    return ref;
}

std::optional<ValueRef> ExpressionParser::resolve_process(const std::vector<Segment>& path)
{
    ValueRef ref;
    ref.process = path[0].name;
    if (path.size() < 2)
        return fail("'" + ref.process + "' is a process; name one of its values, such as " + ref.process +
                    ".minflt");
    const Segment& what = path[1];
    bool regional = what.name == "smaps" || what.name == "maps";
    bool group = what.name == "status" || regional || what.name == "smaps_rollup" || what.name == "statm";
    if (what.arg.has_value() != regional)
        return fail(regional ? what.name + " needs a region: " + ref.process + "." + what.name +
                                   (what.name == "maps" ? "(buf).vmas" : "(buf).Rss")
                             : "'" + what.name + "' takes no '(...)'");
    if (path.size() != (group ? 3u : 2u) || (path.size() == 3 && path[2].arg))
        return fail("bad process value '" + ref.process + "." + what.name + "...'");
    if (what.name == "pid") {
        ref.source = ValueRef::Source::ProcessPid;
        return ref;
    }
    for (const auto& f : PROCESS_FIELDS) {
        if (f.name == what.name) {
            ref.source = f.source;
            ref.field = std::string(f.field);
            ref.stat_field = f.stat_field;
            return ref;
        }
    }
    if (!group)
        return fail("unknown process value '" + what.name + "'");
    ref.field = path[2].name;
    if (what.name == "status") {
        ref.source = ValueRef::Source::ProcessStatus;
    } else if (what.name == "smaps_rollup") {
        ref.source = ValueRef::Source::ProcessRollup;
    } else if (regional) {
        auto region = m_symbols.find(*what.arg);
        if (region == m_symbols.end())
            return fail("undefined name '" + *what.arg + "'");
        if (region->second != SymbolKind::Region)
            return fail("'" + *what.arg + "' is " + symbol_kind_name(region->second) + ", not a region");
        ref.region = *what.arg;
        ref.source = ValueRef::Source::ProcessSmaps;
        if (what.name == "maps" && ref.field == "vmas")
            ref.source = ValueRef::Source::ProcessVmas;
        else if (what.name == "maps" && ref.field == "perms")
            ref.source = ValueRef::Source::ProcessPerms;
        else if (what.name == "maps")
            return fail("unknown maps value '" + ref.field + "' (vmas or perms)");
    } else {
        ref.source = ValueRef::Source::ProcessStatm;
        size_t column = 0;
        while (column < STATM_COLUMNS.size() && STATM_COLUMNS[column] != ref.field)
            ++column;
        if (column == STATM_COLUMNS.size())
            return fail("unknown statm column '" + ref.field + "'");
        ref.stat_field = static_cast<int>(column);
    }
    return ref;
}

std::optional<ValueRef> ExpressionParser::resolve_machine(const std::vector<Segment>& path)
{
    const std::string& root = path[0].name;
    ValueRef ref;
    if (root == "clock") {
        if (path.size() != 1)
            return fail("'clock' has no fields");
        ref.source = ValueRef::Source::Clock;
        return ref;
    }
    if (root == "sysctl") {
        if (path.size() < 3)
            return fail("sysctl values look like sysctl.vm.overcommit_memory");
        ref.source = ValueRef::Source::Sysctl;
        for (size_t i = 1; i < path.size(); ++i)
            ref.field += (i > 1 ? "/" : "") + path[i].name;
        return ref;
    }
    if (root == "last")
        return resolve_last(path);
    if (root == "cgroup") {
        // cgroup.GROUP.memory.current, cgroup.GROUP.memory.events.oom_kill: the group's file, or
        // a key of a flat-keyed one (the longest file name that exists wins when it is read).
        if (path.size() < 4)
            return fail("cgroup values look like cgroup.GROUP.memory.current");
        ref.source = ValueRef::Source::Cgroup;
        ref.name = path[1].name;
        for (size_t i = 2; i < path.size(); ++i)
            ref.field += (i > 2 ? "." : "") + path[i].name;
        return ref;
    }
    if (root == "meminfo")
        ref.source = ValueRef::Source::Meminfo;
    else if (root == "vmstat")
        ref.source = ValueRef::Source::Vmstat;
    else if (root == "tlb")
        ref.source = ValueRef::Source::Tlb;
    else
        return fail("'" + root + "' is a keyword, not a value");
    if (path.size() != 2)
        return fail("'" + root + "' needs one field, such as " +
                    (root == "meminfo"  ? "meminfo.MemFree"
                     : root == "vmstat" ? "vmstat.pgfault"
                                        : "tlb.misses"));
    // meminfo.Active(anon) names the meminfo line "Active(anon)".
    ref.field = path[1].name + (path[1].arg ? "(" + *path[1].arg + ")" : "");
    return ref;
}

// last.errno, last.signal, last.si_code, last.addr: what the most recent call or access did.
std::optional<ValueRef> ExpressionParser::resolve_last(const std::vector<Segment>& path)
{
    static constexpr std::pair<std::string_view, ValueRef::Source> FIELDS[] = {
        {"errno", ValueRef::Source::LastErrno},
        {"signal", ValueRef::Source::LastSignal},
        {"si_code", ValueRef::Source::LastSiCode},
        {"addr", ValueRef::Source::LastAddr},
    };
    if (path.size() == 2 && !path[1].arg)
        for (const auto& [name, source] : FIELDS)
            if (path[1].name == name) {
                ValueRef ref;
                ref.source = source;
                ref.field = path[1].name;
                return ref;
            }
    return fail("'last' values are last.errno, last.signal, last.si_code and last.addr");
}

std::optional<Expr> ExpressionParser::parse_placeholder()
{
    size_t begin = m_pos;
    m_text_allowed = true;
    auto lhs = parse_expression();
    m_text_allowed = false;
    if (!lhs)
        return std::nullopt;
    bool bare_text = lhs->kind == Expr::Kind::Value && is_text_value(lhs->value);
    if (bare_text ? !at_end() : reads_value(*lhs, ValueRef::Source::ProcessPerms))
        return fail("a text value (such as A.maps(buf).perms) must be printed alone, as the whole {...}");
    auto op = comparison_of(peek());
    if (!op)
        return lhs;
    next();
    auto rhs = parse_expression();
    if (!rhs)
        return std::nullopt;
    Expr e = binary(Expr::Kind::Compare, std::move(*lhs), std::move(*rhs));
    e.compare = *op;
    e.text = join_tokens(m_tokens, begin, m_pos);
    return e;
}

std::optional<Expr> parse_expression_text(std::string_view text, const Symbols& symbols, std::string& error)
{
    auto tokens = tokenize_expression(text, error);
    if (!tokens)
        return std::nullopt;
    ExpressionParser parser(*tokens, symbols);
    auto expr = parser.parse_expression();
    if (!expr) {
        error = parser.error();
        return std::nullopt;
    }
    if (!parser.at_end()) {
        error = is_comparison(parser.peek().text) ? "a comparison is only allowed in expect"
                                                  : "unexpected '" + parser.peek().text + "'";
        return std::nullopt;
    }
    return expr;
}

std::optional<Expr> parse_placeholder_text(std::string_view text, const Symbols& symbols, std::string& error)
{
    auto tokens = tokenize_expression(text, error);
    if (!tokens)
        return std::nullopt;
    ExpressionParser parser(*tokens, symbols);
    auto expr = parser.parse_placeholder();
    if (expr && !parser.at_end()) {
        error = "unexpected '" + parser.peek().text + "'";
        return std::nullopt;
    }
    if (!expr)
        error = parser.error();
    return expr;
}

} // namespace kioku::scenario
