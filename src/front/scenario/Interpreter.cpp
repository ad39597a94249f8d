#include "front/scenario/Interpreter.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/mman.h>
#include <vector>

#include "base/Hash.h"
#include "base/Printable.h"
#include "base/Size.h"
#include "front/PhysmapPicture.h"
#include "front/scenario/ExpressionParser.h"
#include "front/scenario/LinuxNames.h"
#include "front/text/Messages.h"
#include "kernel/Cgroups.h"
#include "kernel/ProcText.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/pgtable/Pte.h"
#include "mm/reclaim/FifoPolicy.h"
#include "mm/reclaim/OptPolicy.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Vma.h"

namespace kioku::scenario {

using namespace proc_text;

namespace {

// Accesses are done in pieces of this size, so that a 1 GiB write needs no 1 GiB host buffer.
constexpr u64 ACCESS_CHUNK = 64 * 1024;
// Reads at most this long show their bytes as text in the report.
constexpr u64 PREVIEW_BYTES = 32;

std::string hex(u64 value)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

// "64K", "1M", or "5 bytes" when the amount is not a whole number of KiB.
std::string amount(u64 bytes)
{
    std::string text = format_size(bytes);
    if (bytes < 1024 || bytes % 1024)
        text += bytes == 1 ? " byte" : " bytes";
    return text;
}

std::string preview(const std::vector<u8>& bytes)
{
    std::string out = "\"";
    for (u8 b : bytes) {
        if (b == '"' || b == '\\')
            out += {'\\', static_cast<char>(b)};
        else if (b >= 0x20 && b < 0x7f)
            out += static_cast<char>(b);
        else if (b == 0)
            out += "\\0";
        else
            out += "\\x" + hex(b).substr(2);
    }
    return out + "\"";
}

const char* compare_text(CompareOp op)
{
    switch (op) {
    case CompareOp::Eq: return "==";
    case CompareOp::Ne: return "!=";
    case CompareOp::Lt: return "<";
    case CompareOp::Le: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Ge: return ">=";
    }
    return "?";
}

bool compare(i64 lhs, CompareOp op, i64 rhs)
{
    switch (op) {
    case CompareOp::Eq: return lhs == rhs;
    case CompareOp::Ne: return lhs != rhs;
    case CompareOp::Lt: return lhs < rhs;
    case CompareOp::Le: return lhs <= rhs;
    case CompareOp::Gt: return lhs > rhs;
    case CompareOp::Ge: return lhs >= rhs;
    }
    return false;
}

int signal_of(const AccessOutcome& outcome)
{
    switch (outcome.kind) {
    case AccessOutcome::Kind::Segv: return SIGSEGV;
    case AccessOutcome::Kind::Bus: return SIGBUS;
    case AccessOutcome::Kind::Oom: return SIGKILL;
    case AccessOutcome::Kind::Ok: break;
    }
    return 0;
}

bool is_last_source(ValueRef::Source source)
{
    return source == ValueRef::Source::LastErrno || source == ValueRef::Source::LastSignal ||
           source == ValueRef::Source::LastSiCode || source == ValueRef::Source::LastAddr;
}

std::string outcome_text(const AccessOutcome& outcome)
{
    if (outcome.kind == AccessOutcome::Kind::Oom)
        return "out of memory";
    int signal = signal_of(outcome);
    return signal_name(signal) + " (" + si_code_name(signal, outcome.si_code) + " at " +
           hex(outcome.fault_addr) + ")";
}

std::string killed_text(int signal, std::optional<int> si_code)
{
    std::string text = "killed by " + signal_name(signal);
    if (si_code)
        text += " (" + si_code_name(signal, *si_code) + ")";
    return text;
}

} // namespace

Interpreter::Interpreter(const Script& script, const ScenarioOptions& options, std::ostream& out,
                         std::ostream& err)
    : m_script(script)
    , m_options(options)
    , m_out(out)
    , m_err(err)
{
}

Interpreter::~Interpreter() = default;

MachineConfig Interpreter::machine_config() const
{
    MachineConfig config;
    if (!m_script.commands.empty())
        if (const auto* machine = std::get_if<MachineCmd>(&m_script.commands.front().op)) {
            config.mem_bytes = machine->mem_bytes.value_or(config.mem_bytes);
            config.paging = machine->paging.value_or(config.paging);
            config.tlb = machine->tlb.value_or(config.tlb);
            config.seed = machine->seed.value_or(config.seed);
            config.check_invariants = machine->check_invariants.value_or(false);
            config.disk_bytes = machine->disk_bytes.value_or(0);
        }
    if (m_options.mem_override)
        config.mem_bytes = *m_options.mem_override;
    config.check_invariants = config.check_invariants || m_options.check_invariants;
    config.root_dir = m_options.root_dir;
    return config;
}

int Interpreter::run()
{
    MachineConfig config = machine_config();
    auto kernel = Kernel::create(config);
    if (kernel.is_error()) {
        m_err << m_script.name << ": cannot create the machine: " << errno_name(kernel.error().code) << "\n";
        return SCENARIO_FAILED;
    }
    m_kernel = kernel.release_value();
    m_view = std::make_unique<ProcView>(*m_kernel);
    for (const Command& command : m_script.commands)
        if (execute(command) == Step::Stop)
            break;
    if (config.check_invariants) {
        std::string broken = m_kernel->check_report();
        if (!broken.empty()) {
            m_err << m_script.name << ": invariant broken: " << broken << "\n";
            m_status = SCENARIO_FAILED;
        }
    }
    if (!m_options.quiet && m_expectations)
        m_out << "-- " << (m_expectations - m_expectations_failed) << " of " << m_expectations
              << " expectations held\n";
    return m_status;
}

Interpreter::Step Interpreter::execute(const Command& command)
{
    m_command = &command;
    Step step = std::visit([this](const auto& op) { return exec(op); }, command.op);
    note_vanished_processes();
    return step;
}

// ---- Messages --------------------------------------------------------------------------------

void Interpreter::report(const std::string& result)
{
    if (m_options.quiet)
        return;
    m_out << m_command->text;
    if (!result.empty())
        m_out << " -> " << result;
    m_out << "\n";
}

Interpreter::Step Interpreter::fail(const std::string& message)
{
    report("FAILED");
    m_err << printable(m_script.name) << ":" << m_command->line << ": " << printable(message) << "\n";
    m_status = SCENARIO_FAILED;
    return Step::Stop;
}

std::nullopt_t Interpreter::fail_value(const std::string& message)
{
    fail(message);
    return std::nullopt;
}

void Interpreter::expectation_held()
{
    ++m_expectations;
    report("ok");
}

void Interpreter::expectation_failed(const std::string& message)
{
    ++m_expectations;
    ++m_expectations_failed;
    report("FAILED");
    m_err << printable(m_script.name) << ":" << m_command->line
          << ": expectation failed: " << printable(message) << "\n";
    m_status = SCENARIO_FAILED;
}

Interpreter::Step Interpreter::call_error(const Error& error)
{
    m_last_errno = error.code;
    if (m_command->failure_expected) {
        report(errno_name(error.code));
        return Step::Continue;
    }
    std::string detail = error.what ? std::string(" [") + error.what + "]" : std::string();
    return fail(m_command->verb + " failed: " + errno_name(error.code) + " (expected success)" + detail);
}

std::string Interpreter::fate_text(const ProcessState& state) const
{
    switch (state.fate) {
    case ProcessState::Fate::Alive: return "alive";
    case ProcessState::Fate::Exited: return "exited with status " + std::to_string(state.code);
    case ProcessState::Fate::Killed: return killed_text(state.code, state.fault_si_code);
    }
    return "?";
}

// A process can also die during another process's command (the OOM killer picks its victim).
void Interpreter::note_vanished_processes()
{
    if (!m_kernel)
        return;
    auto live = m_kernel->pids();
    for (auto& [name, state] : m_processes) {
        if (state.fate != ProcessState::Fate::Alive ||
            std::find(live.begin(), live.end(), state.pid) != live.end())
            continue;
        state.fate = ProcessState::Fate::Killed;
        state.code = SIGKILL;
        if (!m_options.quiet)
            m_out << "  (" << name << ", pid " << state.pid << ", is gone: killed by SIGKILL)\n";
    }
}

// ---- Evaluation -------------------------------------------------------------------------------

Interpreter::ProcessState* Interpreter::process_state(const std::string& process)
{
    auto it = m_processes.find(process);
    if (it == m_processes.end()) {
        fail("process " + process + " does not exist (its spawn or fork did not succeed)");
        return nullptr;
    }
    return &it->second;
}

std::optional<Pid> Interpreter::live_pid(const std::string& process)
{
    const ProcessState* state = process_state(process);
    if (!state)
        return std::nullopt;
    if (state->fate != ProcessState::Fate::Alive)
        return fail_value("process " + process + " is not alive (" + fate_text(*state) + ")");
    return state->pid;
}

std::optional<i64> Interpreter::eval(const Expr& expr)
{
    if (expr.kind == Expr::Kind::Number)
        return expr.number;
    if (expr.kind == Expr::Kind::Value)
        return value(expr.value);
    auto lhs = eval(*expr.lhs);
    if (!lhs)
        return std::nullopt;
    // Signed 64-bit arithmetic, checked: an overflow is the script's error, never undefined.
    i64 result = 0;
    auto overflow = [&]() -> std::optional<i64> {
        return fail_value("arithmetic overflow in '" + expr.text + "'");
    };
    if (expr.kind == Expr::Kind::Negate)
        return __builtin_sub_overflow(i64{0}, *lhs, &result) ? overflow() : result;
    auto rhs = eval(*expr.rhs);
    if (!rhs)
        return std::nullopt;
    switch (expr.kind) {
    case Expr::Kind::Add: return __builtin_add_overflow(*lhs, *rhs, &result) ? overflow() : result;
    case Expr::Kind::Sub: return __builtin_sub_overflow(*lhs, *rhs, &result) ? overflow() : result;
    case Expr::Kind::Mul: return __builtin_mul_overflow(*lhs, *rhs, &result) ? overflow() : result;
    case Expr::Kind::Compare: return compare(*lhs, expr.compare, *rhs) ? 1 : 0;
    case Expr::Kind::Div:
    case Expr::Kind::Mod:
        if (*rhs == 0)
            return fail_value("division by zero in '" + expr.text + "'");
        if (*lhs == std::numeric_limits<i64>::min() && *rhs == -1)
            return overflow();
        return expr.kind == Expr::Kind::Div ? *lhs / *rhs : *lhs % *rhs;
    default: return std::nullopt;
    }
}

std::optional<i64> Interpreter::value(const ValueRef& ref)
{
    if (ref.source == ValueRef::Source::Variable) {
        if (auto it = m_numbers.find(ref.name); it != m_numbers.end())
            return it->second;
        if (auto it = m_regions.find(ref.name); it != m_regions.end())
            return static_cast<i64>(it->second.addr);
        if (auto it = m_fds.find(ref.name); it != m_fds.end())
            return it->second;
        return fail_value("'" + ref.name + "' has no value (the line that sets it did not succeed)");
    }
    if (is_last_source(ref.source))
        return last_value(ref.source);
    Pid pid = 0;
    u64 region_addr = 0;
    u64 region_length = 0;
    if (!ref.process.empty()) {
        const ProcessState* state = process_state(ref.process);
        if (!state)
            return std::nullopt;
        if (ref.source == ValueRef::Source::ProcessPid)
            return state->pid;
        auto live = live_pid(ref.process);
        if (!live)
            return std::nullopt;
        pid = *live;
    }
    if (!ref.region.empty()) {
        auto region = m_regions.find(ref.region);
        if (region == m_regions.end())
            return fail_value("region " + ref.region + " has no address (its mmap did not succeed)");
        region_addr = region->second.addr;
        region_length = region->second.length;
    }
    if (is_text_value(ref))
        return fail_value("a text value has no number");
    auto fetched = m_view->value(ref, pid, region_addr, region_length);
    if (!fetched.ok())
        return fail_value(fetched.error);
    return fetched.value;
}

// last.errno, last.signal, last.si_code, last.addr. A failed call leaves its errno until the
// next call; an access that completed reads as signal 0, si_code 0, addr 0.
std::optional<i64> Interpreter::last_value(ValueRef::Source source)
{
    if (source == ValueRef::Source::LastErrno)
        return m_last_errno.value_or(0);
    if (!m_last_access)
        return fail_value("last.signal, last.si_code and last.addr need a memory access before them");
    const AccessOutcome& outcome = m_last_access->outcome;
    if (outcome.ok())
        return 0;
    if (source == ValueRef::Source::LastSignal)
        return signal_of(outcome);
    if (source == ValueRef::Source::LastSiCode)
        return outcome.kind == AccessOutcome::Kind::Oom ? 0 : outcome.si_code;
    return static_cast<i64>(outcome.fault_addr);
}

// How a print placeholder shows a bare value that has a Linux name: the errno, signal and
// si_code names, "OK" for a call that succeeded and "none" for an access that completed.
// A text value shows its text. Everything else is a decimal number.
std::optional<std::string> Interpreter::placeholder_text(const Expr& expr)
{
    using S = ValueRef::Source;
    if (expr.kind == Expr::Kind::Value && is_text_value(expr.value)) {
        auto pid = live_pid(expr.value.process);
        auto region = m_regions.find(expr.value.region);
        if (!pid)
            return std::nullopt;
        if (region == m_regions.end())
            return fail_value("region " + expr.value.region + " has no address (its mmap did not succeed)");
        auto text = m_view->text(expr.value, *pid, region->second.addr, region->second.length);
        if (!text.ok())
            return fail_value(text.error);
        return text.value;
    }
    auto v = eval(expr);
    if (!v)
        return std::nullopt;
    bool named = expr.kind == Expr::Kind::Value && is_last_source(expr.value.source) &&
                 expr.value.source != S::LastAddr;
    if (!named)
        return std::to_string(*v);
    int code = static_cast<int>(*v);
    if (expr.value.source == S::LastErrno)
        return code == 0 ? "OK" : errno_name(code);
    if (code == 0)
        return "none";
    if (expr.value.source == S::LastSignal)
        return signal_name(code);
    return si_code_name(signal_of(m_last_access->outcome), code);
}

std::optional<u64> Interpreter::eval_size(const Expr& expr, const char* what)
{
    auto v = eval(expr);
    if (!v)
        return std::nullopt;
    if (*v < 0)
        return fail_value(std::string(what) + " '" + expr.text + "' is negative (" + std::to_string(*v) +
                          ")");
    return static_cast<u64>(*v);
}

// A command's length: len= when given, else the length of the region its address names.
std::optional<u64> Interpreter::length_of(const AddressArg& addr, const std::optional<Expr>& length)
{
    if (length)
        return eval_size(*length, "length");
    auto region = m_regions.find(addr.region);
    if (region == m_regions.end())
        return fail_value("region " + addr.region + " has no address (its mmap did not succeed)");
    return region->second.length;
}

// ---- Machine and processes --------------------------------------------------------------------

Interpreter::Step Interpreter::exec(const MachineCmd& cmd)
{
    const MachineConfig& config = m_kernel->config();
    // Swap, the replacement policy and the frame limit are set up as the machine boots.
    std::string memory;
    if (cmd.swap_bytes) {
        if (auto r = m_kernel->swapon(*cmd.swap_bytes); r.is_error())
            return fail("cannot set up swap: " + errno_name(r.error().code));
        memory += " swap=" + format_size(*cmd.swap_bytes);
    }
    if (!cmd.policy.empty()) {
        if (m_kernel->set_replacement_policy(cmd.policy).is_error())
            return fail("unknown replacement policy '" + cmd.policy +
                        "' (lru, clock, fifo, s3fifo, exact-lru, opt)");
        memory += " policy=" + cmd.policy;
    }
    if (cmd.frames) {
        set_frame_limit(*cmd.frames);
        memory += " frames=" + std::to_string(*cmd.frames) + " page-cluster=0";
    }
    if (cmd.disk_bytes)
        memory += " disk=" + format_size(*cmd.disk_bytes) + " (/dev/vda)";
    report("mem=" + format_size(config.mem_bytes) +
           (config.paging == isa::SatpMode::Sv39 ? " paging=sv39" : " paging=sv48") +
           " tlb=" + std::to_string(config.tlb.entries) + "x" + std::to_string(config.tlb.ways) +
           " seed=" + std::to_string(config.seed) + (config.check_invariants ? " check=on" : "") + memory);
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const SpawnCmd& cmd)
{
    auto pid = m_kernel->spawn(cmd.process);
    if (pid.is_error())
        return call_error(pid.error());
    call_ok();
    m_processes[cmd.process] = ProcessState{pid.value()};
    report("pid " + std::to_string(pid.value()));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ForkCmd& cmd)
{
    auto parent = live_pid(cmd.parent);
    if (!parent)
        return Step::Stop;
    auto pid = m_kernel->fork(*parent);
    if (pid.is_error())
        return call_error(pid.error());
    call_ok();
    m_processes[cmd.child] = ProcessState{pid.value()};
    report("pid " + std::to_string(pid.value()));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ExitCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto result = m_kernel->exit(*pid, cmd.status);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    ProcessState& state = m_processes.at(cmd.process);
    state.fate = ProcessState::Fate::Exited;
    state.code = cmd.status;
    report(fate_text(state));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const KillCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    m_kernel->kill(*pid, cmd.signal);
    auto live = m_kernel->pids();
    ProcessState& state = m_processes.at(cmd.process);
    if (std::find(live.begin(), live.end(), *pid) == live.end()) {
        state.fate = ProcessState::Fate::Killed;
        state.code = cmd.signal;
    }
    report(fate_text(state));
    return Step::Continue;
}

// ---- Memory calls -----------------------------------------------------------------------------

Interpreter::Step Interpreter::exec(const MmapCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    // The length is a size_t, as in C: a negative value is its two's complement (len=-11 is
    // SIZE_MAX - 10), so a script can show how the kernel refuses lengths that overflow.
    auto signed_length = pid ? eval(cmd.length) : std::nullopt;
    auto length = signed_length ? std::optional<u64>(static_cast<u64>(*signed_length)) : std::nullopt;
    auto addr = length && cmd.addr ? eval_size(*cmd.addr, "address") : std::optional<u64>(0);
    auto offset = length && addr && cmd.offset ? eval_size(*cmd.offset, "offset") : std::optional<u64>(0);
    if (!pid || !length || !addr || !offset)
        return Step::Stop;
    int fd = -1;
    if (!cmd.fd.empty()) {
        auto it = m_fds.find(cmd.fd);
        if (it == m_fds.end())
            return fail("'" + cmd.fd + "' has no value (its open did not succeed)");
        fd = it->second;
    }
    if (!cmd.file.empty()) {
        // Opened read-write only when a shared writable mapping needs it, as a program would.
        bool writes_back = (cmd.flags & MAP_SHARED) && (cmd.prot & PROT_WRITE);
        auto opened = m_kernel->open(*pid, cmd.file, writes_back ? O_RDWR : O_RDONLY);
        if (opened.is_error())
            return call_error(opened.error());
        fd = opened.value();
    }
    auto mapped = m_kernel->mmap(*pid, *addr, *length, cmd.prot, cmd.flags, fd, *offset);
    if (!cmd.file.empty())
        (void)m_kernel->close(*pid, fd);
    if (mapped.is_error())
        return call_error(mapped.error());
    call_ok();
    m_numbers.erase(cmd.region);
    m_fds.erase(cmd.region);
    m_regions[cmd.region] = Region{mapped.value(), *length};
    report(cmd.region + " = " + hex(mapped.value()));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const RangeCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto region = m_regions.find(cmd.region);
    if (region == m_regions.end())
        return fail("region " + cmd.region + " has no address (its mmap did not succeed)");
    auto offset = cmd.offset ? eval_size(*cmd.offset, "offset") : std::optional<u64>(0);
    if (!offset)
        return Step::Stop;
    u64 rest = region->second.length > *offset ? region->second.length - *offset : 0;
    auto length = cmd.length ? eval_size(*cmd.length, "length") : std::optional<u64>(rest);
    if (!length)
        return Step::Stop;
    u64 addr = region->second.addr + *offset;
    Result<void> result;
    switch (cmd.op) {
    case RangeCmd::Op::Munmap: result = m_kernel->munmap(*pid, addr, *length); break;
    case RangeCmd::Op::Mprotect: result = m_kernel->mprotect(*pid, addr, *length, cmd.prot); break;
    case RangeCmd::Op::Msync: result = m_kernel->msync(*pid, addr, *length, cmd.flags); break;
    case RangeCmd::Op::Madvise: result = m_kernel->madvise(*pid, addr, *length, cmd.advice); break;
    }
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const BrkCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    auto delta = pid ? eval(cmd.delta) : std::nullopt;
    if (!pid || !delta)
        return Step::Stop;
    u64 old_break = m_kernel->brk(*pid, 0);
    u64 wanted = old_break + static_cast<u64>(*delta);
    u64 new_break = m_kernel->brk(*pid, wanted);
    // The raw system call reports failure by returning the unchanged break.
    if (new_break != wanted)
        return call_error(Error::from_errno(ENOMEM));
    call_ok();
    if (!cmd.region.empty()) {
        m_numbers.erase(cmd.region);
        m_fds.erase(cmd.region);
        m_regions[cmd.region] =
            Region{std::min(old_break, new_break), static_cast<u64>(*delta < 0 ? -*delta : *delta)};
    }
    report(hex(old_break) + " to " + hex(new_break));
    return Step::Continue;
}

// ---- Memory accesses --------------------------------------------------------------------------

Interpreter::Step Interpreter::exec(const AccessCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    auto addr = pid ? eval_size(cmd.addr.expr, "address") : std::nullopt;
    if (!pid || !addr)
        return Step::Stop;
    std::optional<u64> length;
    if (!cmd.length && cmd.fill.kind == Fill::Kind::Text)
        length = cmd.fill.text.size();
    else
        length = length_of(cmd.addr, cmd.length);
    if (!length)
        return Step::Stop;
    switch (cmd.op) {
    case AccessCmd::Op::Write: return write_access(cmd, *pid, *addr, *length);
    case AccessCmd::Op::Touch: return touch_access(cmd, *pid, *addr, *length);
    case AccessCmd::Op::Read:
    case AccessCmd::Op::Checksum: return read_access(cmd, *pid, *addr, *length);
    }
    return Step::Continue;
}

Interpreter::Step Interpreter::access_outcome(const std::string& process, const AccessOutcome& outcome,
                                              const std::string& done)
{
    m_last_access = LastAccess{process, outcome};
    if (outcome.ok()) {
        report(done);
        return Step::Continue;
    }
    ProcessState& state = m_processes.at(process);
    auto live = m_kernel->pids();
    if (std::find(live.begin(), live.end(), state.pid) == live.end()) {
        state.fate = ProcessState::Fate::Killed;
        state.code = signal_of(outcome);
        if (outcome.kind != AccessOutcome::Kind::Oom)
            state.fault_si_code = outcome.si_code;
    }
    std::string what = outcome_text(outcome);
    if (state.fate == ProcessState::Fate::Killed)
        what += ", " + process + " " + fate_text(state);
    if (m_command->failure_expected) {
        report(what);
        return Step::Continue;
    }
    return fail(m_command->verb + " failed: " + what + " (expected success)");
}

Interpreter::Step Interpreter::write_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length)
{
    AccessOutcome outcome;
    if (cmd.fill.kind == Fill::Kind::Byte) {
        outcome = m_kernel->fill_memory(pid, addr, length, cmd.fill.byte);
    } else {
        std::vector<u8> chunk;
        for (u64 done = 0; done < length && outcome.ok(); done += chunk.size()) {
            chunk.resize(std::min(ACCESS_CHUNK, length - done));
            for (u64 i = 0; i < chunk.size(); ++i)
                chunk[i] = cmd.fill.at(done + i);
            outcome = m_kernel->write_memory(pid, addr + done, chunk);
        }
    }
    return access_outcome(cmd.process, outcome, amount(length) + " written");
}

