#include "front/RunCommand.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "base/Json.h"
#include "base/Number.h"
#include "base/Size.h"
#include "front/CommandLine.h"
#include "front/PhysmapPicture.h"
#include "front/RunEvents.h"
#include "front/RunOracle.h"
#include "front/RunRefs.h"
#include "front/RunReport.h"
#include "front/RunSampler.h"
#include "front/RunTop.h"
#include "kernel/Cgroups.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Vfs.h"
#include "mm/MemoryManager.h"
#include "mm/core/Memcg.h"

extern char** environ;

namespace kioku {

namespace {

constexpr int EXIT_USAGE = 2;
constexpr int EXIT_NOT_OPT = 125; // --policy opt left the recorded references
constexpr int EXIT_CANNOT_EXECUTE = 126;
constexpr int EXIT_NOT_FOUND = 127;

// One --swap SIZE[:PRIO].
struct SwapOption {
    u64 bytes = 0;
    std::optional<int> priority; // nullopt: Linux's default -2, -3, ...
};

struct RunCommandOptions {
    RunOptions run;
    std::vector<std::pair<std::string, std::string>> sysctls; // vm.NAME or kernel.NAME, VALUE
    bool stats = false;
    bool dmesg = false;
    std::string trace;     // --trace FILE
    std::string state_log; // --state-log FILE
    std::vector<SwapOption> swaps;
    bool swap_in_memory = false; // --swap-memory: the areas are memory-backed, not host files
    std::vector<std::string> command;
    std::string policy;  // --policy: the replacement policy, empty for Linux's
    std::string sysroot; // --sysroot: where the shared libraries of a dynamic program come from
    std::string report;  // --report FILE: the run's JSON report
    std::string events;  // --events FILE.csv: one row per page event
    std::string refs;    // --trace-refs FILE.csv: the page reference stream
    std::string future;  // --future FILE.csv: the stream OPT reads ahead in
    std::string physmap; // --physmap FILE.svg: physical memory when the program exits, drawn
    bool strace = false; // --strace[=FILE]: a line per system call, on stderr or to FILE
    std::string strace_file;
    bool top = false; // --top[=FILE]: the live view, on the terminal or to FILE
    std::string top_file;
    u64 sample_ns = 0; // --sample INTERVAL[:FILE]: the timeline's interval (0: none) and file
    std::string sample_file;
};

// The run's options as the report's "config" object (docs/run-report.md).
std::string config_json(const RunCommandOptions& o)
{
    JsonWriter w;
    w.open('{');
    w.key("command");
    w.open('[');
    for (const std::string& arg : o.command)
        w.string(arg);
    w.close(']');
    w.key("mem_bytes");
    w.number(o.run.machine.mem_bytes);
    w.key("swap");
    w.open('[');
    for (const SwapOption& swap : o.swaps) {
        w.open('{');
        w.key("bytes");
        w.number(swap.bytes);
        w.key("priority");
        if (swap.priority)
            w.number(static_cast<u64>(*swap.priority));
        else
            w.null();
        w.close('}');
    }
    w.close(']');
    w.key("swap_in_memory");
    w.boolean(o.swap_in_memory);
    w.key("policy");
    w.string(o.policy.empty() ? "lru" : o.policy);
    w.key("paging");
    w.string(o.run.machine.paging == isa::SatpMode::Sv39 ? "sv39" : "sv48");
    w.key("seed");
    w.number(o.run.machine.seed);
    w.key("sysctl");
    w.open('{');
    for (auto& [name, value] : o.sysctls) {
        w.key(name);
        w.string(value);
    }
    w.close('}');
    w.key("cgroup");
    if (o.run.cgroup) {
        w.open('{');
        for (auto& [file, value] : *o.run.cgroup) {
            w.key(file);
            w.string(value);
        }
        w.close('}');
    } else {
        w.null();
    }
    w.key("max_instructions");
    w.number(o.run.max_instructions);
    w.key("time_limit_ns");
    w.number(o.run.max_simulated_ns);
    w.key("no_init");
    w.boolean(o.run.program_is_init);
    w.key("check");
    w.boolean(o.run.machine.check_invariants);
    w.key("disk_limit");
    w.number(o.run.machine.disk_limit);
    w.close('}');
    return w.take();
}

// Parses SIZE[:PRIO]; returns false when malformed.
// --cgroup FILE=VALUE[,FILE=VALUE...]: the memory.* settings of the run's group, checked here so
// that a mistake is a usage error rather than a failed start. Returns an error message, or empty.
std::string parse_cgroup_option(const std::string& text,
                                std::optional<std::vector<std::pair<std::string, std::string>>>& out)
{
    auto& settings = out ? *out : out.emplace();
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, comma - start);
        start = comma + 1;
        size_t eq = item.find('=');
        std::string file = item.substr(0, eq);
        std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (eq == std::string::npos || value.empty())
            return "--cgroup takes FILE=VALUE[,FILE=VALUE...], e.g. memory.max=256M";
        if (file == "memory.oom.group") {
            if (value != "0" && value != "1")
                return "--cgroup: memory.oom.group takes 0 or 1";
        } else if (file == "memory.max" || file == "memory.swap.max" || file == "memory.high" ||
                   file == "memory.low" || file == "memory.min") {
            if (value != "max" && !parse_size(value))
                return "--cgroup: " + file + " takes a size (e.g. 256M) or max, not '" + value + "'";
        } else {
            return "--cgroup: '" + file +
                   "' is not a setting kioku enforces (memory.max, memory.high, memory.low, memory.min, "
                   "memory.swap.max, memory.oom.group)";
        }
        settings.emplace_back(file, value);
    }
    return {};
}

