#include "front/SweepCommand.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "base/JsonValue.h"
#include "base/Number.h"
#include "base/Size.h"
#include "front/CommandLine.h"

namespace kioku {

namespace {

constexpr int EXIT_USAGE = 2;

struct SweepOptions {
    std::vector<std::string> mems{"512M"};
    std::vector<std::string> swaps{"0"};
    std::vector<std::string> policies{"lru"};
    std::vector<std::pair<std::string, std::vector<std::string>>> sysctls; // name, values
    std::vector<std::vector<std::string>> programs;
    std::vector<std::string> run_options;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool jobs_given = false;
    std::string out = "kioku-sweep";
    bool slurm = false;                     // --slurm: the runs as a Slurm job array
    std::vector<std::string> slurm_options; // --slurm-option: passed to sbatch
};

std::vector<std::string> split(const std::string& text, char sep)
{
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, sep);)
        out.push_back(item);
    if (!text.empty() && text.back() == sep)
        out.emplace_back();
    return out;
}

// One run of the grid.
struct Run {
    size_t index = 0;
    size_t program = 0;
    std::string mem, swap, policy;
    std::vector<std::string> sysctl_values; // in the order of SweepOptions::sysctls
};

std::vector<Run> grid(const SweepOptions& o)
{
    std::vector<Run> runs;
    std::vector<size_t> at(o.sysctls.size(), 0);
    for (size_t p = 0; p < o.programs.size(); ++p)
        for (const std::string& mem : o.mems)
            for (const std::string& swap : o.swaps)
                for (const std::string& policy : o.policies) {
                    // Every combination of the sysctls' values, the last one varying fastest.
                    std::fill(at.begin(), at.end(), 0);
                    for (;;) {
                        Run r{runs.size(), p, mem, swap, policy, {}};
                        for (size_t s = 0; s < o.sysctls.size(); ++s)
                            r.sysctl_values.push_back(o.sysctls[s].second[at[s]]);
                        runs.push_back(std::move(r));
                        size_t s = o.sysctls.size();
                        while (s > 0 && ++at[s - 1] == o.sysctls[s - 1].second.size())
                            at[--s] = 0;
                        if (s == 0)
                            break;
                    }
                }
    return runs;
}

std::string parse(int argc, char** argv, SweepOptions& o)
{
    CommandLine cli;
    auto list = [](std::vector<std::string>& into, const char* what, auto check) {
        return [&into, what, check](const std::string& v) {
            into = split(v, ',');
            for (const std::string& item : into)
                if (item.empty() || !check(item))
                    return std::string("--") + what + ": bad value '" + item + "' in '" + v + "'";
            return std::string();
        };
    };
    cli.option("--mem", list(o.mems, "mem", [](const std::string& v) {
                   u64 bytes = 0;
                   return parse_mem_option(v, bytes).empty();
               }));
    cli.option("--swap",
               list(o.swaps, "swap", [](const std::string& v) { return v == "0" || parse_size(v); }));
    cli.option("--policy", list(o.policies, "policy", [](const std::string& v) {
                   return v == "lru" || v == "clock" || v == "fifo" || v == "s3fifo" || v == "exact-lru" ||
                          v == "opt";
               }));
    cli.option("--sysctl", [&](const std::string& v) {
        size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
            return std::string("--sysctl takes NAME=VALUE[,VALUE...]");
        auto values = split(v.substr(eq + 1), ',');
        for (const std::string& value : values)
            if (value.empty())
                return "--sysctl: an empty value in '" + v + "'";
        o.sysctls.emplace_back(v.substr(0, eq), values);
        return std::string();
    });
    cli.option("--program", [&](const std::string& v) {
        auto words = split(v, ' ');
        std::erase(words, std::string());
        if (words.empty())
            return std::string("--program takes 'PATH [ARGS...]'");
        o.programs.push_back(words);
        return std::string();
    });
    cli.option("--run-option", [&](const std::string& v) {
        o.run_options.push_back(v);
        return std::string();
    });
    cli.option("--jobs", [&](const std::string& v) {
        auto n = parse_u64(v);
        if (!n || *n == 0 || *n > 1024)
            return "--jobs takes a number from 1 to 1024, not '" + v + "'";
        o.jobs = static_cast<unsigned>(*n);
        o.jobs_given = true;
        return std::string();
    });
    cli.flag("--slurm", [&] { o.slurm = true; });
    cli.option("--slurm-option", [&](const std::string& v) {
        o.slurm_options.push_back(v);
        return v.empty() ? std::string("--slurm-option takes an sbatch option") : std::string();
    });
    cli.option("--out", [&](const std::string& v) {
        o.out = v;
        return v.empty() ? std::string("--out takes a directory") : std::string();
    });
    std::vector<std::string> command;
    if (auto error = cli.parse({argv, argv + argc}, CommandLine::Operands::Trailing, command); !error.empty())
        return error;
    if (!command.empty())
        o.programs.push_back(command);
    if (o.programs.empty())
        return "sweep needs a program: --program 'PATH [ARGS]' or -- PROGRAM [ARGS...]";
    return {};
}

