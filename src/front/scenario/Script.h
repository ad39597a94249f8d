// The parsed form of a scenario (.kio) file: one Command per meaningful source line, in order,
// with every name already resolved to what it denotes (a process, a region, a file descriptor
// or a number). The parser builds a Script completely before the interpreter runs any of it,
// so a script with a malformed line never runs at all.
//
// Invariants: every name a command uses was defined by an earlier line; every expression
// refers only to values whose source is known (a variable, a /proc field, the clock).
// A Script is owned by whoever parsed it and is read-only to the interpreter.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/Types.h"
#include "hw/Tlb.h"
#include "isa/Paging.h"

namespace kioku::scenario {

// Where a value in an expression comes from. Every machine or process value is read from the
// kernel's /proc text when the expression is evaluated, so views and values cannot disagree.
struct ValueRef {
    enum class Source : u8 {
        Variable,        // name: a let/checksum variable, a region (its address) or an fd (its number)
        ProcessPid,      // process: the pid the kernel gave it
        ProcessStat,     // process, stat_field: a field of /proc/PID/stat (1-based, as proc(5))
        ProcessStatus,   // process, field: a field of /proc/PID/status
        ProcessSmaps,    // process, region, field: a field of the smaps entry holding the region
        ProcessRollup,   // process, field: a field of /proc/PID/smaps_rollup
        ProcessStatm,    // process, stat_field: a column of /proc/PID/statm (0-based, pages)
        ProcessMapCount, // process: how many lines /proc/PID/maps has (VMAs, Linux's map_count)
        Meminfo,         // field: a line of /proc/meminfo
        Vmstat,          // field: an item of /proc/vmstat
        Tlb,             // field: a counter of /proc/kioku/tlb (hits, misses, walks, flushes)
        Sysctl,          // field: a path under /proc/sys, such as "vm/overcommit_memory"
        Clock,           // the simulated clock in nanoseconds
        LastErrno,       // the errno of the most recent call (0 when it succeeded)
        LastSignal,      // the signal the most recent memory access raised (0 when it completed)
        LastSiCode,      // the si_code of that signal (0 when the access completed)
        LastAddr,        // the faulting address of that access (0 when it completed)
        ProcessVmas,     // process, region: how many /proc/PID/maps lines overlap the region
        ProcessPerms,    // process, region: their permissions joined by commas (text, print only)
        ProcessFile,     // process, field: the number in /proc/PID/<field> (oom_score, oom_score_adj)
        Cgroup,          // name, field: a group's file ("memory.current") or a key of one
                         // ("memory.events.oom_kill"), under /sys/fs/cgroup/<name>
    };
    Source source = Source::Variable;
    std::string name;    // variable name
    std::string process; // process name for the Process* sources
    std::string region;  // region name for ProcessSmaps
    std::string field;
    int stat_field = 0;
};

enum class CompareOp : u8 { Eq, Ne, Lt, Le, Gt, Ge };

// An integer expression. Arithmetic is on signed 64-bit values so that deltas may be negative.
// A Compare (allowed only as a whole `print` placeholder) is 1 when it holds, else 0.
struct Expr {
    enum class Kind : u8 { Number, Value, Negate, Add, Sub, Mul, Div, Mod, Compare };
    Kind kind = Kind::Number;
    CompareOp compare = CompareOp::Eq; // for Compare
    i64 number = 0;
    ValueRef value;
    std::unique_ptr<Expr> lhs; // the operand of Negate; the left side of a binary operator
    std::unique_ptr<Expr> rhs;
    std::string text; // the source text, for messages
};

// An address argument: an expression, and the region it names when it is a bare region name
// (so that commands can default their length to the region's length).
struct AddressArg {
    Expr expr;
    std::string region;
};

// What a write stores, or what a read checks the memory against.
struct Fill {
    enum class Kind : u8 { None, Byte, Sequence, Text };
    Kind kind = Kind::None;
    u8 byte = 0;
    std::string text;
    // The byte at offset i from the start of the access.
    u8 at(u64 i) const;
};

struct MachineCmd {
    std::optional<u64> mem_bytes;
    std::optional<isa::SatpMode> paging;
    std::optional<TlbConfig> tlb;
    std::optional<u64> seed;
    std::optional<bool> check_invariants;
    std::optional<u64> swap_bytes; // a memory-backed swap area of this size
    std::string policy;            // the replacement policy by name; empty: the default ("lru")
    std::optional<u64> frames;     // the fixed-frame limit on resident user pages
    std::optional<u64> disk_bytes; // the block device /dev/vda, of this size (a scratch image)
};
struct SpawnCmd {
    std::string process;
};
struct ForkCmd {
    std::string parent;
    std::string child;
};
struct ExitCmd {
    std::string process;
    int status = 0;
};
struct KillCmd {
    std::string process;
    int signal = 0;
};
struct MmapCmd {
    std::string process;
    std::string region;
    Expr length;
    int prot = 0;
    int flags = 0;
    std::optional<Expr> addr;
    std::string file; // a guest path, opened and closed around the call
    std::string fd;   // or a file-descriptor name from `open`
    std::optional<Expr> offset;
};
// munmap, mprotect, msync and madvise all name a region and an optional sub-range of it.
struct RangeCmd {
    enum class Op : u8 { Munmap, Mprotect, Msync, Madvise };
    Op op = Op::Munmap;
    std::string process;
    std::string region;
    std::optional<Expr> offset;
    std::optional<Expr> length;
    int prot = 0;   // mprotect
    int flags = 0;  // msync
    int advice = 0; // madvise: the MADV_ value
};
struct BrkCmd {
    std::string process;
    Expr delta;
    std::string region;
};
struct AccessCmd {
    enum class Op : u8 { Write, Read, Touch, Checksum };
    Op op = Op::Read;
    std::string process;
    AddressArg addr;
    std::optional<Expr> length;
    Fill fill; // write: what to store; read: what the memory must hold
    bool touch_write = false;
    u64 touch_value = 0;     // what a write touch stores, little-endian in touch_size bytes
    unsigned touch_size = 1; // bytes per touch access: 1, 2, 4 or 8
    std::string result;      // `as NAME`: the checksum (read, checksum) or the sum of a touch's loads
};
// `reference`: one access to each listed page of a region, in order, as a textbook reference
// string. result (`as NAME`) receives the faults the string cost.
struct ReferenceCmd {
    std::string process;
    AddressArg addr;
    std::vector<u64> pages;
    bool write = false;
    bool trace = false; // print one line per reference: hit or fault, and the resident pages
    std::string result;
};
// `compare policies=P,... frames=N,... pages=N,...|@FILE [read|write]`: the string run under each
// policy with each frame count, each on a fresh machine; prints the faults as a table.
struct CompareCmd {
    std::vector<std::string> policies;
    std::vector<u64> frames;
    std::vector<u64> pages;
    bool write = true;
};
// `policy`: switches the replacement policy (and the fixed-frame limit) from here on.
struct PolicyCmd {
    std::string name;
    std::optional<u64> frames;
};
// `prctl PROCESS OPTION [ARG2 [ARG3 [ARG4 [ARG5]]]] [as NAME]`: the prctl system call for the
// options that concern memory (PR_SET_THP_DISABLE, PR_GET_THP_DISABLE). result receives the
// call's return value.
struct PrctlCmd {
    std::string process;
    int option = 0;
    std::array<u64, 4> args{}; // arg2 .. arg5
    std::string result;
};
// `swapon SIZE [prio=N]` turns on a memory-backed swap area; `swapoff NAME` turns off the area
// /proc/swaps lists as NAME ("/dev/swap0"), bringing its pages back into memory.
struct SwapCmd {
    bool on = true;
    u64 bytes = 0;               // swapon
    std::optional<int> priority; // swapon; nullopt: Linux's default -2, -3, ...
    std::string name;            // swapoff
};
// `sleep`: simulated time passes with every process idle; `sync`: sync(2).
struct SleepCmd {
    u64 ns = 0;
};
struct SyncCmd {};
// `procwrite`: writes a value to a file of /proc/PID, as `echo -1000 > /proc/PID/oom_score_adj`.
struct ProcWriteCmd {
    std::string process;
    std::string file;
    std::string value;
};
// `cgroup`: control groups under /sys/fs/cgroup, driven as a shell would drive them. create makes
// a group, turning the memory controller on for its parent's children first, and writes its
// settings; set writes settings (memory.max=16M ...); attach moves a process into it (its pid to
// cgroup.procs); remove removes an empty group.
struct CgroupCmd {
    enum class Kind : u8 { Create, Set, Attach, Remove };
    Kind kind = Kind::Create;
    std::string group; // relative to /sys/fs/cgroup, e.g. "batch"
    std::string process;
    std::vector<std::pair<std::string, std::string>> settings;
};
struct FileCmd {
    std::string path;
    std::optional<Expr> size;
    Fill fill;
};
struct OpenCmd {
    std::string process;
    std::string path;
    int flags = 0;
    std::string fd;
};
struct FileIoCmd {
    enum class Op : u8 { Read, Write, Close, Truncate, Fsync };
    Op op = Op::Read;
    std::string process;
    std::string fd;
    std::optional<AddressArg> buffer;
    std::optional<Expr> length;
    std::optional<Expr> offset; // pread/pwrite when present
    std::string result;         // `as NAME`: stores the byte count
};
struct ShowCmd {
    enum class What : u8 {
        Meminfo,
        Vmstat,
        Buddyinfo,
        Free,
        Maps,
        Smaps,
        Status,
        Statm,
        Pagemap,
        Tlb,
        Faults,
        VmstatCmd,     // the `vmstat` command's output
        Dmesg,         // the kernel log
        Pagetypeinfo,  // /proc/pagetypeinfo
        ExtfragIndex,  // /sys/kernel/debug/extfrag/extfrag_index
        UnusableIndex, // /sys/kernel/debug/extfrag/unusable_index
        Physmap,       // /proc/kioku/physmap: every frame, drawn
        Layout,        // /proc/kioku/layout: the kernel's address space
        Slabinfo       // /proc/slabinfo
    };
    What what = What::Meminfo;
    bool json = false;             // `show VIEW ... json`: the view's JSON form (kernel/ProcJson.h)
    std::vector<std::string> only; // `only=NAME,...`: the lines that begin with one of them
    std::string process;
    std::optional<AddressArg> addr; // smaps: the entry holding it; pagemap: the first page
    std::optional<Expr> length;
};
struct EchoCmd {
    std::string text;
};
// A print line alternates literal text and {expressions}.
struct PrintCmd {
    struct Piece {
        std::string literal;
        std::optional<Expr> expr;
    };
    std::vector<Piece> pieces;
};
struct LetCmd {
    std::string name;
    Expr value;
};
struct SysctlCmd {
    std::string path;
    std::string value;
};
struct ExpectCompareCmd {
    Expr lhs;
    CompareOp op = CompareOp::Eq;
    Expr rhs;
};
// The fate of a process: alive, exited with a status, or killed by a signal.
struct ExpectStateCmd {
    enum class State : u8 { Alive, Exited, Killed };
    std::string process;
    State state = State::Alive;
    std::optional<int> code;    // the exit status, or the signal
    std::optional<int> si_code; // for SIGSEGV / SIGBUS: what the last fault of the process was
};
// The outcome of the most recent memory access command.
struct ExpectLastCmd {
    std::optional<int> signal; // nullopt: the access completed
    std::optional<int> si_code;
    std::optional<Expr> addr;
};
struct ExpectErrorCmd {
    int error = 0;
};
// `expect panic`: the kernel has panicked (vm.panic_on_oom).
struct ExpectPanicCmd {};

using Operation =
    std::variant<MachineCmd, SpawnCmd, ForkCmd, ExitCmd, KillCmd, MmapCmd, RangeCmd, BrkCmd, AccessCmd,
                 FileCmd, OpenCmd, FileIoCmd, ShowCmd, EchoCmd, PrintCmd, LetCmd, SysctlCmd, ExpectCompareCmd,
                 ExpectStateCmd, ExpectLastCmd, ExpectErrorCmd, ReferenceCmd, ProcWriteCmd, CgroupCmd,
                 ExpectPanicCmd, PolicyCmd, SwapCmd, PrctlCmd, SleepCmd, SyncCmd, CompareCmd>;

struct Command {
    int line = 0;
    std::string text; // the source line without its comment, trimmed
    std::string verb;
    // True when the next line is an expectation about this command's failure (`expect error`
    // after a call, `expect last`/`expect P killed|segv|bus` after an access). A failure that
    // nobody expects stops the scenario.
    bool failure_expected = false;
    Operation op;
};

struct Script {
    std::string name; // the file name used in messages
    std::vector<Command> commands;
};

} // namespace kioku::scenario