bool parse_swap(const std::string& text, SwapOption& out)
{
    size_t colon = text.find(':');
    auto size = parse_size(text.substr(0, colon));
    if (!size || *size < 2 * 4096 || *size % 4096)
        return false;
    out.bytes = *size;
    if (colon == std::string::npos)
        return true;
    std::string prio = text.substr(colon + 1);
    if (prio.empty() || prio.size() > 5 || prio.find_first_not_of("0123456789") != std::string::npos)
        return false;
    out.priority = static_cast<int>(*parse_u64(prio)); // five digits at most, checked above
    return *out.priority <= 32767;
}

// A count with an optional decimal suffix: 500000, 500K, 500M, 5G (powers of 1000).
std::optional<u64> parse_count(const std::string& text)
{
    u64 multiplier = 1;
    std::string digits = text;
    if (!digits.empty() && std::string("KMG").find(digits.back()) != std::string::npos) {
        multiplier = digits.back() == 'K' ? 1000 : digits.back() == 'M' ? 1000000 : 1000000000;
        digits.pop_back();
    }
    if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    u64 n = *parse_u64(digits); // nineteen digits at most, checked above
    u64 out;
    if (__builtin_mul_overflow(n, multiplier, &out))
        return std::nullopt;
    return out;
}

// A simulated duration: a whole number and one of ns, us, ms, s, m, h. In nanoseconds.
std::optional<u64> parse_duration(const std::string& text)
{
    static const std::pair<const char*, u64> UNITS[] = {{"ns", 1},          {"us", 1000},
                                                        {"ms", 1000000},    {"s", 1000000000},
                                                        {"m", 60000000000}, {"h", 3600000000000}};
    size_t digits = text.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string::npos || digits > 19)
        return std::nullopt;
    std::string unit = text.substr(digits);
    for (auto& [name, ns] : UNITS) {
        u64 out;
        if (unit == name &&
            !__builtin_mul_overflow(*parse_u64(std::string_view(text).substr(0, digits)), ns, &out))
            return out;
    }
    return std::nullopt;
}

// A directory of the run for its swap files, removed with everything in it when the run ends.
class RunDirectory {
  public:
    RunDirectory() = default;
    RunDirectory(const RunDirectory&) = delete;
    RunDirectory& operator=(const RunDirectory&) = delete;
    ~RunDirectory()
    {
        std::error_code ec;
        if (!m_path.empty())
            std::filesystem::remove_all(m_path, ec);
    }
    // The directory, created on first use; empty when it cannot be made.
    const std::string& path()
    {
        if (m_path.empty()) {
            std::error_code ec;
            auto tmp = std::filesystem::temp_directory_path(ec); // $TMPDIR, or /tmp
            if (ec)
                return m_path;
            std::string pattern = (tmp / "kioku-run-XXXXXX").string();
            if (::mkdtemp(pattern.data()))
                m_path = pattern;
        }
        return m_path;
    }

  private:
    std::string m_path;
};