// The stream OPT reads ahead in, recorded once per program (it does not depend on the memory,
// the swap or the policy: docs/policies.md).
std::string refs_stem(const SweepOptions& o, size_t program)
{
    return o.out + "/refs-" + std::to_string(program);
}

std::vector<std::string> run_argv(const SweepOptions& o, const Run& r, const std::string& report)
{
    std::vector<std::string> a{"kioku", "run", "--mem", r.mem};
    if (r.swap != "0") {
        a.push_back("--swap");
        a.push_back(r.swap);
    }
    a.push_back("--policy");
    a.push_back(r.policy);
    for (size_t s = 0; s < o.sysctls.size(); ++s) {
        a.push_back("--sysctl");
        a.push_back(o.sysctls[s].first + "=" + r.sysctl_values[s]);
    }
    a.insert(a.end(), o.run_options.begin(), o.run_options.end());
    if (r.policy == "opt") {
        a.push_back("--future");
        a.push_back(refs_stem(o, r.program) + ".csv");
    }
    a.push_back("--report");
    a.push_back(report);
    a.push_back("--");
    a.insert(a.end(), o.programs[r.program].begin(), o.programs[r.program].end());
    return a;
}

// The run that records a program's stream: the grid's largest memory and swap (fewer faults, the
// same references), its first sysctl values, Linux's policy.
std::vector<std::string> recording_argv(const SweepOptions& o, size_t program)
{
    auto largest = [](const std::vector<std::string>& sizes) {
        std::string best = sizes.front();
        u64 best_bytes = 0;
        for (const std::string& size : sizes) {
            u64 bytes = size == "0" ? 0 : parse_size(size).value_or(0);
            if (bytes > best_bytes) {
                best = size;
                best_bytes = bytes;
            }
        }
        return best;
    };
    Run r{0, program, largest(o.mems), largest(o.swaps), "lru", {}};
    for (auto& [name, values] : o.sysctls)
        r.sysctl_values.push_back(values.front());
    std::vector<std::string> a = run_argv(o, r, refs_stem(o, program) + ".json");
    a.insert(a.end() - static_cast<std::ptrdiff_t>(o.programs[program].size() + 3),
             {"--trace-refs", refs_stem(o, program) + ".csv"});
    return a;
}

// A batch of `kioku run`s: each one's arguments (the first only its argv[0]: the binary is this
// one) and the stem of its files (STEM.out, STEM.err).
struct Job {
    std::vector<std::string> args;
    std::string stem;
};

// Starts a command in a process of its own, its input /dev/null and its output to the given files:
// `program` is the binary to run (args[0] then only its argv[0]), or null to find args[0] on PATH.
// Returns its pid, or -1; a child that cannot open its files exits 126, one that cannot run the
// program 127.
pid_t spawn(const std::vector<std::string>& args, const char* program, const std::string& out_path,
            const std::string& err_path)
{
    std::vector<char*> argv;
    for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0)
        ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (program)
        ::execv(program, argv.data());
    else
        ::execvp(argv[0], argv.data());
    ::_exit(127);
}

