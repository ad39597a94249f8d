#include "front/RunCommand.h"

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "base/Size.h"
#include "kernel/Kernel.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Vfs.h"

extern char** environ;

namespace kioku {

namespace {

constexpr int EXIT_USAGE = 2;
constexpr int EXIT_CANNOT_EXECUTE = 126;
constexpr int EXIT_NOT_FOUND = 127;

struct RunCommandOptions {
    RunOptions run;
    std::vector<std::pair<std::string, std::string>> sysctls; // vm.NAME, VALUE
    bool stats = false;
    u64 swap_bytes = 0; // 0: no swap area
    std::vector<std::string> command;
};

// Returns an error message, or empty.
std::string parse(int argc, char** argv, RunCommandOptions& o)
{
    int i = 0;
    auto value = [&](const std::string& name, std::string& out) -> std::string {
        if (i + 1 >= argc)
            return name + " needs a value";
        out = argv[++i];
        return {};
    };
    for (; i < argc; ++i) {
        std::string arg = argv[i];
        std::string v;
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--mem" || arg == "--swap") {
            if (auto e = value(arg, v); !e.empty())
                return e;
            auto size = parse_size(v);
            if (arg == "--swap") {
                if (!size || *size == 0 || *size % 4096)
                    return "bad swap size '" + v + "' (a multiple of 4K, e.g. 256M)";
                o.swap_bytes = *size;
                continue;
            }
            if (!size || *size < (u64{8} << 20) || *size > (u64{64} << 30) || *size % 4096)
                return "bad memory size '" + v + "' (a multiple of 4K from 8M to 64G, e.g. 512M)";
            o.run.machine.mem_bytes = *size;
        } else if (arg == "--sysctl") {
            if (auto e = value(arg, v); !e.empty())
                return e;
            auto eq = v.find('=');
            if (v.rfind("vm.", 0) != 0 || eq == std::string::npos)
                return "--sysctl takes vm.NAME=VALUE";
            o.sysctls.emplace_back(v.substr(3, eq - 3), v.substr(eq + 1));
        } else if (arg == "--root") {
            if (auto e = value(arg, v); !e.empty())
                return e;
            o.run.machine.root_dir = v;
        } else if (arg == "--seed") {
            if (auto e = value(arg, v); !e.empty())
                return e;
            o.run.machine.seed = std::strtoull(v.c_str(), nullptr, 0);
        } else if (arg == "--paging") {
            if (auto e = value(arg, v); !e.empty())
                return e;
            if (v != "sv48" && v != "sv39")
                return "--paging takes sv48 or sv39";
            o.run.machine.paging = v == "sv48" ? isa::SatpMode::Sv48 : isa::SatpMode::Sv39;
        } else if (arg == "--stats") {
            o.stats = true;
        } else if (arg == "--check") {
            o.run.machine.check_invariants = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return "unknown option '" + arg + "'";
        } else {
            break;
        }
    }
    for (; i < argc; ++i)
        o.command.emplace_back(argv[i]);
    if (o.command.empty())
        return "run needs a program: kioku run [options] -- PROGRAM [ARGS...]";
    return {};
}

// Places the host executable in the guest root and returns its guest path.
std::optional<std::string> stage_executable(Kernel& kernel, const std::string& program, std::ostream& err)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string& root = kernel.vfs().host_root();
    if (!kernel.config().root_dir.empty() && !program.empty() && program[0] == '/' &&
        fs::is_regular_file(root + program, ec))
        return program;
    if (!fs::exists(program, ec)) {
        err << "kioku: " << program << ": No such file or directory\n";
        return std::nullopt;
    }
    std::string guest = "/bin/" + fs::path(program).filename().string();
    fs::create_directories(root + "/bin", ec);
    fs::remove(root + guest, ec);
    fs::create_hard_link(program, root + guest, ec);
    if (ec) {
        ec.clear();
        fs::copy_file(program, root + guest, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) {
        err << "kioku: cannot place " << program << " in the guest root: " << ec.message() << "\n";
        return std::nullopt;
    }
    return guest;
}

void print_stats(const RunStats& s, std::ostream& err)
{
    err << "kioku: instructions " << s.instructions << "\n"
        << "kioku: system calls " << s.syscalls << "\n"
        << "kioku: page faults " << s.minor_faults + s.major_faults << " (minor " << s.minor_faults
        << ", major " << s.major_faults << ")\n"
        << "kioku: TLB hits " << s.tlb_hits << ", misses " << s.tlb_misses << ", walks " << s.tlb_walks
        << "\n"
        << "kioku: peak RSS " << s.peak_rss_kb << " kB\n"
        << "kioku: simulated time " << s.simulated_ns / 1000 << " us\n";
}

} // namespace

const char* run_usage()
{
    return "  run [OPTIONS] -- PROGRAM [ARGS...]\n"
           "                            run a static riscv64 Linux program; options: --mem SIZE,\n"
           "                            --swap SIZE, --sysctl vm.NAME=VALUE, --root DIR, --seed N,\n"
           "                            --paging sv48|sv39, --check, --stats\n";
}

int run_command(int argc, char** argv, std::ostream& err)
{
    RunCommandOptions o;
    if (auto error = parse(argc, argv, o); !error.empty()) {
        err << "kioku: " << error << "\n";
        return EXIT_USAGE;
    }
    auto runner = Runner::create(o.run, err);
    if (runner.is_error()) {
        err << "kioku: cannot create the machine: " << (runner.error().what ? runner.error().what : "")
            << " (" << std::strerror(runner.error().code) << ")\n";
        return EXIT_USAGE;
    }
    Runner& r = *runner.value();
    if (o.swap_bytes) {
        auto swap = r.kernel().swapon(o.swap_bytes);
        if (swap.is_error()) {
            err << "kioku: --swap: "
                << (swap.error().what ? swap.error().what : std::strerror(swap.error().code)) << "\n";
            return EXIT_USAGE;
        }
    }
    for (auto& [name, value] : o.sysctls) {
        if (r.kernel().write_proc(0, "/proc/sys/vm/" + name, value).is_error()) {
            err << "kioku: cannot set vm." << name << " to " << value << "\n";
            return EXIT_USAGE;
        }
    }
    auto guest = stage_executable(r.kernel(), o.command[0], err);
    if (!guest)
        return EXIT_NOT_FOUND;
    std::vector<std::string> envp;
    for (char** e = environ; e && *e; ++e)
        envp.emplace_back(*e);
    auto started = r.start(*guest, o.command, envp);
    if (started.is_error()) {
        err << "kioku: " << o.command[0] << ": "
            << (started.error().what ? started.error().what : std::strerror(started.error().code)) << "\n";
        return started.error().code == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
    }
    RunResult result = r.run();
    if (result.signal) {
        std::string message = signal_message(result.signal);
        if (!message.empty())
            err << message << "\n";
    }
    if (o.stats)
        print_stats(result.stats, err);
    err.flush();
    return result.shell_status();
}

} // namespace kioku