// Returns an error message, or empty.
std::string parse(int argc, char** argv, RunCommandOptions& o)
{
    CommandLine cli;
    auto keep = [](std::string& field) {
        return [&field](const std::string& v) {
            field = v;
            return std::string();
        };
    };
    cli.option("--swap", [&](const std::string& v) {
        SwapOption swap;
        if (!parse_swap(v, swap))
            return "bad swap '" + v + "' (SIZE[:PRIO]: a multiple of 4K of at least 8K, e.g. 256M or 256M:5)";
        o.swaps.push_back(swap);
        return std::string();
    });
    cli.flag("--swap-memory", [&] { o.swap_in_memory = true; });
    cli.flag("--dmesg", [&] { o.dmesg = true; });
    cli.option("--trace", keep(o.trace));
    cli.option("--state-log", keep(o.state_log));
    cli.option("--mem", [&](const std::string& v) { return parse_mem_option(v, o.run.machine.mem_bytes); });
    cli.option("--sysctl", [&](const std::string& v) {
        auto eq = v.find('=');
        bool known = v.rfind("vm.", 0) == 0 || v.rfind("kernel.", 0) == 0;
        if (!known || eq == std::string::npos)
            return std::string("--sysctl takes vm.NAME=VALUE or kernel.NAME=VALUE");
        o.sysctls.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        return std::string();
    });
    cli.option("--cgroup", [&](const std::string& v) { return parse_cgroup_option(v, o.run.cgroup); });
    cli.option("--root", keep(o.run.machine.root_dir));
    cli.option("--sysroot", [&](const std::string& v) {
        std::error_code ec;
        if (!std::filesystem::is_directory(v, ec))
            return "--sysroot: " + v + " is not a directory";
        o.sysroot = v;
        return std::string();
    });
    cli.option("--disk-limit", [&](const std::string& v) {
        auto size = parse_size(v);
        if (!size || *size == 0)
            return "bad disk limit '" + v + "' (a size, e.g. 100M)";
        o.run.machine.disk_limit = *size;
        return std::string();
    });
    cli.option("--seed", [&](const std::string& v) {
        // Decimal, or hexadecimal after 0x.
        auto seed = v.starts_with("0x") || v.starts_with("0X") ? parse_u64(std::string_view(v).substr(2), 16)
                                                               : parse_u64(v);
        if (!seed)
            return "bad seed '" + v + "' (a number, e.g. 42 or 0x2a)";
        o.run.machine.seed = *seed;
        return std::string();
    });
    cli.option("--paging",
               [&](const std::string& v) { return parse_paging_option(v, o.run.machine.paging); });
    // An instruction count: a positive number, with an example for the message.
    auto instruction_count = [](u64& out, const char* example) {
        return [&out, example](const std::string& v) {
            auto n = parse_count(v);
            if (!n || *n == 0)
                return "bad instruction count '" + v + "' (a positive number, e.g. " + example + ")";
            out = *n;
            return std::string();
        };
    };
    cli.option("--max-instructions", instruction_count(o.run.max_instructions, "500000000 or 500M"));
    cli.option("--slice", instruction_count(o.run.slice_instructions, "100000 or 100K"));
    cli.option("--time-limit", [&](const std::string& v) {
        auto ns = parse_duration(v);
        if (!ns || *ns == 0)
            return "bad duration '" + v + "' (simulated time: a number and ns, us, ms, s, m or h, e.g. 10s)";
        o.run.max_simulated_ns = *ns;
        return std::string();
    });
    cli.option("--policy", [&](const std::string& v) {
        if (v != "lru" && v != "clock" && v != "fifo" && v != "s3fifo" && v != "exact-lru" && v != "opt")
            return "unknown replacement policy '" + v + "' (lru, clock, fifo, s3fifo, exact-lru, opt)";
        o.policy = v;
        return std::string();
    });
    cli.flag("--stats", [&] { o.stats = true; });
    cli.option("--sample", [&](const std::string& v) {
        size_t colon = v.find(':');
        auto ns = parse_duration(v.substr(0, colon));
        if (!ns || *ns == 0 || (colon != std::string::npos && colon + 1 == v.size()))
            return "bad --sample '" + v + "' (INTERVAL[:FILE], simulated time, e.g. 10ms or 10ms:run.jsonl)";
        o.sample_ns = *ns;
        o.sample_file = colon == std::string::npos ? "kioku-sample.jsonl" : v.substr(colon + 1);
        return std::string();
    });
    cli.optional("--top", [&](const std::string& v) {
        o.top = true;
        o.top_file = v;
        return std::string();
    });
    cli.optional("--strace", [&](const std::string& v) {
        o.strace = true;
        o.strace_file = v;
        return std::string();
    });
    cli.option("--trace-refs", [&](const std::string& v) {
        if (v.empty())
            return std::string("--trace-refs takes a file name");
        o.refs = v;
        return std::string();
    });
    cli.option("--disk", [&](const std::string& v) {
        if (v.empty())
            return std::string("--disk takes a host image file");
        o.run.machine.disk_image = v;
        return std::string();
    });
    cli.option("--physmap", [&](const std::string& v) {
        if (v.empty())
            return std::string("--physmap takes a file name");
        o.physmap = v;
        return std::string();
    });
    cli.option("--future", [&](const std::string& v) {
        if (v.empty())
            return std::string("--future takes a file name");
        o.future = v;
        return std::string();
    });
    cli.option("--events", [&](const std::string& v) {
        if (v.empty())
            return std::string("--events takes a file name");
        o.events = v;
        return std::string();
    });
    cli.option("--report", [&](const std::string& v) {
        if (v.empty())
            return std::string("--report takes a file name");
        o.report = v;
        return std::string();
    });
    cli.flag("--no-init", [&] { o.run.program_is_init = true; });
    cli.flag("--check", [&] { o.run.machine.check_invariants = true; });
    cli.flag("--interpret", [&] { o.run.interpret = true; });
    if (auto error = cli.parse({argv, argv + argc}, CommandLine::Operands::Trailing, o.command);
        !error.empty())
        return error;
    if (o.command.empty())
        return "run needs a program: kioku run [options] -- PROGRAM [ARGS...]";
    if (!o.sysroot.empty() && !o.run.machine.root_dir.empty())
        return "--sysroot fills the run's own temporary root; with --root, put the libraries in DIR";
    // OPT needs the future: the reference stream of an earlier run of the same command.
    if (o.policy == "opt" && o.future.empty())
        return "--policy opt reads ahead in a recorded reference stream: run the program once with "
               "--trace-refs FILE.csv, then again with --policy opt --future FILE.csv";
    if (!o.future.empty() && o.policy != "opt")
        return "--future is the stream --policy opt reads ahead in";
    return {};
}