// One run of kioku itself, its output in the directory as STEM.out and STEM.err.
pid_t start(const std::vector<std::string>& args, const std::string& stem)
{
    return spawn(args, "/proc/self/exe", stem + ".out", stem + ".err");
}

// A shell's status for a wait status: the exit code, or 128 + the signal.
int exit_status(int ws)
{
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

std::string csv_field(const std::string& text)
{
    if (text.find_first_of(",\"\n") == std::string::npos)
        return text;
    std::string out = "\"";
    for (char c : text)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number_at(const JsonValue& report, std::initializer_list<std::string_view> path)
{
    const JsonValue* v = report.find(path);
    return v && !v->is_null() ? v->text() : std::string();
}

// Runs the batch here, at most `at_once` at a time. Returns each run's exit status (-1: it could
// not be started).
std::vector<int> run_local(const std::vector<Job>& batch, unsigned at_once, const char* what,
                           std::ostream& err, bool& failed)
{
    std::vector<int> status(batch.size(), -1);
    std::map<pid_t, size_t> running;
    size_t next = 0;
    while (next < batch.size() || !running.empty()) {
        while (next < batch.size() && running.size() < at_once) {
            pid_t pid = start(batch[next].args, batch[next].stem);
            if (pid < 0) {
                err << "kioku: sweep: cannot start " << what << " " << next << "\n";
                failed = true;
            } else {
                running[pid] = next;
            }
            ++next;
        }
        int ws = 0;
        pid_t done = ::waitpid(-1, &ws, 0);
        if (done < 0)
            break;
        auto it = running.find(done);
        if (it == running.end())
            continue;
        status[it->second] = exit_status(ws);
        err << "kioku: sweep: " << what << " " << it->second << " of " << batch.size() << " ended (status "
            << status[it->second] << ")\n";
        running.erase(it);
    }
    return status;
}

std::string shell_quote(const std::string& text)
{
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs a command to its end, its output to the given files; returns its exit status (127: not
// found).
int run_command(const std::vector<std::string>& args, const std::string& out_path,
                const std::string& err_path)
{
    pid_t pid = spawn(args, nullptr, out_path, err_path);
    if (pid < 0)
        return -1;
    int ws = 0;
    while (::waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    return exit_status(ws);
}

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs the batch as one Slurm job array (sbatch --wait): task N runs the N-th `kioku run`, whose
// arguments the sweep wrote to STEM.args (NUL-separated), from the directory the sweep was started
// in, and leaves its exit status in STEM.status. Returns each run's status (-1: none came back).
std::vector<int> run_slurm(const std::vector<Job>& batch, const SweepOptions& o, const char* what,
                           std::ostream& err, bool& failed)
{
    std::vector<int> status(batch.size(), -1);
    std::error_code ec;
    std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    std::string cwd = std::filesystem::current_path(ec).string();
    std::string base = o.out + "/" + what;
    std::ofstream list(base + ".list", std::ios::out | std::ios::trunc);
    for (const Job& job : batch) {
        std::ofstream args(job.stem + ".args", std::ios::out | std::ios::trunc | std::ios::binary);
        args << self << '\0';
        for (size_t i = 1; i < job.args.size(); ++i)
            args << job.args[i] << '\0';
        std::filesystem::remove(job.stem + ".status", ec);
        list << job.stem << "\n";
    }
    list.close();
    // The runs get the sweep's environment, not the one Slurm gives a job (SLURM_* and the like),
    // so that a program sees the same environment as in a local sweep and runs the same.
    std::ofstream environment(base + ".env", std::ios::out | std::ios::trunc | std::ios::binary);
    for (char** e = environ; e && *e; ++e)
        environment << *e << '\0';
    environment.close();
    std::ofstream script(base + ".sbatch", std::ios::out | std::ios::trunc);
    script << "#!/bin/bash\n"
              "# Written by kioku sweep: task N of the array runs the N-th kioku run listed in\n"
              "# "
           << base << ".list, whose arguments are in STEM.args, in the environment of " << base << ".env.\n"
           << "#SBATCH --job-name=kioku-sweep\n#SBATCH --output=/dev/null\n"
           << "stem=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " << shell_quote(base + ".list") << ")\n"
           << "mapfile -d '' -t args < \"$stem.args\"\n"
           << "mapfile -d '' -t environment < " << shell_quote(base + ".env") << "\n"
           << "env -i \"${environment[@]}\" \"${args[@]}\" < /dev/null > \"$stem.out\" 2> \"$stem.err\"\n"
           << "echo $? > \"$stem.status\"\n";
    script.close();
    if (!list || !script || !environment) {
        err << "kioku: sweep: cannot write " << base << ".sbatch and its list\n";
        failed = true;
        return status;
    }
    std::vector<std::string> sbatch{"sbatch", "--wait", "--parsable", "--chdir=" + cwd};
    std::string array = "--array=0-" + std::to_string(batch.size() - 1);
    if (o.jobs_given)
        array += "%" + std::to_string(o.jobs);
    sbatch.push_back(array);
    sbatch.insert(sbatch.end(), o.slurm_options.begin(), o.slurm_options.end());
    sbatch.push_back(base + ".sbatch");
    err << "kioku: sweep: " << batch.size() << " " << what << (batch.size() == 1 ? "" : "s")
        << " submitted to Slurm as a job array; waiting for it\n";
    int rc = run_command(sbatch, base + ".sbatch.out", base + ".sbatch.err");
    if (rc == 127) {
        err << "kioku: sweep: --slurm needs Slurm's sbatch (Debian's slurm-client) and a cluster; sbatch was "
               "not "
               "found\n";
        failed = true;
        return status;
    }
    if (rc != 0)
        err << "kioku: sweep: sbatch ended with status " << rc << ": " << read_text(base + ".sbatch.err");
    for (size_t i = 0; i < batch.size(); ++i) {
        std::string text = read_text(batch[i].stem + ".status");
        auto value = parse_u64(text.substr(0, text.find('\n')));
        if (value && *value < 256)
            status[i] = static_cast<int>(*value);
        else
            failed = true;
        err << "kioku: sweep: " << what << " " << i << " of " << batch.size() << " ended (status "
            << status[i] << ")\n";
    }
    return status;
}

} // namespace

const char* sweep_usage()
{
    return "  sweep [OPTIONS] -- PROGRAM [ARGS...]\n"
           "                            run a program over a grid of settings, the runs in parallel;\n"
           "                            one CSV row per run (docs/sweep.md). Options:\n"
           "    --mem LIST              memory sizes, e.g. 32M,64M,128M (default 512M)\n"
           "    --swap LIST             swap sizes, 0 for none, e.g. 0,128M (default 0)\n"
           "    --policy LIST           replacement policies, e.g. lru,s3fifo (default lru); opt\n"
           "                            runs read ahead in a stream recorded first per program\n"
           "    --sysctl NAME=V1,V2...  a sysctl's values (repeatable: each is a dimension)\n"
           "    --program 'PATH ARGS'   a program of the grid (repeatable; or -- PROGRAM ARGS)\n"
           "    --run-option OPTION     passed to every `kioku run` as is (repeatable), e.g.\n"
           "                            --run-option=--swap-memory\n"
           "    --jobs N                runs at a time (default: the host's cores; with --slurm,\n"
           "                            the array's limit, none unless given)\n"
           "    --slurm                 submit the runs to Slurm as a job array (sbatch --wait) and\n"
           "                            collect the rows when it ends\n"
           "    --slurm-option OPTION   passed to sbatch (repeatable), e.g.\n"
           "                            --slurm-option=--partition=debug\n"
           "    --out DIR               where sweep.csv and each run's report, output and errors\n"
           "                            go (default kioku-sweep)\n";
}

int sweep_command(int argc, char** argv, std::ostream& out, std::ostream& err)
{
    SweepOptions o;
    // --run-option and --slurm-option take values that start with "--": accept the OPTION=VALUE
    // form too.
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--run-option=", 0) == 0 || a.rfind("--slurm-option=", 0) == 0) {
            size_t eq = a.find('=');
            args.push_back(a.substr(0, eq));
            args.push_back(a.substr(eq + 1));
        } else {
            args.push_back(a);
        }
    }
    std::vector<char*> pointers;
    for (std::string& a : args)
        pointers.push_back(a.data());
    if (auto error = parse(static_cast<int>(pointers.size()), pointers.data(), o); !error.empty()) {
        err << "kioku: " << error << "\n";
        return EXIT_USAGE;
    }
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec) {
        err << "kioku: sweep: cannot make " << o.out << ": " << ec.message() << "\n";
        return EXIT_USAGE;
    }
    std::vector<Run> runs = grid(o);
    auto stem = [&](size_t i) { return o.out + "/run-" + std::to_string(i); };
    bool failed = false;
    auto execute = [&](const std::vector<Job>& batch, const char* what) {
        return o.slurm ? run_slurm(batch, o, what, err, failed) : run_local(batch, o.jobs, what, err, failed);
    };
    // OPT's runs read ahead in their program's stream: record each one first.
    if (std::any_of(runs.begin(), runs.end(), [](const Run& r) { return r.policy == "opt"; })) {
        std::vector<Job> recordings;
        for (size_t p = 0; p < o.programs.size(); ++p)
            recordings.push_back({recording_argv(o, p), refs_stem(o, p)});
        std::vector<int> recorded = execute(recordings, "recording");
        for (size_t p = 0; p < recordings.size(); ++p)
            if (recorded[p] != 0)
                err << "kioku: sweep: the run recording program " << p
                    << "'s references for opt ended with status " << recorded[p] << " (see "
                    << refs_stem(o, p) << ".err)\n";
    }
    std::vector<Job> batch;
    for (const Run& r : runs)
        batch.push_back({run_argv(o, r, stem(r.index) + ".json"), stem(r.index)});
    std::vector<int> status = execute(batch, "run");

    std::ofstream csv(o.out + "/sweep.csv", std::ios::out | std::ios::trunc);
    std::string header = "run,program,mem,swap,policy";
    for (auto& [name, values] : o.sysctls)
        header += "," + csv_field(name);
    header += ",exit_status,simulated_ns,host_ns,instructions,minor_faults,major_faults,swap_ins,swap_outs,"
              "oom_kills,peak_rss_kb,tree_peak_rss_kb,pressure_some_us,pressure_full_us,report";
    csv << header << "\n";
    out << header << "\n";
    for (const Run& r : runs) {
        std::string program;
        for (const std::string& w : o.programs[r.program])
            program += (program.empty() ? "" : " ") + w;
        std::string row =
            std::to_string(r.index) + "," + csv_field(program) + "," + r.mem + "," + r.swap + "," + r.policy;
        for (const std::string& v : r.sysctl_values)
            row += "," + csv_field(v);
        row += "," + std::to_string(status[r.index]);
        std::ifstream in(stem(r.index) + ".json");
        std::stringstream text;
        text << in.rdbuf();
        auto report = JsonValue::parse(text.str());
        if (report.is_error()) {
            err << "kioku: sweep: run " << r.index << " left no report (see " << stem(r.index) << ".err)\n";
            failed = true;
            row += std::string(13, ',') + csv_field(stem(r.index) + ".json");
        } else {
            const JsonValue& j = report.value();
            for (auto path : {std::initializer_list<std::string_view>{"time", "simulated_ns"},
                              {"time", "host_ns"},
                              {"totals", "instructions"},
                              {"totals", "minor_faults"},
                              {"totals", "major_faults"},
                              {"totals", "swap_ins"},
                              {"totals", "swap_outs"},
                              {"totals", "oom_kills"},
                              {"totals", "peak_rss_kb"},
                              {"totals", "tree_peak_rss_kb"},
                              {"pressure", "memory", "some", "total_us"},
                              {"pressure", "memory", "full", "total_us"}})
                row += "," + number_at(j, path);
            row += "," + csv_field(stem(r.index) + ".json");
        }
        csv << row << "\n";
        out << row << "\n";
    }
    csv.close();
    if (!csv) {
        err << "kioku: sweep: cannot write " << o.out << "/sweep.csv\n";
        return 1;
    }
    return failed ? 1 : 0;
}

} // namespace kioku