Interpreter::Step Interpreter::read_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length)
{
    AccessOutcome outcome;
    u32 hash = fnv1a(nullptr, 0);
    std::optional<u64> mismatch;
    u8 found = 0;
    std::vector<u8> chunk;
    for (u64 done = 0; done < length && outcome.ok(); done += chunk.size()) {
        chunk.resize(std::min(ACCESS_CHUNK, length - done));
        outcome = m_kernel->read_memory(pid, addr + done, chunk);
        hash = fnv1a(chunk.data(), chunk.size(), hash);
        for (u64 i = 0; cmd.fill.kind != Fill::Kind::None && !mismatch && i < chunk.size(); ++i)
            if (chunk[i] != cmd.fill.at(done + i)) {
                mismatch = done + i;
                found = chunk[i];
            }
    }
    std::string done = amount(length) + " read, checksum " + hex(hash);
    if (length <= PREVIEW_BYTES)
        done += " " + preview(chunk);
    if (outcome.ok() && !cmd.result.empty()) {
        m_regions.erase(cmd.result);
        m_fds.erase(cmd.result);
        m_numbers[cmd.result] = hash;
    }
    Step step = access_outcome(cmd.process, outcome, done);
    if (outcome.ok() && mismatch)
        expectation_failed(m_command->text + ": the byte at offset " + hex(*mismatch) + " is " + hex(found) +
                           ", expected " + hex(cmd.fill.at(*mismatch)));
    return step;
}

