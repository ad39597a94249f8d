// The two policies that need every reference a program makes, for `kioku run`:
//   --policy exact-lru: each reference of the stream (front/RunRefs.h's ReferenceFilter) is told
//     to the policy as an access, the code page's after each data page's, since the next
//     instruction is fetched from it;
//   --policy opt --future FILE.csv: OPT reads ahead in the stream an earlier run of the same
//     command recorded (--trace-refs FILE.csv). The run follows each process along its own
//     recorded stream, and a frame's next use is the earliest next reference, among the
//     (process, page) pairs that map it, to come in the file; the page a process runs its code
//     from is used at once. The pages no process maps (page cache reached only by read(2), pages
//     read ahead) are never used again as far as the stream tells.
// OPT is the optimum only over the references it is told: the kernel's own copies (read(2) into
// a buffer) are not in the stream, and neither is the page cache behind them.
//
// A process's stream does not depend on the policy, the memory size or the scheduling, only on
// what the program does. A program whose references depend on time or on memory (it reads the
// clock and branches, it reads /proc/meminfo) can leave the recorded stream: the first reference
// that differs is kept in `divergence()`, and from there on every page counts as never used
// again (OPT falls back to the oldest resident first). RunCommand says so and fails.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "front/RunRefs.h"
#include "mm/reclaim/OptPolicy.h"

namespace kioku {

class AddressSpace;

// A --trace-refs file read back: each process's stream, and each page's uses in it.
class RecordedReferences {
  public:
    // Reads FILE.csv; on an error, null and `error` says what is wrong and where.
    static std::unique_ptr<RecordedReferences> load(const std::string& path, std::string& error);

    struct Stream {
        std::vector<u32> pages; // each reference of the process: its page's index in m_keys
        std::vector<u64> rows;  // and its row in the file (the common scale)
    };
    const Stream* stream(Pid pid) const;
    std::vector<Pid> pids() const; // the processes with a stream, in order
    // The row of the first reference of (pid, vpn) at or after pid's reference `from`, or NEVER.
    u64 next_row(Pid pid, const Stream& stream, u64 vpn, u64 from) const;
    u64 key_of(u32 page) const { return m_keys[page]; }
    static u64 key(Pid pid, u64 vpn) { return (static_cast<u64>(pid) << 36) | (vpn & ((u64{1} << 36) - 1)); }
    u64 rows() const { return m_rows; }

  private:
    std::unordered_map<Pid, Stream> m_streams;
    std::unordered_map<u64, u32> m_index; // key(pid, vpn) -> index in m_keys
    std::vector<u64> m_keys;
    std::vector<std::vector<u32>> m_uses; // per page: its positions in its process's stream
    u64 m_rows = 0;
};

class RunOracle final : public ReferenceSink, public NextUseOracle {
  public:
    // exact-lru when `future` is null; `also` (the --trace-refs writer) hears every reference too.
    RunOracle(Runner& runner, std::unique_ptr<RecordedReferences> future, ReferenceSink* also);
    ~RunOracle() override;
    RunOracle(const RunOracle&) = delete;
    RunOracle& operator=(const RunOracle&) = delete;

    void reference(u64 va, isa::AccessType access) override;
    void begin_selection() override;
    u64 next_use(Pfn pfn) override;

    // OPT: empty while the run repeats the recorded stream; then what differed, in a sentence.
    // Also when a process made fewer references than it had (checked by finish()).
    const std::string& divergence() const { return m_divergence; }
    void finish();

  private:
    void touch(Pid pid, u64 va, isa::AccessType access);
    void follow(Pid pid, u64 vpn);
    u64 next_use_of(Pid pid, u64 vpn) const;

    Runner& m_runner;
    std::unique_ptr<RecordedReferences> m_future;
    ReferenceSink* m_also;
    ReferenceFilter m_filter;
    std::unordered_map<Pid, u64> m_cursor;                 // OPT: each process's references so far
    std::unordered_map<const AddressSpace*, Pid> m_spaces; // OPT: whose each space is, per selection
    std::string m_divergence;
};

} // namespace kioku
