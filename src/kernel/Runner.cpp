#include "kernel/Runner.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "abi/Signal.h"
#include "hw/Machine.h"
#include "kernel/Cgroups.h"
#include "kernel/ElfLoader.h"
#include "kernel/Process.h"
#include "kernel/Signals.h"
#include "kernel/Strace.h"
#include "kernel/Syscalls.h"
#include "mm/MemoryManager.h"
#include "mm/pgtable/PageTable.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Userfault.h"

namespace kioku {

namespace {

constexpr u64 CLONE_VM_ = 0x100, CLONE_SIGHAND_ = 0x800, CLONE_VFORK_ = 0x4000, CLONE_PARENT_ = 0x8000,
              CLONE_THREAD_ = 0x10000, CLONE_SETTLS_ = 0x80000, CLONE_PARENT_SETTID_ = 0x100000,
              CLONE_CHILD_CLEARTID_ = 0x200000, CLONE_CHILD_SETTID_ = 0x01000000, CSIGNAL_ = 0xff;
constexpr u64 SCHED_YIELD_NR = 124;
constexpr u32 FUTEX_MATCH_ANY = 0xffffffff;

i64 neg(int e)
{
    return -static_cast<i64>(e);
}

// Holds the page of the faulting instruction's own code while its fault is served: the retried
// instruction needs it again, and reclaim working for this fault must not take it. Without this an
// instruction whose code page and data page both had to be read in could, memory being short,
// evict the one to read the other, again and again, and never retire: on Linux the CPU keeps
// running beside reclaim and references its text between passes, which a simulated hart stopped
// in a fault cannot.
class InstructionPagePin {
  public:
    InstructionPagePin(MemoryManager& mm, AddressSpace& space, u64 pc)
        : m_mm(mm)
    {
        u64 pte = space.page_table().read(VirtAddr(pc));
        if (!isa::pte_valid(pte))
            return;
        Pfn pfn(isa::pte_ppn(pte));
        if (!mm.frames().contains(pfn))
            return;
        const Frame& f = mm.frames()[pfn];
        if (!f.has(FF_LRU) || f.has(FF_HEAD | FF_TAIL))
            return; // only an ordinary resident page is reclaim's to take
        mm.get_page(pfn);
        m_pfn = pfn;
    }
    ~InstructionPagePin()
    {
        if (m_pfn)
            m_mm.put_page(*m_pfn);
    }
    InstructionPagePin(const InstructionPagePin&) = delete;
    InstructionPagePin& operator=(const InstructionPagePin&) = delete;

