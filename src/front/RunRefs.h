// The page reference stream of one `kioku run` (--trace-refs FILE.csv), in a CSV that
// libCacheSim reads: every load, store and atomic the guest makes, and every instruction fetch
// from another code page (the hart's ReferenceSink), as one row per page referenced:
//   time,obj_id,obj_size,op,pid,page
// time is the simulated clock in ns (the clock moves at the end of each slice, so many rows share
// it); obj_id names the page as (pid << 36) | virtual page number, so each process's pages are
// objects of their own; obj_size is 4096; op is r, w or x. Which references make rows is the
// ReferenceFilter's rule below. docs/run-report.md says how to replay the file; `kioku run
// --policy opt --future FILE.csv` reads it back (front/RunOracle.h).
#pragma once

#include <ostream>
#include <unordered_map>

#include "hw/riscv/Hart.h"
#include "kernel/Runner.h"

namespace kioku {

// Which of the hart's references make the stream. Per process: a reference to the page of the
// process's reference before it is no new one (a run of hits on one page counts once), and an
// instruction fetch counts only when the process's code page changes. The hart reports its code
// page again after every TLB flush and context switch, and those depend on reclaim and on the
// other processes; the stream must not. Each process's stream is then the same whatever the
// policy, the memory size and the other processes do, as long as the program does the same
// (and the code page it runs from is in use at every instruction in between).
class ReferenceFilter {
  public:
    static constexpr u64 NONE = ~u64{0};

    // Whether the reference to virtual page `vpn` is the next one of pid's stream.
    bool admit(Pid pid, u64 vpn, isa::AccessType access)
    {
        State& s = state(pid);
        if (access == isa::AccessType::Execute) {
            if (vpn == s.code)
                return false;
            s.code = vpn;
        }
        if (vpn == s.last)
            return false;
        s.last = vpn;
        return true;
    }
    // The page pid runs its code from, NONE before its first fetch.
    u64 code_page(Pid pid) const
    {
        auto it = m_states.find(pid);
        return it == m_states.end() ? NONE : it->second.code;
    }

  private:
    struct State {
        u64 last = NONE; // the page of the last reference in the stream
        u64 code = NONE; // the code page
    };
    State& state(Pid pid)
    {
        // Most references come from the process before: keep its entry at hand (an
        // unordered_map's entries stay where they are).
        if (!m_cached || pid != m_cached_pid) {
            m_cached = &m_states[pid];
            m_cached_pid = pid;
        }
        return *m_cached;
    }
    std::unordered_map<Pid, State> m_states;
    State* m_cached = nullptr;
    Pid m_cached_pid = 0;
};

// Writes the CSV. Set as the hart's sink by RunCommand (or called by the one set there).
class RunRefs final : public ReferenceSink {
  public:
    RunRefs(Runner& runner, std::ostream& out);
    ~RunRefs() override;
    RunRefs(const RunRefs&) = delete;
    RunRefs& operator=(const RunRefs&) = delete;

    void reference(u64 va, isa::AccessType access) override;
    u64 rows() const { return m_rows; }

  private:
    Runner& m_runner;
    std::ostream& m_out;
    ReferenceFilter m_filter;
    u64 m_rows = 0;
};

} // namespace kioku
