#include "front/CommandLine.h"

#include "base/Size.h"

namespace kioku {

void CommandLine::flag(std::string name, std::function<void()> set)
{
    m_entries.push_back(Entry{std::move(name), false, false, std::move(set), {}, {}});
}

void CommandLine::optional(std::string name, Handler take)
{
    m_entries.push_back(Entry{std::move(name), false, true, {}, std::move(take), {}});
}

void CommandLine::option(std::string name, Handler take, std::string missing)
{
    if (missing.empty())
        missing = name + " needs a value";
    m_entries.push_back(Entry{std::move(name), true, false, {}, std::move(take), std::move(missing)});
}

const CommandLine::Entry* CommandLine::find(const std::string& name) const
{
    for (const Entry& e : m_entries)
        if (e.name == name)
            return &e;
    return nullptr;
}

std::string CommandLine::parse(const std::vector<std::string>& args, Operands mode,
                               std::vector<std::string>& operands) const
{
    size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (mode == Operands::Trailing && arg == "--") {
            ++i;
            break;
        }
        if (arg.size() > 1 && arg[0] == '-') {
            size_t eq = arg.starts_with("--") ? arg.find('=') : std::string::npos;
            if (eq != std::string::npos) {
                const Entry* e = find(arg.substr(0, eq));
                if (!e || !e->value_optional)
                    return "unknown option '" + arg + "'";
                if (eq + 1 == arg.size())
                    return arg.substr(0, eq) + "= needs a value after the '='";
                if (auto error = e->take(arg.substr(eq + 1)); !error.empty())
                    return error;
                continue;
            }
            const Entry* e = find(arg);
            if (!e)
                return "unknown option '" + arg + "'";
            if (e->value_optional) {
                if (auto error = e->take(""); !error.empty())
                    return error;
                continue;
            }
            if (!e->takes_value) {
                e->set();
                continue;
            }
            if (i + 1 >= args.size())
                return e->missing;
            if (auto error = e->take(args[++i]); !error.empty())
                return error;
            continue;
        }
        if (mode == Operands::Trailing)
            break;
        operands.push_back(arg);
    }
    for (; i < args.size(); ++i)
        operands.push_back(args[i]);
    return {};
}

std::string parse_mem_option(const std::string& value, u64& bytes)
{
    auto size = parse_size(value);
    if (!size || *size < (u64{8} << 20) || *size > (u64{64} << 30) || *size % 4096)
        return "bad memory size '" + value + "' (a multiple of 4K from 8M to 64G, e.g. 512M)";
    bytes = *size;
    return {};
}

std::string parse_paging_option(const std::string& value, isa::SatpMode& mode)
{
    if (value != "sv48" && value != "sv39")
        return "--paging takes sv48 or sv39";
    mode = value == "sv48" ? isa::SatpMode::Sv48 : isa::SatpMode::Sv39;
    return {};
}

} // namespace kioku
