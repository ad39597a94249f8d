// The buddy allocator of one zone, after Linux's mm/page_alloc.c (expand, __free_one_page,
// take_page_off_buddy, __zone_watermark_ok).
#include "mm/phys/Zone.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace kioku {

namespace {

constexpr u64 pages_of(Order order)
{
    return u64{1} << order;
}

bool is_aligned(Pfn pfn, Order order)
{
    return (pfn.value() & (pages_of(order) - 1)) == 0;
}

// The largest order a block starting at `pfn` may have: limited by the alignment of pfn, by
// MAX_ORDER and by the frames left before `end` (Linux: __free_pages_memory).
Order largest_block(Pfn pfn, Pfn end)
{
    Order order = MAX_ORDER;
    while (order > 0 && (!is_aligned(pfn, order) || pfn + pages_of(order) > end))
        --order;
    return order;
}

bool fail(std::string* why, std::string text)
{
    if (why)
        *why = std::move(text);
    return false;
}

std::string hex(Pfn pfn)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(pfn.value()));
    return buf;
}

} // namespace

Zone::Zone(std::string name, u8 index, FrameTable& frames, Pfn start, u64 spanned)
    : m_name(std::move(name))
    , m_index(index)
    , m_frames(frames)
    , m_start(start)
    , m_spanned(spanned)
{
    VERIFY(index < MAX_NR_ZONES);
    if (spanned == 0)
        return;
    VERIFY(frames.contains(start) && frames.contains(start + (spanned - 1)) &&
           "zone outside the frame table");
    // Linux records the zone in page->flags when it initialises the memory map; so do we.
    for (Pfn pfn = start; pfn < start + spanned; ++pfn)
        m_frames[pfn].zone = index;
}

void Zone::release_boot_range(Pfn first, u64 count)
{
    if (count == 0)
        return;
    Pfn end = first + count;
    VERIFY(contains(first) && contains(end - 1) && "boot range outside the zone");
    for (Pfn pfn = first; pfn < end; ++pfn)
        VERIFY(m_frames[pfn].has(FF_RESERVED) && !m_frames[pfn].has(FF_BUDDY) &&
               "releasing a frame that is not reserved");
    reset_frames(first, count);
    m_managed += count;
    // memblock_free_all hands memory over in the largest naturally aligned blocks; each goes
    // through the ordinary free path, so neighbours released earlier merge with it.
    for (Pfn pfn = first; pfn < end;) {
        Order order = largest_block(pfn, end);
        insert_merging(pfn, order);
        pfn += pages_of(order);
    }
}

std::optional<Pfn> Zone::allocate(Order order)
{
    VERIFY(order <= MAX_ORDER);
    Order current = order;
    while (current <= MAX_ORDER && m_free_lists[current].empty())
        ++current;
    if (current > MAX_ORDER)
        return std::nullopt;

    Pfn pfn = m_frames.pfn_at(m_free_lists[current].front());
    remove_free(pfn, current);
    // Linux's expand(): keep the lower half, put each upper half on the list one order down.
    while (current > order) {
        --current;
        push_free(pfn + pages_of(current), current);
    }
    Frame& head = m_frames[pfn];
    head.order = static_cast<u8>(order);
    return pfn;
}

void Zone::free(Pfn pfn, Order order)
{
    VERIFY(order <= MAX_ORDER);
    VERIFY(is_aligned(pfn, order) && "block not aligned to its order");
    VERIFY(contains(pfn) && contains(pfn + (pages_of(order) - 1)) && "block outside the zone");
#ifndef NDEBUG
    // The search costs up to eleven probes on every free; release builds rely on the invariant
    // checker, which finds a doubly freed frame as a broken free list.
    VERIFY(!free_block_of(pfn) && "double free");
#endif
    for (Pfn p = pfn; p < pfn + pages_of(order); ++p) {
        const Frame& frame = m_frames[p];
        VERIFY(!frame.has(FF_BUDDY) && "block overlaps a free block");
        VERIFY(!frame.has(FF_RESERVED) && "reserved frames are released with release_boot_range");
        VERIFY(frame.mapcount == 0 && "freeing a mapped frame");
    }
    reset_frames(pfn, pages_of(order));
    insert_merging(pfn, order);
}

bool Zone::take_specific(Pfn pfn)
{
    VERIFY(contains(pfn));
    auto block = free_block_of(pfn);
    if (!block)
        return false;
    Pfn head = block->head;
    Order order = block->order;
    remove_free(head, order);
    // Halve the block until only `pfn` is left, giving back the half that does not hold it.
    while (order > 0) {
        --order;
        Pfn upper = head + pages_of(order);
        if (pfn < upper) {
            push_free(upper, order);
        } else {
            push_free(head, order);
            head = upper;
        }
    }
    VERIFY(head == pfn);
    return true;
}

bool Zone::above(u64 mark, Order order) const
{
    return above(mark, order, m_index);
}

bool Zone::above(u64 mark, Order order, u8 classzone) const
{
    VERIFY(order <= MAX_ORDER && classzone < MAX_NR_ZONES);
    // __zone_watermark_ok: the pages this allocation would take beyond its first are not counted.
    i64 usable = static_cast<i64>(m_free) - static_cast<i64>(pages_of(order) - 1);
    if (usable <= static_cast<i64>(mark + m_lowmem_reserve[classzone]))
        return false;
    if (order == 0)
        return true;
    for (Order o = order; o <= MAX_ORDER; ++o) {
        if (!m_free_lists[o].empty())
            return true;
    }
    return false;
}