// --physmap: /proc/kioku/physmap when the program's thread group ends, its memory still mapped
// (or when the run ends, if it never did), drawn as SVG at the end.
class PhysmapAtExit final : public RunObserver {
  public:
    explicit PhysmapAtExit(Runner& runner)
        : m_runner(runner)
    {
    }
    void process_exit(const ThreadGroup&, Process& process) override
    {
        if (process.pid() == m_runner.first_pid() && m_text.empty())
            take();
    }
    // The SVG, or empty with `error` set.
    std::string finish(std::string& error)
    {
        if (m_text.empty())
            take();
        return physmap_svg(m_text, "physical memory when the program exited", error);
    }

  private:
    void take()
    {
        auto text = m_runner.kernel().read_proc(0, "/proc/kioku/physmap");
        m_text = text.is_error() ? std::string() : text.value();
    }
    Runner& m_runner;
    std::string m_text;
};

bool is_shared_object_name(const std::string& name)
{
    size_t so = name.find(".so");
    return so != std::string::npos && so > 0 && (so + 3 == name.size() || name[so + 3] == '.');
}

// Makes the guest root a sysroot's runtime, as qemu-riscv64 -L DIR finds it: every shared object
// of DIR (the dynamic loader, libc.so.6, ... : files named *.so or *.so.*, and the symbolic links
// among them) is copied to the same place in the root, through the Vfs as the staged program is.
// Headers (include/), static archives and the host tools a cross toolchain keeps there are left
// out. Returns an error message, or empty.
std::string install_sysroot(Kernel& kernel, const std::string& sysroot)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path base = fs::absolute(sysroot, ec);
    auto it = fs::recursive_directory_iterator(base, fs::directory_options::none, ec);
    if (ec)
        return "cannot read " + sysroot + ": " + ec.message();
    std::vector<std::pair<std::string, std::string>> links; // guest path, target
    size_t copied = 0;
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            return "cannot read " + sysroot + ": " + ec.message();
        const fs::directory_entry& entry = *it;
        std::string name = entry.path().filename().string();
        if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
            if (it.depth() == 0 && (name == "include" || name == "bin"))
                it.disable_recursion_pending();
            continue;
        }
        if (!is_shared_object_name(name))
            continue;
        std::string guest = "/" + fs::relative(entry.path(), base, ec).generic_string();
        if (entry.is_symlink(ec)) {
            links.emplace_back(guest, fs::read_symlink(entry.path(), ec).string());
            continue;
        }
        if (!entry.is_regular_file(ec))
            continue;
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) != 0)
            continue;
        auto r = kernel.vfs().install_copy(entry.path().string(), guest, st.st_mode & 07777);
        if (r.is_error())
            return "cannot copy " + entry.path().string() +
                   " into the guest root: " + std::strerror(r.error().code);
        ++copied;
    }
    for (auto& [guest, target] : links) {
        auto r = kernel.vfs().symlink(target, guest);
        if (r.is_error() && r.error().code != EEXIST)
            return "cannot link " + guest + " in the guest root: " + std::strerror(r.error().code);
    }
    if (copied == 0)
        return sysroot + " holds no shared objects (*.so*)";
    return {};
}

// The program of the run, inside the guest root. A path that names a regular file inside a given
// root (--root) is used where it is; any other program is copied to /bin/NAME in the root (a copy,
// so that a guest writing to it never reaches the host's program) and the copy is removed when the
// run ends.
class StagedProgram {
  public:
    StagedProgram(const StagedProgram&) = delete;
    StagedProgram& operator=(const StagedProgram&) = delete;
    ~StagedProgram()
    {
        if (m_copied)
            (void)m_kernel.vfs().unlink(m_guest_path);
    }

