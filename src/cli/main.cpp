// The kioku command: `kioku demo`, `kioku scenario FILE`. Usage errors exit with status 2.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/Number.h"
#include "front/CommandLine.h"
#include "front/Demo.h"
#include "front/QuizCommand.h"
#include "front/ReportCommand.h"
#include "front/RunCommand.h"
#include "front/SweepCommand.h"
#include "front/scenario/Scenario.h"
#include "front/text/Messages.h"

namespace {

constexpr int EXIT_USAGE = 2;

const char* const USAGE = R"(usage: kioku <command> [options]

commands:
  demo                      a guided tour of virtual memory in chapters, each on a fresh machine
                            (--list the chapters, --chapter N only one, --pause between them)
  scenario FILE.kio         run a scenario file (see docs/scenarios.md)
  run [OPTIONS] -- PROGRAM [ARGS...]
                            run a riscv64 Linux program (kioku run --help)
  sweep [OPTIONS] -- PROGRAM [ARGS...]
                            run it over a grid of settings, in parallel (kioku sweep --help)
  report RUN.json           a run's report (kioku run --report) as text, as /usr/bin/time -v
  quiz [OPTIONS]            a page-replacement exercise, checked against the machine
                            (kioku quiz --help)

options:
  --mem SIZE                physical memory (default 512M; K, M, G suffixes; 8M to 64G); the
                            demo takes 128M or more, and its chapters that need a particular
                            size keep theirs
  --paging sv48|sv39        page-table format (demo; scenarios set it with `machine`)
  --check                   run the invariant checker after every operation
  --quiet                   scenario: print only show/print/echo output and failures
  --root DIR                scenario: the guest's / (default: a fresh temporary directory)
  --pictures DIR            scenario: draw each `show physmap` as an SVG image in DIR too
  --lang en|ja              the language of the demo's and the textbook mode's explanations
                            (default: from the locale, LANG and the like)
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
    std::string pictures;            // scenario --pictures DIR
    std::optional<unsigned> chapter; // demo --chapter N
    bool list = false;               // demo --list
    bool pause = false;              // demo --pause
};

// Returns an error message, or empty on success.
std::string parse(int argc, char** argv, Options& o)
{
    kioku::CommandLine cli;
    cli.option(
        "--mem",
        [&](const std::string& v) {
            kioku::u64 bytes = 0;
            auto error = kioku::parse_mem_option(v, bytes);
            if (error.empty())
                o.mem = bytes;
            return error;
        },
        "--mem needs a size");
    cli.option(
        "--paging", [&](const std::string& v) { return kioku::parse_paging_option(v, o.paging); },
        "--paging takes sv48 or sv39");
    cli.flag("--check", [&] { o.check = true; });
    cli.flag("--quiet", [&] { o.quiet = true; });
    cli.flag("--list", [&] { o.list = true; });
    cli.option(
        "--pictures",
        [&](const std::string& v) {
            o.pictures = v;
            return std::string();
        },
        "--pictures needs a directory");
    cli.flag("--pause", [&] { o.pause = true; });
    cli.option(
        "--chapter",
        [&](const std::string& v) {
            auto n = kioku::parse_u64(v);
            if (!n || *n == 0 || *n > 1000)
                return "--chapter takes a chapter's number (kioku demo --list), not '" + v + "'";
            o.chapter = static_cast<unsigned>(*n);
            return std::string();
        },
        "--chapter needs a number");
    cli.option(
        "--root",
        [&](const std::string& v) {
            o.root = v;
            return std::string();
        },
        "--root needs a directory");
    std::vector<std::string> words;
    if (auto error = cli.parse({argv + 1, argv + argc}, kioku::CommandLine::Operands::Interleaved, words);
        !error.empty())
        return error;
    if (!words.empty()) {
        o.command = words.front();
        o.operands.assign(words.begin() + 1, words.end());
    }
    return {};
}

} // namespace

int main(int argc, char** argv)
{
    // The language: --lang wherever it stands before a `--` (what follows belongs to a program),
    // else the locale. The rest of the words go on as they were.
    kioku::text::set_lang(kioku::text::lang_from_locale());
    std::vector<char*> args;
    bool program = false;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        program = program || a == "--";
        if (!program && (a == "--lang" || a.rfind("--lang=", 0) == 0)) {
            std::string value = a == "--lang" ? (i + 1 < argc ? argv[i + 1] : "") : a.substr(7);
            auto lang = kioku::text::parse_lang(value);
            if (!lang)
                return usage_error("--lang takes en or ja, not '" + value + "'");
            kioku::text::set_lang(*lang);
            i += a == "--lang" ? 1 : 0;
            continue;
        }
        args.push_back(argv[i]);
    }
    args.push_back(nullptr);
    argc = static_cast<int>(args.size()) - 1;
    argv = args.data();
    // `run` parses its own options: everything after PROGRAM belongs to the program.
    if (argc >= 2 && !std::strcmp(argv[1], "run")) {
        if (argc >= 3 && (!std::strcmp(argv[2], "-h") || !std::strcmp(argv[2], "--help"))) {
            std::cout << "usage: kioku run [OPTIONS] -- PROGRAM [ARGS...]\n" << kioku::run_usage();
            return 0;
        }
        return kioku::run_command(argc - 2, argv + 2, std::cerr);
    }
    if (argc >= 2 && !std::strcmp(argv[1], "sweep")) {
        if (argc >= 3 && (!std::strcmp(argv[2], "-h") || !std::strcmp(argv[2], "--help"))) {
            std::cout << "usage: kioku sweep [OPTIONS] -- PROGRAM [ARGS...]\n" << kioku::sweep_usage();
            return 0;
        }
        return kioku::sweep_command(argc - 2, argv + 2, std::cout, std::cerr);
    }
    if (argc >= 2 && !std::strcmp(argv[1], "report"))
        return kioku::report_command(argc - 2, argv + 2, std::cout, std::cerr);
    if (argc >= 2 && !std::strcmp(argv[1], "quiz")) {
        if (argc >= 3 && (!std::strcmp(argv[2], "-h") || !std::strcmp(argv[2], "--help"))) {
            std::cout << "usage: kioku quiz [OPTIONS]\n" << kioku::quiz_usage();
            return 0;
        }
        return kioku::quiz_command(argc - 2, argv + 2, std::cin, std::cout, std::cerr);
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
        d.chapter = o.chapter;
        d.list = o.list;
        d.pause = o.pause;
        return kioku::run_demo(d, std::cin, std::cout, std::cerr);
    }
    if (o.command == "scenario") {
        if (o.operands.size() != 1)
            return usage_error("scenario takes exactly one file");
        kioku::ScenarioOptions s;
        s.quiet = o.quiet;
        s.check_invariants = o.check;
        s.mem_override = o.mem;
        s.root_dir = o.root;
        s.pictures_dir = o.pictures;
        return kioku::run_scenario_file(o.operands[0], s, std::cout, std::cerr);
    }
    if (o.command.empty())
        return usage_error("no command given");
    return usage_error("unknown command '" + o.command + "'");
}