Interpreter::Step Interpreter::touch_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length)
{
    AccessOutcome outcome;
    u64 pages = 0;
    u64 sum = 0;
    std::array<u8, 8> bytes{};
    std::span<u8> access(bytes.data(), cmd.touch_size);
    for (u64 page = addr & PAGE_MASK; page < addr + length && outcome.ok(); page += PAGE_SIZE, ++pages) {
        u64 at = std::max(page, addr);
        // Guest memory is little-endian, as RISC-V is.
        for (unsigned i = 0; i < cmd.touch_size; ++i)
            bytes[i] = static_cast<u8>(cmd.touch_value >> (8 * i));
        outcome = cmd.touch_write ? m_kernel->write_memory(pid, at, access)
                                  : m_kernel->read_memory(pid, at, access);
        u64 loaded = 0;
        for (unsigned i = 0; i < cmd.touch_size; ++i)
            loaded |= u64{bytes[i]} << (8 * i);
        sum += outcome.ok() && !cmd.touch_write ? loaded : 0;
    }
    std::string done = std::to_string(pages) + (pages == 1 ? " page" : " pages");
    if (!cmd.result.empty() && outcome.ok()) {
        m_regions.erase(cmd.result);
        m_fds.erase(cmd.result);
        m_numbers[cmd.result] = static_cast<i64>(sum);
        done += ", " + cmd.result + " = " + std::to_string(sum);
    }
    return access_outcome(cmd.process, outcome, done);
}

