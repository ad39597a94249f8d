// The Linux names a scenario writes for numbers of the guest ABI: errno values (EINVAL), signals
// (SIGSEGV), si_code values (SEGV_MAPERR), the PROT_, MAP_, MS_ and O_ flag words, madvise advice
// (MADV_) and prctl options (PR_). The values are Linux's generic ones, which riscv64 uses and
// which the host's headers give as well.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kioku::scenario {

std::optional<int> errno_from_name(std::string_view name); // "EINVAL"
std::string errno_name(int code);                          // "EINVAL", or "errno 123"

std::optional<int> signal_from_name(std::string_view name); // "SIGKILL", "KILL" or "9"
std::string signal_name(int signal);                        // "SIGKILL", or "signal 40"

// si_code names, written in lower case without prefix in scripts: maperr, accerr (SIGSEGV),
// adraln, adrerr, objerr (SIGBUS).
std::optional<int> si_code_from_name(int signal, std::string_view name);
std::string si_code_name(int signal, int code); // "SEGV_MAPERR"

// "rw", "r", "rwx", "none" -> PROT_ bits.
std::optional<int> prot_from_text(std::string_view text);
std::string prot_text(int prot);

// madvise advice: "MADV_HUGEPAGE" or "hugepage" (any case), or a number (passed on unchecked, so
// a script can ask for an advice Linux rejects).
std::optional<int> madvise_from_name(std::string_view name);
// prctl options: "PR_SET_THP_DISABLE" (41), "PR_GET_THP_DISABLE" (42), or a number.
std::optional<int> prctl_option_from_name(std::string_view name);

// Comma-separated lists: "private,anon,populate" -> MAP_ bits; "sync" -> MS_ bits;
// "rdwr,creat,trunc" -> O_ bits. On an unknown word, `bad` names it.
std::optional<int> map_flags_from_text(std::string_view text, std::string& bad);
std::optional<int> msync_flags_from_text(std::string_view text, std::string& bad);
std::optional<int> open_flags_from_text(std::string_view text, std::string& bad);

} // namespace kioku::scenario
