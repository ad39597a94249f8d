#include "front/PhysmapPicture.h"

#include <map>
#include <sstream>
#include <vector>

namespace kioku {

namespace {

struct Kind {
    char code;
    const char* colour;
    const char* name;
};

constexpr Kind KINDS[] = {
    {'.', "#eeeeee", "free"},
    {'a', "#4e79a7", "anonymous"},
    {'f', "#59a14f", "file"},
    {'s', "#76b7b2", "shmem"},
    {'H', "#f28e2b", "huge page (THP)"},
    {'h', "#e15759", "hugetlb"},
    {'p', "#b07aa1", "page table"},
    {'k', "#edc948", "slab"},
    {'K', "#9c755f", "other kernel"},
    {'z', "#000000", "zero page"},
    {'#', "#555555", "reserved"},
    {'?', "#ff9da7", "other"},
};

constexpr std::pair<const char*, const char*> MIGRATE[] = {
    {"Unmovable", "#d62728"},  {"Movable", "#2ca02c"}, {"Reclaimable", "#1f77b4"},
    {"HighAtomic", "#9467bd"}, {"CMA", "#8c564b"},     {"Isolate", "#7f7f7f"},
};

const char* colour_of(char code)
{
    for (const Kind& k : KINDS)
        if (k.code == code)
            return k.colour;
    return "#ff9da7";
}

struct Block {
    std::string label; // "block 3 at 0x80600000, DMA32"
    std::string migrate;
    std::string cells; // one character per frame
};

std::string escape(const std::string& text)
{
    std::string out;
    for (char c : text)
        out += c == '<'   ? "&lt;"
               : c == '>' ? "&gt;"
               : c == '&' ? "&amp;"
               : c == '"' ? "&quot;"
                          : std::string(1, c);
    return out;
}

} // namespace

std::string physmap_svg(const std::string& physmap_text, const std::string& title, std::string& error)
{
    std::vector<Block> blocks;
    std::istringstream in(physmap_text);
    std::string line;
    if (!std::getline(in, line) || line.rfind("physmap:", 0) != 0) {
        error = "not the text of /proc/kioku/physmap";
        return {};
    }
    while (std::getline(in, line)) {
        if (line.rfind("pageblock ", 0) == 0) {
            // "pageblock N at 0xADDR, zone NAME, TYPE"
            Block b;
            size_t zone = line.find(", zone ");
            size_t type = line.rfind(", ");
            if (zone == std::string::npos || type == std::string::npos || type <= zone) {
                error = "a pageblock line not understood: " + line;
                return {};
            }
            b.label = "block " + line.substr(10, zone - 10) + "," + line.substr(zone + 6, type - zone - 6);
            b.migrate = line.substr(type + 2);
            blocks.push_back(std::move(b));
        } else if (line.rfind("  0x", 0) == 0 && !blocks.empty()) {
            size_t space = line.find(' ', 4);
            if (space != std::string::npos)
                blocks.back().cells += line.substr(space + 1);
        }
    }
    if (blocks.empty()) {
        error = "no pageblocks in the physmap";
        return {};
    }
    constexpr int CELL_W = 2, ROW_H = 6, LEFT = 190, TOP = 64, FRAMES = 512;
    int width = LEFT + FRAMES * CELL_W + 20;
    int height = TOP + static_cast<int>(blocks.size()) * ROW_H + 20;
    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
        << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"monospace\" font-size=\"9\">\n"
        << "<title>" << escape(title) << "</title>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        << "<text x=\"4\" y=\"12\" font-size=\"11\">" << escape(title)
        << ": one cell per 4 KiB frame, one row per "
        << "2 MiB pageblock, its migrate type at the left</text>\n";
    // The legend: kinds on the first line, migrate types on the second.
    int x = 4;
    for (const Kind& k : KINDS) {
        svg << "<rect x=\"" << x << "\" y=\"20\" width=\"8\" height=\"8\" fill=\"" << k.colour
            << "\" stroke=\"#999\" stroke-width=\"0.5\"/><text x=\"" << x + 11 << "\" y=\"28\">" << k.name
            << "</text>\n";
        x += 14 + 6 * static_cast<int>(std::string(k.name).size()) + 8;
    }
    x = 4;
    for (auto [name, colour] : MIGRATE) {
        svg << "<rect x=\"" << x << "\" y=\"36\" width=\"8\" height=\"8\" fill=\"" << colour
            << "\"/><text x=\"" << x + 11 << "\" y=\"44\">" << name << "</text>\n";
        x += 14 + 6 * static_cast<int>(std::string(name).size()) + 8;
    }
    for (size_t r = 0; r < blocks.size(); ++r) {
        const Block& b = blocks[r];
        int y = TOP + static_cast<int>(r) * ROW_H;
        const char* migrate = "#cccccc";
        for (auto [name, colour] : MIGRATE)
            if (b.migrate == name)
                migrate = colour;
        svg << "<g><title>" << escape(b.label + ", " + b.migrate) << "</title>";
        if (blocks.size() <= 64 || r % 8 == 0)
            svg << "<text x=\"4\" y=\"" << y + ROW_H - 1 << "\" font-size=\"" << (ROW_H + 1) << "\">"
                << escape(b.label) << "</text>";
        svg << "<rect x=\"" << LEFT - 10 << "\" y=\"" << y << "\" width=\"6\" height=\"" << ROW_H - 1
            << "\" fill=\"" << migrate << "\"/>";
        // Runs of one kind: a rectangle each.
        for (size_t i = 0; i < b.cells.size();) {
            size_t j = i;
            while (j < b.cells.size() && b.cells[j] == b.cells[i])
                ++j;
            svg << "<rect x=\"" << LEFT + static_cast<int>(i) * CELL_W << "\" y=\"" << y << "\" width=\""
                << static_cast<int>(j - i) * CELL_W << "\" height=\"" << ROW_H - 1 << "\" fill=\""
                << colour_of(b.cells[i]) << "\"/>";
            i = j;
        }
        svg << "</g>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

} // namespace kioku
