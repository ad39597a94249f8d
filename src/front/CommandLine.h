// The one command-line parser of the kioku subcommands (`kioku demo`, `scenario`, `run`): a table
// of flags and options, each with the handler that checks and keeps its value. A handler returns
// an error message (empty when the value is good); the caller prints it after "kioku: " and exits
// with status 2. The options every subcommand reads alike (--mem, --paging) are checked here once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

class CommandLine {
  public:
    // Returns an error message, or empty.
    using Handler = std::function<std::string(const std::string& value)>;

    // `--name` alone sets something.
    void flag(std::string name, std::function<void()> set);
    // `--name VALUE`; `missing` is the message when no value follows (default: "NAME needs a value").
    void option(std::string name, Handler take, std::string missing = {});
    // `--name` alone (the handler gets "") or `--name=VALUE`, as strace's own --output is not but
    // GNU tools' optional arguments are.
    void optional(std::string name, Handler take);

    // Where operands may stand. Interleaved: anywhere among the options, all of them collected
    // (`kioku --mem 1G demo`). Trailing: the first operand, or what follows `--`, ends the
    // options, and it and everything after it are the operands, options or not (`kioku run
    // --mem 1G -- prog --its-own-flag`).
    enum class Operands : u8 { Interleaved, Trailing };
    // Parses args; returns an error message, or empty. Any other word starting with '-' is an
    // unknown option.
    std::string parse(const std::vector<std::string>& args, Operands mode,
                      std::vector<std::string>& operands) const;

  private:
    struct Entry {
        std::string name;
        bool takes_value = false;
        bool value_optional = false; // `--name` or `--name=VALUE` only
        std::function<void()> set;
        Handler take;
        std::string missing;
    };
    const Entry* find(const std::string& name) const;
    std::vector<Entry> m_entries;
};

// The checks of the options the subcommands share; each returns an error message, or empty.
// --mem SIZE: a multiple of 4K from 8M to 64G.
std::string parse_mem_option(const std::string& value, u64& bytes);
// --paging sv48|sv39.
std::string parse_paging_option(const std::string& value, isa::SatpMode& mode);

} // namespace kioku
