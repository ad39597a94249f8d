#include "kernel/OomKiller.h"

#include <csignal>
#include <cstdio>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/core/Lru.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

u64 total_pages(MemoryManager& mm)
{
    return mm.total_ram_pages() + mm.total_swap_pages();
}

Process* process_of(Kernel& kernel, AddressSpace* space)
{
    if (!space)
        return nullptr;
    for (auto& [pid, p] : kernel.processes())
        if (p->alive() && p->has_space() && &p->space() == space)
            return p.get();
    return nullptr;
}

} // namespace

std::optional<i64> OomKiller::badness(Kernel& kernel, Process& p)
{
    if (!p.alive() || !p.has_space() || p.oom_score_adj == -1000 || p.is_init)
        return std::nullopt;
    AddressSpace& s = p.space();
    i64 points = s.rss().total() + s.rss().swapents + static_cast<i64>(s.page_table().table_pages());
    points += static_cast<i64>(p.oom_score_adj) * static_cast<i64>(total_pages(kernel.mm())) / 1000;
    return points;
}

u64 OomKiller::oom_score(Kernel& kernel, Process& p)
{
    auto points = badness(kernel, p);
    if (!points)
        return 0;
    i64 total = static_cast<i64>(total_pages(kernel.mm()));
    i64 score = 1000 + *points * 1000 / std::max<i64>(total, 1);
    return static_cast<u64>(std::clamp<i64>(score, 0, 2000));
}

void OomKiller::dump_header(Process* current)
{
    MemoryManager& mm = m_kernel.mm();
    const Lru& lru = mm.lru();
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                  "oom_score_adj=%d",
                  current ? current->name().c_str() : "kswapd0", current ? current->oom_score_adj : 0);
    m_kernel.log(line);
    m_kernel.log("Mem-Info:");
    std::snprintf(line, sizeof line,
                  "active_anon:%llu inactive_anon:%llu isolated_anon:0\n active_file:%llu inactive_file:%llu "
                  "isolated_file:0\n unevictable:%llu dirty:0 writeback:0\n free:%llu pagetables:%llu",
                  static_cast<unsigned long long>(lru.size(LruList::ActiveAnon)),
                  static_cast<unsigned long long>(lru.size(LruList::InactiveAnon)),
                  static_cast<unsigned long long>(lru.size(LruList::ActiveFile)),
                  static_cast<unsigned long long>(lru.size(LruList::InactiveFile)),
                  static_cast<unsigned long long>(lru.size(LruList::Unevictable)),
                  static_cast<unsigned long long>(mm.allocator().free_pages()),
                  static_cast<unsigned long long>(mm.page_table_pages()));
    m_kernel.log(line);
    m_kernel.log("Tasks state (memory values in pages):");
    m_kernel.log("[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name");
    for (auto& [pid, p] : m_kernel.processes()) {
        if (!p->alive() || !p->has_space())
            continue;
        AddressSpace& s = p->space();
        std::snprintf(line, sizeof line, "[%7d] %5d %5d %8llu %8lld %8llu %8lld         %5d %s", pid, 0, pid,
                      static_cast<unsigned long long>(s.total_vm()), static_cast<long long>(s.rss().total()),
                      static_cast<unsigned long long>((s.page_table().table_pages() + 1) * PAGE_SIZE),
                      static_cast<long long>(s.rss().swapents), p->oom_score_adj, p->name().c_str());
        m_kernel.log(line);
    }
}

void OomKiller::report(Process* current, Process& victim)
{
    dump_header(current);
    char line[512];
    AddressSpace& v = victim.space();
    std::snprintf(line, sizeof line,
                  "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                  "task_memcg=/,task=%s,pid=%d,uid=0",
                  victim.name().c_str(), victim.pid());
    m_kernel.log(line);
    std::snprintf(
        line, sizeof line,
        "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, "
        "shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d",
        victim.pid(), victim.name().c_str(), static_cast<unsigned long long>(v.total_vm() * 4),
        static_cast<unsigned long long>(v.rss().anon * 4), static_cast<unsigned long long>(v.rss().file * 4),
        static_cast<unsigned long long>(v.rss().shmem * 4),
        static_cast<unsigned long long>((v.page_table().table_pages() + 1) * 4), victim.oom_score_adj);
    m_kernel.log(line);
}

bool OomKiller::out_of_memory()
{
    MemoryManager& mm = m_kernel.mm();
    if (m_kernel.panicked())
        return false;
    // The task being served: the process of the kernel call in progress, or else of the fault.
    Process* current = m_kernel.process(m_kernel.serving());
    if (!current || !current->alive())
        current = process_of(m_kernel, mm.current_space());
    // A victim already dying gets no memory and causes no second kill: its call fails and it dies
    // when the call ends. (Linux lets it dip into the reserves first; either way it exits.)
    if (current && current->oom_victim)
        return false;
    if (int mode = mm.sysctl().panic_on_oom) {
        // check_panic_on_oom: the report's header and task table first, then the panic. Every
        // OOM here is global (CONSTRAINT_NONE), so 1 and 2 both panic; they differ in the words.
        dump_header(current);
        m_kernel.panic(std::string("Out of memory: ") + (mode == 2 ? "compulsory" : "system-wide") +
                       " panic_on_oom is enabled");
        return false;
    }
    Process* victim = nullptr;
    if (mm.sysctl().oom_kill_allocating_task && current && current->oom_score_adj != -1000) {
        victim = current;
    } else {
        // select_bad_process: the highest badness; the first (lowest pid) of equal scores.
        i64 best = 0;
        for (auto& [pid, p] : m_kernel.processes()) {
            if (p->alive() && p->oom_victim)
                return false; // oom_evaluate_task: wait for the earlier victim rather than kill twice
            auto points = badness(m_kernel, *p);
            if (points && (!victim || *points > best)) {
                victim = p.get();
                best = *points;
            }
        }
    }
    if (!victim) {
        m_kernel.panic("System is deadlocked on memory");
        return false;
    }
    report(current, *victim);
    mm.vmstat().add(VmItem::OomKill, 1);
    victim->oom_victim = true;
    if (victim == current || victim->pid() == m_kernel.serving()) {
        // Its call is still using its memory: it dies when the call ends (Kernel::Call).
        return false;
    }
    // The reaper: the victim's memory is freed now (oom_reap_task), its status is SIGKILL.
    victim->terminate(0, SIGKILL);
    return true;
}

} // namespace kioku