// ---- Reference strings ------------------------------------------------------------------------

// The faults of a process so far (minflt + majflt, or majflt alone), from /proc/PID/stat.
std::optional<u64> Interpreter::fault_count(Pid pid, bool major_only)
{
    auto text = m_view->file(pid, proc_path(pid, "stat"));
    auto minflt = text.ok() ? stat_field(*text.value, 10) : std::nullopt;
    auto majflt = text.ok() ? stat_field(*text.value, 12) : std::nullopt;
    if (!minflt || !majflt)
        return std::nullopt;
    return static_cast<u64>(*majflt + (major_only ? 0 : *minflt));
}

// The string's pages that are resident, in the policy's order when it keeps one (FIFO, exact
// LRU, CLOCK and OPT's queue: the next it would look at first), else by page number; each with
// its accessed bit.
std::vector<ResidentPage> Interpreter::resident_pages(Pid pid, u64 addr, const std::vector<u64>& pages)
{
    std::vector<u64> distinct = pages;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    std::vector<std::pair<Pfn, ResidentPage>> present;
    Process* process = m_kernel->process(pid);
    if (!process || !process->has_space())
        return {};
    for (u64 page : distinct) {
        u64 pte = process->space().page_table().read(VirtAddr(addr + page * PAGE_SIZE));
        if (pte_present(pte))
            present.emplace_back(pte_pfn(pte), ResidentPage{page, (pte & isa::PTE_A) != 0});
    }
    std::vector<ResidentPage> out;
    if (auto* queue = dynamic_cast<FifoPolicy*>(&m_kernel->mm().reclaimer().policy())) {
        for (Pfn pfn : queue->order())
            for (auto& [p, r] : present)
                if (p == pfn) {
                    out.push_back(r);
                    p = Pfn(~u64{0}); // taken
                }
    }
    for (auto& [p, r] : present)
        if (p != Pfn(~u64{0}))
            out.push_back(r);
    return out;
}

