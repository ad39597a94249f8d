// "Did you mean": the name a mistyped one was most likely meant to be, for the scenario
// language's messages (a command, a view, a /proc field).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace kioku::scenario {

// The candidate a mistyped name was most likely meant to be: the one at the fewest edits
// (insertions, deletions, substitutions, swaps of neighbours), if it is close enough (a third of
// the name's length, at least 1); empty when none is.
inline std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates)
{
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
        for (size_t i = 0; i <= a.size(); ++i)
            d[i][0] = i;
        for (size_t j = 0; j <= b.size(); ++j)
            d[0][j] = j;
        for (size_t i = 1; i <= a.size(); ++i)
            for (size_t j = 1; j <= b.size(); ++j) {
                d[i][j] =
                    std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        return d[a.size()][b.size()];
    };
    size_t best = std::max<size_t>(1, name.size() / 3) + 1;
    std::string out;
    for (std::string_view c : candidates)
        if (size_t d = distance(name, c); d < best) {
            best = d;
            out = std::string(c);
        }
    return out;
}

} // namespace kioku::scenario
