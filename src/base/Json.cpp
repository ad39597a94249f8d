#include "base/Json.h"

#include <cstdio>

namespace kioku {

void json_escape_into(std::string& out, std::string_view text)
{
    // Most text needs no escape: copy the runs between the characters that do in one piece.
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20)
            continue;
        out.append(text.substr(start, i - start));
        start = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        }
        }
    }
    out.append(text.substr(start));
}

std::string json_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    json_escape_into(out, text);
    return out;
}

} // namespace kioku