// OPT must know the future: the pages the string will touch, by the identity a resident page's
// frame carries (its AnonVma or file, and page index). A write to a private page makes it
// anonymous, so its owner is the VMA's AnonVma (prepared now, as the first write would);
// a read of a file mapping, or any access to a shared one, finds the file's page cache page.
void Interpreter::tell_opt_future(Pid pid, u64 addr, const ReferenceCmd& cmd)
{
    auto* opt = dynamic_cast<OptPolicy*>(&m_kernel->mm().reclaimer().policy());
    Process* process = m_kernel->process(pid);
    if (!opt || !process)
        return;
    AddressSpace& space = process->space();
    std::vector<PageKey> future;
    for (u64 page : cmd.pages) {
        VirtAddr va(addr + page * PAGE_SIZE);
        Vma* vma = space.vma_containing(va);
        if (!vma) {
            future.push_back(PageKey{});
            continue;
        }
        bool file_page = vma->file && (vma->is_shared() || !cmd.write);
        const void* owner =
            file_page ? static_cast<const void*>(vma->file.get()) : &space.anon_vma_prepare(*vma);
        future.push_back(PageKey{owner, vma->page_index(va)});
    }
    opt->set_future(std::move(future));
}

Interpreter::Step Interpreter::exec(const ReferenceCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    auto addr = pid ? eval_size(cmd.addr.expr, "address") : std::nullopt;
    if (!pid || !addr)
        return Step::Stop;
    if (auto region = m_regions.find(cmd.addr.region); region != m_regions.end())
        for (u64 page : cmd.pages)
            if (page >= region->second.length >> PAGE_SHIFT)
                return fail("page " + std::to_string(page) + " is outside " + cmd.addr.region + " (" +
                            std::to_string(region->second.length >> PAGE_SHIFT) + " pages)");
    tell_opt_future(*pid, *addr, cmd);
    auto before = fault_count(*pid);
    auto major_before = fault_count(*pid, true);
    if (!before || !major_before)
        return fail("cannot read the fault counts of " + cmd.process);
    AccessOutcome outcome;
    std::optional<TextbookTrace> trace;
    if (cmd.trace)
        trace.emplace(cmd.pages, m_kernel->mm().user_frame_limit(),
                      m_kernel->mm().reclaimer().policy().name());
    for (u64 t = 0; t < cmd.pages.size(); ++t) {
        u8 byte = 0;
        u64 at = *addr + cmd.pages[t] * PAGE_SIZE;
        auto faults = trace ? fault_count(*pid) : std::nullopt;
        auto major = trace ? fault_count(*pid, true) : std::nullopt;
        std::vector<ResidentPage> before =
            trace ? resident_pages(*pid, *addr, cmd.pages) : std::vector<ResidentPage>{};
        outcome = cmd.write ? m_kernel->write_memory(*pid, at, {&byte, 1})
                            : m_kernel->read_memory(*pid, at, {&byte, 1});
        if (!outcome.ok())
            break;
        if (!trace)
            continue;
        RefOutcome what = fault_count(*pid) == faults        ? RefOutcome::Hit
                          : fault_count(*pid, true) != major ? RefOutcome::SwappedIn
                                                             : RefOutcome::Fault;
        const TraceRow& row = trace->record(t, what, before, resident_pages(*pid, *addr, cmd.pages));
        if (m_options.on_trace_row)
            m_options.on_trace_row(row);
    }
    std::string done = std::to_string(cmd.pages.size()) + " references";
    if (outcome.ok()) {
        u64 taken = fault_count(*pid).value_or(*before) - *before;
        u64 major = fault_count(*pid, true).value_or(*major_before) - *major_before;
        done += ", " + std::to_string(taken) + " faults (" + std::to_string(major) + " major)";
        if (!cmd.result.empty()) {
            m_regions.erase(cmd.result);
            m_fds.erase(cmd.result);
            m_numbers[cmd.result] = static_cast<i64>(taken);
        }
    }
    Step step = access_outcome(cmd.process, outcome, done);
    if (trace)
        m_out << trace->table();
    return step;
}

