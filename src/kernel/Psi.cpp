#include "kernel/Psi.h"

#include <algorithm>

namespace kioku {

namespace {

// 1/exp(2 s / window) in FIXED_1 fixed point: the decay of each average per period.
constexpr std::array<u64, 3> EXP = {1677, 1981, 2034}; // 10 s, 60 s, 300 s

// calc_load: one period folded into a decaying average, rounding up while the average rises.
u64 calc_load(u64 load, u64 exp, u64 active)
{
    u64 next = load * exp + active * (PsiGroup::FIXED_1 - exp);
    if (active >= load)
        next += PsiGroup::FIXED_1 - 1;
    return next / PsiGroup::FIXED_1;
}

} // namespace

void PsiGroup::close_period()
{
    for (unsigned line = 0; line < 2; ++line) {
        u64 stalled = std::min(m_period_stall[line], PERIOD_NS);
        u64 pct = stalled * 100 / PERIOD_NS * FIXED_1; // whole percent, as calc_avgs samples
        for (unsigned w = 0; w < 3; ++w)
            m_avg[line][w] = calc_load(m_avg[line][w], EXP[w], pct);
        m_period_stall[line] = 0;
    }
    m_period_start += PERIOD_NS;
}

void PsiGroup::update(u64 now_ns)
{
    while (now_ns >= m_period_start + PERIOD_NS) {
        bool idle = m_period_stall[Some] == 0 && m_period_stall[Full] == 0;
        bool settled = true;
        for (auto& line : m_avg)
            for (u64 avg : line)
                settled = settled && avg == 0;
        if (idle && settled) {
            // Nothing to decay: skip the quiet periods at once.
            m_period_start += (now_ns - m_period_start) / PERIOD_NS * PERIOD_NS;
            return;
        }
        close_period();
    }
}

void PsiGroup::stall(u64 start_ns, u64 end_ns, bool full)
{
    // A stall is reported when it ends; the periods before its start are closed first. A start
    // inside a period already closed (it cannot be, the machine being serial) counts from there.
    update(start_ns);
    start_ns = std::max(start_ns, m_period_start);
    if (end_ns <= start_ns)
        return;
    m_total[Some] += end_ns - start_ns;
    if (full)
        m_total[Full] += end_ns - start_ns;
    while (start_ns < end_ns) {
        u64 upto = std::min(end_ns, m_period_start + PERIOD_NS);
        m_period_stall[Some] += upto - start_ns;
        if (full)
            m_period_stall[Full] += upto - start_ns;
        start_ns = upto;
        if (upto == m_period_start + PERIOD_NS)
            close_period();
    }
}

std::string PsiGroup::percent(u64 fixed)
{
    u64 whole = fixed >> FSHIFT;
    u64 hundredths = ((fixed & (FIXED_1 - 1)) * 100) >> FSHIFT;
    return std::to_string(whole) + "." + (hundredths < 10 ? "0" : "") + std::to_string(hundredths);
}

std::string PsiGroup::show(u64 now_ns)
{
    update(now_ns);
    std::string out;
    for (Line line : {Some, Full}) {
        out += line == Some ? "some" : "full";
        out += " avg10=" + percent(m_avg[line][0]) + " avg60=" + percent(m_avg[line][1]) +
               " avg300=" + percent(m_avg[line][2]) + " total=" + std::to_string(m_total[line] / 1000) + "\n";
    }
    return out;
}

} // namespace kioku