    static std::unique_ptr<StagedProgram> stage(Kernel& kernel, const std::string& program, std::ostream& err)
    {
        if (!kernel.config().root_dir.empty() && !program.empty() && program[0] == '/') {
            auto st = kernel.vfs().stat(program, Follow::Yes);
            if (!st.is_error() && S_ISREG(st.value().st_mode))
                return std::unique_ptr<StagedProgram>(new StagedProgram(kernel, program, false));
        }
        std::error_code ec;
        if (!std::filesystem::exists(program, ec)) {
            err << "kioku: " << program << ": No such file or directory\n";
            return nullptr;
        }
        std::string guest = "/bin/" + std::filesystem::path(program).filename().string();
        auto copied = kernel.vfs().install_copy(program, guest, 0755);
        if (copied.is_error()) {
            err << "kioku: cannot place " << program
                << " in the guest root: " << std::strerror(copied.error().code) << "\n";
            return nullptr;
        }
        return std::unique_ptr<StagedProgram>(new StagedProgram(kernel, guest, true));
    }

    const std::string& guest_path() const { return m_guest_path; }

  private:
    StagedProgram(Kernel& kernel, std::string guest_path, bool copied)
        : m_kernel(kernel)
        , m_guest_path(std::move(guest_path))
        , m_copied(copied)
    {
    }

    Kernel& m_kernel;
    std::string m_guest_path;
    bool m_copied;
};

void print_stats(const RunStats& s, Kernel& kernel, std::ostream& err)
{
    const VmStat& vm = kernel.mm().vmstat();
    PsiGroup& psi = kernel.cgroups().root().psi;
    psi.update(kernel.now_ns());
    err << "kioku: instructions " << s.instructions << "\n"
        << "kioku: system calls " << s.syscalls << "\n"
        << "kioku: page faults " << s.minor_faults + s.major_faults << " (minor " << s.minor_faults
        << ", major " << s.major_faults << ")\n"
        << "kioku: TLB hits " << s.tlb_hits << ", misses " << s.tlb_misses << ", walks " << s.tlb_walks
        << "\n"
        << "kioku: peak RSS " << s.peak_rss_kb << " kB (all processes together: " << s.tree_peak_rss_kb
        << " kB)\n"
        << "kioku: swap-ins " << vm[VmItem::Pswpin] << ", swap-outs " << vm[VmItem::Pswpout] << ", OOM kills "
        << vm[VmItem::OomKill] << "\n"
        << "kioku: memory pressure: some " << psi.total_ns(PsiGroup::Some) / 1000 << " us, full "
        << psi.total_ns(PsiGroup::Full) / 1000 << " us\n"
        << "kioku: simulated time " << s.simulated_ns / 1000 << " us\n";
    // With --cgroup: the group's peak and how often it met its limit.
    if (Cgroup* group = kernel.cgroups().find(Runner::RUN_CGROUP); group && group->memcg) {
        const MemCgroup& m = *group->memcg;
        err << "kioku: cgroup " << group->path() << ": memory.peak " << (m.peak() << PAGE_SHIFT) / 1024
            << " kB, events max " << m.events.max << ", oom " << m.events.oom << ", oom_kill "
            << m.events.oom_kill << "\n";
    }
}

// Turns on the --swap areas in order, as swapon would: host files in the run's directory unless
// --swap-memory asks for memory-backed ones. Returns an error message, or empty.
std::string swapon_all(Kernel& kernel, const RunCommandOptions& o, RunDirectory& dir)
{
    for (size_t n = 0; n < o.swaps.size(); ++n) {
        std::string file;
        if (!o.swap_in_memory) {
            if (dir.path().empty())
                return "cannot create a temporary directory for the swap files";
            file = dir.path() + "/swapfile" + std::to_string(n);
        }
        auto r = kernel.swapon(o.swaps[n].bytes, o.swaps[n].priority, file);
        if (r.is_error())
            return r.error().what ? r.error().what : std::strerror(r.error().code);
    }
    return {};
}

// SIGINT, SIGTERM and SIGHUP to kioku ask for an orderly end of the run: the handler only notes
// the signal; the run loop then kills the guest processes, the kernel writes every file back, and
// the run's temporary swap files and root are removed as after any run.
volatile std::sig_atomic_t g_stop_signal = 0;

void note_stop_signal(int signal)
{
    g_stop_signal = signal;
}

class StopSignals {
  public:
    StopSignals()
    {
        struct sigaction sa {};
        sa.sa_handler = note_stop_signal; // no SA_RESTART: a blocking host read returns EINTR
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < std::size(SIGNALS); ++i)
            ::sigaction(SIGNALS[i], &sa, &m_old[i]);
    }
    ~StopSignals()
    {
        for (size_t i = 0; i < std::size(SIGNALS); ++i)
            ::sigaction(SIGNALS[i], &m_old[i], nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

  private:
    static constexpr int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction m_old[std::size(SIGNALS)]{};
};

} // namespace

