// The kioku command: `kioku demo`, `kioku scenario FILE`. Usage errors exit with status 2.
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/Size.h"
#include "front/Demo.h"
#include "front/RunCommand.h"
#include "front/scenario/Scenario.h"

namespace {

constexpr int EXIT_USAGE = 2;

const char* const USAGE = R"(usage: kioku <command> [options]

commands:
  demo                      a guided tour of virtual memory on a default machine
  scenario FILE.kio         run a scenario file (see docs/scenarios.md)
  run [OPTIONS] -- PROGRAM [ARGS...]
                            run a riscv64 Linux program (kioku run --help)

options:
  --mem SIZE                physical memory (default 512M; K, M, G suffixes; 8M to 64G)
  --paging sv48|sv39        page-table format (demo; scenarios set it with `machine`)
  --check                   run the invariant checker after every operation
  --quiet                   scenario: print only show/print/echo output and failures
  --root DIR                scenario: the guest's / (default: a fresh temporary directory)
  -h, --help                this text
)";

int usage_error(const std::string& message)
{
    std::cerr << "kioku: " << message << "\n" << USAGE;
    return EXIT_USAGE;
}

struct Options {
    std::string command;
    std::vector<std::string> operands;
    std::optional<kioku::u64> mem;
    kioku::isa::SatpMode paging = kioku::isa::SatpMode::Sv48;
    bool check = false;
    bool quiet = false;
    std::string root;
};

// Returns an error message, or empty on success.
std::string parse(int argc, char** argv, Options& o)
{
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= argc)
                return std::nullopt;
            (void)name;
            return std::string(argv[++i]);
        };
        if (arg == "--mem") {
            auto v = value("--mem");
            if (!v)
                return "--mem needs a size";
            auto size = kioku::parse_size(*v);
            if (!size || *size < (kioku::u64{8} << 20) || *size > (kioku::u64{64} << 30) || *size % 4096)
                return "bad memory size '" + *v + "' (a multiple of 4K from 8M to 64G, e.g. 512M)";
            o.mem = *size;
        } else if (arg == "--paging") {
            auto v = value("--paging");
            if (v && *v == "sv48")
                o.paging = kioku::isa::SatpMode::Sv48;
            else if (v && *v == "sv39")
                o.paging = kioku::isa::SatpMode::Sv39;
            else
                return "--paging takes sv48 or sv39";
        } else if (arg == "--check") {
            o.check = true;
        } else if (arg == "--quiet") {
            o.quiet = true;
        } else if (arg == "--root") {
            auto v = value("--root");
            if (!v)
                return "--root needs a directory";
            o.root = *v;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return "unknown option '" + arg + "'";
        } else if (o.command.empty()) {
            o.command = arg;
        } else {
            o.operands.push_back(arg);
        }
    }
    return {};
}

} // namespace

int main(int argc, char** argv)
{
    // `run` parses its own options: everything after PROGRAM belongs to the program.
    if (argc >= 2 && !std::strcmp(argv[1], "run")) {
        if (argc >= 3 && (!std::strcmp(argv[2], "-h") || !std::strcmp(argv[2], "--help"))) {
            std::cout << "usage: kioku run [OPTIONS] -- PROGRAM [ARGS...]\n" << kioku::run_usage();
            return 0;
        }
        return kioku::run_command(argc - 2, argv + 2, std::cerr);
    }
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
            std::cout << USAGE;
            return 0;
        }
    }
    Options o;
    if (auto error = parse(argc, argv, o); !error.empty())
        return usage_error(error);
    if (o.command == "demo") {
        if (!o.operands.empty())
            return usage_error("demo takes no operands");
        kioku::DemoOptions d;
        if (o.mem)
            d.mem_bytes = *o.mem;
        d.paging = o.paging;
        d.check_invariants = o.check;
        return kioku::run_demo(d, std::cout, std::cerr);
    }
    if (o.command == "scenario") {
        if (o.operands.size() != 1)
            return usage_error("scenario takes exactly one file");
        kioku::ScenarioOptions s;
        s.quiet = o.quiet;
        s.check_invariants = o.check;
        s.mem_override = o.mem;
        s.root_dir = o.root;
        return kioku::run_scenario_file(o.operands[0], s, std::cout, std::cerr);
    }
    if (o.command.empty())
        return usage_error("no command given");
    return usage_error("unknown command '" + o.command + "'");
}
