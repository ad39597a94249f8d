// A picture of physical memory: /proc/kioku/physmap drawn as an SVG image, one cell per frame
// coloured by what holds it (free, anonymous, file, shmem, transparent huge page, hugetlb, page
// table, slab, other kernel, the zero page, reserved), one row per pageblock (2 MiB, 512 frames)
// with its migrate type as a coloured mark and a label at the left, and a legend. Fragmentation
// shows as free cells scattered over rows that each hold a page in use; after compaction the
// used cells gather at one end and whole rows are free.
//
// Drawn from the text of /proc/kioku/physmap, the one source, so that every place that can read
// it (a scenario's `show physmap` with --pictures, `kioku run --physmap`, and `kioku report -o`)
// draws the same picture. Runs of one kind in a row are one rectangle each.
#pragma once

#include <string>

namespace kioku {

// The SVG document, or empty with `error` set when the text is not a physmap.
std::string physmap_svg(const std::string& physmap_text, const std::string& title, std::string& error);

} // namespace kioku