  private:
    MemoryManager& m_mm;
    std::optional<Pfn> m_pfn;
};

} // namespace

Runner::Runner(const RunOptions& options, std::ostream& diagnostics)
    : m_options(options)
    , m_diag(diagnostics)
    , m_sched(options.slice_instructions)
{
}

Runner::~Runner()
{
    // The hart goes before the kernel, whose shutdown still frees frames.
    if (m_kernel)
        m_kernel->mm().allocator().set_code_cache(nullptr);
}

Result<std::unique_ptr<Runner>> Runner::create(const RunOptions& options, std::ostream& diagnostics)
{
    std::unique_ptr<Runner> r(new Runner(options, diagnostics));
    r->m_kernel = TRY(Kernel::create(options.machine));
    Machine& m = r->m_kernel->machine();
    r->m_hart = std::make_unique<Hart>(m.mmu(), m.clock());
    r->m_hart->set_translation(!options.interpret);
    r->m_kernel->mm().allocator().set_code_cache(r->m_hart.get());
    r->m_syscalls = std::make_unique<Syscalls>(*r);
    // Numbers the scheduler still names: tasks not yet reaped, and the groups' pgid and sid.
    r->m_kernel->set_pid_users([runner = r.get()](Pid n) {
        if (runner->m_sched.task(n))
            return true;
        for (auto& [pid, g] : runner->m_sched.groups())
            if (pid == n || g->pgid == n || g->sid == n)
                return true;
        return false;
    });
    r->m_kernel->set_task_view([runner = r.get()](Pid pid) { return runner->task_view(pid); });
    // The memory.high penalty is slept by the task (throttle), while the others run.
    r->m_kernel->mm().set_throttle_sleeps(true);
    r->m_kernel->set_task_exists([runner = r.get()](Pid pid, Pid tid) {
        const Task* t = runner->m_sched.task(tid);
        return t && t->tgid == pid && t->state != RunState::Dead;
    });
    r->m_rng_state = options.machine.seed ^ 0x6b696f6b75ull; // "kioku"
    return r;
}

void Runner::random_bytes(u8* out, u64 n)
{
    // splitmix64: small, fast and fully determined by the seed.
    for (u64 i = 0; i < n; i += 8) {
        u64 z = (m_rng_state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        std::memcpy(out + i, &z, std::min<u64>(8, n - i));
    }
}

u64 Runner::instructions() const
{
    return m_hart->stats().instret;
}

Result<void> Runner::start(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp)
{
    if (!m_options.program_is_init && !m_init) {
        // init: a process with an empty image and no thread to run, leading session 1. It never
        // runs guest code; it adopts orphans, which finish_group reaps for it.
        m_init = TRY(m_kernel->spawn("init"));
        m_kernel->process(m_init)->is_init = true;
        auto init = std::make_unique<ThreadGroup>();
        init->pid = init->pgid = init->sid = m_init;
        m_sched.add_group(std::move(init));
    }
    Pid pid = TRY(m_kernel->spawn(path, m_init));
    auto group = std::make_unique<ThreadGroup>();
    group->pid = pid;
    group->parent = m_init;
    group->threads = {pid};
    if (m_init)
        group->pgid = group->sid = pid; // started as a session leader, as by an init or a terminal
    m_sched.add_group(std::move(group));
    auto task = std::make_unique<Task>();
    task->tid = pid;
    task->tgid = pid;
    Task& t = m_sched.add_task(std::move(task));
    m_syscalls->install_stdio(*m_kernel->process(pid));
    m_first = pid;
    if (m_options.cgroup) {
        if (auto placed = enter_cgroup(*m_kernel->process(pid)); placed.is_error()) {
            t.state = RunState::Dead;
            m_kernel->kill(pid, SIGKILL_);
            return placed.error();
        }
    }
    auto r = exec(t, path, argv, envp);
    if (r.is_error()) {
        t.state = RunState::Dead;
        m_kernel->kill(pid, SIGKILL_);
        if (m_init) { // nothing runs: init goes too
            m_kernel->kill(m_init, SIGKILL_);
            m_sched.remove_group(m_init);
            m_init = 0;
        }
        return r.error();
    }
    return {};
}

Result<void> Runner::enter_cgroup(Process& program)
{
    // The memory controller for the root's children, the group, its settings, then the program;
    // init stays in the root, as the "no internal processes" rule allows.
    Cgroups& cgroups = m_kernel->cgroups();
    TRY(cgroups.write("cgroup.subtree_control", "+memory", 0));
    if (!cgroups.find(RUN_CGROUP))
        TRY(cgroups.mkdir(RUN_CGROUP));
    for (auto& [file, value] : *m_options.cgroup)
        TRY(cgroups.write(std::string(RUN_CGROUP) + "/" + file, value, 0));
    return cgroups.attach(program, *cgroups.find(RUN_CGROUP));
}

Result<void> Runner::exec(Task& t, const std::string& path, std::vector<std::string> argv,
                          std::vector<std::string> envp)
{
    ExecRequest request{path, std::move(argv), std::move(envp), {}};
    random_bytes(request.random.data(), request.random.size());
    bool past_no_return = false;
    auto loaded = exec_elf(*m_kernel, t.tgid, std::move(request), &past_no_return);
    if (loaded.is_error()) {
        if (!past_no_return)
            return loaded.error();
        exit_group(t.tgid, 0, SIGSEGV_);
        return {};
    }
    ThreadGroup& g = *m_sched.group(t.tgid);
    // de_thread: the other threads go; the exec'ing one carries on.
    for (Task* other : m_sched.threads_of(t.tgid))
        if (other != &t)
            other->state = RunState::Dead;
    g.threads = {t.tid};
    Process& p = *m_kernel->process(t.tgid);
    for (int fd : g.cloexec)
        m_kernel->drop_fd(p, fd);
    g.cloexec.clear();
    for (auto& action : g.actions)
        if (action.handler != SIG_IGN_)
            action = SigAction{};
    g.exe_path = path;
    g.membarrier_registered = 0; // a new mm (membarrier_exec_mmap)
    t.regs = HartState{};
    t.regs.pc = loaded.value().entry;
    t.regs.x[2] = loaded.value().sp;
    t.altstack_sp = t.altstack_size = 0;
    t.altstack_flags = SS_DISABLE_;
    t.clear_child_tid = 0;
    t.robust_list = 0;
    m_loaded_satp = ~u64{0}; // the next load sets the new space's satp (decodes stay: by frame)
    vfork_done(g);
    return {};
}

Result<Tid> Runner::clone(Task& parent, u64 flags, u64 stack, u64 parent_tid, u64 tls, u64 child_tid)
{
    bool thread = flags & CLONE_THREAD_;
    if (thread && (!(flags & CLONE_VM_) || !(flags & CLONE_SIGHAND_)))
        return Error::from_errno(EINVAL, "CLONE_THREAD needs CLONE_VM and CLONE_SIGHAND");
    // copy_process: nr_threads >= max_threads is EAGAIN, for root too.
    u64 tasks = 0;
    for (auto& [tid, other] : m_sched.tasks())
        tasks += other->state != RunState::Dead;
    if (tasks >= m_kernel->threads_max())
        return Error::from_errno(EAGAIN, "kernel.threads-max reached");
    auto task = std::make_unique<Task>();
    task->regs = parent.regs;
    task->regs.x[10] = 0;
    task->regs.pc += 4;
    task->regs.reservation_valid = false;
    if (stack)
        task->regs.x[2] = stack;
    if (flags & CLONE_SETTLS_)
        task->regs.x[4] = tls;
    task->blocked = parent.blocked;
    task->nice = parent.nice;
    if (flags & CLONE_CHILD_CLEARTID_)
        task->clear_child_tid = child_tid;
    ThreadGroup& pg = *m_sched.group(parent.tgid);
    Tid tid;
    if (thread) {
        tid = TRY(m_kernel->allocate_pid());
        task->tgid = parent.tgid;
        pg.threads.push_back(tid);
    } else {
        // fork; with CLONE_VM the child runs in the parent's memory (vfork, posix_spawn).
        auto share = (flags & CLONE_VM_) ? Kernel::ShareMemory::Yes : Kernel::ShareMemory::No;
        tid = TRY(m_kernel->fork(parent.tgid, share));
        task->tgid = tid;
        task->altstack_sp = parent.altstack_sp;
        task->altstack_size = parent.altstack_size;
        task->altstack_flags = parent.altstack_flags;
        auto group = std::make_unique<ThreadGroup>();
        group->pid = tid;
        // CLONE_PARENT: the child is its caller's sibling (the first program's parent is init).
        group->parent = (flags & CLONE_PARENT_) ? pg.parent : parent.tgid;
        group->actions = pg.actions;
        group->cloexec = pg.cloexec;
        group->cwd = pg.cwd;
        group->umask = pg.umask;
        group->exe_path = pg.exe_path;
        group->threads = {tid};
        group->exit_signal_to_parent = static_cast<int>(flags & CSIGNAL_);
        m_sched.add_group(std::move(group));
    }
    task->tid = tid;
    Task& child = m_sched.add_task(std::move(task));
    u32 tid32 = static_cast<u32>(tid);
    if (flags & CLONE_CHILD_SETTID_)
        (void)m_kernel->copy_to_user(child.tgid, child_tid,
                                     std::span<const u8>(reinterpret_cast<u8*>(&tid32), 4));
    if (flags & CLONE_PARENT_SETTID_)
        (void)m_kernel->copy_to_user(parent.tgid, parent_tid,
                                     std::span<const u8>(reinterpret_cast<u8*>(&tid32), 4));
    if ((flags & CLONE_VFORK_) && !thread)
        m_sched.group(tid)->vfork_parent = parent.tid;
    return tid;
}

void Runner::vfork_done(ThreadGroup& child)
{
    // mm_release: the parent waiting in clone(CLONE_VFORK) gets the child's pid and runs on.
    Tid waiting = std::exchange(child.vfork_parent, 0);
    Task* parent = waiting ? m_sched.task(waiting) : nullptr;
    if (!parent || parent->state != RunState::Blocked || parent->block != BlockKind::Vfork)
        return;
    parent->state = RunState::Runnable;
    parent->block = BlockKind::None;
    parent->regs.x[10] = static_cast<u64>(child.pid);
    parent->regs.pc += 4;
}

u64 Runner::futex_wake(const FutexKey& key, u64 count, u32 bitset)
{
    u64 woken = 0;
    for (auto& [tid, t] : m_sched.tasks()) {
        if (woken >= count)
            break;
        if (t->state != RunState::Blocked || t->block != BlockKind::Futex || !(t->futex_bitset & bitset))
            continue;
        // A futex_waitv returns the index of the futex that woke it; a FUTEX_WAIT returns 0.
        u64 result = 0;
        if (t->futex_keys.empty()) {
            if (!(t->futex_key == key))
                continue;
        } else {
            auto at = std::find(t->futex_keys.begin(), t->futex_keys.end(), key);
            if (at == t->futex_keys.end())
                continue;
            result = static_cast<u64>(at - t->futex_keys.begin());
            t->futex_keys.clear();
        }
        t->state = RunState::Runnable;
        t->block = BlockKind::None;
        t->deadline_ns.reset();
        t->regs.x[10] = result;
        t->regs.pc += 4;
        ++woken;
    }
    return woken;
}

void Runner::exit_thread(Task& t, int code)
{
    ThreadGroup& g = *m_sched.group(t.tgid);
    if (t.clear_child_tid && g.threads.size() > 1) {
        u32 zero = 0;
        (void)m_kernel->copy_to_user(t.tgid, t.clear_child_tid,
                                     std::span<const u8>(reinterpret_cast<u8*>(&zero), 4));
        futex_wake(futex_key(m_kernel->process(t.tgid)->space(), t.clear_child_tid, false), 1,
                   FUTEX_MATCH_ANY);
    }
    t.state = RunState::Dead;
    std::erase(g.threads, t.tid);
    if (g.threads.empty()) {
        g.exit_code = code;
        finish_group(g);
    }
}

void Runner::exit_group(Pid pid, int code, int signal)
{
    ThreadGroup* g = m_sched.group(pid);
    if (!g || g->exiting)
        return;
    g->exiting = true;
    g->exit_code = code;
    g->exit_signal = signal;
    for (Task* t : m_sched.threads_of(pid))
        t->state = RunState::Dead;
    g->threads.clear();
    finish_group(*g);
}

void Runner::kill_group_now(Pid pid, int signal)
{
    exit_group(pid, 0, signal);
}

void Runner::record_peak(ThreadGroup& g)
{
    Process* p = m_kernel->process(g.pid);
    if (p && p->alive() && p->has_space())
        g.peak_rss_pages = std::max(g.peak_rss_pages, p->space().hiwater_rss());
}

void Runner::set_strace(std::ostream* out)
{
    m_strace = out ? std::make_unique<Strace>(*m_kernel, *out) : nullptr;
}

void Runner::throttle(Task& t)
{
    t.throttle_owed_ns += m_kernel->mm().take_throttle();
    if (auto rest = m_kernel->mm().take_populate_rest(); rest.end) {
        t.populate_space = rest.space;
        t.populate_start = rest.start;
        t.populate_end = rest.end;
    }
    if (!t.throttle_owed_ns || t.state != RunState::Runnable)
        return; // a task blocked in its call sleeps the penalty when the call returns
    Process* p = m_kernel->process(t.tgid);
    if (!p || !p->alive()) {
        t.throttle_owed_ns = 0;
        return;
    }
    u64 now = m_kernel->now_ns();
    t.state = RunState::Blocked;
    t.block = BlockKind::Throttle;
    t.throttle_start_ns = now;
    t.deadline_ns = now + std::exchange(t.throttle_owed_ns, 0);
}

void Runner::finish_killed()
{
    u64 kills = m_kernel->mm().vmstat()[VmItem::OomKill];
    if (kills == m_seen_oom_kills && !m_kernel->panicked())
        return;
    m_seen_oom_kills = kills;
    std::vector<Pid> killed;
    for (auto& [pid, g] : m_sched.groups()) {
        Process* p = m_kernel->process(pid);
        if (!g->exiting && p && !p->alive())
            killed.push_back(pid);
    }
    for (Pid pid : killed) {
        Process* p = m_kernel->process(pid);
        exit_group(pid, 0, p ? std::max(p->term_signal(), 1) : SIGKILL_);
    }
}

void Runner::note_tree_rss()
{
    u64 pages = 0;
    const AddressSpace* last = nullptr;
    for (auto& [pid, p] : m_kernel->processes())
        if (p->alive() && p->has_space() && &p->space() != last) {
            last = &p->space();
            pages += static_cast<u64>(std::max<i64>(p->space().rss().total(), 0));
        }
    m_tree_peak_pages = std::max(m_tree_peak_pages, pages);
}

void Runner::finish_group(ThreadGroup& g)
{
    g.exiting = true;
    vfork_done(g);
    record_peak(g);
    note_tree_rss();
    Pid pid = g.pid;
    if (Process* p = m_kernel->process(pid))
        for (RunObserver* o : m_observers)
            o->process_exit(g, *p);
    if (g.exit_signal)
        m_kernel->kill(pid, g.exit_signal);
    else
        (void)m_kernel->exit(pid, g.exit_code);
    if (pid == m_first) {
        m_result.exit_code = g.exit_code;
        m_result.signal = g.exit_signal;
        m_result.stats.peak_rss_kb = g.peak_rss_pages * (PAGE_SIZE / 1024);
        m_first_done = true;
    }
    // Orphans go to init. kioku's init reaps them as soon as they are zombies (it waits for
    // them); a program running as init (--no-init) gets them as children of its own, to wait for.
    Pid adopter = m_init;
    if (!m_init && pid != m_first && !m_first_done)
        adopter = m_first;
    for (Pid child : children_of(pid)) {
        m_sched.group(child)->parent = adopter;
        Process* cp = m_kernel->process(child);
        if (cp && !cp->alive() && adopter == m_init)
            reaped(m_init, child);
    }
    ThreadGroup* parent = m_sched.group(g.parent);
    Process* pp = parent ? m_kernel->process(parent->pid) : nullptr;
    if (!parent || parent->exiting || !pp || !pp->alive() || parent->pid == m_init) {
        reaped(parent ? parent->pid : 0, pid);
        return;
    }
    const SigAction& chld = parent->actions[SIGCHLD_];
    int exit_signal = g.exit_signal_to_parent;
    Process* me = m_kernel->process(pid);
    if (exit_signal > 0 && exit_signal <= NSIG_) {
        SigInfo info;
        info.signo = exit_signal;
        info.code = g.exit_signal ? CLD_KILLED_ : CLD_EXITED_;
        info.pid = pid;
        info.status = g.exit_signal ? g.exit_signal : g.exit_code;
        send_group_signal(parent->pid, info);
    }
    // A parent that ignores SIGCHLD (or asked SA_NOCLDWAIT) never sees zombies.
    // Its times, faults and maxrss are not added to the parent's children's (no wait_task_zombie).
    if (exit_signal == SIGCHLD_ && (chld.handler == SIG_IGN_ || (chld.flags & SA_NOCLDWAIT_)) && me)
        reaped(parent->pid, pid, Reap::Released);
}

std::vector<Pid> Runner::children_of(Pid pid) const
{
    std::vector<Pid> out;
    for (auto& [child, g] : m_sched.groups())
        if (g->parent == pid && pid != 0)
            out.push_back(child);
    return out;
}

void Runner::reaped(Pid parent, Pid child, Reap how)
{
    if (ThreadGroup* pg = how == Reap::Waited ? m_sched.group(parent) : nullptr) {
        if (Process* cp = m_kernel->process(child)) {
            pg->children_minflt += cp->faults().min_flt;
            pg->children_majflt += cp->faults().maj_flt;
            // wait_task_zombie: the child's largest RSS, or its own children's, if larger.
            if (Process* pp = m_kernel->process(parent))
                pp->children_maxrss_pages =
                    std::max({pp->children_maxrss_pages, cp->self_maxrss_pages(), cp->children_maxrss_pages});
        }
    }
    (void)m_kernel->reap(child);
    if (child != m_first)
        m_sched.remove_group(child);
}

void Runner::send_group_signal(Pid pid, const SigInfo& info)
{
    ThreadGroup* g = m_sched.group(pid);
    if (!g || g->exiting || g->threads.empty() || unkillable_init(*g, info.signo))
        return;
    int sig = info.signo;
    if (sig == SIGKILL_) {
        kill_group_now(pid, SIGKILL_);
        return;
    }
    // prepare_signal: SIGCONT continues a stopped process and discards pending stop signals
    // (whatever its disposition); a stop signal discards a pending SIGCONT.
    constexpr u64 STOP_SIGNALS =
        sig_bit(SIGSTOP_) | sig_bit(SIGTSTP_) | sig_bit(SIGTTIN_) | sig_bit(SIGTTOU_);
    if (sig == SIGCONT_) {
        g->pending &= ~STOP_SIGNALS;
        for (Task* th : m_sched.threads_of(pid))
            th->pending &= ~STOP_SIGNALS;
        if (g->stopped) {
            g->stopped = false;
            g->stop_to_report = false;
            g->continue_to_report = true;
            notify_parent_job_control(*g, CLD_CONTINUED_, SIGCONT_);
        }
    } else if (STOP_SIGNALS & sig_bit(sig)) {
        g->pending &= ~sig_bit(SIGCONT_);
    }
    Task* leader = m_sched.task(g->threads.front());
    bool blocked = leader && (leader->blocked & sig_bit(sig));
    if (!blocked && is_ignored(g->actions[static_cast<size_t>(sig)], sig))
        return;
    if (!(g->pending & sig_bit(sig)))
        g->pending_info[static_cast<size_t>(sig)] = info;
    g->pending |= sig_bit(sig);
}

bool Runner::unkillable_init(const ThreadGroup& g, int sig) const
{
    // The program running as PID 1 (--no-init) is the system's init, SIGNAL_UNKILLABLE: a signal
    // it has no handler for is dropped, SIGKILL included (a fault it causes still kills it).
    return m_init == 0 && g.pid == m_first && sig > 0 && sig <= NSIG_ &&
           g.actions[static_cast<size_t>(sig)].handler == SIG_DFL_;
}

void Runner::send_thread_signal(Task& t, const SigInfo& info, bool forced)
{
    int sig = info.signo;
    if (const ThreadGroup* g = m_sched.group(t.tgid); g && !forced && unkillable_init(*g, sig))
        return;
    if (sig == SIGKILL_) {
        kill_group_now(t.tgid, SIGKILL_);
        return;
    }
    ThreadGroup* g = m_sched.group(t.tgid);
    if (!g || g->exiting)
        return;
    if (!(t.blocked & sig_bit(sig)) && is_ignored(g->actions[static_cast<size_t>(sig)], sig))
        return;
    if (!(t.pending & sig_bit(sig)))
        t.pending_info[static_cast<size_t>(sig)] = info;
    t.pending |= sig_bit(sig);
}

void Runner::force_signal(Task& t, const SigInfo& info)
{
    ThreadGroup* g = m_sched.group(t.tgid);
    if (!g)
        return;
    SigAction& action = g->actions[static_cast<size_t>(info.signo)];
    bool blocked = t.blocked & sig_bit(info.signo);
    if (blocked || action.handler == SIG_IGN_) {
        t.blocked &= ~sig_bit(info.signo);
        if (action.handler == SIG_IGN_ || blocked)
            action = SigAction{};
    }
    // A second fault while the first is still pending is fatal at once, as it is on Linux.
    t.pending &= ~sig_bit(info.signo);
    send_thread_signal(t, info, true);
}

bool Runner::take_signal(Task& t, SigInfo& info)
{
    ThreadGroup& g = *m_sched.group(t.tgid);
    u64 own = t.pending & ~t.blocked;
    u64 shared = g.pending & ~t.blocked;
    if (!own && !shared)
        return false;
    // Synchronous signals (a fault's) before the others, then the lowest number, as
    // dequeue_signal does.
    constexpr u64 SYNCHRONOUS = sig_bit(SIGSEGV_) | sig_bit(SIGBUS_) | sig_bit(SIGILL_) | sig_bit(SIGTRAP_) |
                                sig_bit(SIGFPE_) | sig_bit(SIGSYS_);
    u64& set = own ? t.pending : g.pending;
    u64 ready = own ? own : shared;
    u64 pick = (ready & SYNCHRONOUS) ? (ready & SYNCHRONOUS) : ready;
    int sig = __builtin_ctzll(pick) + 1;
    info = own ? t.pending_info[static_cast<size_t>(sig)] : g.pending_info[static_cast<size_t>(sig)];
    set &= ~sig_bit(sig);
    return true;
}

void Runner::deliver_signals(Task& t)
{
    SigInfo info;
    while (t.state == RunState::Runnable && take_signal(t, info)) {
        ThreadGroup& g = *m_sched.group(t.tgid);
        SigAction action = g.actions[static_cast<size_t>(info.signo)];
        if (action.handler == SIG_IGN_)
            continue;
        if (action.handler == SIG_DFL_) {
            DefaultAction d = default_action(info.signo);
            if (d == DefaultAction::Terminate || d == DefaultAction::CoreDump) {
                exit_group(t.tgid, 0, info.signo);
                return;
            }
            if (d == DefaultAction::Stop && !unkillable_init(g, info.signo)) {
                stop_group(g, info.signo);
                return;
            }
            continue;
        }
        if (action.flags & SA_RESETHAND_) // handle_signal: the handler alone goes back to SIG_DFL
            g.actions[static_cast<size_t>(info.signo)].handler = SIG_DFL_;
        if (setup_rt_frame(*m_kernel, t, action, info).is_error()) {
            exit_group(t.tgid, 0, SIGSEGV_);
            return;
        }
        return; // one frame per return to the program; the next is delivered on top of it
    }
    if (t.saved_mask && t.state == RunState::Runnable) {
        t.blocked = *t.saved_mask;
        t.saved_mask.reset();
    }
}

bool Runner::interrupt_if_signalled(Task& t)
{
    ThreadGroup& g = *m_sched.group(t.tgid);
    u64 ready = (t.pending | g.pending) & ~t.blocked;
    bool wakes = false;
    // A Retry wait restarts under SA_RESTART unless it is of the poll family, and so does a
    // futex_waitv (-ERESTARTSYS); a FUTEX_WAIT or a sleep ends with EINTR.
    bool restart = (t.block == BlockKind::Retry && !t.no_restart_after_handler) ||
                   (t.block == BlockKind::Futex && !t.futex_keys.empty());
    for (int sig = 1; sig <= NSIG_ && !wakes; ++sig) {
        if (!(ready & sig_bit(sig)))
            continue;
        const SigAction& a = g.actions[static_cast<size_t>(sig)];
        if (is_ignored(a, sig) || (a.handler == SIG_DFL_ && default_action(sig) != DefaultAction::Terminate &&
                                   default_action(sig) != DefaultAction::CoreDump))
            continue;
        wakes = true;
        if (a.handler == SIG_DFL_ || !(a.flags & SA_RESTART_))
            restart = false;
    }
    if (!wakes)
        return false;
    t.futex_keys.clear();
    t.fifo_waiting.reset(); // a FIFO's open gives up its end
    if (t.block == BlockKind::Userfault) {
        // handle_userfault waits interruptibly: the fault leaves the context, the handler runs
        // and the access is made again after it (pc still at the faulting instruction).
        if (auto ctx = t.userfault.lock())
            ctx->cancel(t.tid);
        t.userfault.reset();
        t.state = RunState::Runnable;
        t.block = BlockKind::None;
        return true;
    }
    if (!restart) {
        t.regs.x[10] = static_cast<u64>(neg(EINTR));
        t.regs.pc += 4;
        // A relative nanosleep reports the time it had left (a failed copy is not reported).
        if (t.block == BlockKind::Sleep && t.sleep_rem && t.deadline_ns) {
            u64 left = *t.deadline_ns > m_kernel->now_ns() ? *t.deadline_ns - m_kernel->now_ns() : 0;
            i64 ts[2] = {static_cast<i64>(left / 1'000'000'000), static_cast<i64>(left % 1'000'000'000)};
            (void)m_kernel->copy_to_user(t.tgid, t.sleep_rem,
                                         std::span<const u8>(reinterpret_cast<const u8*>(ts), sizeof ts));
        }
    }
    t.sleep_rem = 0;
    t.state = RunState::Runnable;
    t.block = BlockKind::None;
    t.deadline_ns.reset();
    return true;
}

bool Runner::resume_blocked(Task& t)
{
    if (t.block == BlockKind::Vfork)
        return false; // vfork_done wakes it; SIGKILL ends the whole group anyway
    if (t.block == BlockKind::Throttle) {
        // schedule_timeout_killable: only SIGKILL, which ends the group, cuts it short.
        if (m_kernel->now_ns() < *t.deadline_ns)
            return false;
        Process* p = m_kernel->process(t.tgid);
        if (p)
            m_kernel->cgroups().memstall_of(*p, t.throttle_start_ns, *t.deadline_ns);
        t.state = RunState::Runnable;
        t.block = BlockKind::None;
        t.deadline_ns.reset();
        if (t.populate_end) {
            // mm_populate goes on where the penalty stopped it, in the same call.
            AddressSpace* space = std::exchange(t.populate_space, nullptr);
            u64 start = t.populate_start, end = std::exchange(t.populate_end, 0);
            if (p && p->alive() && p->has_space() && &p->space() == space) {
                if (auto call = m_kernel->enter(t.tgid); !call.is_error()) {
                    VirtAddr stopped = space->populate(VirtAddr(start), VirtAddr(end));
                    if (stopped.value() < end && m_kernel->mm().throttle_pending())
                        m_kernel->mm().set_populate_rest({space, stopped.value(), end});
                }
                finish_killed();
                throttle(t);
            }
        }
        return true;
    }
    if (interrupt_if_signalled(t))
        return true;
    switch (t.block) {
    case BlockKind::Retry: {
        t.block = BlockKind::None;
        if (m_strace)
            m_strace->entry(t);
        SyscallResult res = m_syscalls->dispatch(t);
        if (m_strace)
            m_strace->exit(t, res);
        if (res.kind == SyscallResult::Kind::Block)
            return false;
        if (t.state == RunState::Blocked)
            t.state = RunState::Runnable;
        if (res.kind == SyscallResult::Kind::Return) {
            t.regs.x[10] = static_cast<u64>(res.value);
            t.regs.pc += 4;
        }
        m_kernel->mm().handle_over_high(); // the return to user (memory.high)
        throttle(t);
        return true;
    }
    case BlockKind::Futex:
    case BlockKind::Sleep:
        if (!t.deadline_ns || m_kernel->now_ns() < *t.deadline_ns)
            return false;
        t.regs.x[10] = t.block == BlockKind::Futex ? static_cast<u64>(neg(ETIMEDOUT)) : 0;
        t.futex_keys.clear();
        t.regs.pc += 4;
        t.state = RunState::Runnable;
        t.block = BlockKind::None;
        t.deadline_ns.reset();
        t.sleep_rem = 0;
        return true;
    case BlockKind::Userfault: {
        // Woken once a fill or UFFDIO_WAKE covered the address, or the descriptor was closed.
        auto ctx = t.userfault.lock();
        if (ctx && ctx->waiting(t.tid))
            return false;
        t.userfault.reset();
        t.state = RunState::Runnable;
        t.block = BlockKind::None;
        return true;
    }
    case BlockKind::None: t.state = RunState::Runnable; return true;
    case BlockKind::Vfork:
    case BlockKind::Throttle: return false; // handled above
    }
    return false;
}

void Runner::load(Task& t)
{
    // The hart keeps decoded code by frame, valid in every address space: the memory manager
    // drops the decodes of each frame it frees (CodeCachePort), so only translations change here.
    m_hart->state() = t.regs;
    Process* p = m_kernel->process(t.tgid);
    Satp satp = p->space().satp();
    u64 encoded = satp.encode();
    if (encoded != m_loaded_satp || m_loaded != t.tgid) {
        m_hart->set_satp(satp); // a new satp empties the hart's translation cache
        m_loaded_satp = encoded;
        m_loaded = t.tgid;
    }
    if (m_loaded_task != t.tid) {
        m_hart->state().reservation_valid = false;
        m_loaded_task = t.tid;
    }
}

void Runner::handle_fault(Task& t, const PageFault& fault)
{
    if (fault.access == isa::AccessType::Execute && page_base(fault.addr).value() == SIGRETURN_TRAMPOLINE) {
        if (restore_rt_frame(*m_kernel, t).is_error())
            exit_group(t.tgid, 0, SIGSEGV_);
        return;
    }
    Process* p = m_kernel->process(t.tgid);
    FaultOutcome outcome;
    {
        InstructionPagePin code(m_kernel->mm(), p->space(), t.regs.pc);
        outcome = m_kernel->mm().fault_handler().handle(p->space(), fault.addr, fault.access);
    }
    m_kernel->mm().handle_over_high(); // the return to user after the fault (memory.high)
    note_tree_rss();
    if (p->oom_victim) {
        // The OOM killer chose this process while serving its own fault.
        kill_group_now(t.tgid, SIGKILL_);
        return;
    }
    if (fault_resolved(outcome))
        return;
    if (outcome == FaultOutcome::Userfault && userfault_wait(t, fault))
        return;
    FaultSignal sig = fault_signal(outcome); // a userfault here: UFFD_FEATURE_SIGBUS
    if (sig.signo == SIGKILL_) {
        // No memory and no OOM killer yet: the faulting process dies of SIGKILL.
        kill_group_now(t.tgid, SIGKILL_);
        return;
    }
    SigInfo info;
    info.signo = sig.signo;
    info.code = sig.code;
    info.addr = fault.addr.value();
    force_signal(t, info);
}

bool Runner::userfault_wait(Task& t, const PageFault& fault)
{
    // handle_userfault: the thread waits on the context of the VMA, where a reader of the
    // descriptor finds the fault, unless the context asked for SIGBUS instead.
    Process* p = m_kernel->process(t.tgid);
    Vma* vma = p->space().vma_containing(fault.addr);
    if (!vma || !vma->uffd)
        return false;
    std::shared_ptr<UserfaultContext> ctx = vma->uffd->shared_from_this();
    if (ctx->features() & UFFD_FEATURE_SIGBUS_)
        return false;
    UserfaultWait wait;
    wait.tid = t.tid;
    wait.address =
        ctx->features() & UFFD_FEATURE_EXACT_ADDRESS_ ? fault.addr.value() : page_base(fault.addr).value();
    wait.flags = fault.access == isa::AccessType::Write ? UFFD_PAGEFAULT_FLAG_WRITE_ : 0;
    ctx->add_wait(wait);
    t.userfault = ctx;
    t.state = RunState::Blocked;
    t.block = BlockKind::Userfault;
    t.deadline_ns.reset();
    return true;
}

void Runner::handle_stop(Task& t, const StopInfo& stop)
{
    // Everything done for this stop is one call on behalf of the task's process (Kernel::Call).
    auto call = m_kernel->enter(t.tgid);
    if (call.is_error())
        return;
    switch (stop.reason) {
    case StopReason::Ecall: {
        ++m_result.stats.syscalls;
        m_kernel->machine().clock().advance(m_kernel->machine().clock().costs().syscall_ns);
        t.block = BlockKind::None;
        if (m_strace)
            m_strace->entry(t);
        SyscallResult res = m_syscalls->dispatch(t);
        if (m_strace)
            m_strace->exit(t, res);
        note_tree_rss();
        if (t.state == RunState::Dead)
            return;
        if (res.kind == SyscallResult::Kind::Return && res.value == -ERESTARTNOINTR_) {
            // The call stopped to take its memory.high penalty: it runs again after it.
            VERIFY(m_kernel->mm().throttle_pending() && "a call restarted with no penalty owed");
        } else if (res.kind == SyscallResult::Kind::Return) {
            t.regs.x[10] = static_cast<u64>(res.value);
            t.regs.pc += 4;
        } else if (res.kind == SyscallResult::Kind::Block) {
            t.state = RunState::Blocked;
        }
        return;
    }
    case StopReason::PageFault: handle_fault(t, stop.fault); return;
    case StopReason::IllegalInstruction: {
        SigInfo info{SIGILL_, ILL_ILLOPC_, 0, 0, t.regs.pc, 0};
        force_signal(t, info);
        return;
    }
    case StopReason::Breakpoint: {
        SigInfo info{SIGTRAP_, TRAP_BRKPT_, 0, 0, t.regs.pc, 0};
        force_signal(t, info);
        return;
    }
    case StopReason::MisalignedAtomic: {
        SigInfo info{SIGBUS_, BUS_ADRALN_, 0, 0, stop.fault.addr.value(), 0};
        force_signal(t, info);
        return;
    }
    case StopReason::BudgetExhausted: return;
    }
}

void Runner::trace_state()
{
    // An instruction that faults is retried after the fault is handled; it is written once.
    u64 instret = m_hart->stats().instret;
    if (instret == m_traced_instret)
        return;
    m_traced_instret = instret;
    static constexpr const char* NAMES[32] = {
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
        "a6",   "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    const auto& st = m_hart->state();
    char line[64];
    std::snprintf(line, sizeof line, " pc       %016llx\n", static_cast<unsigned long long>(st.pc));
    *m_trace << line;
    for (unsigned i = 0; i < 32; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "x%u/%s", i, NAMES[i]);
        std::snprintf(line, sizeof line, " %-8s %016llx", name, static_cast<unsigned long long>(st.x[i]));
        *m_trace << line << (i % 4 == 3 ? "\n" : "");
    }
}

namespace {

// A 64-bit digest, FNV-1a over words.
struct Digest {
    u64 value = 14695981039346656037ull;
    void add(u64 word)
    {
        value ^= word;
        value *= 1099511628211ull;
    }
    // Bytes in four lanes, so a page takes a quarter of the multiplications' latency.
    void add(const u8* bytes, u64 length)
    {
        u64 lane[4] = {value, value ^ 1, value ^ 2, value ^ 3};
        for (u64 i = 0; i + 32 <= length; i += 32) {
            for (unsigned j = 0; j < 4; ++j) {
                u64 word = 0;
                std::memcpy(&word, bytes + i + 8 * j, sizeof word);
                lane[j] = (lane[j] ^ word) * 1099511628211ull;
            }
        }
        for (u64 l : lane)
            add(l);
    }
};

} // namespace

// The state log digests a process's memory at each of its first STATE_LOG_EVERY_CALL system
// calls, then at every hundredth, and at exit and execve: a program that makes 60,000 calls over
// 64 MiB would otherwise take hours.
constexpr u64 STATE_LOG_EVERY_CALL = 1000;
constexpr u64 EXIT_NR = 93;
constexpr u64 EXIT_GROUP_NR = 94;
constexpr u64 EXECVE_NR = 221;

void Runner::log_state(const Task& t, const StopInfo& stop)
{
    static constexpr const char* REASONS[] = {"ecall", "ebreak", "fault", "illegal", "budget", "misaligned"};
    const HartState& st = m_hart->state();
    Digest x;
    Digest f;
    for (unsigned i = 0; i < 32; ++i) {
        x.add(st.x[i]);
        f.add(st.f[i]);
    }
    char line[256];
    int n = std::snprintf(line, sizeof line, "%d %llu %llu %s pc=%llx x=%016llx f=%016llx fcsr=%x", t.tid,
                          static_cast<unsigned long long>(m_hart->stats().instret),
                          static_cast<unsigned long long>(m_kernel->now_ns()),
                          REASONS[static_cast<unsigned>(stop.reason)], static_cast<unsigned long long>(st.pc),
                          static_cast<unsigned long long>(x.value), static_cast<unsigned long long>(f.value),
                          st.fcsr);
    *m_state_log << std::string_view(line, static_cast<size_t>(n));
    if (stop.reason == StopReason::PageFault)
        *m_state_log << " addr=" << std::hex << stop.fault.addr.value() << std::dec
                     << " access=" << static_cast<unsigned>(stop.fault.access);
    Process* p = m_kernel->process(t.tgid);
    u64 call = stop.reason == StopReason::Ecall ? m_state_log_calls[t.tgid]++ : 0;
    u64 nr = st.x[17];
    bool last = nr == EXIT_NR || nr == EXIT_GROUP_NR || nr == EXECVE_NR;
    if (stop.reason == StopReason::Ecall && p && (call < STATE_LOG_EVERY_CALL || call % 100 == 0 || last)) {
        Digest memory;
        u64 pages = 0;
        PhysicalMemory& phys = m_kernel->machine().memory();
        auto page = [&](u64 va, u64 pte, u64 size) {
            if (!isa::pte_valid(pte))
                return;
            memory.add(va);
            memory.add(pte & 0xff);
            memory.add(phys.frame(Pfn(isa::pte_ppn(pte))), size);
            pages += size / PAGE_SIZE;
        };
        PageTable& table = p->space().page_table();
        table.for_each(
            VirtAddr(0), VirtAddr(table.user_limit()),
            [&](VirtAddr va, PageSlot slot) { page(va.value(), *slot, PAGE_SIZE); },
            [&](VirtAddr base, unsigned level, PageSlot entry) {
                page(base.value(), *entry, PAGE_SIZE << (9 * level));
            });
        *m_state_log << " nr=" << nr << " mem=" << std::hex << memory.value << std::dec << " pages=" << pages;
    }
    *m_state_log << '\n';
}

void Runner::charge_cpu(Pid tgid, u64 ns)
{
    ThreadGroup* g = m_sched.group(tgid);
    Process* p = m_kernel->process(tgid);
    if (!g || !p || !p->alive())
        return;
    g->cpu_ns += ns;
    // check_process_timers' RLIMIT_CPU: SIGKILL at the hard limit, SIGXCPU at the soft one.
    const ResourceLimit& cpu = p->rlimits()[Rlimit::Cpu];
    if (cpu.cur == RLIM_INFINITY_)
        return;
    u64 seconds = g->cpu_ns / NS_PER_SEC;
    SigInfo info;
    info.code = SI_KERNEL_;
    if (cpu.max != RLIM_INFINITY_ && seconds >= cpu.max) {
        info.signo = SIGKILL_;
        send_group_signal(tgid, info);
    } else if (seconds >= cpu.cur) {
        p->rlimits().extend_cpu_soft_limit();
        info.signo = SIGXCPU_;
        send_group_signal(tgid, info);
    }
}

void Runner::run_slice(Task& t)
{
    u64 budget = m_sched.slice();
    u64 start_ns = m_kernel->now_ns();
    // The slice's end in simulated time: its own length, or sooner when something is due.
    u64 end_ns = m_kernel->now_ns() + m_options.slice_ns;
    if (auto event = next_event_ns())
        end_ns = std::min(end_ns, *event);
    if (m_options.max_simulated_ns)
        end_ns = std::min(end_ns, m_options.max_simulated_ns);
    while (budget > 0 && t.state == RunState::Runnable) {
        load(t);
        u64 before = m_hart->stats().instret;
        if (m_trace)
            trace_state();
        StopInfo stop = m_hart->run(m_trace ? 1 : budget);
        if (m_state_log)
            log_state(t, stop);
        u64 ran = m_hart->stats().instret - before;
        budget = ran >= budget ? 0 : budget - ran;
        t.regs = m_hart->state();
        if (stop.reason == StopReason::BudgetExhausted) {
            if (m_trace && budget > 0)
                continue; // tracing runs the slice one instruction at a time
            break;
        }
        bool yield = stop.reason == StopReason::Ecall && t.regs.x[17] == SCHED_YIELD_NR;
        handle_stop(t, stop);
        finish_killed();
        throttle(t);
        // The call may have ended the process (an OOM victim dies when its call ends).
        Process* p = m_kernel->process(t.tgid);
        if (t.state != RunState::Runnable || !p || !p->alive())
            break;
        deliver_signals(t);
        if (const ThreadGroup* g = m_sched.group(t.tgid); g && g->stopped)
            break; // stopped by a signal it just took
        if (yield || m_kernel->now_ns() >= end_ns)
            break;
    }
    charge_cpu(t.tgid, m_kernel->now_ns() - start_ns);
}

bool Runner::step(Task& t)
{
    // The kernel may have killed the process on its own (the OOM killer's victims).
    if (Process* p = m_kernel->process(t.tgid); !p || !p->alive()) {
        ThreadGroup* g = m_sched.group(t.tgid);
        if (g && !g->exiting)
            exit_group(t.tgid, 0, p ? std::max(p->term_signal(), 1) : SIGKILL_);
        t.state = RunState::Dead;
        return true;
    }
    ThreadGroup* g = m_sched.group(t.tgid);
    if (g && !g->stopped && t.state == RunState::Blocked)
        take_stop_signal(*g, t); // a stop signal stops a process even while it waits
    if (g && g->stopped)
        return false; // until SIGCONT or SIGKILL
    if (t.state == RunState::Blocked && !resume_blocked(t))
        return false;
    if (t.state != RunState::Runnable)
        return true;
    deliver_signals(t);
    if (g && g->stopped)
        return true;
    run_slice(t);
    return true;
}

bool Runner::take_stop_signal(ThreadGroup& g, Task& t)
{
    for (int sig : {SIGSTOP_, SIGTSTP_, SIGTTIN_, SIGTTOU_}) {
        u64 bit = sig_bit(sig);
        if (!((t.pending | g.pending) & bit) || (t.blocked & bit))
            continue;
        if (g.actions[static_cast<size_t>(sig)].handler != SIG_DFL_)
            continue;
        t.pending &= ~bit;
        g.pending &= ~bit;
        stop_group(g, sig);
        return true;
    }
    return false;
}

void Runner::stop_group(ThreadGroup& g, int sig)
{
    // do_signal_stop: every thread stops; the parent hears of it (CLD_STOPPED) unless it asked
    // SA_NOCLDSTOP, and a waitpid with WUNTRACED reports it once.
    g.stopped = true;
    g.stop_signal = sig;
    g.stop_to_report = true;
    g.continue_to_report = false;
    notify_parent_job_control(g, CLD_STOPPED_, sig);
}

void Runner::notify_parent_job_control(ThreadGroup& g, int code, int status)
{
    ThreadGroup* parent = m_sched.group(g.parent);
    if (!parent || parent->exiting || parent->threads.empty())
        return;
    if (parent->actions[SIGCHLD_].flags & SA_NOCLDSTOP_)
        return;
    SigInfo info;
    info.signo = SIGCHLD_;
    info.code = code;
    info.pid = g.pid;
    info.status = status;
    send_group_signal(parent->pid, info);
}

std::optional<u64> Runner::next_event_ns()
{
    std::optional<u64> next;
    for (auto& [tid, t] : m_sched.tasks())
        if (t->state == RunState::Blocked && t->deadline_ns)
            next = next ? std::min(*next, *t->deadline_ns) : *t->deadline_ns;
    // A timer armed after a task blocked can still wake it with its signal.
    if (auto timer = m_syscalls->next_timer_expiry())
        next = next ? std::min(*next, *timer) : *timer;
    return next;
}

bool Runner::advance_clock_to_deadline()
{
    std::optional<u64> next = next_event_ns();
    if (!next)
        return false;
    u64 now = m_kernel->now_ns();
    if (*next > now)
        m_kernel->machine().clock().advance(*next - now);
    return true;
}

RunStats Runner::stats() const
{
    RunStats s = m_result.stats;
    Machine& m = m_kernel->machine();
    s.instructions = m_hart->stats().instret;
    s.minor_faults = m_kernel->mm().vmstat()[VmItem::Pgfault] - m_kernel->mm().vmstat()[VmItem::Pgmajfault];
    s.major_faults = m_kernel->mm().vmstat()[VmItem::Pgmajfault];
    s.tlb_hits = m.tlb().stats().hits;
    s.tlb_misses = m.tlb().stats().misses;
    s.tlb_walks = m.tlb().stats().walks;
    s.simulated_ns = m.clock().now_ns();
    s.tree_peak_rss_kb = m_tree_peak_pages * (PAGE_SIZE / 1024);
    return s;
}

void Runner::kill_everything()
{
    std::vector<Pid> alive;
    for (auto& [pid, g] : m_sched.groups())
        if (!g->exiting)
            alive.push_back(pid);
    for (Pid pid : alive)
        exit_group(pid, 0, SIGKILL_);
    m_sched.reap_dead();
}

std::optional<Kernel::TaskView> Runner::task_view(Pid id) const
{
    // id is a process, or one thread of one (/proc/PID/task/TID), whose own state is shown.
    const ThreadGroup* g = m_sched.group(id);
    const Task* thread = g ? nullptr : m_sched.task(id);
    if (thread)
        g = m_sched.group(thread->tgid);
    Pid pid = g ? g->pid : id;
    const Process* p = m_kernel->process(pid);
    if (!g || !p)
        return std::nullopt;
    Kernel::TaskView v;
    v.ppid = g->parent;
    // Job-control ids are set up on first use: until then a group has its parent's.
    const ThreadGroup* ids = g;
    while (ids && ids->sid == 0 && ids->parent != ids->pid)
        ids = m_sched.group(ids->parent);
    v.pgid = ids && ids->sid ? ids->pgid : pid;
    v.sid = ids && ids->sid ? ids->sid : pid;
    v.threads = static_cast<u32>(std::max<size_t>(g->threads.size(), 1));
    v.cpu_ns = g->cpu_ns;
    if (!g->stopped)
        for (Tid tid : g->threads)
            if (const Task* t = m_sched.task(tid); t && t->state == RunState::Runnable)
                ++v.runnable;
    if (!p->alive()) {
        v.state = TaskState::Zombie;
        return v;
    }
    // The leader's state, as Linux's /proc/PID/stat shows: running or runnable is R; a task in an
    // interruptible wait is S; the vfork parent's wait and the memory.high penalty's killable
    // sleep are uninterruptible (D).
    const Task* leader = thread ? thread : g->threads.empty() ? nullptr : m_sched.task(g->threads.front());
    if (!leader)
        v.state = TaskState::Sleeping; // init, which only ever waits
    else if (g->stopped)
        v.state = TaskState::Stopped;
    else if (leader->state == RunState::Blocked)
        v.state = leader->block == BlockKind::Vfork || leader->block == BlockKind::Throttle
                      ? TaskState::DiskSleep
                      : TaskState::Sleeping;
    else
        v.state = leader->state == RunState::Dead ? TaskState::Zombie : TaskState::Running;
    return v;
}

RunResult Runner::run()
{
    while (m_sched.any_alive()) {
        if (m_options.stop_signal && *m_options.stop_signal && !m_result.stopped_by) {
            m_result.stopped_by = *m_options.stop_signal;
            kill_everything();
            continue;
        }
        if (m_result.limit_reached == RunResult::Limit::None) {
            if (m_options.max_instructions && instructions() >= m_options.max_instructions)
                m_result.limit_reached = RunResult::Limit::Instructions;
            else if (m_options.max_simulated_ns && m_kernel->now_ns() >= m_options.max_simulated_ns)
                m_result.limit_reached = RunResult::Limit::SimulatedTime;
            if (m_result.limit_reached != RunResult::Limit::None) {
                kill_everything();
                continue;
            }
        }
        bool progressed = false;
        for (Task* t : m_sched.round()) {
            if (t->state == RunState::Dead)
                continue;
            if (step(*t))
                progressed = true;
            m_sched.ran(t->tid);
        }
        m_sched.reap_dead();
        // The kernel threads' turn between rounds: flusher, khugepaged, kcompactd.
        m_kernel->mm().background_work();
        finish_killed();
        for (RunObserver* o : m_observers)
            o->round_done();
        if (!progressed && m_sched.any_alive() && !advance_clock_to_deadline()) {
            m_diag << "kioku: every task is blocked and nothing can wake them; killing them\n";
            kill_everything();
        }
    }
    RunResult result = m_result;
    result.stats = stats();
    return result;
}

} // namespace kioku
