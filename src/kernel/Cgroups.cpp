#include "kernel/Cgroups.h"

#include <algorithm>

#include "base/Number.h"
#include "base/Size.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/core/Memcg.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

// The files every group has, and those only a non-root group has (cgroup_base_files).
constexpr const char* BASE_FILES[] = {"cgroup.controllers", "cgroup.procs", "cgroup.stat",
                                      "cgroup.subtree_control", "memory.pressure"};
constexpr const char* CHILD_BASE_FILES[] = {"cgroup.events", "cgroup.type"};
// The memory controller's files of a group whose parent enables memory (memory_files), and the
// one the root has too.
constexpr const char* MEMORY_FILES[] = {
    "memory.current",      "memory.events",      "memory.events.local", "memory.high",      "memory.low",
    "memory.max",          "memory.min",         "memory.oom.group",    "memory.peak",      "memory.stat",
    "memory.swap.current", "memory.swap.events", "memory.swap.max",     "memory.swap.peak", "memory.reclaim"};

bool valid_name(std::string_view name)
{
    // cgroup_mkdir refuses a newline; "." and ".." exist already, and a '/' cannot reach here.
    return !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
           name.find('\n') == std::string_view::npos;
}

// A limit file's value: "max", or bytes with an optional K/M/G/T unit, rounded down to whole
// pages (page_counter_memparse).
Result<u64> parse_limit(std::string_view text)
{
    text = trim_number(text);
    if (text == "max")
        return MemCgroup::UNLIMITED;
    auto bytes = parse_size(text);
    if (!bytes)
        return Error::from_errno(EINVAL, "not a size");
    return std::min(*bytes >> PAGE_SHIFT, MemCgroup::UNLIMITED);
}

std::string limit_text(u64 pages)
{
    return pages == MemCgroup::UNLIMITED ? "max\n" : std::to_string(pages << PAGE_SHIFT) + "\n";
}

std::string events_text(const MemcgEvents& e)
{
    return "low " + std::to_string(e.low) + "\nhigh " + std::to_string(e.high) + "\nmax " +
           std::to_string(e.max) + "\noom " + std::to_string(e.oom) + "\noom_kill " +
           std::to_string(e.oom_kill) + "\noom_group_kill " + std::to_string(e.oom_group_kill) + "\n";
}

} // namespace

std::optional<std::string_view> Cgroups::relative(std::string_view path)
{
    if (!path.starts_with(MOUNT))
        return std::nullopt;
    path.remove_prefix(MOUNT.size());
    if (!path.empty() && path[0] != '/')
        return std::nullopt;
    while (!path.empty() && path[0] == '/')
        path.remove_prefix(1);
    return path;
}

std::string Cgroup::path() const
{
    if (is_root())
        return "/";
    std::string up = m_parent->path();
    return (up == "/" ? "" : up) + "/" + m_name;
}

MemCgroup& Cgroup::effective_memcg() const
{
    const Cgroup* g = this;
    while (!g->memcg)
        g = g->m_parent;
    return *g->memcg;
}

// The memory manager's stalls, handed to the groups.
class CgroupStallObserver final : public MemstallObserver {
  public:
    explicit CgroupStallObserver(Cgroups& cgroups)
        : m_cgroups(cgroups)
    {
    }
    void memstall(u64 start_ns, u64 end_ns, MemstallKind kind) override
    {
        m_cgroups.memstall(start_ns, end_ns, kind == MemstallKind::Kswapd);
    }

  private:
    Cgroups& m_cgroups;
};

Cgroups::Cgroups(Kernel& kernel)
    : m_kernel(kernel)
    , m_root(std::make_unique<Cgroup>("", nullptr))
    , m_stall_observer(std::make_unique<CgroupStallObserver>(*this))
{
    m_root->memcg = &kernel.mm().memcg().root();
    kernel.mm().set_memstall_observer(m_stall_observer.get());
}

Cgroups::~Cgroups()
{
    m_kernel.mm().set_memstall_observer(nullptr);
}

void Cgroups::memstall(u64 start_ns, u64 end_ns, bool kswapd)
{
    Process* current = kswapd ? nullptr : m_kernel.current();
    if (current)
        memstall_of(*current, start_ns, end_ns);
    else // kswapd (or work for no process): a kernel thread of the root stalls, others may run.
        m_root->psi.stall(start_ns, end_ns, false);
}

