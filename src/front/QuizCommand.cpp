#include "front/QuizCommand.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/Number.h"
#include "front/CommandLine.h"
#include "front/scenario/Textbook.h"
#include "front/text/Messages.h"

namespace kioku {

namespace {

constexpr int EXIT_USAGE = 2;

struct QuizOptions {
    std::string policy = "fifo";
    u64 frames = 3;
    u64 length = 12;
    u64 pages = 6;
    std::optional<u64> seed;
};

std::string parse(int argc, char** argv, QuizOptions& o)
{
    CommandLine cli;
    cli.option("--policy", [&](const std::string& v) {
        if (v != "fifo" && v != "exact-lru" && v != "opt" && v != "clock")
            return "--policy takes fifo, exact-lru, opt or clock, not '" + v + "'";
        o.policy = v;
        return std::string();
    });
    auto number = [](u64& into, const char* name, u64 low, u64 high) {
        return [&into, name, low, high](const std::string& v) {
            auto n = parse_u64(v);
            if (!n || *n < low || *n > high)
                return std::string(name) + " takes a number from " + std::to_string(low) + " to " +
                       std::to_string(high) + ", not '" + v + "'";
            into = *n;
            return std::string();
        };
    };
    cli.option("--frames", number(o.frames, "--frames", 1, 16));
    cli.option("--length", number(o.length, "--length", 1, 100));
    cli.option("--pages", number(o.pages, "--pages", 1, 64));
    u64 seed = 0;
    auto take_seed = number(seed, "--seed", 0, ~u64{0});
    cli.option("--seed", [&](const std::string& v) {
        std::string error = take_seed(v);
        if (error.empty())
            o.seed = seed;
        return error;
    });
    std::vector<std::string> operands;
    if (auto error = cli.parse({argv, argv + argc}, CommandLine::Operands::Interleaved, operands);
        !error.empty())
        return error;
    if (!operands.empty())
        return "quiz takes no operands ('" + operands.front() + "')";
    return {};
}

std::string frames_text(const std::vector<std::optional<u64>>& frames, u64 count)
{
    std::string out;
    for (u64 i = 0; i < std::max<u64>(count, frames.size()); ++i)
        out += (out.empty() ? "" : " ") + (i < frames.size() && frames[i] ? std::to_string(*frames[i]) : ".");
    return out;
}

std::string trim(std::string text)
{
    while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\t'))
        text.pop_back();
    size_t start = text.find_first_not_of(" \t");
    return start == std::string::npos ? std::string() : text.substr(start);
}

} // namespace

const char* quiz_usage()
{
    return "  quiz [OPTIONS]            a page-replacement exercise: answer each reference of a\n"
           "                            random string, checked against the machine. Options:\n"
           "    --policy NAME           fifo (default), exact-lru, opt or clock\n"
           "    --frames N              frames (default 3)\n"
           "    --length N              references (default 12)\n"
           "    --pages N               distinct pages to draw from (default 6)\n"
           "    --seed N                the string's seed (default: from the clock; printed)\n";
}

int quiz_command(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err)
{
    QuizOptions o;
    if (auto error = parse(argc, argv, o); !error.empty()) {
        err << "kioku: " << error << "\n";
        return EXIT_USAGE;
    }
    u64 seed = o.seed
                   ? *o.seed
                   : static_cast<u64>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000;
    // The raw output of the engine, which the standard fixes, not a distribution, which it does not:
    // the same seed draws the same string everywhere.
    std::mt19937_64 engine(seed);
    std::vector<u64> pages;
    for (u64 i = 0; i < o.length; ++i)
        pages.push_back(engine() % o.pages);
    std::string error;
    std::vector<scenario::TraceRow> rows = scenario::replay(pages, o.policy, o.frames, true, error);
    if (rows.empty()) {
        err << "kioku: quiz: " << error << "\n";
        return 1;
    }
    std::string list;
    for (u64 page : pages)
        list += (list.empty() ? "" : " ") + std::to_string(page);
    out << "seed " << seed << "\n"
        << text::say(text::Msg::QuizIntro, {o.policy, std::to_string(o.frames), list}) << "\n";
    u64 right = 0;
    u64 asked = 0;
    u64 faults = 0;
    std::vector<std::optional<u64>> frames(o.frames);
    for (const scenario::TraceRow& row : rows)
        faults += row.outcome != scenario::RefOutcome::Hit;
    for (const scenario::TraceRow& row : rows) {
        out << text::say(text::Msg::QuizPrompt,
                         {std::to_string(row.t), std::to_string(row.page), frames_text(frames, o.frames)})
            << std::flush;
        std::string answer;
        bool answered = static_cast<bool>(std::getline(in, answer));
        answer = trim(answer);
        std::string expected = row.outcome == scenario::RefOutcome::Hit ? "h"
                               : row.victims.empty()                    ? "-"
                                                                        : std::to_string(row.victims.front());
        std::string said = row.outcome == scenario::RefOutcome::Hit ? text::say(text::Msg::QuizAnswerHit)
                           : row.victims.empty()                    ? text::say(text::Msg::QuizAnswerFree)
                                                 : text::say(text::Msg::QuizAnswerVictim, {expected});
        if (!row.why.empty())
            said += " (" + row.why + ")";
        if (!answered) {
            out << "\n";
            break; // no more answers: the trace below shows the rest
        }
        ++asked;
        if (answer == expected || (expected == "h" && answer == "H")) {
            ++right;
            out << text::say(text::Msg::QuizRight) << ": " << said << "\n";
        } else {
            out << text::say(text::Msg::QuizWrong, {said}) << "\n";
        }
        frames = row.frames;
    }
    out << text::say(text::Msg::QuizScore,
                     {std::to_string(right), std::to_string(asked), std::to_string(faults)})
        << "\n"
        << scenario::trace_table(rows, o.policy);
    return 0;
}

} // namespace kioku
