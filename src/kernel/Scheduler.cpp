#include "kernel/Scheduler.h"

#include <algorithm>

namespace kioku {

Task& Scheduler::add_task(std::unique_ptr<Task> task)
{
    Tid tid = task->tid;
    m_order.push_back(tid);
    auto& slot = m_tasks[tid];
    slot = std::move(task);
    return *slot;
}

ThreadGroup& Scheduler::add_group(std::unique_ptr<ThreadGroup> group)
{
    Pid pid = group->pid;
    auto& slot = m_groups[pid];
    slot = std::move(group);
    return *slot;
}

void Scheduler::remove_group(Pid pid)
{
    m_groups.erase(pid);
}

Task* Scheduler::task(Tid tid)
{
    auto it = m_tasks.find(tid);
    return it == m_tasks.end() ? nullptr : it->second.get();
}

ThreadGroup* Scheduler::group(Pid pid)
{
    auto it = m_groups.find(pid);
    return it == m_groups.end() ? nullptr : it->second.get();
}

const ThreadGroup* Scheduler::group(Pid pid) const
{
    auto it = m_groups.find(pid);
    return it == m_groups.end() ? nullptr : it->second.get();
}

const Task* Scheduler::task(Tid tid) const
{
    auto it = m_tasks.find(tid);
    return it == m_tasks.end() ? nullptr : it->second.get();
}

std::vector<Task*> Scheduler::threads_of(Pid pid)
{
    std::vector<Task*> out;
    for (Tid tid : m_order)
        if (Task* t = task(tid); t && t->tgid == pid && t->state != RunState::Dead)
            out.push_back(t);
    return out;
}

std::vector<Task*> Scheduler::round()
{
    if (m_tick)
        m_tick();
    std::vector<Task*> out;
    auto after = std::find(m_order.begin(), m_order.end(), m_last);
    size_t start = after == m_order.end() ? 0 : static_cast<size_t>(after - m_order.begin()) + 1;
    for (size_t i = 0; i < m_order.size(); ++i) {
        Task* t = task(m_order[(start + i) % m_order.size()]);
        if (t && t->state != RunState::Dead)
            out.push_back(t);
    }
    return out;
}

bool Scheduler::any_alive() const
{
    for (auto& [tid, t] : m_tasks)
        if (t->state != RunState::Dead)
            return true;
    return false;
}

void Scheduler::reap_dead()
{
    for (auto it = m_order.begin(); it != m_order.end();) {
        auto found = m_tasks.find(*it);
        if (found == m_tasks.end() || found->second->state == RunState::Dead) {
            if (found != m_tasks.end())
                m_tasks.erase(found);
            it = m_order.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace kioku
