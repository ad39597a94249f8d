#include "front/scenario/Parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/mman.h>

#include "base/Printable.h"
#include "front/scenario/Closest.h"
#include "front/scenario/ExpressionParser.h"
#include "front/scenario/Lexer.h"
#include "front/scenario/LinuxNames.h"

namespace kioku::scenario {

namespace {

// The arguments of one line, split into positional and named ones. The first problem found is
// kept; later problems on the same line are not reported, since they are often consequences.
class LineArgs {
  public:
    explicit LineArgs(const SplitLine& split)
        : m_split(split)
    {
        for (size_t i = 1; i < split.fields.size(); ++i) {
            const Field& field = split.fields[i];
            if (field.key.empty())
                m_positional.push_back(field);
            else if (!m_named.emplace(field.key, field).second)
                fail("'" + field.key + "=' is given twice");
        }
    }

    const SplitLine& split() const { return m_split; }
    const std::string& verb() const { return m_split.fields[0].value; }
    size_t count() const { return m_positional.size(); }
    const Field* positional(size_t i) const { return i < m_positional.size() ? &m_positional[i] : nullptr; }

    const Field* named(const std::string& key)
    {
        auto it = m_named.find(key);
        if (it == m_named.end())
            return nullptr;
        m_used.insert(key);
        return &it->second;
    }

    // Removes a trailing unquoted `word` from the positional arguments; true when there was one.
    bool take_last(std::string_view word)
    {
        if (m_positional.empty() || m_positional.back().value != word || m_positional.back().quoted)
            return false;
        m_positional.pop_back();
        return true;
    }

    // Removes a trailing "as NAME" from the positional arguments.
    std::optional<std::string> take_as()
    {
        for (size_t i = 0; i < m_positional.size(); ++i) {
            if (m_positional[i].value != "as" || m_positional[i].quoted)
                continue;
            if (i + 2 != m_positional.size()) {
                fail("'as NAME' must end the line");
                return std::nullopt;
            }
            std::string name = m_positional[i + 1].value;
            m_positional.resize(i);
            return name;
        }
        return std::nullopt;
    }

    bool fail(std::string message)
    {
        if (m_error.empty())
            m_error = std::move(message);
        return false;
    }
    // Records the problem and gives the "no operation" result a handler returns with it.
    std::nullopt_t reject(std::string message)
    {
        fail(std::move(message));
        return std::nullopt;
    }
    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }

    // Reports positional arguments beyond `max` and named ones nobody asked for.
    void finish(size_t max, const std::string& usage)
    {
        if (m_positional.size() > max)
            fail("unexpected argument '" + m_positional[max].value + "' (usage: " + usage + ")");
        for (const auto& [key, field] : m_named)
            if (!m_used.count(key))
                fail(verb() + " does not take '" + key + "=' (usage: " + usage + ")");
    }

  private:
    const SplitLine& m_split;
    std::vector<Field> m_positional;
    std::map<std::string, Field> m_named;
    std::set<std::string> m_used;
    std::string m_error;
};

bool is_call_verb(std::string_view verb)
{
    static constexpr std::array<std::string_view, 22> CALLS = {
        "spawn",     "fork",   "exit",    "mmap",    "munmap", "mprotect",  "msync", "brk",
        "file",      "open",   "fread",   "fwrite",  "close",  "ftruncate", "fsync", "sysctl",
        "procwrite", "swapon", "swapoff", "madvise", "prctl",  "cgroup"};
    for (auto call : CALLS)
        if (call == verb)
            return true;
    return false;
}

// Whether a print, let or expect line reads a `last.` value from `source`.
bool reads_last(const Operation& op, ValueRef::Source source)
{
    if (const auto* print = std::get_if<PrintCmd>(&op)) {
        for (const auto& piece : print->pieces)
            if (piece.expr && reads_value(*piece.expr, source))
                return true;
        return false;
    }
    if (const auto* let = std::get_if<LetCmd>(&op))
        return reads_value(let->value, source);
    if (const auto* compare = std::get_if<ExpectCompareCmd>(&op))
        return reads_value(compare->lhs, source) || reads_value(compare->rhs, source);
    return false;
}

std::optional<bool> parse_switch(std::string_view text)
{
    if (text == "on" || text == "yes" || text == "true" || text == "1")
        return true;
    if (text == "off" || text == "no" || text == "false" || text == "0")
        return false;
    return std::nullopt;
}

class Parser {
  public:
    explicit Parser(const std::string& name) { m_result.script.name = name; }
    ParseResult run(std::string_view text);

  private:
    using Handler = std::optional<Operation> (Parser::*)(LineArgs&);
    struct Verb {
        std::string_view name;
        Handler handler;
        std::string_view usage;
    };
    // The verb named so; null when there is none, and then `closest`, when given, names the
    // verb the name was probably meant to be (or stays empty).
    static const Verb* find_verb(std::string_view name, std::string* closest = nullptr);

    void parse_line(int line, std::string_view text);
    void link_expectation(const Operation& op, int line);
    void error(int line, std::string message) { m_result.errors.push_back({line, std::move(message)}); }

    std::optional<Operation> parse_machine(LineArgs&);
    std::optional<Operation> parse_spawn(LineArgs&);
    std::optional<Operation> parse_fork(LineArgs&);
    std::optional<Operation> parse_exit(LineArgs&);
    std::optional<Operation> parse_kill(LineArgs&);
    std::optional<Operation> parse_mmap(LineArgs&);
    std::optional<Operation> parse_range(LineArgs&);
    std::optional<Operation> parse_brk(LineArgs&);
    std::optional<Operation> parse_access(LineArgs&);
    std::optional<Operation> parse_file(LineArgs&);
    std::optional<Operation> parse_open(LineArgs&);
    std::optional<Operation> parse_file_io(LineArgs&);
    std::optional<Operation> parse_show(LineArgs&);
    std::optional<Operation> parse_echo(LineArgs&);
    std::optional<Operation> parse_print(LineArgs&);
    std::optional<Operation> parse_let(LineArgs&);
    std::optional<Operation> parse_sysctl(LineArgs&);
    std::optional<Operation> parse_reference(LineArgs&);
    std::optional<Operation> parse_policy_comparison(LineArgs&);
    // pages=N,N,... or pages=@FILE (numbers separated by commas or white space, # to the end of
    // a line a comment; the path relative to the scenario's directory).
    std::vector<u64> page_list(LineArgs& a, std::string_view verb);
    std::optional<Operation> parse_procwrite(LineArgs&);
    std::optional<Operation> parse_cgroup(LineArgs&);
    std::optional<Operation> parse_policy(LineArgs&);
    std::optional<Operation> parse_swap(LineArgs&);
    std::optional<Operation> parse_sleep(LineArgs&);
    std::optional<Operation> parse_sync(LineArgs&);
    std::optional<Operation> parse_prctl(LineArgs&);
    std::optional<u64> named_frames(LineArgs& a);
    std::optional<Operation> parse_expect(LineArgs&);
    std::optional<Operation> parse_expect_state(LineArgs&, const std::string& process);
    std::optional<Operation> parse_expect_last(LineArgs&);
    std::optional<Operation> parse_compare(LineArgs&);

