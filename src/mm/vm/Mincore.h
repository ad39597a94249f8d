// mincore(2), after Linux 6.x mm/mincore.c: one byte per page, 1 when the page is resident. A
// page of a file mapping counts as resident when it is in the page cache even if this mapping
// has not faulted it in, and a swapped-out page when it is still in the swap cache.
#pragma once

#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class AddressSpace;

// mincore over [start, start + len) of space (AddressSpace::mincore is its entry point): `out`
// receives one byte per page for the pages looked at before any error, as Linux copies each
// finished chunk to the user before it fails on a hole.
Result<void> mincore(AddressSpace& space, u64 start, u64 len, std::vector<u8>& out);

} // namespace kioku