const char* run_usage()
{
    return "  run [OPTIONS] -- PROGRAM [ARGS...]\n"
           "                            run a riscv64 Linux program, static or dynamic. Options:\n"
           "    --mem SIZE              physical memory (default 512M; 8M to 64G)\n"
           "    --swap SIZE[:PRIO]      a swap area (repeatable); without PRIO the areas get -2, -3, ...\n"
           "                            as Linux's swapon. Each is a host file in a temporary\n"
           "                            directory of the run, removed when the run ends\n"
           "    --swap-memory           keep the swap areas in host memory instead of files\n"
           "    --sysctl NAME=VALUE     set a sysctl (vm.* or kernel.pid_max, kernel.threads-max)\n"
           "                            before the program starts (repeatable)\n"
           "    --cgroup FILE=VALUE,... start the program in a memory cgroup of its own\n"
           "                            (/sys/fs/cgroup/kioku) with these settings: memory.max,\n"
           "                            memory.high, memory.low, memory.min, memory.swap.max (a\n"
           "                            size or max), memory.oom.group (0 or 1);\n"
           "                            repeatable, e.g. --cgroup memory.max=256M,memory.swap.max=0\n"
           "    --root DIR              the guest's / (default: a fresh temporary directory). A\n"
           "                            PROGRAM outside it is copied to /bin/NAME for the run\n"
           "    --sysroot DIR           for dynamically linked programs: copy DIR's shared objects\n"
           "                            (its dynamic loader, libc.so.6, ...) into the run's root, as\n"
           "                            qemu-riscv64 -L DIR finds them (e.g. /usr/riscv64-linux-gnu)\n"
           "    --disk-limit SIZE       room the guest may take in the root; past it, ENOSPC\n"
           "    --disk IMAGE            the block device /dev/vda, its blocks in the host file IMAGE\n"
           "                            (read and written through the buffer cache: Buffers)\n"
           "    --policy NAME           page replacement: lru (Linux's two lists, the default),\n"
           "                            clock (over the accessed bits), fifo, s3fifo (three FIFO\n"
           "                            queues, scan resistant), exact-lru (told of every access;\n"
           "                            slower) or opt (with --future); docs/policies.md\n"
           "    --future FILE.csv       for --policy opt: the --trace-refs stream of an earlier run\n"
           "                            of the same command, which OPT reads ahead in\n"
           "    --physmap FILE.svg      a picture of physical memory as the program leaves it (when\n"
           "                            it exits, its memory still there): every frame by its use,\n"
           "                            pageblocks and migrate types (kioku report -o takes it too)\n"
           "    --no-init               run the program as PID 1 (default: a minimal init is PID 1,\n"
           "                            adopts and reaps orphans; the program is PID 2)\n"
           "    --seed N                seed of getrandom and AT_RANDOM\n"
           "    --paging sv48|sv39      page-table format\n"
           "    --check                 run the invariant checker after every operation\n"
           "    --interpret             run guest code through the interpreter only, not translated\n"
           "                            (the same run, slower: the reference for the translator)\n"
           "    --max-instructions N    kill the guest's processes after N instructions (e.g. 500M)\n"
           "    --time-limit DURATION   ... or after DURATION of simulated time (e.g. 10s, 500ms)\n"
           "    --slice N               instructions a task runs before the scheduler looks again\n"
           "                            (default 100K; a turn also ends after 4 ms of simulated time)\n"
           "    --stats                 print instructions, faults, TLB, swap, pressure and time\n"
           "                            figures at the end\n"
           "    --report FILE           write the run's report, one JSON object, to FILE at the end\n"
           "                            (per process, vmstat deltas, cgroups; docs/run-report.md)\n"
           "    --top[=FILE]            a live view of memory and processes, like top, on the\n"
           "                            terminal (or each screen appended to FILE)\n"
           "    --strace[=FILE]         a line per system call, as strace -f prints it, on stderr\n"
           "                            or to FILE: decoded arguments, the result or the errno\n"
           "    --trace-refs FILE.csv   the page reference stream (loads, stores, code pages) as CSV\n"
           "                            that libCacheSim reads (docs/run-report.md); slower\n"
           "    --events FILE.csv       one CSV row per page event: faults by cause, swap-ins,\n"
           "                            evictions with the policy's reason, swap-outs, writebacks,\n"
           "                            OOM kills (docs/run-report.md)\n"
           "    --sample INTERVAL[:FILE]\n"
           "                            every INTERVAL of simulated time (e.g. 10ms), one line of\n"
           "                            JSON to FILE (default kioku-sample.jsonl): meminfo, vmstat,\n"
           "                            pressure, each process's RSS, swap and faults, cgroups\n"
           "    --dmesg                 print the kernel log (OOM reports, panics) on stderr as it comes\n"
           "    --trace FILE            write pc and registers before every instruction to FILE, as\n"
           "                            qemu-riscv64 -singlestep -d cpu,nochain does (slow; see\n"
           "                            scripts/lockstep.sh)\n"
           "    --state-log FILE        write the registers' digests at every stop of the hart, and\n"
           "                            the memory's at every system call, to FILE (to compare two\n"
           "                            runs, as tests/guest/check_translator.py does)\n";
}

