#include "base/Size.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace kioku {

std::optional<u64> parse_size(std::string_view text)
{
    u64 value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end == text.data())
        return std::nullopt;
    std::string_view suffix = text.substr(static_cast<size_t>(end - text.data()));
    unsigned shift = 0;
    if (!suffix.empty()) {
        switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        case 'B': shift = 0; break;
        default: return std::nullopt;
        }
        std::string_view rest = suffix.substr(1);
        if (std::toupper(static_cast<unsigned char>(suffix[0])) == 'B') {
            if (!rest.empty())
                return std::nullopt;
        } else if (!(rest.empty() || rest == "B" || rest == "b" || rest == "iB" || rest == "ib")) {
            return std::nullopt;
        }
    }
    if (shift && value > (std::numeric_limits<u64>::max() >> shift))
        return std::nullopt;
    return value << shift;
}

std::string format_size(u64 bytes)
{
    static constexpr struct {
        unsigned shift;
        char suffix;
    } units[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
    for (auto u : units) {
        u64 unit = u64{1} << u.shift;
        if (bytes >= unit && bytes % unit == 0)
            return std::to_string(bytes / unit) + u.suffix;
    }
    return std::to_string(bytes);
}

} // namespace kioku
