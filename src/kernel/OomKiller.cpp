#include "kernel/OomKiller.h"

#include <csignal>
#include <cstdio>
#include <functional>

#include "kernel/Cgroups.h"
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

// Whether p is a candidate of an OOM in memcg (every process for a global one).
bool in_scope(Process& p, const MemCgroup* memcg)
{
    return !memcg || (p.cgroup && p.cgroup->effective_memcg().within(*memcg));
}

// The cgroup path of a memory cgroup, as the OOM report names it.
std::string path_of(Kernel& kernel, const MemCgroup& memcg)
{
    std::string found = "/";
    std::function<void(Cgroup&)> walk = [&](Cgroup& g) {
        if (g.memcg == &memcg)
            found = g.path();
        for (auto& [name, child] : g.children())
            walk(*child);
    };
    walk(kernel.cgroups().root());
    return found;
}

} // namespace

std::optional<i64> OomKiller::badness(Kernel& kernel, Process& p, std::optional<u64> total)
{
    if (!p.alive() || !p.has_space() || p.oom_score_adj == -1000 || p.is_init)
        return std::nullopt;
    AddressSpace& s = p.space();
    i64 points = s.rss().total() + s.rss().swapents + static_cast<i64>(s.page_table().table_pages());
    points +=
        static_cast<i64>(p.oom_score_adj) * static_cast<i64>(total.value_or(total_pages(kernel.mm()))) / 1000;
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

void OomKiller::dump_header(Process* current, MemCgroup* memcg)
{
    MemoryManager& mm = m_kernel.mm();
    const Lru& lru = mm.lru();
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                  "oom_score_adj=%d",
                  current ? current->name().c_str() : "kswapd0", current ? current->oom_score_adj : 0);
    m_kernel.log(line);
    if (memcg) {
        // mem_cgroup_print_oom_meminfo: the group's usage against its limit.
        std::snprintf(line, sizeof line, "memory: usage %llukB, limit %llukB, failcnt %llu",
                      static_cast<unsigned long long>(memcg->usage() * (PAGE_SIZE / 1024)),
                      static_cast<unsigned long long>(memcg->max * (PAGE_SIZE / 1024)),
                      static_cast<unsigned long long>(memcg->events_local.max));
        m_kernel.log(line);
    } else {
        m_kernel.log("Mem-Info:");
        std::snprintf(
            line, sizeof line,
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
    }
    m_kernel.log("Tasks state (memory values in pages):");
    m_kernel.log("[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name");
    for (auto& [pid, p] : m_kernel.processes()) {
        if (!p->alive() || !p->has_space() || !in_scope(*p, memcg))
            continue;
        AddressSpace& s = p->space();
        std::snprintf(line, sizeof line, "[%7d] %5d %5d %8llu %8lld %8llu %8lld         %5d %s", pid, 0, pid,
                      static_cast<unsigned long long>(s.total_vm()), static_cast<long long>(s.rss().total()),
                      static_cast<unsigned long long>((s.page_table().table_pages() + 1) * PAGE_SIZE),
                      static_cast<long long>(s.rss().swapents), p->oom_score_adj, p->name().c_str());
        m_kernel.log(line);
    }
}

void OomKiller::report(Process* current, Process& victim, MemCgroup* memcg)
{
    dump_header(current, memcg);
    char line[512];
    std::string task_memcg = victim.cgroup ? victim.cgroup->path() : "/";
    if (memcg)
        std::snprintf(
            line, sizeof line,
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,"
            "task_memcg=%s,task=%s,pid=%d,uid=0",
            path_of(m_kernel, *memcg).c_str(), task_memcg.c_str(), victim.name().c_str(), victim.pid());
    else
        std::snprintf(
            line, sizeof line,
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
            "task_memcg=%s,task=%s,pid=%d,uid=0",
            task_memcg.c_str(), victim.name().c_str(), victim.pid());
    m_kernel.log(line);
}

bool OomKiller::kill(Process& victim, Process* current, const char* message, MemCgroup* memcg,
                     std::optional<u64> total, bool reap)
{
    victim.oom_kill = Process::OomKill{badness(m_kernel, victim, total).value_or(0),
                                       memcg ? path_of(m_kernel, *memcg) : std::string(), m_kernel.now_ns()};
    if (m_kernel.mm().page_events())
        m_kernel.mm().page_event({PageEventKind::OomKill, victim.has_space() ? &victim.space() : nullptr, 0,
                                  0,
                                  "badness " + std::to_string(victim.oom_kill->badness) + ", " +
                                      (memcg ? "memcg " + victim.oom_kill->memcg : std::string("global"))});
    MemoryManager& mm = m_kernel.mm();
    char line[512];
    AddressSpace& v = victim.space();
    std::snprintf(
        line, sizeof line,
        "%s: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, "
        "shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d",
        message, victim.pid(), victim.name().c_str(), static_cast<unsigned long long>(v.total_vm() * 4),
        static_cast<unsigned long long>(v.rss().anon * 4), static_cast<unsigned long long>(v.rss().file * 4),
        static_cast<unsigned long long>(v.rss().shmem * 4),
        static_cast<unsigned long long>((v.page_table().table_pages() + 1) * 4), victim.oom_score_adj);
    m_kernel.log(line);
    mm.vmstat().add(VmItem::OomKill, 1);
    if (v.memcg()) // memcg_memory_event_mm(mm, MEMCG_OOM_KILL)
        MemcgSet::event(*v.memcg(), &MemcgEvents::oom_kill);
    victim.oom_victim = true;
    if (&victim == current || victim.pid() == m_kernel.serving())
        return false; // its call is still using its memory: it dies when the call ends (Kernel::Call)
    // The reaper: the victim's memory is freed now (oom_reap_task), its status is SIGKILL.
    if (reap)
        victim.terminate(0, SIGKILL);
    return true;
}

bool OomKiller::out_of_memory()
{
    return oom(nullptr);
}

bool OomKiller::memcg_out_of_memory(MemCgroup& memcg)
{
    return oom(&memcg);
}

bool OomKiller::oom(MemCgroup* memcg)
{
    MemoryManager& mm = m_kernel.mm();
    if (m_kernel.panicked())
        return false;
    Process* current = m_kernel.current();
    // A victim already dying gets no memory and causes no second kill: its call fails and it dies
    // when the call ends. (Linux lets it dip into the reserves first; either way it exits.)
    if (current && current->oom_victim)
        return false;
    // check_panic_on_oom: a group's OOM panics only with panic_on_oom=2.
    if (int mode = mm.sysctl().panic_on_oom; mode == 2 || (mode == 1 && !memcg)) {
        // The report's header and task table first, then the panic.
        dump_header(current, memcg);
        m_kernel.panic(std::string("Out of memory: ") + (mode == 2 ? "compulsory" : "system-wide") +
                       " panic_on_oom is enabled");
        return false;
    }
    // A group's OOM weighs oom_score_adj against the group's limit (mem_cgroup_get_max).
    std::optional<u64> total;
    if (memcg)
        total = std::max<u64>(memcg->max + mm.total_swap_pages(), 1);
    Process* victim = nullptr;
    if (!memcg && mm.sysctl().oom_kill_allocating_task && current && current->oom_score_adj != -1000) {
        victim = current;
    } else {
        // select_bad_process: the highest badness; the first (lowest pid) of equal scores.
        i64 best = 0;
        for (auto& [pid, p] : m_kernel.processes()) {
            if (!in_scope(*p, memcg))
                continue;
            if (p->alive() && p->oom_victim)
                return false; // oom_evaluate_task: wait for the earlier victim rather than kill twice
            auto points = badness(m_kernel, *p, total);
            if (points && (!victim || *points > best)) {
                victim = p.get();
                best = *points;
            }
        }
    }
    if (!victim) {
        if (!memcg)
            m_kernel.panic("System is deadlocked on memory");
        return false; // a group with nothing to kill: the charge fails
    }
    report(current, *victim, memcg);
    const char* message = memcg ? "Memory cgroup out of memory" : "Out of memory";
    // mem_cgroup_get_oom_group: the highest group with memory.oom.group set between the
    // victim's and the OOM's (the root for a global OOM) is killed whole.
    MemCgroup* group = nullptr;
    if (MemCgroup* own = victim->has_space() ? victim->space().memcg() : nullptr)
        for (MemCgroup* g = own; g; g = g->parent()) {
            if (g->oom_group)
                group = g;
            if (g == memcg)
                break;
        }
    if (!group)
        return kill(*victim, current, message, memcg, total);
    // mem_cgroup_scan_tasks(oom_kill_memcg_member): every task of the group is killed, the victim
    // too, which still has its memory then and is counted (and reported) a second time, as on
    // Linux. The memory goes once the walk is done.
    std::vector<Process*> killed{victim};
    bool freed = kill(*victim, current, message, memcg, total, false);
    for (auto& [pid, p] : m_kernel.processes())
        if (p->alive() && p->has_space() && (p.get() == victim || !p->oom_victim) &&
            p->oom_score_adj != -1000 && !p->is_init && in_scope(*p, group)) {
            freed = kill(*p, current, message, memcg, total, false) || freed;
            killed.push_back(p.get());
        }
    for (Process* p : killed)
        if (p->alive() && p != current && p->pid() != m_kernel.serving())
            p->terminate(0, SIGKILL);
    MemcgSet::event(*group, &MemcgEvents::oom_group_kill);
    return freed;
}

} // namespace kioku