Interpreter::Step Interpreter::exec(const CompareCmd& cmd)
{
    // Each run is a machine of its own; the table has a row per policy, a column per frame count.
    std::vector<std::vector<u64>> faults(cmd.policies.size(), std::vector<u64>(cmd.frames.size()));
    for (size_t p = 0; p < cmd.policies.size(); ++p)
        for (size_t f = 0; f < cmd.frames.size(); ++f) {
            std::string error;
            auto rows = replay(cmd.pages, cmd.policies[p], cmd.frames[f], cmd.write, error);
            if (rows.empty())
                return fail(error);
            for (const TraceRow& row : rows)
                faults[p][f] += row.outcome != RefOutcome::Hit;
        }
    call_ok();
    report(std::to_string(cmd.pages.size()) + " references");
    // The header message is "first column|other columns", the latter with the frame count.
    std::vector<std::vector<std::string>> table{{text::parts(text::say(text::Msg::CompareHeader, {""}))[0]}};
    for (u64 n : cmd.frames)
        table[0].push_back(text::parts(text::say(text::Msg::CompareHeader, {std::to_string(n)}))[1]);
    for (size_t p = 0; p < cmd.policies.size(); ++p) {
        table.push_back({cmd.policies[p]});
        for (u64 n : faults[p])
            table.back().push_back(std::to_string(n));
    }
    m_out << text::columns(table, 1);
    if (std::find(cmd.policies.begin(), cmd.policies.end(), "lru") != cmd.policies.end())
        m_out << "  " << text::say(text::Msg::CompareLinuxLru) << "\n";
    // Belady's anomaly: more frames, more faults.
    for (size_t p = 0; p < cmd.policies.size(); ++p)
        for (size_t a = 0; a < cmd.frames.size(); ++a)
            for (size_t b = 0; b < cmd.frames.size(); ++b)
                if (cmd.frames[a] < cmd.frames[b] && faults[p][a] < faults[p][b])
                    m_out << "  "
                          << text::say(text::Msg::CompareAnomaly,
                                       {cmd.policies[p], std::to_string(cmd.frames[a]),
                                        std::to_string(faults[p][a]), std::to_string(cmd.frames[b]),
                                        std::to_string(faults[p][b])})
                          << "\n";
    return Step::Continue;
}

// ---- Files ------------------------------------------------------------------------------------

Interpreter::Step Interpreter::exec(const FileCmd& cmd)
{
    std::optional<u64> size = cmd.fill.kind == Fill::Kind::Text ? cmd.fill.text.size() : 0;
    if (cmd.size)
        size = eval_size(*cmd.size, "size");
    if (!size)
        return Step::Stop;
    std::vector<u8> contents(*size);
    for (u64 i = 0; i < contents.size(); ++i)
        contents[i] = cmd.fill.at(i);
    auto result = m_kernel->create_file(cmd.path, contents);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report(amount(*size));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const OpenCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto fd = m_kernel->open(*pid, cmd.path, cmd.flags);
    if (fd.is_error())
        return call_error(fd.error());
    call_ok();
    m_numbers.erase(cmd.fd);
    m_regions.erase(cmd.fd);
    m_fds[cmd.fd] = fd.value();
    report("fd " + std::to_string(fd.value()));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const FileIoCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto fd = m_fds.find(cmd.fd);
    if (fd == m_fds.end())
        return fail("'" + cmd.fd + "' has no value (its open did not succeed)");
    Result<u64> count = u64{0};
    if (cmd.op == FileIoCmd::Op::Read || cmd.op == FileIoCmd::Op::Write) {
        auto buffer = eval_size(cmd.buffer->expr, "address");
        auto length = buffer ? length_of(*cmd.buffer, cmd.length) : std::nullopt;
        auto offset = length && cmd.offset ? eval_size(*cmd.offset, "offset") : std::optional<u64>(0);
        if (!buffer || !length || !offset)
            return Step::Stop;
        bool read = cmd.op == FileIoCmd::Op::Read;
        if (cmd.offset)
            count = read ? m_kernel->pread(*pid, fd->second, *buffer, *length, *offset)
                         : m_kernel->pwrite(*pid, fd->second, *buffer, *length, *offset);
        else
            count = read ? m_kernel->read(*pid, fd->second, *buffer, *length)
                         : m_kernel->write(*pid, fd->second, *buffer, *length);
    } else {
        Result<void> done;
        if (cmd.op == FileIoCmd::Op::Close) {
            done = m_kernel->close(*pid, fd->second);
        } else if (cmd.op == FileIoCmd::Op::Fsync) {
            done = m_kernel->fsync(*pid, fd->second);
        } else {
            auto length = eval_size(*cmd.length, "length");
            if (!length)
                return Step::Stop;
            done = m_kernel->ftruncate(*pid, fd->second, *length);
        }
        if (done.is_error())
            count = done.error();
    }
    if (count.is_error())
        return call_error(count.error());
    call_ok();
    if (!cmd.result.empty())
        m_numbers[cmd.result] = static_cast<i64>(count.value());
    bool transfer = cmd.op == FileIoCmd::Op::Read || cmd.op == FileIoCmd::Op::Write;
    report(transfer ? std::to_string(count.value()) + " bytes" : "ok");
    return Step::Continue;
}

