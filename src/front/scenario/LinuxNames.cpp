#include "front/scenario/LinuxNames.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <span>
#include <sys/mman.h>

#include "front/scenario/Lexer.h"

namespace kioku::scenario {

namespace {

struct Named {
    std::string_view name;
    int value;
};

constexpr Named ERRNOS[] = {
    {"EPERM", EPERM},
    {"ENOENT", ENOENT},
    {"ESRCH", ESRCH},
    {"EINTR", EINTR},
    {"EIO", EIO},
    {"ENXIO", ENXIO},
    {"E2BIG", E2BIG},
    {"ENOEXEC", ENOEXEC},
    {"EBADF", EBADF},
    {"ECHILD", ECHILD},
    {"EAGAIN", EAGAIN},
    {"ENOMEM", ENOMEM},
    {"EACCES", EACCES},
    {"EFAULT", EFAULT},
    {"EBUSY", EBUSY},
    {"EEXIST", EEXIST},
    {"EXDEV", EXDEV},
    {"ENODEV", ENODEV},
    {"ENOTDIR", ENOTDIR},
    {"EISDIR", EISDIR},
    {"EINVAL", EINVAL},
    {"ENFILE", ENFILE},
    {"EMFILE", EMFILE},
    {"ENOTTY", ENOTTY},
    {"ETXTBSY", ETXTBSY},
    {"EFBIG", EFBIG},
    {"ENOSPC", ENOSPC},
    {"ESPIPE", ESPIPE},
    {"EROFS", EROFS},
    {"EMLINK", EMLINK},
    {"EPIPE", EPIPE},
    {"ERANGE", ERANGE},
    {"ENAMETOOLONG", ENAMETOOLONG},
    {"ENOSYS", ENOSYS},
    {"EOVERFLOW", EOVERFLOW},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENODATA", ENODATA},
    {"ETIMEDOUT", ETIMEDOUT},
};

constexpr Named SIGNALS[] = {
    {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT}, {"SIGBUS", SIGBUS},   {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV}, {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM}, {"SIGTERM", SIGTERM}, {"SIGCHLD", SIGCHLD},
    {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP}, {"SIGTSTP", SIGTSTP}, {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ}, {"SIGSYS", SIGSYS},
};

// The first name of a value is the one printed; "mapperr" is accepted as a common misspelling.
constexpr Named SEGV_CODES[] = {{"maperr", SEGV_MAPERR}, {"accerr", SEGV_ACCERR}, {"mapperr", SEGV_MAPERR}};
constexpr Named BUS_CODES[] = {{"adraln", BUS_ADRALN}, {"adrerr", BUS_ADRERR}, {"objerr", BUS_OBJERR}};

constexpr Named MAP_FLAGS[] = {
    {"shared", MAP_SHARED},
    {"private", MAP_PRIVATE},
    {"shared_validate", MAP_SHARED_VALIDATE},
    {"anon", MAP_ANONYMOUS},
    {"anonymous", MAP_ANONYMOUS},
    {"fixed", MAP_FIXED},
    {"fixed_noreplace", MAP_FIXED_NOREPLACE},
    {"populate", MAP_POPULATE},
    {"noreserve", MAP_NORESERVE},
    {"growsdown", MAP_GROWSDOWN},
    {"stack", MAP_STACK},
    {"locked", MAP_LOCKED},
    {"nonblock", MAP_NONBLOCK},
    {"hugetlb", MAP_HUGETLB},
};

constexpr Named MSYNC_FLAGS[] = {{"sync", MS_SYNC}, {"async", MS_ASYNC}, {"invalidate", MS_INVALIDATE}};

constexpr Named OPEN_FLAGS[] = {
    {"rdonly", O_RDONLY}, {"wronly", O_WRONLY}, {"rdwr", O_RDWR},     {"creat", O_CREAT},
    {"excl", O_EXCL},     {"trunc", O_TRUNC},   {"append", O_APPEND},
};

// madvise advice, Linux's generic uapi values (asm-generic/mman-common.h), written without the
// MADV_ prefix in lower case.
constexpr Named MADVICE[] = {
    {"normal", 0},           {"random", 1},         {"sequential", 2},
    {"willneed", 3},         {"dontneed", 4},       {"free", 8},
    {"remove", 9},           {"dontfork", 10},      {"dofork", 11},
    {"mergeable", 12},       {"unmergeable", 13},   {"hugepage", 14},
    {"nohugepage", 15},      {"dontdump", 16},      {"dodump", 17},
    {"wipeonfork", 18},      {"keeponfork", 19},    {"cold", 20},
    {"pageout", 21},         {"populate_read", 22}, {"populate_write", 23},
    {"dontneed_locked", 24}, {"collapse", 25},
};

// The prctl options a scenario can make (include/uapi/linux/prctl.h).
constexpr Named PRCTL_OPTIONS[] = {{"PR_SET_THP_DISABLE", 41}, {"PR_GET_THP_DISABLE", 42}};

std::optional<int> lookup(std::span<const Named> table, std::string_view name)
{
    for (const auto& entry : table)
        if (entry.name == name)
            return entry.value;
    return std::nullopt;
}

std::string_view reverse(std::span<const Named> table, int value)
{
    for (const auto& entry : table)
        if (entry.value == value)
            return entry.name;
    return {};
}

std::optional<int> flags_from_list(std::span<const Named> table, std::string_view text, std::string& bad)
{
    int flags = 0;
    while (true) {
        size_t comma = text.find(',');
        std::string_view word = text.substr(0, comma);
        auto bit = lookup(table, word);
        if (!bit) {
            bad = std::string(word);
            return std::nullopt;
        }
        flags |= *bit;
        if (comma == std::string_view::npos)
            return flags;
        text.remove_prefix(comma + 1);
    }
}

} // namespace

std::optional<int> errno_from_name(std::string_view name)
{
    return lookup(ERRNOS, name);
}

std::string errno_name(int code)
{
    auto name = reverse(ERRNOS, code);
    return name.empty() ? "errno " + std::to_string(code) : std::string(name);
}

std::optional<int> signal_from_name(std::string_view name)
{
    if (auto number = parse_number(name); number && *number > 0 && *number < 65)
        return static_cast<int>(*number);
    if (auto signal = lookup(SIGNALS, name))
        return signal;
    return lookup(SIGNALS, "SIG" + std::string(name));
}

std::string signal_name(int signal)
{
    auto name = reverse(SIGNALS, signal);
    return name.empty() ? "signal " + std::to_string(signal) : std::string(name);
}

std::optional<int> si_code_from_name(int signal, std::string_view name)
{
    if (signal == SIGSEGV)
        return lookup(SEGV_CODES, name);
    if (signal == SIGBUS)
        return lookup(BUS_CODES, name);
    return std::nullopt;
}

std::string si_code_name(int signal, int code)
{
    std::string_view name = signal == SIGSEGV  ? reverse(SEGV_CODES, code)
                            : signal == SIGBUS ? reverse(BUS_CODES, code)
                                               : std::string_view{};
    if (name.empty())
        return "si_code " + std::to_string(code);
    std::string out = signal == SIGSEGV ? "SEGV_" : "BUS_";
    for (char c : name)
        out += static_cast<char>(c - 'a' + 'A');
    return out;
}

std::optional<int> prot_from_text(std::string_view text)
{
    if (text == "none")
        return PROT_NONE;
    if (text.empty())
        return std::nullopt;
    int prot = 0;
    for (char c : text) {
        int bit = c == 'r' ? PROT_READ : c == 'w' ? PROT_WRITE : c == 'x' ? PROT_EXEC : 0;
        if (!bit || (prot & bit))
            return std::nullopt;
        prot |= bit;
    }
    return prot;
}

std::string prot_text(int prot)
{
    if (prot == PROT_NONE)
        return "none";
    std::string text;
    if (prot & PROT_READ)
        text += 'r';
    if (prot & PROT_WRITE)
        text += 'w';
    if (prot & PROT_EXEC)
        text += 'x';
    return text;
}

std::optional<int> madvise_from_name(std::string_view name)
{
    if (auto number = parse_number(name); number && *number >= 0 && *number <= 0xffff)
        return static_cast<int>(*number);
    std::string lower;
    for (char c : name)
        lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    std::string_view word = lower;
    if (word.starts_with("madv_"))
        word.remove_prefix(5);
    return lookup(MADVICE, word);
}

std::optional<int> prctl_option_from_name(std::string_view name)
{
    if (auto number = parse_number(name); number && *number >= 0 && *number <= 0xffff)
        return static_cast<int>(*number);
    return lookup(PRCTL_OPTIONS, name);
}

std::optional<int> map_flags_from_text(std::string_view text, std::string& bad)
{
    return flags_from_list(MAP_FLAGS, text, bad);
}

std::optional<int> msync_flags_from_text(std::string_view text, std::string& bad)
{
    return flags_from_list(MSYNC_FLAGS, text, bad);
}

std::optional<int> open_flags_from_text(std::string_view text, std::string& bad)
{
    return flags_from_list(OPEN_FLAGS, text, bad);
}

} // namespace kioku::scenario
