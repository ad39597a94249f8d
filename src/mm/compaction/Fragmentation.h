// Measures of external fragmentation of a zone (Linux: mm/vmstat.c fill_contig_page_info,
// __fragmentation_index, unusable_free_index, extfrag_for_order). They say, for an allocation of
// 2^order frames, whether free memory is there but in pieces too small:
//   fragmentation index  -1000 when a free block large enough exists (the request would succeed);
//                        else 0 (failure for lack of memory) .. 1000 (failure for fragmentation).
//                        Compaction is tried only above vm.extfrag_threshold (default 500).
//   unusable index       0 .. 1000: the share of free memory in blocks smaller than 2^order.
//   extfrag_for_order    the same share in percent, the per-zone fragmentation score proactive
//                        compaction steers by (at the huge-page order).
// All values are in thousandths (or percent), integers as Linux computes them.
#pragma once

#include "base/Types.h"

namespace kioku {

class Zone;

struct ContigPageInfo {
    u64 free_pages = 0;           // free frames of the zone
    u64 free_blocks_total = 0;    // free blocks of any order
    u64 free_blocks_suitable = 0; // free blocks of the requested size the larger blocks would make
};

ContigPageInfo contig_page_info(const Zone& zone, Order suitable_order);
int fragmentation_index(const Zone& zone, Order order);
int unusable_free_index(const Zone& zone, Order order);
unsigned extfrag_for_order(const Zone& zone, Order order);

} // namespace kioku
