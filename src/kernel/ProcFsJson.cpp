// The JSON views of ProcFs and the `vmstat` command view, kept apart from ProcFs.cpp: they add
// no gathering of their own. Each reads the text view procfs serves and re-encodes it with
// ProcJson, so the JSON and the text always agree.
#include "kernel/Kernel.h"
#include "kernel/ProcFs.h"
#include "kernel/ProcJson.h"
#include "kernel/ProcText.h"

namespace kioku {

namespace {

// The tick rate procps assumes for /proc/stat (USER_HZ).
constexpr u64 USER_HZ = 100;
constexpr u64 NS_PER_TICK = 1'000'000'000 / USER_HZ;

// The value of `name` in "name value" text (/proc/vmstat), 0 when absent.
u64 counter(std::string_view text, std::string_view name)
{
    return static_cast<u64>(proc_text::space_field(text, name).value_or(0));
}

// What procps's vmstat would read on this machine. kioku keeps no CPU accounting: the clock
// advances for everything the one modelled CPU does and does not say which part was kernel
// work. So the time since boot is booked as user time (it is never idle: the clock moves only
// when something runs), and there are no interrupts or context switches to count. The swap and
// block columns come from /proc/vmstat's pswpin, pswpout, pgpgin and pgpgout.
VmstatSample vmstat_sample(Kernel& kernel, ProcFs& procfs)
{
    std::string vmstat = procfs.read(0, "/proc/vmstat").value();
    VmstatCounters counters;
    counters.user = kernel.now_ns() / NS_PER_TICK;
    counters.pgpgin = counter(vmstat, "pgpgin");
    counters.pgpgout = counter(vmstat, "pgpgout");
    counters.pswpin = counter(vmstat, "pswpin");
    counters.pswpout = counter(vmstat, "pswpout");
    VmstatSample sample = vmstat_since_boot(counters, USER_HZ);
    // Nothing in kioku blocks: every live process is runnable.
    sample.r = kernel.pids().size();
    MeminfoValues m = procfs.meminfo();
    sample.swpd = m.swap_total - m.swap_free;
    sample.free = m.mem_free;
    sample.buff = m.buffers;
    sample.cache = m.cached + m.sreclaimable;
    return sample;
}

// The machine-wide text views that JSON re-encodes, by view name.
struct MachineView {
    std::string_view name;
    const char* path;
    Result<std::string> (*encode)(std::string_view);
};
constexpr MachineView MACHINE_VIEWS[] = {
    {"vmstat", "/proc/vmstat", counters_json},
    {"buddyinfo", "/proc/buddyinfo", buddyinfo_json},
    {"tlb", "/proc/kioku/tlb", counters_json},
};

struct ProcessView {
    std::string_view name;
    const char* file;
    Result<std::string> (*encode)(std::string_view);
};
constexpr ProcessView PROCESS_VIEWS[] = {
    {"maps", "maps", maps_json},
    {"smaps", "smaps", smaps_json},
    {"smaps_rollup", "smaps_rollup", smaps_rollup_json},
    {"status", "status", status_json},
    {"statm", "statm", statm_json},
};

} // namespace

Result<std::string> ProcFs::json(int viewer, const std::string& view, int pid, u64 start, u64 pages)
{
    if (view == "meminfo")
        return meminfo_json(meminfo());
    if (view == "free")
        return free_json(free_text(false));
    if (view == "vmstat_cmd")
        return vmstat_command_json(format_vmstat_header() +
                                   format_vmstat_line(vmstat_sample(m_kernel, *this)));
    for (const MachineView& v : MACHINE_VIEWS)
        if (view == v.name)
            return v.encode(TRY(read(viewer, v.path)));
    int who = pid ? pid : viewer;
    if (view == "pagemap")
        return pagemap_json(start, TRY(pagemap(who, start, pages)));
    for (const ProcessView& v : PROCESS_VIEWS)
        if (view == v.name)
            return v.encode(TRY(read(viewer, "/proc/" + std::to_string(who) + "/" + v.file)));
    return Error::from_errno(ENOENT, "no such JSON view");
}

Result<std::string> Kernel::view_json(Pid viewer, const std::string& view, Pid pid, u64 start, u64 pages)
{
    return ProcFs(*this).json(viewer, view, pid, start, pages);
}

std::string Kernel::vmstat_text()
{
    ProcFs procfs(*this);
    return format_vmstat_header() + format_vmstat_line(vmstat_sample(*this, procfs));
}

} // namespace kioku