void Cgroups::memstall_of(Process& process, u64 start_ns, u64 end_ns)
{
    Process* current = &process;
    Cgroup* group = current->cgroup;
    if (!group)
        group = m_root.get();
    // Full when no other task of the group could run: the runnable threads of its processes,
    // less the stalled one itself.
    std::vector<std::pair<const Cgroup*, u32>> runnable;
    for (auto& [pid, p] : m_kernel.processes())
        if (p->alive() && p->cgroup)
            runnable.emplace_back(p->cgroup, m_kernel.task_view(*p).runnable);
    u32 own = std::min<u32>(m_kernel.task_view(*current).runnable, 1);
    for (Cgroup* g = group; g; g = g->parent()) {
        u64 tasks = 0;
        for (auto& [in, n] : runnable)
            for (const Cgroup* up = in; up; up = up->parent())
                if (up == g) {
                    tasks += n;
                    break;
                }
        g->psi.stall(start_ns, end_ns, tasks <= own);
    }
}

std::string Cgroups::pressure(Cgroup& group)
{
    return group.psi.show(m_kernel.now_ns());
}

Cgroup* Cgroups::find(std::string_view rel)
{
    Cgroup* g = m_root.get();
    while (!rel.empty()) {
        size_t slash = rel.find('/');
        std::string_view part = rel.substr(0, slash);
        rel = slash == std::string_view::npos ? std::string_view{} : rel.substr(slash + 1);
        if (part.empty())
            continue;
        auto it = g->children().find(std::string(part));
        if (it == g->children().end())
            return nullptr;
        g = it->second.get();
    }
    return g;
}

