#include "front/RunJson.h"

#include "base/Number.h"
#include "kernel/Psi.h"

namespace kioku {

std::vector<std::pair<std::string, i64>> parse_counters(std::string_view text)
{
    std::vector<std::pair<std::string, i64>> out;
    while (!text.empty()) {
        size_t eol = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(std::min(eol + 1, text.size()));
        size_t space = line.find(' ');
        if (space == std::string_view::npos)
            continue;
        std::string_view value = line.substr(space + 1);
        bool negative = value.starts_with('-');
        if (auto n = parse_u64(negative ? value.substr(1) : value))
            out.emplace_back(std::string(line.substr(0, space)),
                             negative ? -static_cast<i64>(*n) : static_cast<i64>(*n));
    }
    return out;
}

void write_pressure(JsonWriter& w, PsiGroup& psi, u64 now_ns)
{
    static const char* WINDOWS[] = {"avg10", "avg60", "avg300"};
    psi.update(now_ns);
    w.open('{');
    for (PsiGroup::Line line : {PsiGroup::Some, PsiGroup::Full}) {
        w.key(line == PsiGroup::Some ? "some" : "full");
        w.open('{');
        for (unsigned window = 0; window < 3; ++window) {
            w.key(WINDOWS[window]);
            w.encoded(PsiGroup::percent(psi.average(line, window)));
        }
        w.key("total_us");
        w.number(psi.total_ns(line) / 1000);
        w.close('}');
    }
    w.close('}');
}

} // namespace kioku
