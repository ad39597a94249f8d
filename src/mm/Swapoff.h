// swapoff (Linux: sys_swapoff and try_to_unuse in mm/swapfile.c): takes a swap area out of use
// and brings every page it holds back into memory.
//
// The area stops handing out slots and leaves SwapTotal / SwapFree first. Then every swap PTE
// of the area, in every address space, is swapped in and mapped read-only and old (unuse_pte);
// every shmem inode slot holding one of its entries is swapped in; the pages left in the swap
// cache for the area leave it (dirty, since they are now the only copy). When memory cannot hold
// them all, the area is put back as it was, the pages already brought in stay, and the call
// fails with ENOMEM; the OOM killer is not invoked on swapoff's behalf.
#pragma once

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class MemoryManager;

Result<void> swapoff(MemoryManager& mm, u32 type);

} // namespace kioku
