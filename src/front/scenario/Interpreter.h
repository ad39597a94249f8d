// Runs a parsed Script against one fresh Kernel. The interpreter maps the script's names to
// what the kernel handed out (pids, addresses, file descriptors), performs each command through
// the Kernel facade exactly as a program would (so a scenario write takes the same page faults
// as a guest store), and checks the expectations.
//
// Failure policy: a failed expectation is reported and the run goes on (so one run shows every
// broken fact); an operation that fails when no `expect` on the next line says it should stops
// the run, since what follows would no longer be what the script describes.
//
// An Interpreter is used for one run; it owns the kernel it creates.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "front/scenario/ProcView.h"
#include "front/scenario/Scenario.h"
#include "front/scenario/Script.h"
#include "front/scenario/Textbook.h"
#include "kernel/Kernel.h"

namespace kioku::scenario {

class Interpreter {
  public:
    Interpreter(const Script& script, const ScenarioOptions& options, std::ostream& out, std::ostream& err);
    ~Interpreter();

    int run();

  private:
    enum class Step : u8 { Continue, Stop };

    // What became of a process the script named.
    struct ProcessState {
        Pid pid = 0;
        enum class Fate : u8 { Alive, Exited, Killed } fate = Fate::Alive;
        int code = 0;                     // exit status, or the killing signal
        std::optional<int> fault_si_code; // si_code of the fault that killed it
    };
    struct Region {
        u64 addr = 0;
        u64 length = 0;
    };
    struct LastAccess {
        std::string process;
        AccessOutcome outcome;
    };

    MachineConfig machine_config() const;
    Step execute(const Command& command);

    Step exec(const MachineCmd&);
    Step exec(const SpawnCmd&);
    Step exec(const ForkCmd&);
    Step exec(const ExitCmd&);
    Step exec(const KillCmd&);
    Step exec(const MmapCmd&);
    Step exec(const RangeCmd&);
    Step exec(const BrkCmd&);
    Step exec(const AccessCmd&);
    Step exec(const FileCmd&);
    Step exec(const OpenCmd&);
    Step exec(const FileIoCmd&);
    Step exec(const ShowCmd&);
    Step exec(const EchoCmd&);
    Step exec(const PrintCmd&);
    Step exec(const LetCmd&);
    Step exec(const SysctlCmd&);
    Step exec(const ExpectCompareCmd&);
    Step exec(const ExpectStateCmd&);
    Step exec(const ExpectLastCmd&);
    Step exec(const ExpectErrorCmd&);
    Step exec(const ReferenceCmd&);
    Step exec(const CompareCmd&);
    Step draw_physmap(const std::string& physmap_text);
    Step exec(const ProcWriteCmd&);
    Step exec(const CgroupCmd&);
    Step exec(const ExpectPanicCmd&);
    Step exec(const PolicyCmd&);
    Step exec(const SleepCmd&);
    Step exec(const SyncCmd&);
    Step exec(const SwapCmd&);
    Step exec(const PrctlCmd&);

    // Memory accesses, split by kind.
    Step write_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length);
    Step read_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length);
    Step touch_access(const AccessCmd& cmd, Pid pid, u64 addr, u64 length);
    Step access_outcome(const std::string& process, const AccessOutcome& outcome, const std::string& done);
    // Reference strings (Interpreter.cpp, near `reference`).
    void tell_opt_future(Pid pid, u64 addr, const ReferenceCmd& cmd);
    std::optional<u64> fault_count(Pid pid, bool major_only = false);
    std::vector<ResidentPage> resident_pages(Pid pid, u64 addr, const std::vector<u64>& pages);

    // Evaluation. On a problem these report it (stopping the run) and return nullopt.
    std::optional<i64> eval(const Expr& expr);
    std::optional<i64> value(const ValueRef& ref);
    std::optional<i64> last_value(ValueRef::Source source);
    std::optional<std::string> placeholder_text(const Expr& expr);
    std::optional<u64> eval_size(const Expr& expr, const char* what);
    std::optional<u64> length_of(const AddressArg& addr, const std::optional<Expr>& length);
    // The state of a named process; nullptr (the run stopped) when its spawn or fork failed.
    ProcessState* process_state(const std::string& process);
    std::optional<Pid> live_pid(const std::string& process);

    // Results of calls and accesses, and the run's messages.
    Step call_error(const Error& error);
    void call_ok() { m_last_errno.reset(); }
    Step fail(const std::string& message);
    std::nullopt_t fail_value(const std::string& message);
    void expectation_failed(const std::string& message);
    void expectation_held();
    void report(const std::string& result);
    void note_vanished_processes();
    // Fixed-frame mode: the limit, with what the textbook model needs (no swap readahead).
    void set_frame_limit(u64 frames);
    std::string fate_text(const ProcessState& state) const;

    const Script& m_script;
    ScenarioOptions m_options;
    std::ostream& m_out;
    std::ostream& m_err;
    std::unique_ptr<Kernel> m_kernel;
    std::unique_ptr<ProcView> m_view;
    const Command* m_command = nullptr;

    std::map<std::string, ProcessState> m_processes;
    std::map<std::string, Region> m_regions;
    std::map<std::string, int> m_fds;
    std::map<std::string, i64> m_numbers;
    std::optional<int> m_last_errno; // the errno of the last call, nullopt when it succeeded
    std::optional<LastAccess> m_last_access;
    int m_status = 0;
    unsigned m_expectations = 0;
    unsigned m_expectations_failed = 0;
    bool m_warned_frames_without_swap = false;
    unsigned m_pictures = 0; // physmap pictures drawn (--pictures)
};

} // namespace kioku::scenario