    // Argument helpers. Each records the first problem on the line in `a`.
    std::string usage(LineArgs& a) const { return std::string(find_verb(a.verb())->usage); }
    const Field* require(LineArgs& a, size_t index);
    std::string symbol(LineArgs& a, size_t index, SymbolKind kind);
    bool check_symbol(LineArgs& a, const std::string& name, SymbolKind kind);
    void define(LineArgs& a, const std::string& name, SymbolKind kind);
    std::optional<Expr> expression(LineArgs& a, std::string_view text);
    std::optional<Expr> named_expression(LineArgs& a, const std::string& key);
    std::optional<AddressArg> address(LineArgs& a, size_t index);
    std::optional<int> named_prot(LineArgs& a);
    void parse_touch_value(LineArgs& a, AccessCmd& cmd);
    Fill fill(LineArgs& a);
    std::string guest_path(LineArgs& a, const std::string& text);
    std::string process_text(LineArgs& a, std::string_view text, std::vector<PrintCmd::Piece>* pieces);

    ParseResult m_result;
    Symbols m_symbols;
    bool m_seen_command = false;
    bool m_seen_access = false;
    bool m_previous_line_failed = false;
};

const Parser::Verb* Parser::find_verb(std::string_view name, std::string* closest)
{
    static constexpr Verb VERBS[] = {
        {"machine", &Parser::parse_machine,
         "machine [mem=SIZE] [paging=sv48|sv39] [tlb=ENTRIESxWAYS] [seed=N] [check=on|off] [swap=SIZE] "
         "[policy=lru|clock|fifo|s3fifo|exact-lru|opt] [frames=N] [disk=SIZE]"},
        {"spawn", &Parser::parse_spawn, "spawn NAME"},
        {"fork", &Parser::parse_fork, "fork PARENT as CHILD"},
        {"exit", &Parser::parse_exit, "exit PROCESS [status=N]"},
        {"kill", &Parser::parse_kill, "kill PROCESS [SIGNAL]"},
        {"mmap", &Parser::parse_mmap,
         "mmap PROCESS name=REGION len=SIZE [prot=PROT] [flags=FLAGS] [addr=ADDR] [file=PATH|fd=FD] "
         "[offset=SIZE]"},
        {"munmap", &Parser::parse_range, "munmap PROCESS REGION [offset=SIZE] [len=SIZE]"},
        {"mprotect", &Parser::parse_range, "mprotect PROCESS REGION prot=PROT [offset=SIZE] [len=SIZE]"},
        {"msync", &Parser::parse_range,
         "msync PROCESS REGION [offset=SIZE] [len=SIZE] [flags=sync|async|invalidate]"},
        {"madvise", &Parser::parse_range, "madvise PROCESS REGION ADVICE [offset=SIZE] [len=SIZE]"},
        {"prctl", &Parser::parse_prctl, "prctl PROCESS OPTION [ARG2 [ARG3 [ARG4 [ARG5]]]] [as NAME]"},
        {"brk", &Parser::parse_brk, "brk PROCESS +SIZE|-SIZE [as REGION]"},
        {"write", &Parser::parse_access, "write PROCESS ADDR [len=SIZE] pattern=BYTE|seq|text=\"...\""},
        {"read", &Parser::parse_access,
         "read PROCESS ADDR [len=SIZE] [pattern=BYTE|seq|text=\"...\"] [as NAME]"},
        {"touch", &Parser::parse_access,
         "touch PROCESS ADDR [len=SIZE] [read|write] [size=1|2|4|8] [value=N] [as NAME]"},
        {"checksum", &Parser::parse_access, "checksum PROCESS ADDR [len=SIZE] as NAME"},
        {"compare", &Parser::parse_policy_comparison,
         "compare policies=NAME,... frames=N,... pages=N,N,...|@FILE [read|write]"},
        {"reference", &Parser::parse_reference,
         "reference PROCESS ADDR pages=N,N,... [read|write] [trace] [as NAME]"},
        {"file", &Parser::parse_file, "file PATH [size=SIZE] [pattern=BYTE|seq|text=\"...\"]"},
        {"open", &Parser::parse_open, "open PROCESS PATH [MODE] as FD"},
        {"fread", &Parser::parse_file_io, "fread PROCESS FD ADDR [len=SIZE] [offset=SIZE] [as NAME]"},
        {"fwrite", &Parser::parse_file_io, "fwrite PROCESS FD ADDR [len=SIZE] [offset=SIZE] [as NAME]"},
        {"close", &Parser::parse_file_io, "close PROCESS FD"},
        {"ftruncate", &Parser::parse_file_io, "ftruncate PROCESS FD SIZE"},
        {"fsync", &Parser::parse_file_io, "fsync PROCESS FD"},
        {"show", &Parser::parse_show,
         "show meminfo|vmstat|buddyinfo|free|tlb|vmstat_cmd|dmesg [json] | "
         "show pagetypeinfo|extfrag_index|unusable_index|physmap|layout|slabinfo | "
         "show maps|smaps|status|statm|faults PROCESS [json] | show pagemap PROCESS ADDR [len=SIZE] [json]; "
         "only=NAME,... keeps the lines that begin with a NAME"},
        {"echo", &Parser::parse_echo, "echo TEXT"},
        {"print", &Parser::parse_print, "print TEXT-WITH-{EXPR}"},
        {"let", &Parser::parse_let, "let NAME = EXPR"},
        {"sysctl", &Parser::parse_sysctl, "sysctl vm.NAME=VALUE"},
        {"procwrite", &Parser::parse_procwrite, "procwrite PROCESS FILE=VALUE"},
        {"cgroup", &Parser::parse_cgroup,
         "cgroup create GROUP [memory.FILE=VALUE ...] | cgroup set GROUP memory.FILE=VALUE ... | "
         "cgroup attach GROUP PROCESS | cgroup remove GROUP"},
        {"policy", &Parser::parse_policy, "policy lru|clock|fifo|s3fifo|exact-lru|opt [frames=N]"},
        {"swapon", &Parser::parse_swap, "swapon SIZE [prio=N]"},
        {"swapoff", &Parser::parse_swap, "swapoff NAME"},
        {"sleep", &Parser::parse_sleep, "sleep DURATION (such as 5s, 250ms, 100us, 40ns)"},
        {"sync", &Parser::parse_sync, "sync"},
        {"expect", &Parser::parse_expect,
         "expect EXPR OP EXPR | expect PROCESS STATE | expect last OUTCOME | expect error ERRNO | "
         "expect panic"},
    };
    for (const auto& verb : VERBS)
        if (verb.name == name)
            return &verb;
    if (closest) {
        std::vector<std::string_view> names;
        for (const auto& verb : VERBS)
            names.push_back(verb.name);
        *closest = closest_name(name, names);
    }
    return nullptr;
}

ParseResult Parser::run(std::string_view text)
{
    int line = 0;
    while (!text.empty() || line == 0) {
        size_t newline = text.find('\n');
        parse_line(++line, text.substr(0, newline));
        if (newline == std::string_view::npos)
            break;
        text.remove_prefix(newline + 1);
    }
    return std::move(m_result);
}

void Parser::parse_line(int line, std::string_view text)
{
    SplitLine split = split_line(text);
    if (!split.error.empty()) {
        error(line, split.error);
        m_previous_line_failed = true;
        return;
    }
    if (split.fields.empty())
        return;
    const std::string& verb = split.fields[0].value;
    std::string closest;
    const Verb* entry =
        split.fields[0].key.empty() && !split.fields[0].quoted ? find_verb(verb, &closest) : nullptr;
    if (!entry) {
        error(line, "unknown command '" + split.fields[0].value + "'" +
                        (closest.empty() ? std::string() : " (did you mean '" + closest + "'?)"));
        m_previous_line_failed = true;
        return;
    }
    LineArgs args(split);
    if (verb == "machine" && m_seen_command)
        args.fail("machine must come before every other command");
    m_seen_command = true;
    std::optional<Operation> op;
    if (!args.failed())
        op = (this->*entry->handler)(args);
    if (args.failed() || !op) {
        error(line, args.failed() ? args.error() : "usage: " + std::string(entry->usage));
        m_previous_line_failed = true;
        return;
    }
    link_expectation(*op, line);
    if (std::holds_alternative<AccessCmd>(*op) || std::holds_alternative<ReferenceCmd>(*op))
        m_seen_access = true;
    m_previous_line_failed = false;
    m_result.script.commands.push_back(Command{line, split.text, verb, false, std::move(*op)});
}

// An expectation about a failure belongs to the command just before it: mark that command so a
// failure there does not stop the scenario.
void Parser::link_expectation(const Operation& op, int line)
{
    auto& commands = m_result.script.commands;
    // After a malformed line there is nothing sound to link to; that line is reported already.
    if (m_previous_line_failed)
        return;
    Command* previous = commands.empty() ? nullptr : &commands.back();
    if (std::holds_alternative<ExpectErrorCmd>(op)) {
        if (!previous || !is_call_verb(previous->verb))
            error(line, "expect error must follow a call that can fail (mmap, munmap, mprotect, open...)" +
                            (previous ? ", not '" + previous->verb + "'" : std::string()));
        else
            previous->failure_expected = true;
        return;
    }
    // A line that reads last.errno looks at the call before it, so that call may fail; one that
    // reads last.signal, last.si_code or last.addr does the same for an access.
    if (previous && is_call_verb(previous->verb) && reads_last(op, ValueRef::Source::LastErrno))
        previous->failure_expected = true;
    // A panic ends whatever call or access was running when it struck.
    if (previous && std::holds_alternative<ExpectPanicCmd>(op))
        previous->failure_expected = true;
    const std::string* accessor = nullptr; // the process of a memory access (access or reference)
    if (auto* access = previous ? std::get_if<AccessCmd>(&previous->op) : nullptr)
        accessor = &access->process;
    if (auto* reference = previous ? std::get_if<ReferenceCmd>(&previous->op) : nullptr)
        accessor = &reference->process;
    if (!accessor)
        return;
    if (std::holds_alternative<ExpectLastCmd>(op) || reads_last(op, ValueRef::Source::LastSignal) ||
        reads_last(op, ValueRef::Source::LastSiCode) || reads_last(op, ValueRef::Source::LastAddr))
        previous->failure_expected = true;
    if (auto* state = std::get_if<ExpectStateCmd>(&op))
        if (state->process == *accessor && state->state == ExpectStateCmd::State::Killed)
            previous->failure_expected = true;
}

const Field* Parser::require(LineArgs& a, size_t index)
{
    const Field* field = a.positional(index);
    if (!field)
        a.fail("usage: " + usage(a));
    return field;
}

bool Parser::check_symbol(LineArgs& a, const std::string& name, SymbolKind kind)
{
    auto it = m_symbols.find(name);
    if (it == m_symbols.end())
        return a.fail("undefined name '" + name + "'");
    if (it->second != kind)
        return a.fail("'" + name + "' is " + symbol_kind_name(it->second) + ", not " +
                      symbol_kind_name(kind));
    return true;
}

std::string Parser::symbol(LineArgs& a, size_t index, SymbolKind kind)
{
    const Field* field = require(a, index);
    if (!field || !check_symbol(a, field->value, kind))
        return {};
    return field->value;
}

void Parser::define(LineArgs& a, const std::string& name, SymbolKind kind)
{
    if (!is_identifier(name)) {
        a.fail("bad name '" + name + "' (a name is letters, digits and _, starting with a letter)");
        return;
    }
    if (is_reserved_name(name)) {
        a.fail("'" + name + "' is a reserved word");
        return;
    }
    auto it = m_symbols.find(name);
    if (it != m_symbols.end() && (it->second == SymbolKind::Process || kind == SymbolKind::Process)) {
        a.fail("'" + name + "' is already defined as " + symbol_kind_name(it->second));
        return;
    }
    m_symbols[name] = kind;
}

std::optional<Expr> Parser::expression(LineArgs& a, std::string_view text)
{
    std::string message;
    auto expr = parse_expression_text(text, m_symbols, message);
    if (!expr)
        a.fail(message);
    return expr;
}

std::optional<Expr> Parser::named_expression(LineArgs& a, const std::string& key)
{
    const Field* field = a.named(key);
    if (!field)
        return std::nullopt;
    return expression(a, field->value);
}

std::optional<AddressArg> Parser::address(LineArgs& a, size_t index)
{
    const Field* field = require(a, index);
    if (!field)
        return std::nullopt;
    auto expr = expression(a, field->value);
    if (!expr)
        return std::nullopt;
    AddressArg arg{std::move(*expr), {}};
    auto it = m_symbols.find(field->value);
    if (it != m_symbols.end() && it->second == SymbolKind::Region)
        arg.region = field->value;
    return arg;
}

std::optional<int> Parser::named_prot(LineArgs& a)
{
    const Field* field = a.named("prot");
    if (!field)
        return std::nullopt;
    // A number is passed to the kernel as is, so a script can show the EINVAL of unknown bits.
    auto number = parse_number(field->value);
    auto prot = number ? std::optional<int>(static_cast<int>(*number)) : prot_from_text(field->value);
    if (!prot)
        a.fail("bad protection '" + field->value + "' (letters r, w, x, or none)");
    return prot;
}

Fill Parser::fill(LineArgs& a)
{
    Fill out;
    const Field* pattern = a.named("pattern");
    const Field* text = a.named("text");
    if (pattern && text) {
        a.fail("give pattern= or text=, not both");
    } else if (text) {
        out.kind = Fill::Kind::Text;
        out.text = text->value;
        if (out.text.empty())
            a.fail("text= must not be empty");
    } else if (pattern && pattern->value == "seq") {
        out.kind = Fill::Kind::Sequence;
    } else if (pattern) {
        auto byte = parse_number(pattern->value);
        if (!byte || *byte > 0xff)
            a.fail("bad pattern '" + pattern->value + "' (a byte such as 0xAB, or seq)");
        out.kind = Fill::Kind::Byte;
        out.byte = static_cast<u8>(byte.value_or(0));
    }
    return out;
}

std::string Parser::guest_path(LineArgs& a, const std::string& text)
{
    if (text.empty() || text[0] != '/')
        a.fail("bad path '" + text + "' (guest paths start with /)");
    return text;
}

std::optional<Operation> Parser::parse_machine(LineArgs& a)
{
    MachineCmd cmd;
    if (const Field* mem = a.named("mem")) {
        cmd.mem_bytes = parse_number(mem->value);
        if (!cmd.mem_bytes || *cmd.mem_bytes == 0)
            a.fail("bad size '" + mem->value + "'");
    }
    if (const Field* paging = a.named("paging")) {
        if (paging->value == "sv48")
            cmd.paging = isa::SatpMode::Sv48;
        else if (paging->value == "sv39")
            cmd.paging = isa::SatpMode::Sv39;
        else
            a.fail("bad paging '" + paging->value + "' (sv48 or sv39)");
    }
    if (const Field* tlb = a.named("tlb")) {
        size_t x = tlb->value.find('x');
        auto entries = parse_number(tlb->value.substr(0, x));
        auto ways = x == std::string::npos ? std::optional<i64>(4) : parse_number(tlb->value.substr(x + 1));
        if (!entries || !ways || *entries <= 0 || *ways <= 0 || *entries % *ways != 0 || *entries > (1 << 20))
            a.fail("bad tlb '" + tlb->value + "' (ENTRIESxWAYS, entries a multiple of ways)");
        else
            cmd.tlb = TlbConfig{static_cast<unsigned>(*entries), static_cast<unsigned>(*ways)};
    }
    if (const Field* seed = a.named("seed")) {
        cmd.seed = parse_number(seed->value);
        if (!cmd.seed)
            a.fail("bad seed '" + seed->value + "'");
    }
    if (const Field* check = a.named("check")) {
        cmd.check_invariants = parse_switch(check->value);
        if (!cmd.check_invariants)
            a.fail("bad check '" + check->value + "' (on or off)");
    }
    if (const Field* swap = a.named("swap")) {
        auto bytes = parse_number(swap->value);
        if (!bytes || *bytes <= 0)
            a.fail("bad swap size '" + swap->value + "'");
        cmd.swap_bytes = bytes;
    }
    if (const Field* policy = a.named("policy"))
        cmd.policy = policy->value;
    cmd.frames = named_frames(a);
    if (const Field* disk = a.named("disk")) {
        auto bytes = parse_number(disk->value);
        if (!bytes || *bytes < 512 || *bytes > (i64{1} << 40) || *bytes % 512 != 0)
            a.fail("bad disk size '" + disk->value + "' (whole 512-byte sectors, up to 1T)");
        cmd.disk_bytes = static_cast<u64>(bytes.value_or(0));
    }
    a.finish(0, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_spawn(LineArgs& a)
{
    const Field* name = require(a, 0);
    a.finish(1, usage(a));
    if (!name)
        return std::nullopt;
    define(a, name->value, SymbolKind::Process);
    return SpawnCmd{name->value};
}

std::optional<Operation> Parser::parse_fork(LineArgs& a)
{
    auto child = a.take_as();
    std::string parent = symbol(a, 0, SymbolKind::Process);
    if (!child)
        return a.reject("usage: " + usage(a));
    a.finish(1, usage(a));
    define(a, *child, SymbolKind::Process);
    return ForkCmd{parent, *child};
}

std::optional<Operation> Parser::parse_exit(LineArgs& a)
{
    ExitCmd cmd{symbol(a, 0, SymbolKind::Process)};
    if (const Field* status = a.named("status")) {
        auto value = parse_number(status->value);
        if (!value || *value > 255)
            a.fail("bad exit status '" + status->value + "' (0 to 255)");
        cmd.status = static_cast<int>(value.value_or(0));
    }
    a.finish(1, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_kill(LineArgs& a)
{
    KillCmd cmd{symbol(a, 0, SymbolKind::Process), SIGKILL};
    if (const Field* signal = a.positional(1)) {
        auto number = signal_from_name(signal->value);
        if (!number)
            a.fail("unknown signal '" + signal->value + "'");
        cmd.signal = number.value_or(0);
    }
    a.finish(2, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_mmap(LineArgs& a)
{
    MmapCmd cmd;
    cmd.process = symbol(a, 0, SymbolKind::Process);
    const Field* name = a.named("name");
    auto length = named_expression(a, "len");
    if (!name || (!length && !a.failed()))
        a.fail("mmap needs name= and len= (usage: " + usage(a) + ")");
    cmd.prot = named_prot(a).value_or(PROT_READ | PROT_WRITE);
    cmd.addr = named_expression(a, "addr");
    cmd.offset = named_expression(a, "offset");
    if (const Field* file = a.named("file"))
        cmd.file = guest_path(a, file->value);
    if (const Field* fd = a.named("fd")) {
        cmd.fd = fd->value;
        check_symbol(a, fd->value, SymbolKind::Fd);
    }
    if (!cmd.file.empty() && !cmd.fd.empty())
        a.fail("give file= or fd=, not both");
    bool backed = !cmd.file.empty() || !cmd.fd.empty();
    cmd.flags = backed ? MAP_PRIVATE : MAP_PRIVATE | MAP_ANONYMOUS;
    if (const Field* flags = a.named("flags")) {
        std::string bad;
        auto value = map_flags_from_text(flags->value, bad);
        if (!value)
            a.fail("unknown mmap flag '" + bad + "'");
        cmd.flags = value.value_or(0);
    }
    if (backed && (cmd.flags & MAP_ANONYMOUS))
        a.fail("an anonymous mapping takes no file= or fd=");
    a.finish(1, usage(a));
    if (length)
        cmd.length = std::move(*length);
    if (name) {
        cmd.region = name->value;
        define(a, name->value, SymbolKind::Region);
    }
    return cmd;
}

std::optional<Operation> Parser::parse_range(LineArgs& a)
{
    RangeCmd cmd;
    cmd.op = a.verb() == "munmap"     ? RangeCmd::Op::Munmap
             : a.verb() == "mprotect" ? RangeCmd::Op::Mprotect
             : a.verb() == "msync"    ? RangeCmd::Op::Msync
                                      : RangeCmd::Op::Madvise;
    cmd.process = symbol(a, 0, SymbolKind::Process);
    cmd.region = symbol(a, 1, SymbolKind::Region);
    cmd.offset = named_expression(a, "offset");
    cmd.length = named_expression(a, "len");
    if (cmd.op == RangeCmd::Op::Mprotect) {
        auto prot = named_prot(a);
        if (!prot && !a.failed())
            a.fail("mprotect needs prot=");
        cmd.prot = prot.value_or(0);
    }
    if (cmd.op == RangeCmd::Op::Msync) {
        cmd.flags = MS_SYNC;
        if (const Field* flags = a.named("flags")) {
            std::string bad;
            auto value = msync_flags_from_text(flags->value, bad);
            if (!value)
                a.fail("unknown msync flag '" + bad + "'");
            cmd.flags = value.value_or(0);
        }
    }
    if (cmd.op == RangeCmd::Op::Madvise) {
        const Field* advice = require(a, 2);
        auto value = advice ? madvise_from_name(advice->value) : std::nullopt;
        if (advice && !value)
            a.fail("unknown madvise advice '" + advice->value + "'");
        cmd.advice = value.value_or(0);
    }
    a.finish(cmd.op == RangeCmd::Op::Madvise ? 3 : 2, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_brk(LineArgs& a)
{
    auto region = a.take_as();
    BrkCmd cmd;
    cmd.process = symbol(a, 0, SymbolKind::Process);
    const Field* delta = require(a, 1);
    if (delta && delta->value[0] != '+' && delta->value[0] != '-')
        a.fail("brk takes a signed change, such as +64K or -4K");
    else if (delta)
        if (auto expr = expression(a, delta->value))
            cmd.delta = std::move(*expr);
    a.finish(2, usage(a));
    if (region) {
        cmd.region = *region;
        define(a, *region, SymbolKind::Region);
    }
    return cmd;
}

std::optional<Operation> Parser::parse_access(LineArgs& a)
{
    AccessCmd cmd;
    const std::string& verb = a.verb();
    cmd.op = verb == "write"   ? AccessCmd::Op::Write
             : verb == "read"  ? AccessCmd::Op::Read
             : verb == "touch" ? AccessCmd::Op::Touch
                               : AccessCmd::Op::Checksum;
    auto result = a.take_as();
    cmd.process = symbol(a, 0, SymbolKind::Process);
    auto addr = address(a, 1);
    cmd.length = named_expression(a, "len");
    size_t max_positional = 2;
    if (cmd.op == AccessCmd::Op::Write || cmd.op == AccessCmd::Op::Read)
        cmd.fill = fill(a);
    if (cmd.op == AccessCmd::Op::Write && cmd.fill.kind == Fill::Kind::None && !a.failed())
        a.fail("write needs pattern= or text=");
    if (cmd.op == AccessCmd::Op::Touch) {
        const Field* mode = a.positional(2);
        max_positional = 3;
        if (mode && mode->value != "read" && mode->value != "write")
            a.fail("touch takes read or write, not '" + mode->value + "'");
        cmd.touch_write = mode && mode->value == "write";
        parse_touch_value(a, cmd);
    }
    bool sized = cmd.length || (addr && !addr->region.empty()) || cmd.fill.kind == Fill::Kind::Text;
    if (!sized && !a.failed())
        a.fail(verb + " needs len= unless the address is a region name");
    if (cmd.op == AccessCmd::Op::Checksum && !result && !a.failed())
        a.fail("checksum needs 'as NAME'");
    if (result && (cmd.op == AccessCmd::Op::Write || cmd.touch_write))
        a.fail(verb + (cmd.touch_write ? " ... write" : "") + " does not take 'as NAME'");
    a.finish(max_positional, usage(a));
    if (addr)
        cmd.addr = std::move(*addr);
    if (result) {
        cmd.result = *result;
        define(a, *result, SymbolKind::Number);
    }
    return cmd;
}

// touch's size= (bytes per access) and value= (what a write touch stores, in that many bytes).
void Parser::parse_touch_value(LineArgs& a, AccessCmd& cmd)
{
    if (const Field* size = a.named("size")) {
        auto bytes = parse_number(size->value);
        if (!bytes || (*bytes != 1 && *bytes != 2 && *bytes != 4 && *bytes != 8))
            a.fail("size= is 1, 2, 4 or 8 (bytes per access)");
        cmd.touch_size = static_cast<unsigned>(bytes.value_or(1));
    }
    const Field* value = a.named("value");
    if (!value)
        return;
    auto number = parse_number(value->value);
    bool fits = number && *number >= 0 && (cmd.touch_size == 8 || *number >> (8 * cmd.touch_size) == 0);
    if (!fits || !cmd.touch_write)
        a.fail("value= is a number that fits size= bytes (one byte by default, such as 0x5A) and needs "
               "touch ... write");
    cmd.touch_value = static_cast<u64>(number.value_or(0));
}

std::optional<Operation> Parser::parse_reference(LineArgs& a)
{
    ReferenceCmd cmd;
    auto result = a.take_as();
    cmd.process = symbol(a, 0, SymbolKind::Process);
    auto addr = address(a, 1);
    for (size_t i = 2; i < a.count(); ++i) {
        const std::string& word = a.positional(i)->value;
        if (word == "write" || word == "read")
            cmd.write = word == "write";
        else if (word == "trace")
            cmd.trace = true;
        else
            a.fail("reference takes read, write or trace, not '" + word + "'");
    }
    cmd.pages = page_list(a, "reference");
    a.finish(a.count(), usage(a));
    if (addr)
        cmd.addr = std::move(*addr);
    if (result) {
        cmd.result = *result;
        define(a, *result, SymbolKind::Number);
    }
    return cmd;
}

std::vector<u64> Parser::page_list(LineArgs& a, std::string_view verb)
{
    std::vector<u64> pages;
    const Field* field = a.named("pages");
    if (!field) {
        a.fail(std::string(verb) + " needs pages=N,N,... (page numbers within the region) or pages=@FILE");
        return pages;
    }
    std::string text = field->value;
    std::string source = "pages=";
    if (!text.empty() && text[0] == '@') {
        std::filesystem::path path(text.substr(1));
        if (path.is_relative())
            path = std::filesystem::path(m_result.script.name).parent_path() / path;
        std::ifstream in(path);
        if (!in) {
            a.fail("cannot read the reference string " + path.string());
            return pages;
        }
        std::stringstream contents;
        contents << in.rdbuf();
        text.clear();
        for (std::string line; std::getline(contents, line);)
            text += line.substr(0, line.find('#')) + "\n";
        source = path.string();
    }
    std::string word;
    auto flush = [&] {
        if (word.empty() || a.failed())
            return;
        auto page = parse_number(word);
        if (!page || *page < 0)
            a.fail("bad page number '" + word + "' in " + source);
        pages.push_back(static_cast<u64>(page.value_or(0)));
        word.clear();
    };
    for (char c : text) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c)))
            flush();
        else
            word += c;
    }
    flush();
    if (pages.empty() && !a.failed())
        a.fail("no page numbers in " + source);
    return pages;
}

std::optional<Operation> Parser::parse_policy_comparison(LineArgs& a)
{
    CompareCmd cmd;
    static const std::vector<std::string_view> POLICIES = {"lru",    "clock",     "fifo",
                                                           "s3fifo", "exact-lru", "opt"};
    const Field* policies = a.named("policies");
    const Field* frames = a.named("frames");
    if (!policies || !frames)
        a.fail("compare needs policies=NAME,... and frames=N,...");
    std::stringstream names(policies ? policies->value : "");
    for (std::string name; !a.failed() && std::getline(names, name, ',');) {
        if (std::find(POLICIES.begin(), POLICIES.end(), name) == POLICIES.end()) {
            std::string guess = closest_name(name, POLICIES);
            a.fail("unknown policy '" + name + "'" +
                   (guess.empty() ? "" : " - did you mean '" + guess + "'?") +
                   " (lru, clock, fifo, s3fifo, exact-lru, opt)");
        }
        cmd.policies.push_back(name);
    }
    std::stringstream counts(frames ? frames->value : "");
    for (std::string count; !a.failed() && std::getline(counts, count, ',');) {
        auto n = parse_number(count);
        if (!n || *n < 1 || *n > 4096)
            a.fail("bad frame count '" + count + "' (1 to 4096)");
        cmd.frames.push_back(static_cast<u64>(n.value_or(1)));
    }
    cmd.pages = page_list(a, "compare");
    for (size_t i = 0; i < a.count(); ++i) {
        const std::string& word = a.positional(i)->value;
        if (word == "write" || word == "read")
            cmd.write = word == "write";
        else
            a.fail("compare takes read or write, not '" + word + "'");
    }
    // Each cell of the table is a machine of its own: keep the table and the string small.
    for (u64 page : cmd.pages)
        if (page >= 4096 && !a.failed())
            a.fail("page " + std::to_string(page) + " is too large for compare (0 to 4095)");
    if (!a.failed() && cmd.pages.size() > 1000)
        a.fail("compare takes at most 1000 references, not " + std::to_string(cmd.pages.size()));
    if (!a.failed() && cmd.policies.size() * cmd.frames.size() > 24)
        a.fail("compare makes at most 24 runs (policies times frame counts)");
    a.finish(a.count(), usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_file(LineArgs& a)
{
    FileCmd cmd;
    if (const Field* path = require(a, 0))
        cmd.path = guest_path(a, path->value);
    cmd.size = named_expression(a, "size");
    cmd.fill = fill(a);
    a.finish(1, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_open(LineArgs& a)
{
    auto fd = a.take_as();
    OpenCmd cmd;
    cmd.process = symbol(a, 0, SymbolKind::Process);
    if (const Field* path = require(a, 1))
        cmd.path = guest_path(a, path->value);
    if (const Field* mode = a.positional(2)) {
        std::string bad;
        auto flags = open_flags_from_text(mode->value, bad);
        if (!flags)
            a.fail("unknown open flag '" + bad + "'");
        cmd.flags = flags.value_or(0);
    }
    if (!fd && !a.failed())
        a.fail("open needs 'as FD'");
    a.finish(3, usage(a));
    if (fd) {
        cmd.fd = *fd;
        define(a, *fd, SymbolKind::Fd);
    }
    return cmd;
}

std::optional<Operation> Parser::parse_file_io(LineArgs& a)
{
    FileIoCmd cmd;
    const std::string& verb = a.verb();
    cmd.op = verb == "fread"       ? FileIoCmd::Op::Read
             : verb == "fwrite"    ? FileIoCmd::Op::Write
             : verb == "close"     ? FileIoCmd::Op::Close
             : verb == "ftruncate" ? FileIoCmd::Op::Truncate
                                   : FileIoCmd::Op::Fsync;
    bool transfer = cmd.op == FileIoCmd::Op::Read || cmd.op == FileIoCmd::Op::Write;
    auto result = transfer ? a.take_as() : std::nullopt;
    cmd.process = symbol(a, 0, SymbolKind::Process);
    cmd.fd = symbol(a, 1, SymbolKind::Fd);
    size_t max_positional = 2;
    if (transfer) {
        cmd.buffer = address(a, 2);
        cmd.length = named_expression(a, "len");
        cmd.offset = named_expression(a, "offset");
        if (cmd.buffer && cmd.buffer->region.empty() && !cmd.length && !a.failed())
            a.fail(verb + " needs len= unless the buffer is a region name");
        max_positional = 3;
    } else if (cmd.op == FileIoCmd::Op::Truncate) {
        if (const Field* size = require(a, 2))
            cmd.length = expression(a, size->value);
        max_positional = 3;
    }
    a.finish(max_positional, usage(a));
    if (result) {
        cmd.result = *result;
        define(a, *result, SymbolKind::Number);
    }
    return cmd;
}

std::optional<Operation> Parser::parse_show(LineArgs& a)
{
    static constexpr std::pair<std::string_view, ShowCmd::What> VIEWS[] = {
        {"meminfo", ShowCmd::What::Meminfo},
        {"vmstat", ShowCmd::What::Vmstat},
        {"buddyinfo", ShowCmd::What::Buddyinfo},
        {"pagetypeinfo", ShowCmd::What::Pagetypeinfo},
        {"extfrag_index", ShowCmd::What::ExtfragIndex},
        {"unusable_index", ShowCmd::What::UnusableIndex},
        {"physmap", ShowCmd::What::Physmap},
        {"layout", ShowCmd::What::Layout},
        {"slabinfo", ShowCmd::What::Slabinfo},
        {"free", ShowCmd::What::Free},
        {"tlb", ShowCmd::What::Tlb},
        {"vmstat_cmd", ShowCmd::What::VmstatCmd},
        {"dmesg", ShowCmd::What::Dmesg},
        {"maps", ShowCmd::What::Maps},
        {"smaps", ShowCmd::What::Smaps},
        {"status", ShowCmd::What::Status},
        {"statm", ShowCmd::What::Statm},
        {"faults", ShowCmd::What::Faults},
        {"pagemap", ShowCmd::What::Pagemap},
    };
    const Field* what = require(a, 0);
    if (!what)
        return std::nullopt;
    ShowCmd cmd;
    cmd.json = a.take_last("json");
    size_t index = 0;
    while (index < std::size(VIEWS) && VIEWS[index].first != what->value)
        ++index;
    if (index == std::size(VIEWS)) {
        std::vector<std::string_view> names;
        for (auto& [name, view] : VIEWS)
            names.push_back(name);
        std::string closest = closest_name(what->value, names);
        return a.reject("unknown view '" + what->value + "'" +
                        (closest.empty() ? std::string() : " (did you mean '" + closest + "'?)"));
    }
    cmd.what = VIEWS[index].second;
    size_t max_positional = 1;
    // VIEWS lists the machine-wide views first; from "maps" on, a view belongs to a process.
    size_t first_process_view = 0;
    while (VIEWS[first_process_view].first != "maps")
        ++first_process_view;
    if (index >= first_process_view) {
        cmd.process = symbol(a, 1, SymbolKind::Process);
        max_positional = 2;
    }
    if (cmd.what == ShowCmd::What::Pagemap || (cmd.what == ShowCmd::What::Smaps && a.positional(2))) {
        cmd.addr = address(a, 2);
        max_positional = 3;
    }
    if (cmd.what == ShowCmd::What::Pagemap) {
        cmd.length = named_expression(a, "len");
        if (cmd.addr && cmd.addr->region.empty() && !cmd.length && !a.failed())
            a.fail("show pagemap needs len= unless the address is a region name");
    }
    if (const Field* only = a.named("only")) {
        std::stringstream names(only->value);
        for (std::string name; std::getline(names, name, ',');)
            if (!name.empty())
                cmd.only.push_back(name);
        if (cmd.only.empty() || cmd.json)
            a.fail("only= takes the names the lines begin with, e.g. only=MemFree,Cached (not with json)");
    }
    a.finish(max_positional, usage(a));
    return cmd;
}

// The text of echo and print: one quoted string, or the rest of the line as written.
std::string Parser::process_text(LineArgs& a, std::string_view rest, std::vector<PrintCmd::Piece>* pieces)
{
    const auto& fields = a.split().fields;
    std::string text(rest);
    if (!rest.empty() && rest[0] == '"') {
        if (fields.size() != 2 || !fields[1].key.empty())
            a.fail("give one quoted string, or unquoted text");
        else
            text = fields[1].value;
    }
    if (!pieces)
        return text;
    size_t i = 0;
    while (i < text.size()) {
        size_t open = text.find_first_of("{}", i);
        if (open == std::string::npos || text[open] == '}') {
            if (open != std::string::npos)
                a.fail("unmatched '}' in print");
            pieces->push_back({text.substr(i), std::nullopt});
            break;
        }
        size_t close = text.find('}', open);
        if (close == std::string::npos) {
            a.fail("unclosed '{' in print");
            break;
        }
        std::string message;
        auto expr = parse_placeholder_text(text.substr(open + 1, close - open - 1), m_symbols, message);
        if (!expr)
            a.fail(message);
        pieces->push_back({text.substr(i, open - i), std::move(expr)});
        i = close + 1;
    }
    return text;
}

std::optional<Operation> Parser::parse_echo(LineArgs& a)
{
    return EchoCmd{process_text(a, rest_after_verb(a.split().text), nullptr)};
}

std::optional<Operation> Parser::parse_print(LineArgs& a)
{
    PrintCmd cmd;
    process_text(a, rest_after_verb(a.split().text), &cmd.pieces);
    return cmd;
}

std::optional<Operation> Parser::parse_let(LineArgs& a)
{
    std::string_view rest = rest_after_verb(a.split().text);
    size_t eq = rest.find('=');
    std::string name(rest.substr(0, eq));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
        name.pop_back();
    if (eq == std::string_view::npos || name.empty())
        return a.reject("usage: " + usage(a));
    auto value = expression(a, rest.substr(eq + 1));
    define(a, name, SymbolKind::Number);
    if (!value)
        return std::nullopt;
    return LetCmd{name, std::move(*value)};
}

std::optional<Operation> Parser::parse_sysctl(LineArgs& a)
{
    const auto& fields = a.split().fields;
    const std::string setting = fields.size() == 2 ? fields[1].value : "";
    std::string key = fields.size() == 2 && !fields[1].key.empty() ? fields[1].key + "=" + setting : setting;
    size_t eq = key.find('=');
    std::string name = key.substr(0, eq);
    bool good = eq != std::string::npos && eq + 1 < key.size() && name.find('.') != std::string::npos &&
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
    if (!good)
        return a.reject("usage: " + usage(a));
    SysctlCmd cmd{name, key.substr(eq + 1)};
    for (char& c : cmd.path)
        if (c == '.')
            c = '/';
    return cmd;
}

// frames=N, the fixed-frame limit of `machine` and `policy`.
std::optional<u64> Parser::named_frames(LineArgs& a)
{
    const Field* frames = a.named("frames");
    if (!frames)
        return std::nullopt;
    auto count = parse_number(frames->value);
    if (!count || *count < 0)
        a.fail("bad frames '" + frames->value + "' (a number of pages, 0 for no limit)");
    return static_cast<u64>(count.value_or(0));
}

std::optional<Operation> Parser::parse_policy(LineArgs& a)
{
    PolicyCmd cmd;
    if (const Field* name = require(a, 0))
        cmd.name = name->value;
    cmd.frames = named_frames(a);
    a.finish(1, usage(a));
    return cmd;
}

namespace {

// A duration with its unit: ns, us, ms or s. Nothing else, so that "5" is not silently seconds.
std::optional<u64> parse_duration(std::string_view text)
{
    constexpr std::pair<std::string_view, u64> UNITS[] = {
        {"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000}};
    for (auto [suffix, scale] : UNITS) {
        if (text.size() <= suffix.size() || !text.ends_with(suffix))
            continue;
        std::string_view digits = text.substr(0, text.size() - suffix.size());
        if (!std::isdigit(static_cast<unsigned char>(digits.back())))
            continue; // "5ms" must not match "s" with digits "5m"
        auto value = parse_number(digits);
        if (!value || *value < 0 || static_cast<u64>(*value) > ~u64{0} / scale)
            return std::nullopt;
        return static_cast<u64>(*value) * scale;
    }
    return std::nullopt;
}

} // namespace

std::optional<Operation> Parser::parse_sleep(LineArgs& a)
{
    SleepCmd cmd;
    if (const Field* first = require(a, 0)) {
        auto ns = parse_duration(first->value);
        if (!ns)
            a.fail("bad duration '" + first->value + "' (a number with ns, us, ms or s)");
        cmd.ns = ns.value_or(0);
    }
    a.finish(1, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_sync(LineArgs& a)
{
    a.finish(0, usage(a));
    return SyncCmd{};
}

std::optional<Operation> Parser::parse_swap(LineArgs& a)
{
    SwapCmd cmd;
    cmd.on = a.verb() == "swapon";
    const Field* first = require(a, 0);
    if (first && cmd.on) {
        auto bytes = parse_number(first->value);
        if (!bytes || *bytes <= 0)
            a.fail("bad swap size '" + first->value + "'");
        cmd.bytes = static_cast<u64>(bytes.value_or(0));
        if (const Field* prio = a.named("prio")) {
            auto value = parse_number(prio->value);
            if (!value || *value < 0 || *value > 32767)
                a.fail("bad prio '" + prio->value + "' (0 to 32767)");
            cmd.priority = static_cast<int>(value.value_or(0));
        }
    } else if (first) {
        cmd.name = first->value;
    }
    a.finish(1, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_prctl(LineArgs& a)
{
    PrctlCmd cmd;
    auto result = a.take_as();
    cmd.process = symbol(a, 0, SymbolKind::Process);
    const Field* option = require(a, 1);
    auto value = option ? prctl_option_from_name(option->value) : std::nullopt;
    if (option && !value)
        a.fail("unknown prctl option '" + option->value + "' (PR_SET_THP_DISABLE, PR_GET_THP_DISABLE)");
    cmd.option = value.value_or(0);
    for (size_t i = 0; i < cmd.args.size(); ++i) {
        const Field* arg = a.positional(2 + i);
        if (!arg)
            break;
        auto number = parse_number(arg->value);
        if (!number)
            a.fail("bad prctl argument '" + arg->value + "'");
        cmd.args[i] = static_cast<u64>(number.value_or(0));
    }
    a.finish(2 + cmd.args.size(), usage(a));
    if (result) {
        cmd.result = *result;
        define(a, *result, SymbolKind::Number);
    }
    return cmd;
}

std::optional<Operation> Parser::parse_procwrite(LineArgs& a)
{
    const auto& fields = a.split().fields;
    if (fields.size() != 3 || fields[2].key.empty())
        return a.reject("usage: " + usage(a));
    const Field& setting = fields[2];
    if (setting.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos ||
        setting.value.empty())
        return a.reject("bad /proc/PID file '" + setting.key + "' (usage: " + usage(a) + ")");
    a.named(setting.key);
    ProcWriteCmd cmd{symbol(a, 0, SymbolKind::Process), setting.key, setting.value};
    a.finish(1, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_cgroup(LineArgs& a)
{
    CgroupCmd cmd;
    const Field* sub = a.positional(0);
    const Field* group = a.positional(1);
    if (!sub || !group)
        return a.reject("usage: " + usage(a));
    if (sub->value == "create")
        cmd.kind = CgroupCmd::Kind::Create;
    else if (sub->value == "set")
        cmd.kind = CgroupCmd::Kind::Set;
    else if (sub->value == "attach")
        cmd.kind = CgroupCmd::Kind::Attach;
    else if (sub->value == "remove")
        cmd.kind = CgroupCmd::Kind::Remove;
    else
        return a.reject("no cgroup command '" + sub->value + "' (usage: " + usage(a) + ")");
    cmd.group = group->value;
    if (cmd.group.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-/") != std::string::npos)
        return a.reject("bad group name '" + cmd.group + "' (letters, digits, '_', '-', '/' between levels)");
    // The settings, FILE=VALUE after the group (a file name's dots keep it a single word).
    size_t positionals = 2;
    bool settable = cmd.kind == CgroupCmd::Kind::Create || cmd.kind == CgroupCmd::Kind::Set;
    for (size_t i = 2; settable && a.positional(i); ++i, ++positionals) {
        const std::string& item = a.positional(i)->value;
        size_t eq = item.find('=');
        if (eq == std::string::npos || !item.starts_with("memory.") || eq + 1 == item.size())
            return a.reject("bad setting '" + item + "' (usage: " + usage(a) + ")");
        cmd.settings.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    if (cmd.kind == CgroupCmd::Kind::Set && cmd.settings.empty())
        return a.reject("usage: " + usage(a));
    if (cmd.kind == CgroupCmd::Kind::Attach) {
        cmd.process = symbol(a, 2, SymbolKind::Process);
        positionals = 3;
    }
    a.finish(positionals, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_expect(LineArgs& a)
{
    const auto& fields = a.split().fields;
    if (fields.size() < 2)
        return a.reject("usage: " + usage(a));
    const Field& first = fields[1];
    if (first.key.empty() && first.value == "panic" && fields.size() == 2)
        return ExpectPanicCmd{};
    if (first.key.empty() && first.value == "error") {
        const Field* name = a.positional(1);
        auto code = name ? errno_from_name(name->value) : std::nullopt;
        if (!code)
            a.fail(name ? "unknown errno '" + name->value + "'"
                        : "expect error needs an errno name, such as EINVAL");
        a.finish(2, usage(a));
        return ExpectErrorCmd{code.value_or(0)};
    }
    if (first.key.empty() && first.value == "last") {
        if (!m_seen_access)
            return a.reject("expect last needs a memory access (write, read, touch, checksum) before it");
        return parse_expect_last(a);
    }
    auto symbol = m_symbols.find(first.value);
    if (first.key.empty() && fields.size() >= 3 && symbol != m_symbols.end() &&
        symbol->second == SymbolKind::Process && fields[2].key.empty() && is_identifier(fields[2].value) &&
        a.positional(1))
        return parse_expect_state(a, first.value);
    return parse_compare(a);
}

std::optional<Operation> Parser::parse_expect_state(LineArgs& a, const std::string& process)
{
    ExpectStateCmd cmd;
    cmd.process = process;
    const std::string& state = a.positional(1)->value;
    const Field* detail = a.positional(2);
    if (state == "alive") {
        cmd.state = ExpectStateCmd::State::Alive;
        detail = nullptr;
        a.finish(2, usage(a));
    } else if (state == "exited") {
        cmd.state = ExpectStateCmd::State::Exited;
        if (detail) {
            auto status = parse_number(detail->value);
            if (!status || *status > 255)
                a.fail("bad exit status '" + detail->value + "'");
            cmd.code = static_cast<int>(status.value_or(0));
        }
    } else if (state == "killed" || state == "segv" || state == "bus") {
        cmd.state = ExpectStateCmd::State::Killed;
        if (state != "killed")
            cmd.code = state == "segv" ? SIGSEGV : SIGBUS;
        if (detail && state == "killed") {
            cmd.code = signal_from_name(detail->value);
            if (!cmd.code)
                a.fail("unknown signal '" + detail->value + "'");
        } else if (detail) {
            cmd.si_code = si_code_from_name(*cmd.code, detail->value);
            if (!cmd.si_code)
                a.fail("unknown " + state + " code '" + detail->value + "'");
        }
    } else {
        return a.reject("unknown process state '" + state + "' (alive, exited, killed, segv, bus)");
    }
    a.finish(3, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_expect_last(LineArgs& a)
{
    ExpectLastCmd cmd;
    const Field* outcome = a.positional(1);
    const Field* detail = a.positional(2);
    if (!outcome || (outcome->value != "ok" && outcome->value != "segv" && outcome->value != "bus"))
        return a.reject("expect last takes ok, segv or bus");
    if (outcome->value != "ok") {
        cmd.signal = outcome->value == "segv" ? SIGSEGV : SIGBUS;
        if (detail) {
            cmd.si_code = si_code_from_name(*cmd.signal, detail->value);
            if (!cmd.si_code)
                a.fail("unknown " + outcome->value + " code '" + detail->value + "'");
        }
        cmd.addr = named_expression(a, "addr");
    }
    a.finish(cmd.signal ? 3 : 2, usage(a));
    return cmd;
}

std::optional<Operation> Parser::parse_compare(LineArgs& a)
{
    std::string message;
    auto tokens = tokenize_expression(rest_after_verb(a.split().text), message);
    if (!tokens)
        return a.reject(message);
    ExpressionParser parser(*tokens, m_symbols);
    auto lhs = parser.parse_expression();
    if (!lhs)
        return a.reject(parser.error());
    static constexpr std::pair<std::string_view, CompareOp> OPS[] = {
        {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}, {"<", CompareOp::Lt},
        {"<=", CompareOp::Le}, {">", CompareOp::Gt},  {">=", CompareOp::Ge},
    };
    const Token& op = parser.next();
    for (const auto& [text, compare] : OPS) {
        if (op.kind != Token::Kind::Op || op.text != text)
            continue;
        auto rhs = parser.parse_expression();
        if (!rhs)
            return a.reject(parser.error());
        if (!parser.at_end())
            return a.reject("unexpected '" + parser.peek().text + "' after the comparison");
        return ExpectCompareCmd{std::move(*lhs), compare, std::move(*rhs)};
    }
    return a.reject("expect needs a comparison (==, != , <, <=, >, >=) or a process state");
}

} // namespace

ParseResult parse_scenario(std::string_view text, const std::string& name)
{
    return Parser(name).run(text);
}

std::string ParseResult::format_errors() const
{
    std::string out;
    for (const auto& e : errors)
        out += printable(script.name) + ":" + std::to_string(e.line) + ": " + printable(e.message) + "\n";
    return out;
}

} // namespace kioku::scenario
