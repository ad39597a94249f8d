// The port through which the memory manager tells the harts that frames no longer hold what they
// held: a frame freed (and so free to be reused, for code or anything else) may have been decoded
// as instructions, and those decodes must go before the frame runs again as code. This is where
// Linux's RISC-V port flushes the instruction cache for a page (flush_icache_pte). Implemented by
// the Hart; the fence.i and riscv_flush_icache a program issues itself are the hart's own.
#pragma once

#include "base/Types.h"

namespace kioku {

class CodeCachePort {
  public:
    virtual ~CodeCachePort() = default;
    // Frames [first, first + count) changed owner or contents.
    virtual void invalidate_code(Pfn first, u64 count) = 0;
};

} // namespace kioku