Cgroup* Cgroups::resolve(std::string_view rel, std::string* file)
{
    while (rel.ends_with('/'))
        rel.remove_suffix(1);
    if (Cgroup* g = find(rel)) {
        file->clear();
        return g;
    }
    size_t slash = rel.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? std::string_view{} : rel.substr(0, slash);
    std::string name(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    Cgroup* g = find(dir);
    if (!g)
        return nullptr;
    auto names = files(*g);
    if (std::find(names.begin(), names.end(), name) == names.end())
        return nullptr;
    *file = name;
    return g;
}

bool Cgroups::is_dir(std::string_view rel)
{
    std::string file;
    return resolve(rel, &file) && file.empty();
}

bool Cgroups::is_file(std::string_view rel)
{
    std::string file;
    return resolve(rel, &file) && !file.empty();
}

std::vector<std::string> Cgroups::child_groups(const Cgroup& group) const
{
    std::vector<std::string> out;
    for (auto& [name, child] : group.children())
        out.push_back(name);
    return out;
}

std::vector<std::string> Cgroups::files(const Cgroup& group) const
{
    std::vector<std::string> out(std::begin(BASE_FILES), std::end(BASE_FILES));
    if (!group.is_root())
        out.insert(out.end(), std::begin(CHILD_BASE_FILES), std::end(CHILD_BASE_FILES));
    if (group.is_root()) {
        out.push_back("memory.reclaim");
        out.push_back("memory.stat");
    } else if (group.memcg)
        out.insert(out.end(), std::begin(MEMORY_FILES), std::end(MEMORY_FILES));
    std::sort(out.begin(), out.end());
    return out;
}

bool Cgroups::writable(std::string_view file)
{
    return file == "cgroup.procs" || file == "cgroup.subtree_control" || file == "memory.high" ||
           file == "memory.low" || file == "memory.max" || file == "memory.min" ||
           file == "memory.oom.group" || file == "memory.peak" || file == "memory.swap.max" ||
           file == "memory.swap.peak" || file == "memory.reclaim";
}

bool Cgroups::has_processes(const Cgroup& group) const
{
    for (auto& [pid, p] : m_kernel.processes())
        if (p->alive() && p->cgroup == &group)
            return true;
    return false;
}

bool Cgroups::populated(const Cgroup& group) const
{
    if (has_processes(group))
        return true;
    for (auto& [name, child] : group.children())
        if (populated(*child))
            return true;
    return false;
}

Result<std::string> Cgroups::read(std::string_view rel)
{
    std::string file;
    Cgroup* g = resolve(rel, &file);
    if (!g || file.empty())
        return Error::from_errno(ENOENT, "no such cgroup file");
    if (file == "cgroup.controllers")
        return std::string(g->is_root() || g->parent()->subtree_memory ? "memory\n" : "\n");
    if (file == "cgroup.subtree_control")
        return std::string(g->subtree_memory ? "memory\n" : "\n");
    if (file == "cgroup.procs") {
        std::string out;
        for (auto& [pid, p] : m_kernel.processes())
            if (p->alive() && p->cgroup == g)
                out += std::to_string(pid) + "\n";
        return out;
    }
    if (file == "memory.pressure")
        return pressure(*g);
    if (file == "cgroup.events")
        return std::string("populated ") + (populated(*g) ? "1" : "0") + "\nfrozen 0\n";
    if (file == "cgroup.stat") {
        // Groups are freed at rmdir here, so none is ever dying (a Linux group lingers while
        // pages or objects still charge it).
        u64 descendants = 0;
        std::vector<const Cgroup*> todo{g};
        while (!todo.empty()) {
            const Cgroup* c = todo.back();
            todo.pop_back();
            for (auto& [name, child] : c->children()) {
                ++descendants;
                todo.push_back(child.get());
            }
        }
        return "nr_descendants " + std::to_string(descendants) + "\nnr_dying_descendants 0\n";
    }
    if (file == "cgroup.type")
        return std::string("domain\n");
    if (file == "memory.stat")
        return memory_stat(*g);
    if (file == "memory.reclaim") // write-only (0200 on Linux): reads as nothing here
        return std::string();
    MemCgroup& m = *g->memcg;
    if (file == "memory.current")
        return std::to_string(m.usage() << PAGE_SHIFT) + "\n";
    if (file == "memory.peak")
        return std::to_string(m.peak() << PAGE_SHIFT) + "\n";
    if (file == "memory.max")
        return limit_text(m.max);
    if (file == "memory.high")
        return limit_text(m.high);
    if (file == "memory.low")
        return limit_text(m.low);
    if (file == "memory.min")
        return limit_text(m.min);
    if (file == "memory.oom.group")
        return std::string(m.oom_group ? "1\n" : "0\n");
    if (file == "memory.events")
        return events_text(m.events);
    if (file == "memory.events.local")
        return events_text(m.events_local);
    if (file == "memory.swap.current")
        return std::to_string(m.swap_usage() << PAGE_SHIFT) + "\n";
    if (file == "memory.swap.peak")
        return std::to_string(m.swap_peak() << PAGE_SHIFT) + "\n";
    if (file == "memory.swap.max")
        return limit_text(m.swap_max);
    if (file == "memory.swap.events")
        return "high " + std::to_string(m.swap_events.high) + "\nmax " + std::to_string(m.swap_events.max) +
               "\nfail " + std::to_string(m.swap_events.fail) + "\n";
    return Error::from_errno(ENOENT, "no such cgroup file");
}

std::string Cgroups::memory_stat(const Cgroup& group) const
{
    // The group's pages and its descendants', from the frames charged to them (memory_stat_format;
    // the fields kioku accounts, in Linux's order, in bytes).
    MemoryManager& mm = m_kernel.mm();
    const MemCgroup& target = group.effective_memcg();
    u64 anon = 0, file = 0, pagetables = 0, shmem = 0, file_mapped = 0, file_dirty = 0, file_writeback = 0,
        swapcached = 0, anon_thp = 0, lru[static_cast<unsigned>(LruList::Count)] = {};
    const FrameTable& frames = mm.frames();
    for (Pfn pfn = frames.first_pfn(); pfn < frames.end_pfn(); ++pfn) {
        const MemCgroup* g = mm.memcg().of(pfn);
        if (!g || !g->within(target))
            continue;
        const Frame& f = frames[pfn];
        if (f.has(FF_PAGETABLE)) {
            ++pagetables;
            continue;
        }
        if (f.has(FF_ANON))
            ++anon;
        if (f.has(FF_FILE)) {
            ++file;
            shmem += f.has(FF_SHMEM);
            file_mapped += f.mapcount > 0;
            file_dirty += f.has(FF_DIRTY) && !f.has(FF_SHMEM);
            file_writeback += f.has(FF_WRITEBACK);
        }
        swapcached += f.has(FF_SWAPCACHE);
        if (f.has(FF_HEAD) && f.has(FF_ANON))
            anon_thp += u64{1} << f.order;
        if (f.has(FF_LRU))
            lru[static_cast<unsigned>(Lru::list_of(f))] += f.has(FF_HEAD) ? u64{1} << f.order : 1;
    }
    // Slab objects are counted by the group, in bytes; "kernel" holds them in whole pages with
    // the page tables (MEMCG_KMEM).
    u64 kmem_pages = 0, slab_reclaimable = 0, slab_unreclaimable = 0;
    for (const MemCgroup* g : mm.memcg().all())
        if (g->within(target)) {
            kmem_pages += g->kmem_pages();
            slab_reclaimable += g->slab_bytes(true);
            slab_unreclaimable += g->slab_bytes(false);
        }
    auto line = [](const char* name, u64 pages) {
        return std::string(name) + " " + std::to_string(pages << PAGE_SHIFT) + "\n";
    };
    auto bytes = [](const char* name, u64 n) { return std::string(name) + " " + std::to_string(n) + "\n"; };
    auto list = [&](LruList l) { return lru[static_cast<unsigned>(l)]; };
    return line("anon", anon) + line("file", file) + line("kernel", pagetables + kmem_pages) +
           line("pagetables", pagetables) + line("shmem", shmem) + line("file_mapped", file_mapped) +
           line("file_dirty", file_dirty) + line("file_writeback", file_writeback) +
           line("swapcached", swapcached) + line("anon_thp", anon_thp) +
           line("inactive_anon", list(LruList::InactiveAnon)) +
           line("active_anon", list(LruList::ActiveAnon)) +
           line("inactive_file", list(LruList::InactiveFile)) +
           line("active_file", list(LruList::ActiveFile)) + line("unevictable", list(LruList::Unevictable)) +
           bytes("slab_reclaimable", slab_reclaimable) + bytes("slab_unreclaimable", slab_unreclaimable) +
           bytes("slab", slab_reclaimable + slab_unreclaimable);
}

Result<void> Cgroups::write(std::string_view rel, std::string_view value, Pid writer)
{
    std::string file;
    Cgroup* g = resolve(rel, &file);
    if (!g || file.empty())
        return Error::from_errno(ENOENT, "no such cgroup file");
    if (!writable(file))
        return Error::from_errno(EACCES, "read-only cgroup file");
    if (file == "cgroup.procs") {
        auto pid = parse_integer<Pid>(trim_number(value));
        if (!pid)
            return Error::from_errno(EINVAL, "not a pid");
        Process* p = m_kernel.process(*pid == 0 ? writer : *pid);
        if (!p || !p->alive())
            return Error::from_errno(ESRCH, "no such process");
        return attach(*p, *g);
    }
    if (file == "cgroup.subtree_control")
        return write_subtree_control(*g, value);
    return write_memory(*g, file, value);
}

Result<void> Cgroups::write_subtree_control(Cgroup& group, std::string_view value)
{
    // Space-separated "+name" / "-name" tokens; all are checked before any takes effect.
    std::optional<bool> memory;
    std::string_view rest = value;
    while (!(rest = trim_number(rest)).empty()) {
        size_t end = rest.find_first_of(" \t\n");
        std::string_view token = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        // cgroup_subtree_control_write: an unknown controller, or a token that is not +name or
        // -name, is EINVAL; a known one the group cannot have is ENOENT (below).
        if (token.size() < 2 || (token[0] != '+' && token[0] != '-') || token.substr(1) != "memory")
            return Error::from_errno(EINVAL, "not +memory or -memory");
        memory = token[0] == '+';
    }
    if (!memory || *memory == group.subtree_memory)
        return {};
    if (*memory) {
        if (!group.is_root() && !group.parent()->subtree_memory)
            return Error::from_errno(ENOENT, "the memory controller is not available here");
        if (!group.is_root() && has_processes(group))
            return Error::from_errno(EBUSY, "a group with processes cannot enable controllers");
        MemcgSet& set = m_kernel.mm().memcg();
        for (auto& [name, child] : group.children()) {
            child->memcg = set.create(group.effective_memcg());
            if (!child->memcg)
                return Error::from_errno(ENOSPC, "no memory cgroup id left");
        }
        group.subtree_memory = true;
        refresh_spaces();
        return {};
    }
    for (auto& [name, child] : group.children())
        if (child->subtree_memory)
            return Error::from_errno(EBUSY, "a child group still enables the memory controller");
    group.subtree_memory = false;
    for (auto& [name, child] : group.children()) {
        MemCgroup* own = std::exchange(child->memcg, nullptr);
        release_memcg(*own, group.effective_memcg());
    }
    refresh_spaces();
    return {};
}

Result<void> Cgroups::write_memory(Cgroup& group, std::string_view file, std::string_view value)
{
    MemCgroup& m = group.effective_memcg();
    if (file == "memory.reclaim") {
        // memory_reclaim: reclaim that many bytes from the group, retrying while it progresses;
        // EAGAIN when it could not (Linux also takes "swappiness=N", not modelled here).
        auto bytes = parse_size(trim_number(value));
        if (!bytes)
            return Error::from_errno(EINVAL, "memory.reclaim takes a size");
        u64 want = page_round_up(*bytes) >> PAGE_SHIFT;
        u64 got = 0;
        MmCore& core = m_kernel.mm();
        for (int retries = 16; got < want;) {
            u64 reclaimed =
                core.reclaim_memcg(m, std::max<u64>((want - got) / 4, std::min<u64>(want - got, 32)));
            if (!reclaimed && !retries--)
                return Error::from_errno(EAGAIN, "could not reclaim that much");
            got += reclaimed;
        }
        return {};
    }
    if (file == "memory.peak" || file == "memory.swap.peak") {
        // Linux 6.12+: "reset" restarts the peak seen through the open file that wrote it; every
        // other open sees the group's own peak, which nothing resets. Each read here is a new
        // open, so the write changes nothing that can be read.
        if (trim_number(value) != "reset")
            return Error::from_errno(EINVAL, "only \"reset\" may be written to a peak");
        return {};
    }
    if (file == "memory.oom.group") {
        auto v = parse_integer<int>(trim_number(value));
        if (!v || (*v != 0 && *v != 1))
            return Error::from_errno(EINVAL, "memory.oom.group takes 0 or 1");
        m.oom_group = *v == 1;
        return {};
    }
    u64 pages = TRY(parse_limit(value));
    if (file == "memory.swap.max") {
        m.swap_max = pages;
    } else if (file == "memory.max") {
        // Lowered under the usage: reclaim, then the group's OOM killer, until it fits.
        m.max = pages;
        m_kernel.mm().shrink_to_max(m);
    } else if (file == "memory.high") {
        m.high = pages;
        m_kernel.mm().memcg().drain_stock(); // memory_high_write: drain_all_stock
    } else if (file == "memory.low")
        m.low = pages;
    else
        m.min = pages;
    return {};
}

void Cgroups::release_memcg(MemCgroup& memcg, MemCgroup& heir)
{
    // An address space still charging to it (a zombie's, a shared one) charges the heir instead.
    for (AddressSpace* space : m_kernel.mm().spaces())
        if (space->memcg() == &memcg)
            space->set_memcg(&heir);
    m_kernel.mm().memcg().remove(memcg);
}

void Cgroups::refresh_spaces()
{
    for (auto& [pid, p] : m_kernel.processes())
        if (p->alive() && p->has_space() && p->cgroup)
            p->space().set_memcg(&p->cgroup->effective_memcg());
}

Result<void> Cgroups::attach(Process& process, Cgroup& group)
{
    // No internal processes: a non-root group that gives its children controllers takes none.
    if (!group.is_root() && group.subtree_memory)
        return Error::from_errno(EBUSY, "the group enables controllers for its children");
    process.cgroup = &group;
    if (process.has_space())
        process.space().set_memcg(&group.effective_memcg());
    return {};
}

Result<void> Cgroups::mkdir(std::string_view rel)
{
    while (rel.ends_with('/'))
        rel.remove_suffix(1);
    size_t slash = rel.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? std::string_view{} : rel.substr(0, slash);
    std::string name(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    Cgroup* parent = find(dir);
    if (!parent)
        return Error::from_errno(ENOENT, "no such parent group");
    if (parent->children().contains(name) || is_file(rel))
        return Error::from_errno(EEXIST, "the group exists");
    if (!valid_name(name))
        return Error::from_errno(EINVAL, "not a valid group name");
    auto child = std::make_unique<Cgroup>(name, parent);
    if (parent->subtree_memory) {
        child->memcg = m_kernel.mm().memcg().create(parent->effective_memcg());
        if (!child->memcg)
            return Error::from_errno(ENOSPC, "no memory cgroup id left");
    }
    parent->children().emplace(name, std::move(child));
    return {};
}

Result<void> Cgroups::rmdir(std::string_view rel)
{
    std::string file;
    Cgroup* g = resolve(rel, &file);
    if (!g)
        return Error::from_errno(ENOENT, "no such group");
    if (!file.empty())
        return Error::from_errno(ENOTDIR, "not a group");
    if (g->is_root())
        return Error::from_errno(EBUSY, "the root group stays");
    if (populated(*g) || !g->children().empty())
        return Error::from_errno(EBUSY, "the group has processes or child groups");
    Cgroup& parent = *g->parent();
    // Zombies still name the group: they pass to the parent, as does anything charged here.
    for (auto& [pid, p] : m_kernel.processes())
        if (p->cgroup == g)
            p->cgroup = &parent;
    if (g->memcg)
        release_memcg(*g->memcg, parent.effective_memcg());
    std::string name = g->name();
    parent.children().erase(name);
    return {};
}

} // namespace kioku