// ---- Views, text and variables ----------------------------------------------------------------

Interpreter::Step Interpreter::exec(const ShowCmd& cmd)
{
    Pid pid = 0;
    if (!cmd.process.empty()) {
        auto live = live_pid(cmd.process);
        if (!live)
            return Step::Stop;
        pid = *live;
    }
    std::optional<u64> addr;
    u64 length = 0;
    if (cmd.addr) {
        addr = eval_size(cmd.addr->expr, "address");
        auto len = addr && cmd.what == ShowCmd::What::Pagemap ? length_of(*cmd.addr, cmd.length)
                                                              : std::optional<u64>(0);
        if (!addr || !len)
            return Step::Stop;
        length = *len;
    }
    auto text =
        cmd.json ? m_view->json(cmd.what, pid, addr, length) : m_view->view(cmd.what, pid, addr, length);
    if (!text.ok())
        return fail(text.error);
    report("");
    std::string shown = *text.value;
    if (!cmd.only.empty()) {
        // The lines that begin with one of the names (the field names of /proc files).
        std::istringstream lines(shown);
        shown.clear();
        for (std::string line; std::getline(lines, line);)
            for (const std::string& name : cmd.only)
                if (line.rfind(name, 0) == 0) {
                    shown += line + "\n";
                    break;
                }
    }
    m_out << shown;
    if (!shown.empty() && shown.back() != '\n')
        m_out << "\n";
    if (cmd.what == ShowCmd::What::Physmap && !cmd.json && !m_options.pictures_dir.empty())
        return draw_physmap(*text.value);
    return Step::Continue;
}

// --pictures DIR: the physmap just shown, drawn (front/PhysmapPicture.h), as
// DIR/SCENARIO-physmap-N.svg, N counting the pictures of the run from 1.
Interpreter::Step Interpreter::draw_physmap(const std::string& physmap_text)
{
    std::string name = std::filesystem::path(m_script.name).stem().string();
    std::string path =
        m_options.pictures_dir + "/" + name + "-physmap-" + std::to_string(++m_pictures) + ".svg";
    std::string error;
    std::string svg = physmap_svg(physmap_text, name + ", picture " + std::to_string(m_pictures), error);
    std::ofstream file(path, std::ios::out | std::ios::trunc);
    file << svg;
    file.close();
    if (!error.empty() || !file)
        return fail("cannot draw the physmap to " + path + (error.empty() ? "" : ": " + error));
    m_out << "picture: " << path << "\n";
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const EchoCmd& cmd)
{
    m_out << cmd.text << "\n";
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const PrintCmd& cmd)
{
    std::string line;
    for (const auto& piece : cmd.pieces) {
        line += piece.literal;
        if (!piece.expr)
            continue;
        auto text = placeholder_text(*piece.expr);
        if (!text)
            return Step::Stop;
        line += *text;
    }
    m_out << line << "\n";
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const LetCmd& cmd)
{
    auto v = eval(cmd.value);
    if (!v)
        return Step::Stop;
    m_regions.erase(cmd.name);
    m_fds.erase(cmd.name);
    m_numbers[cmd.name] = *v;
    report(cmd.name + " = " + std::to_string(*v));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const SysctlCmd& cmd)
{
    auto result = m_kernel->write_proc(m_view->machine_viewer(), "/proc/sys/" + cmd.path, cmd.value);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const PolicyCmd& cmd)
{
    if (m_kernel->set_replacement_policy(cmd.name).is_error())
        return fail("unknown replacement policy '" + cmd.name +
                    "' (lru, clock, fifo, s3fifo, exact-lru, opt)");
    if (cmd.frames)
        set_frame_limit(*cmd.frames);
    report("ok");
    return Step::Continue;
}

void Interpreter::set_frame_limit(u64 frames)
{
    // The textbook model counts one page in per fault: swap readahead, which would bring
    // neighbours into the frames too, is turned off (vm.page-cluster=0), and a machine without
    // swap is told that its anonymous pages have nowhere to go.
    m_kernel->mm().set_user_frame_limit(frames);
    m_kernel->mm().sysctl().page_cluster = 0;
    if (m_kernel->mm().total_swap_pages() == 0 && !m_warned_frames_without_swap) {
        m_warned_frames_without_swap = true;
        m_err << printable(m_script.name) << ":" << m_command->line
              << ": note: frames=N without swap: anonymous pages cannot be evicted, so a fault past "
                 "the limit is out of memory (add swap=SIZE to the machine line)\n";
    }
}

namespace {

constexpr int PR_SET_THP_DISABLE_ = 41;
constexpr int PR_GET_THP_DISABLE_ = 42;

// prctl's memory options, with the argument checks of kernel/sys.c: unused arguments must be 0.
Result<i64> prctl_call(Process& process, const PrctlCmd& cmd)
{
    const auto& a = cmd.args;
    if (!process.has_space())
        return Error::from_errno(EINVAL);
    switch (cmd.option) {
    case PR_SET_THP_DISABLE_:
        if (a[1] || a[2] || a[3])
            return Error::from_errno(EINVAL);
        process.space().set_thp_disabled(a[0] != 0);
        return 0;
    case PR_GET_THP_DISABLE_:
        if (a[0] || a[1] || a[2] || a[3])
            return Error::from_errno(EINVAL);
        return process.space().thp_disabled() ? 1 : 0;
    default: return Error::from_errno(EINVAL);
    }
}

} // namespace