int run_command(int argc, char** argv, std::ostream& err)
{
    RunCommandOptions o;
    if (auto error = parse(argc, argv, o); !error.empty()) {
        err << "kioku: " << error << "\n";
        return EXIT_USAGE;
    }
    // Declared before the machine, so that it is removed after the swap areas have closed.
    RunDirectory swap_dir;
    g_stop_signal = 0;
    o.run.stop_signal = &g_stop_signal;
    auto runner = Runner::create(o.run, err);
    if (runner.is_error()) {
        err << "kioku: cannot create the machine: " << (runner.error().what ? runner.error().what : "")
            << " (" << std::strerror(runner.error().code) << ")\n";
        return EXIT_USAGE;
    }
    Runner& r = *runner.value();
    if (o.dmesg)
        r.kernel().set_log_sink(&err);
    // Each file the run writes is opened before it starts, so that one that cannot be written
    // stops the run first.
    auto open_output = [&](std::ofstream& file, const std::string& path, const char* option) {
        file.open(path, std::ios::out | std::ios::trunc);
        if (!file)
            err << "kioku: " << option << ": cannot write " << path << "\n";
        return static_cast<bool>(file);
    };
    std::ofstream trace;
    if (!o.trace.empty()) {
        if (!open_output(trace, o.trace, "--trace"))
            return EXIT_USAGE;
        r.set_trace(&trace);
    }
    std::ofstream state_log;
    if (!o.state_log.empty()) {
        if (!open_output(state_log, o.state_log, "--state-log"))
            return EXIT_USAGE;
        r.set_state_log(&state_log);
    }
    if (auto error = swapon_all(r.kernel(), o, swap_dir); !error.empty()) {
        err << "kioku: --swap: " << error << "\n";
        return EXIT_USAGE;
    }
    if (!o.policy.empty() && r.kernel().set_replacement_policy(o.policy).is_error()) {
        err << "kioku: cannot select the replacement policy " << o.policy << "\n";
        return EXIT_USAGE;
    }
    for (auto& [name, value] : o.sysctls) {
        std::string file = name;
        std::replace(file.begin(), file.end(), '.', '/');
        if (r.kernel().write_proc(0, "/proc/sys/" + file, value).is_error()) {
            err << "kioku: cannot set " << name << " to " << value << "\n";
            return EXIT_USAGE;
        }
    }
    if (!o.sysroot.empty()) {
        if (auto error = install_sysroot(r.kernel(), o.sysroot); !error.empty()) {
            err << "kioku: --sysroot: " << error << "\n";
            return EXIT_USAGE;
        }
    }
    auto staged = StagedProgram::stage(r.kernel(), o.command[0], err);
    if (!staged)
        return EXIT_NOT_FOUND;
    std::vector<std::string> envp;
    for (char** e = environ; e && *e; ++e)
        envp.emplace_back(*e);
    // argv[0] names the program where the guest can find it: a program copied in runs as
    // /bin/NAME, so that one that starts itself again by argv[0] finds itself.
    std::vector<std::string> guest_argv = o.command;
    guest_argv[0] = staged->guest_path();
    // The run's outputs watch from before the program is loaded: its first faults are exec's.
    std::unique_ptr<RunReport> report;
    std::ofstream report_file;
    if (!o.report.empty()) {
        if (!open_output(report_file, o.report, "--report"))
            return EXIT_USAGE;
        report = std::make_unique<RunReport>(r, config_json(o));
        r.add_observer(report.get());
    }
    std::ofstream strace_file;
    if (o.strace) {
        if (!o.strace_file.empty() && !open_output(strace_file, o.strace_file, "--strace"))
            return EXIT_USAGE;
        r.set_strace(o.strace_file.empty() ? &err : &strace_file);
    }
    std::ofstream refs_file;
    std::unique_ptr<RunRefs> refs;
    if (!o.refs.empty()) {
        if (!open_output(refs_file, o.refs, "--trace-refs"))
            return EXIT_USAGE;
        refs = std::make_unique<RunRefs>(r, refs_file);
    }
    // exact-lru and opt hear every reference the program makes (and pass them on to the writer).
    std::unique_ptr<RunOracle> oracle;
    if (o.policy == "exact-lru" || o.policy == "opt") {
        std::unique_ptr<RecordedReferences> future;
        if (o.policy == "opt") {
            std::string error;
            future = RecordedReferences::load(o.future, error);
            if (!future) {
                err << "kioku: --future: " << error << "\n";
                return EXIT_USAGE;
            }
        }
        oracle = std::make_unique<RunOracle>(r, std::move(future), refs.get());
    }
    if (oracle)
        r.hart().set_reference_sink(oracle.get());
    else if (refs)
        r.hart().set_reference_sink(refs.get());
    std::ofstream events_file;
    std::unique_ptr<RunEvents> events;
    if (!o.events.empty()) {
        if (!open_output(events_file, o.events, "--events"))
            return EXIT_USAGE;
        events = std::make_unique<RunEvents>(r, events_file);
    }
    std::ofstream top_file;
    std::unique_ptr<RunTop> top;
    if (o.top) {
        // The terminal itself, so that the view does not mix with the program's output; without
        // one, standard error.
        if (!o.top_file.empty() && !open_output(top_file, o.top_file, "--top"))
            return EXIT_USAGE;
        if (o.top_file.empty())
            top_file.open("/dev/tty", std::ios::out | std::ios::trunc);
        bool tty = o.top_file.empty() && top_file;
        top = std::make_unique<RunTop>(r, top_file ? static_cast<std::ostream&>(top_file) : err, tty);
        r.add_observer(top.get());
    }
    std::ofstream physmap_file;
    std::unique_ptr<PhysmapAtExit> physmap;
    if (!o.physmap.empty()) {
        if (!open_output(physmap_file, o.physmap, "--physmap"))
            return EXIT_USAGE;
        physmap = std::make_unique<PhysmapAtExit>(r);
        r.add_observer(physmap.get());
    }
    std::unique_ptr<RunSampler> sampler;
    std::ofstream sample_file;
    if (o.sample_ns) {
        if (!open_output(sample_file, o.sample_file, "--sample"))
            return EXIT_USAGE;
        sampler = std::make_unique<RunSampler>(r, o.sample_ns, sample_file);
        r.add_observer(sampler.get());
    }
    auto started = r.start(staged->guest_path(), guest_argv, envp);
    if (started.is_error()) {
        err << "kioku: " << o.command[0] << ": "
            << (started.error().what ? started.error().what : std::strerror(started.error().code)) << "\n";
        return started.error().code == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
    }
    if (sampler)
        sampler->round_done(); // the first line, before the program's first instruction
    auto host_start = std::chrono::steady_clock::now();
    RunResult result;
    {
        StopSignals stop_signals;
        result = r.run();
    }
    r.set_strace(nullptr);
    r.hart().set_reference_sink(nullptr);
    auto close_output = [&](std::ofstream& file, const std::string& path, const char* option) {
        file.close();
        if (!file)
            err << "kioku: " << option << ": cannot write " << path << "\n";
    };
    std::string divergence;
    if (oracle) {
        oracle->finish();
        divergence = oracle->divergence();
        oracle.reset();
    }
    if (refs) {
        refs.reset();
        close_output(refs_file, o.refs, "--trace-refs");
    }
    if (top)
        top->finish();
    if (events) {
        events.reset();
        close_output(events_file, o.events, "--events");
    }
    if (sampler) {
        sampler->finish();
        close_output(sample_file, o.sample_file, "--sample");
    }
    if (physmap) {
        std::string error;
        physmap_file << physmap->finish(error);
        if (!error.empty())
            err << "kioku: --physmap: " << error << "\n";
        close_output(physmap_file, o.physmap, "--physmap");
    }
    if (report) {
        u64 host_ns = static_cast<u64>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - host_start)
                                           .count());
        report_file << report->finish(result, host_ns);
        close_output(report_file, o.report, "--report");
    }
    if (result.limit_reached != RunResult::Limit::None) {
        err << "kioku: the run reached its "
            << (result.limit_reached == RunResult::Limit::Instructions ? "instruction limit" : "time limit")
            << "; the guest's processes were killed\n";
        if (o.stats)
            print_stats(result.stats, r.kernel(), err);
        return 128 + SIGKILL;
    }
    if (result.stopped_by) {
        // The kernel writes the files back when the runner goes, before this returns.
        const char* name = result.stopped_by == SIGINT    ? "SIGINT"
                           : result.stopped_by == SIGTERM ? "SIGTERM"
                                                          : "SIGHUP";
        err << "kioku: stopped by " << name
            << "; the guest's processes were killed and its files written back\n";
        if (o.stats)
            print_stats(result.stats, r.kernel(), err);
        return 128 + result.stopped_by;
    }
    if (result.signal) {
        std::string message = signal_message(result.signal);
        if (!message.empty())
            err << message << "\n";
    }
    if (o.stats)
        print_stats(result.stats, r.kernel(), err);
    if (!divergence.empty()) {
        err << "kioku: --policy opt: the run did not make the references of " << o.future << ": "
            << divergence << ". OPT needs the program to make the same references again (one "
            << "that reads the clock or /proc and acts on it may not); from there on it took the "
               "oldest page\n";
        return EXIT_NOT_OPT;
    }
    err.flush();
    return result.shell_status();
}

} // namespace kioku
