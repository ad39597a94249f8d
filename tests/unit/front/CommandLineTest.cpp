// The one command-line parser of the subcommands: flags, options and their messages, and where
// operands may stand.
#include <gtest/gtest.h>

#include "front/CommandLine.h"

namespace kioku {
namespace {

struct Parsed {
    bool check = false;
    std::string root;
    std::vector<std::string> operands;
    std::string error;
    std::vector<std::string> strace; // each --strace's value
};

Parsed parse(std::vector<std::string> args, CommandLine::Operands mode)
{
    Parsed p;
    CommandLine cli;
    cli.flag("--check", [&] { p.check = true; });
    cli.option(
        "--root",
        [&](const std::string& v) {
            if (v.empty())
                return std::string("--root wants a name");
            p.root = v;
            return std::string();
        },
        "--root needs a directory");
    cli.option("--trace", [](const std::string&) { return std::string(); });
    cli.optional("--strace", [&](const std::string& v) {
        p.strace.push_back(v);
        return std::string();
    });
    p.error = cli.parse(args, mode, p.operands);
    return p;
}

TEST(CommandLine, InterleavedOperandsStandAnywhere)
{
    Parsed p = parse({"scenario", "--check", "a.kio", "--root", "/r"}, CommandLine::Operands::Interleaved);
    EXPECT_EQ(p.error, "");
    EXPECT_TRUE(p.check);
    EXPECT_EQ(p.root, "/r");
    EXPECT_EQ(p.operands, (std::vector<std::string>{"scenario", "a.kio"}));
}

TEST(CommandLine, TrailingOperandsEndTheOptionsAndKeepTheirOwnFlags)
{
    Parsed p = parse({"--check", "prog", "--root", "x"}, CommandLine::Operands::Trailing);
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.root, ""); // the program's own argument
    EXPECT_EQ(p.operands, (std::vector<std::string>{"prog", "--root", "x"}));
    Parsed q = parse({"--root", "/r", "--", "--check"}, CommandLine::Operands::Trailing);
    EXPECT_FALSE(q.check);
    EXPECT_EQ(q.operands, (std::vector<std::string>{"--check"}));
}

TEST(CommandLine, ErrorsSayWhichOptionAndWhy)
{
    EXPECT_EQ(parse({"--bogus"}, CommandLine::Operands::Interleaved).error, "unknown option '--bogus'");
    EXPECT_EQ(parse({"--"}, CommandLine::Operands::Interleaved).error, "unknown option '--'");
    EXPECT_EQ(parse({"--root"}, CommandLine::Operands::Trailing).error, "--root needs a directory");
    EXPECT_EQ(parse({"--trace"}, CommandLine::Operands::Trailing).error, "--trace needs a value");
    EXPECT_EQ(parse({"--root", ""}, CommandLine::Operands::Trailing).error, "--root wants a name");
    EXPECT_EQ(parse({"-"}, CommandLine::Operands::Interleaved).operands, std::vector<std::string>{"-"});
}

TEST(CommandLine, AnOptionalValueComesAfterAnEqualsSign)
{
    Parsed p = parse({"--strace", "--strace=calls.txt", "prog"}, CommandLine::Operands::Trailing);
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.strace, (std::vector<std::string>{"", "calls.txt"}));
    EXPECT_EQ(p.operands, std::vector<std::string>{"prog"}) << "the word after --strace is not its value";
    EXPECT_EQ(parse({"--strace="}, CommandLine::Operands::Trailing).error,
              "--strace= needs a value after the '='");
    EXPECT_EQ(parse({"--root=/r"}, CommandLine::Operands::Trailing).error, "unknown option '--root=/r'")
        << "only an optional value is written with '='";
}

TEST(CommandLine, SharedOptionsAreCheckedAlike)
{
    u64 bytes = 0;
    EXPECT_EQ(parse_mem_option("1G", bytes), "");
    EXPECT_EQ(bytes, u64{1} << 30);
    EXPECT_EQ(parse_mem_option("4M", bytes),
              "bad memory size '4M' (a multiple of 4K from 8M to 64G, e.g. 512M)");
    EXPECT_NE(parse_mem_option("65G", bytes), "");
    EXPECT_NE(parse_mem_option("8390000", bytes), ""); // not a multiple of 4K
    isa::SatpMode mode = isa::SatpMode::Sv48;
    EXPECT_EQ(parse_paging_option("sv39", mode), "");
    EXPECT_EQ(mode, isa::SatpMode::Sv39);
    EXPECT_EQ(parse_paging_option("sv57", mode), "--paging takes sv48 or sv39");
}

} // namespace
} // namespace kioku