Interpreter::Step Interpreter::exec(const PrctlCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto value = prctl_call(*m_kernel->process(*pid), cmd);
    if (value.is_error())
        return call_error(value.error());
    call_ok();
    std::string done = std::to_string(value.value());
    if (!cmd.result.empty()) {
        m_regions.erase(cmd.result);
        m_fds.erase(cmd.result);
        m_numbers[cmd.result] = value.value();
        done += ", " + cmd.result + " = " + std::to_string(value.value());
    }
    report(done);
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const SwapCmd& cmd)
{
    auto result = cmd.on ? m_kernel->swapon(cmd.bytes, cmd.priority) : m_kernel->swapoff(cmd.name);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const SleepCmd& cmd)
{
    auto result = m_kernel->sleep(cmd.ns);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const SyncCmd&)
{
    auto result = m_kernel->sync();
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ProcWriteCmd& cmd)
{
    auto pid = live_pid(cmd.process);
    if (!pid)
        return Step::Stop;
    auto result = m_kernel->write_proc(*pid, proc_path(*pid, cmd.file.c_str()), cmd.value);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const CgroupCmd& cmd)
{
    const std::string root(Cgroups::MOUNT);
    const std::string dir = root + "/" + cmd.group;
    Pid viewer = m_view->machine_viewer();
    Result<void> result;
    switch (cmd.kind) {
    case CgroupCmd::Kind::Create: {
        // The parent gives its children the memory controller first (echo +memory > ...).
        size_t slash = cmd.group.rfind('/');
        std::string parent = slash == std::string::npos ? root : root + "/" + cmd.group.substr(0, slash);
        auto control = m_kernel->read_proc(viewer, parent + "/cgroup.subtree_control");
        if (!control.is_error() && control.value().find("memory") == std::string::npos)
            result = m_kernel->write_proc(viewer, parent + "/cgroup.subtree_control", "+memory");
        if (!result.is_error())
            result = m_kernel->cgroups().mkdir(cmd.group);
        break;
    }
    case CgroupCmd::Kind::Attach: {
        auto pid = live_pid(cmd.process);
        if (!pid)
            return Step::Stop;
        result = m_kernel->write_proc(*pid, dir + "/cgroup.procs", std::to_string(*pid));
        break;
    }
    case CgroupCmd::Kind::Remove: result = m_kernel->cgroups().rmdir(cmd.group); break;
    case CgroupCmd::Kind::Set: break;
    }
    for (size_t i = 0; !result.is_error() && i < cmd.settings.size(); ++i)
        result = m_kernel->write_proc(viewer, dir + "/" + cmd.settings[i].first, cmd.settings[i].second);
    if (result.is_error())
        return call_error(result.error());
    call_ok();
    report("ok");
    return Step::Continue;
}

// ---- Expectations -----------------------------------------------------------------------------

Interpreter::Step Interpreter::exec(const ExpectPanicCmd&)
{
    if (m_kernel->panicked())
        expectation_held();
    else
        expectation_failed("the kernel has not panicked");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ExpectCompareCmd& cmd)
{
    auto lhs = eval(cmd.lhs);
    auto rhs = lhs ? eval(cmd.rhs) : std::nullopt;
    if (!lhs || !rhs)
        return Step::Stop;
    if (compare(*lhs, cmd.op, *rhs)) {
        expectation_held();
        return Step::Continue;
    }
    expectation_failed(cmd.lhs.text + " " + compare_text(cmd.op) + " " + cmd.rhs.text + " (left " +
                       std::to_string(*lhs) + ", right " + std::to_string(*rhs) + ")");
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ExpectStateCmd& cmd)
{
    const ProcessState* found = process_state(cmd.process);
    if (!found)
        return Step::Stop;
    const ProcessState& state = *found;
    using State = ExpectStateCmd::State;
    using Fate = ProcessState::Fate;
    bool held = false;
    std::string wanted;
    switch (cmd.state) {
    case State::Alive:
        held = state.fate == Fate::Alive;
        wanted = "alive";
        break;
    case State::Exited:
        held = state.fate == Fate::Exited && (!cmd.code || *cmd.code == state.code);
        wanted = "exited" + (cmd.code ? " with status " + std::to_string(*cmd.code) : std::string());
        break;
    case State::Killed:
        held = state.fate == Fate::Killed && (!cmd.code || *cmd.code == state.code) &&
               (!cmd.si_code || cmd.si_code == state.fault_si_code);
        wanted = cmd.code ? killed_text(*cmd.code, cmd.si_code) : "killed";
        break;
    }
    if (held)
        expectation_held();
    else
        expectation_failed(cmd.process + " " + wanted + ", but it is " + fate_text(state));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ExpectLastCmd& cmd)
{
    if (!m_last_access)
        return fail("no memory access has run yet");
    const AccessOutcome& outcome = m_last_access->outcome;
    std::string wanted = "ok";
    bool held = cmd.signal ? signal_of(outcome) == *cmd.signal && outcome.kind != AccessOutcome::Kind::Oom
                           : outcome.ok();
    if (cmd.signal) {
        wanted = signal_name(*cmd.signal);
        if (cmd.si_code) {
            wanted += " (" + si_code_name(*cmd.signal, *cmd.si_code) + ")";
            held = held && outcome.si_code == *cmd.si_code;
        }
    }
    if (cmd.addr) {
        auto addr = eval_size(*cmd.addr, "address");
        if (!addr)
            return Step::Stop;
        wanted += " at " + hex(*addr);
        held = held && outcome.fault_addr == *addr;
    }
    if (held)
        expectation_held();
    else
        expectation_failed("the last access: expected " + wanted + ", but it was " +
                           (outcome.ok() ? std::string("ok") : outcome_text(outcome)));
    return Step::Continue;
}

Interpreter::Step Interpreter::exec(const ExpectErrorCmd& cmd)
{
    if (!m_last_errno)
        expectation_failed("expected error " + errno_name(cmd.error) + ", but the call succeeded");
    else if (*m_last_errno != cmd.error)
        expectation_failed("expected error " + errno_name(cmd.error) + ", but it was " +
                           errno_name(*m_last_errno));
    else
        expectation_held();
    return Step::Continue;
}

} // namespace kioku::scenario