void Zone::push_free(Pfn pfn, Order order)
{
    Frame& frame = m_frames[pfn];
    frame.set(FF_BUDDY);
    frame.order = static_cast<u8>(order);
    m_free_lists[order].push_front(m_frames, m_frames.index_of(pfn));
    m_free += pages_of(order);
}

void Zone::remove_free(Pfn pfn, Order order)
{
    Frame& frame = m_frames[pfn];
    VERIFY(frame.has(FF_BUDDY) && frame.order == order);
    m_free_lists[order].remove(m_frames, m_frames.index_of(pfn));
    frame.clear(FF_BUDDY);
    frame.order = 0;
    m_free -= pages_of(order);
}

void Zone::reset_frames(Pfn pfn, u64 count)
{
    for (Pfn p = pfn; p < pfn + count; ++p) {
        Frame& frame = m_frames[p];
        VERIFY(frame.links.prev == IndexLinks::NIL && frame.links.next == IndexLinks::NIL &&
               "frame still on a list");
        frame = Frame{};
        frame.zone = m_index;
    }
}

// __free_one_page: while the buddy (the other half of the block one order up) is free at the same
// order and in this zone, take it off its list and continue with the combined block.
void Zone::insert_merging(Pfn pfn, Order order)
{
    while (order < MAX_ORDER) {
        Pfn buddy(pfn.value() ^ pages_of(order));
        if (!contains(buddy))
            break;
        const Frame& frame = m_frames[buddy];
        if (!frame.has(FF_BUDDY) || frame.order != order)
            break;
        remove_free(buddy, order);
        pfn = std::min(pfn, buddy);
        ++order;
    }
    push_free(pfn, order);
}

// take_page_off_buddy's search: the block holding pfn starts at pfn rounded down to some order
// and has at least that order.
std::optional<Zone::FreeBlock> Zone::free_block_of(Pfn pfn) const
{
    for (Order order = 0; order <= MAX_ORDER; ++order) {
        Pfn head(pfn.value() & ~(pages_of(order) - 1));
        if (!contains(head))
            break;
        const Frame& frame = m_frames[head];
        if (frame.has(FF_BUDDY) && frame.order >= order)
            return FreeBlock{head, frame.order};
    }
    return std::nullopt;
}

bool Zone::check(std::string* why) const
{
    // heads[i] is set for the head of every block found on a list, by offset in the zone.
    std::vector<u8> heads(m_spanned, 0);
    if (!check_lists(why, heads))
        return false;
    return check_frames(why, heads);
}

bool Zone::check_lists(std::string* why, std::vector<u8>& heads) const
{
    u64 free = 0;
    for (Order order = 0; order <= MAX_ORDER; ++order) {
        const FrameList& list = m_free_lists[order];
        u64 seen = 0;
        for (u32 i = list.front(); i != IndexLinks::NIL; i = list.next(m_frames, i)) {
            Pfn pfn = m_frames.pfn_at(i);
            auto where = [&] { return m_name + " order " + std::to_string(order) + " pfn " + hex(pfn); };
            if (++seen > list.size())
                return fail(why, m_name + ": list of order " + std::to_string(order) + " is too long");
            if (!contains(pfn) || !contains(pfn + (pages_of(order) - 1)))
                return fail(why, where() + ": free block outside the zone");
            if (!is_aligned(pfn, order))
                return fail(why, where() + ": free block not aligned to its order");
            const Frame& frame = m_frames[pfn];
            if (!frame.has(FF_BUDDY) || frame.order != order)
                return fail(why, where() + ": head on the list lacks FF_BUDDY or has another order");
            if (heads[pfn - m_start])
                return fail(why, where() + ": block on a list twice");
            heads[pfn - m_start] = 1;
            free += pages_of(order);
        }
        if (seen != list.size())
            return fail(why, m_name + ": list of order " + std::to_string(order) + " is too short");
    }
    if (free != m_free)
        return fail(why, m_name + ": free_pages " + std::to_string(m_free) + " but lists hold " +
                             std::to_string(free));
    if (m_free > m_managed)
        return fail(why, m_name + ": more free pages than managed pages");
    return true;
}

bool Zone::check_frames(std::string* why, const std::vector<u8>& heads) const
{
    Pfn end = m_start + m_spanned;
    for (Pfn pfn = m_start; pfn < end;) {
        const Frame& frame = m_frames[pfn];
        auto where = [&] { return m_name + " pfn " + hex(pfn); };
        if (frame.zone != m_index)
            return fail(why, where() + ": frame records zone " + std::to_string(frame.zone));
        if (!frame.has(FF_BUDDY)) {
            ++pfn;
            continue;
        }
        if (!heads[pfn - m_start])
            return fail(why, where() + ": FF_BUDDY frame on no free list");
        Order order = frame.order;
        if (order < MAX_ORDER) {
            Pfn buddy(pfn.value() ^ pages_of(order));
            if (contains(buddy) && m_frames[buddy].has(FF_BUDDY) && m_frames[buddy].order == order)
                return fail(why,
                            where() + ": free buddies of order " + std::to_string(order) + " not merged");
        }
        if (frame.flags != FF_BUDDY)
            return fail(why, where() + ": free block head carries other flags");
        for (Pfn tail = pfn + 1; tail < pfn + pages_of(order); ++tail) {
            if (m_frames[tail].flags != 0 || m_frames[tail].zone != m_index)
                return fail(why, m_name + " pfn " + hex(tail) + ": frame inside a free block is not blank");
        }
        pfn += pages_of(order);
    }
    return true;
}

} // namespace kioku
