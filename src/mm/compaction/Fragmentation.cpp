#include "mm/compaction/Fragmentation.h"

#include "mm/phys/Zone.h"

namespace kioku {

ContigPageInfo contig_page_info(const Zone& zone, Order suitable_order)
{
    ContigPageInfo info;
    for (Order order = 0; order <= MAX_ORDER; ++order) {
        u64 blocks = zone.free_blocks(order);
        info.free_blocks_total += blocks;
        info.free_pages += blocks << order;
        if (order >= suitable_order)
            info.free_blocks_suitable += blocks << (order - suitable_order);
    }
    return info;
}

int fragmentation_index(const Zone& zone, Order order)
{
    ContigPageInfo info = contig_page_info(zone, order);
    if (info.free_blocks_total == 0)
        return 0;
    // The index only means something when the request would fail.
    if (info.free_blocks_suitable != 0)
        return -1000;
    u64 requested = u64{1} << order;
    return static_cast<int>(1000 - (1000 + info.free_pages * 1000 / requested) / info.free_blocks_total);
}

int unusable_free_index(const Zone& zone, Order order)
{
    ContigPageInfo info = contig_page_info(zone, order);
    if (info.free_pages == 0)
        return 1000;
    return static_cast<int>((info.free_pages - (info.free_blocks_suitable << order)) * 1000 /
                            info.free_pages);
}

unsigned extfrag_for_order(const Zone& zone, Order order)
{
    ContigPageInfo info = contig_page_info(zone, order);
    if (info.free_pages == 0)
        return 0;
    return static_cast<unsigned>((info.free_pages - (info.free_blocks_suitable << order)) * 100 /
                                 info.free_pages);
}

} // namespace kioku
