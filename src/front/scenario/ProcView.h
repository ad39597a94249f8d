// What a scenario can look at: the /proc views that `show` prints and the values that
// expressions read (A.minflt, meminfo.MemFree, tlb.misses...). Both come from the same text the
// kernel serves through Kernel::read_proc, parsed as a user-space tool would, so a value can
// never disagree with the view it belongs to.
//
// A ProcView borrows the kernel; it holds no state of its own.
#pragma once

#include <optional>
#include <string>

#include "front/scenario/Script.h"
#include "kernel/Kernel.h"

namespace kioku::scenario {

// A value, or the reason there is none, in words for the scenario's author.
template <typename T>
struct Fetched {
    std::optional<T> value;
    std::string error;

    static Fetched failure(std::string message) { return Fetched{std::nullopt, std::move(message)}; }
    bool ok() const { return value.has_value(); }
};

class ProcView {
  public:
    explicit ProcView(Kernel& kernel)
        : m_kernel(kernel)
    {
    }

    Fetched<std::string> file(Pid viewer, const std::string& path);
    // A machine or process value. pid is the process the ref names (0 for machine values);
    // region_addr and region_length are the range of the region an smaps or maps value names.
    Fetched<i64> value(const ValueRef& ref, Pid pid, u64 region_addr, u64 region_length = 0);
    // A text value (is_text_value): the permissions of the maps lines overlapping a region.
    Fetched<std::string> text(const ValueRef& ref, Pid pid, u64 region_addr, u64 region_length);
    // The text `show` prints. addr and length apply to smaps (one entry) and pagemap.
    Fetched<std::string> view(ShowCmd::What what, Pid pid, std::optional<u64> addr, u64 length);
    // The same view as JSON (`show VIEW ... json`), one line.
    Fetched<std::string> json(ShowCmd::What what, Pid pid, std::optional<u64> addr, u64 length);

    // The process that reads machine-wide files: the first live one, or 0 when none is left.
    Pid machine_viewer() const;

  private:
    Fetched<i64> field_of(const std::string& path, Pid viewer, const ValueRef& ref, u64 region_addr);
    Fetched<std::string> faults_view(Pid pid);
    Fetched<std::string> pagemap_view(Pid pid, u64 addr, u64 length);

    Kernel& m_kernel;
};

std::string proc_path(Pid pid, const char* file); // "/proc/42/smaps"

} // namespace kioku::scenario
