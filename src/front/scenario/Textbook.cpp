#include "front/scenario/Textbook.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "front/scenario/Scenario.h"
#include "front/text/Messages.h"

namespace kioku::scenario {

using text::Msg;
using text::say;

TextbookTrace::TextbookTrace(std::vector<u64> pages, u64 columns, std::string policy)
    : m_pages(std::move(pages))
    , m_policy(std::move(policy))
    , m_columns(columns)
{
}

std::optional<u64> TextbookTrace::next_use(u64 page, u64 after) const
{
    for (u64 i = after + 1; i < m_pages.size(); ++i)
        if (m_pages[i] == page)
            return i;
    return std::nullopt;
}

namespace {

std::string join(const std::vector<std::string>& items, const char* sep)
{
    std::string out;
    for (const std::string& item : items)
        out += (out.empty() ? "" : sep) + item;
    return out;
}

} // namespace

std::string TextbookTrace::order_text(const std::vector<ResidentPage>& order, u64 t) const
{
    std::vector<std::string> items;
    if (m_policy == "fifo" || m_policy == "exact-lru") {
        for (const ResidentPage& r : order)
            items.push_back(std::to_string(r.page));
    } else if (m_policy == "clock") {
        for (const ResidentPage& r : order)
            items.push_back(std::to_string(r.page) + (r.referenced ? "*" : ""));
    } else if (m_policy == "opt") {
        // Furthest next use first, never-used-again before all; each with its next use.
        std::vector<std::pair<u64, u64>> by_next;
        for (const ResidentPage& r : order)
            by_next.emplace_back(next_use(r.page, t).value_or(~u64{0}), r.page);
        std::stable_sort(by_next.begin(), by_next.end(), [](auto& a, auto& b) { return a.first > b.first; });
        for (auto& [next, page] : by_next)
            items.push_back(std::to_string(page) +
                            (next == ~u64{0} ? "(-)" : "(t=" + std::to_string(next + 1) + ")"));
    } else {
        std::vector<u64> pages;
        for (const ResidentPage& r : order)
            pages.push_back(r.page);
        std::sort(pages.begin(), pages.end());
        for (u64 page : pages)
            items.push_back(std::to_string(page));
    }
    return join(items, " ");
}

const TraceRow& TextbookTrace::record(u64 t, RefOutcome outcome, const std::vector<ResidentPage>& before,
                                      const std::vector<ResidentPage>& after)
{
    TraceRow row;
    row.t = t + 1;
    row.page = m_pages[t];
    row.outcome = outcome;
    std::set<u64> now;
    for (const ResidentPage& r : after)
        now.insert(r.page);
    bool was_resident = false;
    for (const ResidentPage& r : before) {
        was_resident = was_resident || r.page == row.page;
        if (!now.count(r.page))
            row.victims.push_back(r.page);
    }
    if (!row.victims.empty()) {
        u64 v = row.victims.front();
        std::string victim = std::to_string(v);
        if (m_policy == "fifo") {
            row.why = say(Msg::WhyFifo, {victim, std::to_string(m_came[v])});
        } else if (m_policy == "exact-lru") {
            row.why = say(Msg::WhyLru, {victim, std::to_string(m_last_use[v])});
        } else if (m_policy == "opt") {
            auto next = next_use(v, t);
            row.why = next ? say(Msg::WhyOptNext, {victim, std::to_string(*next + 1)})
                           : say(Msg::WhyOptNever, {victim});
        } else if (m_policy == "clock") {
            // The hand passed the pages before the victim whose bits were set, clearing them. A
            // victim whose own bit was set means the hand went all the way round.
            std::vector<std::string> spared;
            bool round = false;
            for (const ResidentPage& r : before)
                round = round || (r.page == v && r.referenced);
            for (const ResidentPage& r : before) {
                if (r.page == v)
                    break;
                if (r.referenced)
                    spared.push_back(std::to_string(r.page));
            }
            row.why = round            ? say(Msg::WhyClockRound, {victim})
                      : spared.empty() ? say(Msg::WhyClockNone, {victim})
                                       : say(Msg::WhyClock, {victim, join(spared, ", ")});
        } else {
            row.why = say(Msg::WhyOther, {victim, m_policy});
        }
    }
    // The columns: the victims' become free; a page that came in takes the first victim's column,
    // or the first free one, or a new one.
    std::optional<size_t> freed;
    for (u64 v : row.victims)
        for (size_t c = 0; c < m_columns.size(); ++c)
            if (m_columns[c] == v) {
                m_columns[c].reset();
                freed = freed ? freed : c;
            }
    if (now.count(row.page) && !was_resident) {
        m_came[row.page] = row.t;
        size_t column = m_columns.size();
        if (freed)
            column = *freed;
        else
            for (size_t c = 0; c < m_columns.size() && column == m_columns.size(); ++c)
                if (!m_columns[c])
                    column = c;
        if (column == m_columns.size())
            m_columns.emplace_back();
        m_columns[column] = row.page;
    }
    m_last_use[row.page] = row.t;
    row.frames = m_columns;
    row.order = order_text(after, t);
    m_rows.push_back(std::move(row));
    return m_rows.back();
}

std::string trace_table(const std::vector<TraceRow>& rows, const std::string& policy)
{
    std::vector<std::string> titles = text::parts(say(Msg::TraceHeader));
    titles.push_back(say(policy == "fifo"        ? Msg::TraceOrderFifo
                         : policy == "exact-lru" ? Msg::TraceOrderLru
                         : policy == "opt"       ? Msg::TraceOrderOpt
                         : policy == "clock"     ? Msg::TraceOrderClock
                                                 : Msg::TraceOrderOther));
    std::vector<std::vector<std::string>> lines{titles};
    size_t cell = 1;
    for (const TraceRow& row : rows)
        for (const auto& f : row.frames)
            cell = std::max(cell, f ? std::to_string(*f).size() : 1);
    for (const TraceRow& row : rows) {
        std::vector<std::string> frames;
        for (const auto& f : row.frames)
            frames.push_back(text::pad(f ? std::to_string(*f) : ".", cell));
        std::string result = say(row.outcome == RefOutcome::Hit     ? Msg::Hit
                                 : row.outcome == RefOutcome::Fault ? Msg::Fault
                                                                    : Msg::FaultSwappedIn);
        lines.push_back(
            {std::to_string(row.t), std::to_string(row.page), join(frames, " "), result, row.why, row.order});
    }
    return text::columns(lines);
}

std::vector<TraceRow> replay(const std::vector<u64>& pages, const std::string& policy, u64 frames, bool write,
                             std::string& error)
{
    u64 span = 1;
    for (u64 page : pages)
        span = std::max(span, page + 1);
    std::string list;
    for (u64 page : pages)
        list += (list.empty() ? "" : ",") + std::to_string(page);
    u64 swap_kib = std::max<u64>(1024, (span + 16) * 4 * 2);
    std::string script = "machine mem=16M swap=" + std::to_string(swap_kib) + "K policy=" + policy +
                         " frames=" + std::to_string(frames) +
                         "\nspawn A\nmmap A name=buf len=" + std::to_string(span) +
                         "p\nreference A buf pages=" + list + (write ? " write" : " read") + " trace\n";
    std::vector<TraceRow> rows;
    ScenarioOptions options;
    options.quiet = true;
    options.on_trace_row = [&](const TraceRow& row) { rows.push_back(row); };
    std::ostringstream out;
    std::ostringstream err;
    int status = run_scenario_text(script, "replay", options, out, err);
    if (status != SCENARIO_OK || rows.size() != pages.size()) {
        error = "the run of " + policy + " with " + std::to_string(frames) + " frames failed: " + err.str();
        return {};
    }
    return rows;
}

} // namespace kioku::scenario
