// The textbook view of a reference string, as `reference ... trace` prints it: one row per
// reference with the frames in column order (a page keeps its column while resident, and a new
// page takes its victim's), hit or fault, the victim and why the policy chose it, and the
// policy's order after it:
//
//    t  page  frames  result  victim, and why                 FIFO order, next victim first
//    4  2     2 0 1   fault   7: came in first (t=1)          0 1 2
//
// The interpreter runs each reference on the machine and tells this class what it saw: the
// resident pages before and after, in the policy's own order (FIFO and exact LRU: next victim
// first; CLOCK: from the hand, with the reference bits). The reasons are computed from what
// was seen and the string (when each page came, when it was last used, when it is next used).
// The texts come from the message catalogue (front/text/Messages.h), in English or Japanese.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/Types.h"

namespace kioku::scenario {

struct ResidentPage {
    u64 page = 0;
    bool referenced = false; // the accessed bit, for CLOCK
};

enum class RefOutcome { Hit, Fault, SwappedIn };

// One row of the trace.
struct TraceRow {
    u64 t = 0; // 1-based
    u64 page = 0;
    RefOutcome outcome = RefOutcome::Hit;
    std::vector<std::optional<u64>> frames; // the columns after the reference
    std::vector<u64> victims;               // pages that left memory with this reference
    std::string why;                        // the reason, for the first victim
    std::string order;                      // the policy's order after the reference
};

std::string trace_table(const std::vector<TraceRow>& rows, const std::string& policy);

class TextbookTrace {
  public:
    // `columns`: the fixed-frame limit (0: the columns grow as pages come). `policy`: the
    // policy's name as kioku calls it (fifo, exact-lru, opt, clock, ...).
    TextbookTrace(std::vector<u64> pages, u64 columns, std::string policy);

    // Reference t (0-based) was made; `before` and `after` are the resident pages of the string
    // before and after it, in the policy's order.
    const TraceRow& record(u64 t, RefOutcome outcome, const std::vector<ResidentPage>& before,
                           const std::vector<ResidentPage>& after);
    const std::vector<TraceRow>& rows() const { return m_rows; }
    std::string table() const { return trace_table(m_rows, m_policy); }

  private:
    std::optional<u64> next_use(u64 page, u64 after) const;
    std::string order_text(const std::vector<ResidentPage>& order, u64 t) const;

    std::vector<u64> m_pages;
    std::string m_policy;
    std::vector<std::optional<u64>> m_columns;
    std::map<u64, u64> m_came;     // page -> when it became resident (1-based)
    std::map<u64, u64> m_last_use; // page -> its last reference (1-based)
    std::vector<TraceRow> m_rows;
};

// Runs the string under `policy` with `frames` frames on a fresh machine of its own (a scenario
// of a few lines) and returns its trace, for `compare` and `kioku quiz`. Empty, with `error` set,
// when the run failed.
std::vector<TraceRow> replay(const std::vector<u64>& pages, const std::string& policy, u64 frames, bool write,
                             std::string& error);

// The rows as an aligned table with its header, each line indented by two spaces.
std::string trace_table(const std::vector<TraceRow>& rows, const std::string& policy);

} // namespace kioku::scenario
