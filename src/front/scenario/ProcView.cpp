#include "front/scenario/ProcView.h"

#include "front/scenario/Closest.h"

#include <cstdio>
#include <vector>

#include "base/Json.h"
#include "front/scenario/LinuxNames.h"
#include "kernel/ProcJson.h"
#include "kernel/ProcText.h"

namespace kioku::scenario {

using namespace proc_text;

namespace {

// One /proc/PID/pagemap entry in words (bits as in the kernel's Documentation/admin-guide/mm/pagemap.rst).
std::string describe_pagemap_entry(u64 vaddr, u64 entry)
{
    char line[160];
    bool present = entry >> 63 & 1;
    bool swapped = entry >> 62 & 1;
    if (present)
        std::snprintf(line, sizeof line, "0x%016llx present pfn=0x%llx",
                      static_cast<unsigned long long>(vaddr),
                      static_cast<unsigned long long>(entry & ((u64{1} << 55) - 1)));
    else if (swapped)
        std::snprintf(line, sizeof line, "0x%016llx swapped type=%llu offset=0x%llx",
                      static_cast<unsigned long long>(vaddr), static_cast<unsigned long long>(entry & 0x1f),
                      static_cast<unsigned long long>((entry >> 5) & ((u64{1} << 50) - 1)));
    else
        std::snprintf(line, sizeof line, "0x%016llx not-present", static_cast<unsigned long long>(vaddr));
    std::string out = line;
    if (entry >> 61 & 1)
        out += " file-or-shared";
    if (entry >> 56 & 1)
        out += " exclusive";
    if (entry >> 55 & 1)
        out += " soft-dirty";
    return out + "\n";
}

// The kernel log, one line per message, as `dmesg` prints it without timestamps (dmesg -t).
std::string dmesg_text(const Kernel& kernel)
{
    std::string out;
    for (const auto& line : kernel.log_lines())
        out += line + "\n";
    return out;
}

// The log as a JSON array of strings.
std::string dmesg_json(const Kernel& kernel)
{
    JsonWriter json;
    json.open('[');
    for (const auto& line : kernel.log_lines())
        json.string(line);
    json.close(']');
    return json.take();
}

} // namespace

std::string proc_path(Pid pid, const char* file)
{
    return "/proc/" + std::to_string(pid) + "/" + file;
}

Pid ProcView::machine_viewer() const
{
    auto pids = m_kernel.pids();
    return pids.empty() ? 0 : pids.front();
}

Fetched<std::string> ProcView::file(Pid viewer, const std::string& path)
{
    auto text = m_kernel.read_proc(viewer, path);
    if (text.is_error())
        return Fetched<std::string>::failure("cannot read " + path + ": " + errno_name(text.error().code));
    return {text.release_value(), {}};
}

Fetched<i64> ProcView::value(const ValueRef& ref, Pid pid, u64 region_addr, u64 region_length)
{
    using S = ValueRef::Source;
    if (ref.source == S::ProcessVmas) {
        auto maps = file(pid, proc_path(pid, "maps"));
        if (!maps.ok())
            return Fetched<i64>::failure(maps.error);
        return {maps_overlapping(*maps.value, region_addr, region_addr + region_length).count, {}};
    }
    switch (ref.source) {
    case S::ProcessPid: return {pid, {}};
    case S::ProcessStat: return field_of(proc_path(pid, "stat"), pid, ref, region_addr);
    case S::ProcessStatus: return field_of(proc_path(pid, "status"), pid, ref, region_addr);
    case S::ProcessSmaps: return field_of(proc_path(pid, "smaps"), pid, ref, region_addr);
    case S::ProcessRollup: return field_of(proc_path(pid, "smaps_rollup"), pid, ref, region_addr);
    case S::ProcessStatm: return field_of(proc_path(pid, "statm"), pid, ref, region_addr);
    case S::ProcessMapCount: return field_of(proc_path(pid, "maps"), pid, ref, region_addr);
    case S::ProcessFile: return field_of(proc_path(pid, ref.field.c_str()), pid, ref, region_addr);
    case S::Meminfo: return field_of("/proc/meminfo", machine_viewer(), ref, region_addr);
    case S::Vmstat: return field_of("/proc/vmstat", machine_viewer(), ref, region_addr);
    case S::Tlb: return field_of("/proc/kioku/tlb", machine_viewer(), ref, region_addr);
    case S::Sysctl: return field_of("/proc/sys/" + ref.field, machine_viewer(), ref, region_addr);
    case S::Clock: return {static_cast<i64>(m_kernel.now_ns()), {}};
    case S::Cgroup: {
        // The whole name as a one-value file, else its last part as a key of the file before it.
        std::string dir = "/sys/fs/cgroup/" + ref.name + "/";
        if (auto whole = file(machine_viewer(), dir + ref.field); whole.ok()) {
            if (auto v = column(*whole.value, 0))
                return {v, {}};
            return Fetched<i64>::failure(dir + ref.field + " holds no number");
        }
        size_t dot = ref.field.rfind('.');
        auto keyed = file(machine_viewer(), dir + ref.field.substr(0, dot));
        if (!keyed.ok())
            return Fetched<i64>::failure(keyed.error);
        if (auto v = space_field(*keyed.value, ref.field.substr(dot + 1)))
            return {v, {}};
        return Fetched<i64>::failure(dir + ref.field.substr(0, dot) + " has no '" +
                                     ref.field.substr(dot + 1) + "'");
    }
    case S::Variable:
    case S::LastErrno:
    case S::LastSignal:
    case S::LastSiCode:
    case S::LastAddr:
    case S::ProcessVmas:
    case S::ProcessPerms: break;
    }
    return Fetched<i64>::failure("not a kernel value");
}

Fetched<std::string> ProcView::text(const ValueRef& ref, Pid pid, u64 region_addr, u64 region_length)
{
    if (ref.source != ValueRef::Source::ProcessPerms)
        return Fetched<std::string>::failure("not a text value");
    auto maps = file(pid, proc_path(pid, "maps"));
    if (!maps.ok())
        return maps;
    return {maps_overlapping(*maps.value, region_addr, region_addr + region_length).perms, {}};
}

Fetched<i64> ProcView::field_of(const std::string& path, Pid viewer, const ValueRef& ref, u64 region_addr)
{
    auto text = file(viewer, path);
    if (!text.ok())
        return Fetched<i64>::failure(text.error);
    std::string_view body = *text.value;
    std::optional<i64> value;
    using S = ValueRef::Source;
    switch (ref.source) {
    case S::ProcessStat: value = stat_field(body, ref.stat_field); break;
    case S::ProcessStatm: value = column(body, ref.stat_field); break;
    case S::Sysctl:
    case S::ProcessFile: value = column(body, 0); break;
    case S::ProcessMapCount: value = line_count(body); break;
    case S::Vmstat:
    case S::Tlb: value = space_field(body, ref.field); break;
    case S::ProcessSmaps: {
        auto entry = smaps_entry(body, region_addr);
        if (!entry)
            return Fetched<i64>::failure(path + " has no entry for region " + ref.region);
        value = colon_field(*entry, ref.field);
        break;
    }
    default: value = colon_field(body, ref.field); break;
    }
    if (!value) {
        std::string what =
            ref.field.empty() ? "field " + std::to_string(ref.stat_field) : "'" + ref.field + "'";
        if (!ref.field.empty()) {
            // The file's own names ("MemFree:", "pgfault "), for a hint at the one meant.
            std::vector<std::string_view> names;
            for (std::string_view rest = body; !rest.empty();) {
                size_t eol = std::min(rest.find('\n'), rest.size());
                std::string_view line = rest.substr(0, eol);
                rest.remove_prefix(std::min(eol + 1, rest.size()));
                size_t end = line.find_first_of(": \t");
                if (end != std::string_view::npos && end > 0)
                    names.push_back(line.substr(0, end));
            }
            if (std::string closest = closest_name(ref.field, names); !closest.empty())
                what += " (did you mean '" + closest + "'?)";
        }
        return Fetched<i64>::failure(path + " has no " + what);
    }
    return {value, {}};
}

Fetched<std::string> ProcView::view(ShowCmd::What what, Pid pid, std::optional<u64> addr, u64 length)
{
    using W = ShowCmd::What;
    switch (what) {
    case W::Meminfo: return file(machine_viewer(), "/proc/meminfo");
    case W::Vmstat: return file(machine_viewer(), "/proc/vmstat");
    case W::Buddyinfo: return file(machine_viewer(), "/proc/buddyinfo");
    case W::Pagetypeinfo: return file(machine_viewer(), "/proc/pagetypeinfo");
    case W::ExtfragIndex: return file(machine_viewer(), "/sys/kernel/debug/extfrag/extfrag_index");
    case W::UnusableIndex: return file(machine_viewer(), "/sys/kernel/debug/extfrag/unusable_index");
    case W::Tlb: return file(machine_viewer(), "/proc/kioku/tlb");
    case W::Physmap: return file(machine_viewer(), "/proc/kioku/physmap");
    case W::Layout: return file(machine_viewer(), "/proc/kioku/layout");
    case W::Slabinfo: return file(machine_viewer(), "/proc/slabinfo");
    case W::Free: return {m_kernel.free_text(false), {}};
    case W::VmstatCmd: return {m_kernel.vmstat_text(), {}};
    case W::Dmesg: return {dmesg_text(m_kernel), {}};
    case W::Maps: return file(pid, proc_path(pid, "maps"));
    case W::Status: return file(pid, proc_path(pid, "status"));
    case W::Statm: return file(pid, proc_path(pid, "statm"));
    case W::Faults: return faults_view(pid);
    case W::Pagemap: return pagemap_view(pid, addr.value_or(0), length);
    case W::Smaps: {
        auto text = file(pid, proc_path(pid, "smaps"));
        if (!text.ok() || !addr)
            return text;
        auto entry = smaps_entry(*text.value, *addr);
        if (!entry)
            return Fetched<std::string>::failure("no mapping holds that address in " +
                                                 proc_path(pid, "smaps"));
        return {std::string(*entry), {}};
    }
    }
    return Fetched<std::string>::failure("unknown view");
}

Fetched<std::string> ProcView::json(ShowCmd::What what, Pid pid, std::optional<u64> addr, u64 length)
{
    using W = ShowCmd::What;
    auto fetched = [](Result<std::string> json) {
        if (json.is_error())
            return Fetched<std::string>::failure("cannot show it as JSON: " + errno_name(json.error().code));
        return Fetched<std::string>{json.release_value(), {}};
    };
    // faults and one smaps entry are cut out of /proc text here, so they are encoded here too.
    if (what == W::Faults || (what == W::Smaps && addr)) {
        auto text = view(what, pid, addr, length);
        if (!text.ok())
            return text;
        return fetched(what == W::Faults ? counters_json(*text.value) : smaps_json(*text.value));
    }
    if (what == W::Dmesg)
        return {dmesg_json(m_kernel), {}};
    if (what == W::Pagemap) {
        u64 first = addr.value_or(0) & PAGE_MASK;
        u64 pages = (page_round_up(addr.value_or(0) + length) - first) >> PAGE_SHIFT;
        return fetched(m_kernel.view_json(pid, "pagemap", pid, first, pages));
    }
    static constexpr std::pair<W, const char*> NAMES[] = {
        {W::Meminfo, "meminfo"}, {W::Vmstat, "vmstat"}, {W::Buddyinfo, "buddyinfo"},
        {W::Free, "free"},       {W::Tlb, "tlb"},       {W::VmstatCmd, "vmstat_cmd"},
        {W::Maps, "maps"},       {W::Smaps, "smaps"},   {W::Status, "status"},
        {W::Statm, "statm"}};
    for (const auto& [view_what, name] : NAMES)
        if (view_what == what)
            return fetched(m_kernel.view_json(pid ? pid : machine_viewer(), name, pid));
    return Fetched<std::string>::failure("unknown view");
}

Fetched<std::string> ProcView::faults_view(Pid pid)
{
    auto text = file(pid, proc_path(pid, "stat"));
    if (!text.ok())
        return text;
    auto minflt = stat_field(*text.value, 10);
    auto majflt = stat_field(*text.value, 12);
    if (!minflt || !majflt)
        return Fetched<std::string>::failure(proc_path(pid, "stat") + " has no fault counts");
    return {"minflt " + std::to_string(*minflt) + "\nmajflt " + std::to_string(*majflt) + "\n", {}};
}

Fetched<std::string> ProcView::pagemap_view(Pid pid, u64 addr, u64 length)
{
    u64 first = addr & PAGE_MASK;
    u64 pages = (page_round_up(addr + length) - first) >> PAGE_SHIFT;
    auto entries = m_kernel.pagemap(pid, first, pages);
    if (entries.is_error())
        return Fetched<std::string>::failure("cannot read " + proc_path(pid, "pagemap") + ": " +
                                             errno_name(entries.error().code));
    std::string out;
    for (u64 i = 0; i < entries.value().size(); ++i)
        out += describe_pagemap_entry(first + (i << PAGE_SHIFT), entries.value()[i]);
    return {out, {}};
}

} // namespace kioku::scenario
