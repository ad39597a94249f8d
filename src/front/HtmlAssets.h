// The chart library the HTML report inlines (uPlot, from npm; src/front/CMakeLists.txt embeds
// it). Empty, and the version null, when the build did not find it.
#pragma once

#include <string_view>

namespace kioku {

std::string_view uplot_js();
std::string_view uplot_css();
const char* uplot_version();

} // namespace kioku
