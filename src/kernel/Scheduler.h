// The scheduler of a running machine: it owns every Task and ThreadGroup and picks the next task
// to run round-robin, deterministically (tasks are queued in creation order; a time slice is a
// number of guest instructions, so the same program and seed interleave the same way every run).
// One hart: a task runs until its slice is used up, it blocks, or it exits.
//
// Dead tasks stay until reap_dead() drops them, so a pointer to a task is valid for the rest of
// the current step of the run loop.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "kernel/Task.h"

namespace kioku {

class Scheduler {
  public:
    explicit Scheduler(u64 slice_instructions)
        : m_slice(slice_instructions)
    {
    }

    u64 slice() const { return m_slice; }

    Task& add_task(std::unique_ptr<Task> task);
    ThreadGroup& add_group(std::unique_ptr<ThreadGroup> group);
    void remove_group(Pid pid);

    Task* task(Tid tid);
    const Task* task(Tid tid) const;
    ThreadGroup* group(Pid pid);
    const ThreadGroup* group(Pid pid) const;
    const std::map<Tid, std::unique_ptr<Task>>& tasks() const { return m_tasks; }
    const std::map<Pid, std::unique_ptr<ThreadGroup>>& groups() const { return m_groups; }
    std::vector<Task*> threads_of(Pid pid);

    // The tasks in round-robin order, starting after the one that ran last. Each round begins
    // with the tick hook: the kernel's timers look at the clock there.
    std::vector<Task*> round();
    void set_tick_hook(std::function<void()> hook) { m_tick = std::move(hook); }
    void ran(Tid tid) { m_last = tid; }
    bool any_alive() const;

    // Drops dead tasks from the queue.
    void reap_dead();

  private:
    u64 m_slice;
    std::map<Tid, std::unique_ptr<Task>> m_tasks;
    std::map<Pid, std::unique_ptr<ThreadGroup>> m_groups;
    std::deque<Tid> m_order; // creation order
    Tid m_last = 0;
    std::function<void()> m_tick;
};

} // namespace kioku
