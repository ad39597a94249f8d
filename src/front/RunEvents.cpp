#include "front/RunEvents.h"

#include "base/Number.h"

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"

namespace kioku {

namespace {

const char* kind_name(PageEventKind kind)
{
    switch (kind) {
    case PageEventKind::Fault: return "fault";
    case PageEventKind::SwapIn: return "swap_in";
    case PageEventKind::Evict: return "evict";
    case PageEventKind::SwapOut: return "swap_out";
    case PageEventKind::Writeback: return "writeback";
    case PageEventKind::OomKill: return "oom_kill";
    }
    return "?";
}

// A CSV field in double quotes, its quotes doubled (RFC 4180).
std::string quoted(std::string_view text)
{
    std::string out = "\"";
    for (char c : text) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace

RunEvents::RunEvents(Runner& runner, std::ostream& out)
    : m_runner(runner)
    , m_out(out)
{
    m_out << "time_ns,pid,address,pfn,kind,detail\n";
    runner.kernel().mm().set_page_event_sink(this);
}

RunEvents::~RunEvents()
{
    m_runner.kernel().mm().set_page_event_sink(nullptr);
    m_out.flush();
}

i32 RunEvents::pid_of(const AddressSpace* space)
{
    if (!space)
        return 0;
    Kernel& kernel = m_runner.kernel();
    if (auto it = m_pids.find(space); it != m_pids.end()) {
        // Spaces come and go: a remembered one must still be that process's.
        Process* p = kernel.process(it->second);
        if (p && p->has_space() && &p->space() == space)
            return it->second;
    }
    for (auto& [pid, p] : kernel.processes())
        if (p->has_space() && &p->space() == space) {
            m_pids[space] = pid;
            return pid;
        }
    // A space no process holds yet: the new image exec is building, for the process it serves.
    return kernel.serving();
}

void RunEvents::page_event(const PageEvent& event)
{
    i32 pid = pid_of(event.space);
    m_out << m_runner.kernel().now_ns() << ',' << (pid ? std::to_string(pid) : std::string()) << ','
          << (event.space ? hex_text(event.va) : std::string()) << ','
          << (event.pfn ? hex_text(event.pfn) : std::string()) << ',' << kind_name(event.kind) << ','
          << quoted(event.detail) << '\n';
    ++m_rows;
}

} // namespace kioku
