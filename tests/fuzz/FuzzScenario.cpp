// Fuzz target: a scenario file. Whatever the bytes, kioku must parse them (or report where they
// are wrong) and run what parses, without crashing, overflowing or hanging.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "front/scenario/Scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kioku::ScenarioOptions options;
    options.quiet = true;
    options.check_invariants = true;
    options.mem_override = uint64_t{16} << 20; // small machines: many inputs a second
    std::ostringstream out;
    std::ostringstream err;
    kioku::run_scenario_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.kio", options,
                             out, err);
    return 0;
}
