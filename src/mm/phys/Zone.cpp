// The buddy allocator of one zone, after Linux 6.1's mm/page_alloc.c (expand, __free_one_page,
// take_page_off_buddy, __zone_watermark_ok, and the mobility grouping of __rmqueue_fallback).
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

// Linux's fallbacks[]: where each allocation type looks when its own lists are empty.
constexpr MigrateType FALLBACKS[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
    {MigrateType::Reclaimable, MigrateType::Movable},   // Unmovable
    {MigrateType::Reclaimable, MigrateType::Unmovable}, // Movable
    {MigrateType::Unmovable, MigrateType::Movable},     // Reclaimable
};

// can_steal_fallback: whole pageblocks are taken for large blocks, and always for unmovable and
// reclaimable requests, whose pages would otherwise pollute many movable pageblocks.
bool can_steal_fallback(Order order, MigrateType start)
{
    if (order >= PAGEBLOCK_ORDER / 2)
        return true;
    return start == MigrateType::Reclaimable || start == MigrateType::Unmovable;
}

// migratetype_is_mergeable: HighAtomic and Isolate pageblocks keep their free pages to themselves.
bool mergeable(MigrateType type)
{
    return static_cast<u8>(type) < MIGRATE_PCPTYPES;
}

std::string hex(Pfn pfn)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(pfn.value()));
    return buf;
}

} // namespace

const char* migratetype_name(MigrateType type)
{
    static constexpr const char* NAMES[MIGRATE_TYPES] = {"Unmovable", "Movable", "Reclaimable", "HighAtomic",
                                                         "Isolate"};
    return NAMES[static_cast<u8>(type)];
}

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
    u64 first_block = start.value() >> PAGEBLOCK_ORDER;
    u64 last_block = (start.value() + spanned - 1) >> PAGEBLOCK_ORDER;
    m_pageblock_types.assign(last_block - first_block + 1, MigrateType::Movable);
    VERIFY(frames.contains(start) && frames.contains(start + (spanned - 1)) &&
           "zone outside the frame table");
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
    release_fresh_range(first, count);
}

void Zone::release_fresh_range(Pfn first, u64 count)
{
    if (count == 0)
        return;
    Pfn end = first + count;
    VERIFY(contains(first) && contains(end - 1) && "boot range outside the zone");
    m_managed += count;
    // memblock_free_all hands memory over in the largest naturally aligned blocks; each goes
    // through the ordinary free path, so neighbours released earlier merge with it.
    for (Pfn pfn = first; pfn < end;) {
        Order order = largest_block(pfn, end);
        insert_merging(pfn, order, pageblock_type(pfn));
        pfn += pages_of(order);
    }
}

std::optional<Pfn> Zone::allocate(Order order, MigrateType type)
{
    VERIFY(order <= MAX_ORDER && static_cast<u8>(type) < MIGRATE_PCPTYPES);
    // __rmqueue: the request's own lists first; after each successful steal, look again.
    for (;;) {
        if (auto pfn = take_smallest(order, type))
            return pfn;
        if (!take_fallback(order, type))
            return std::nullopt;
    }
}

std::optional<Pfn> Zone::take_smallest(Order order, MigrateType type)
{
    for (Order current = order; current <= MAX_ORDER; ++current) {
        FrameList& free = list(current, type);
        if (free.empty())
            continue;
        Pfn pfn = m_frames.pfn_at(free.front());
        remove_free(pfn, current);
        expand(pfn, order, current, type);
        m_frames[pfn].order = static_cast<u8>(order);
        return pfn;
    }
    return std::nullopt;
}

// Linux's expand(): keep the lower half, put each upper half on the list one order down.
void Zone::expand(Pfn pfn, Order low, Order high, MigrateType type)
{
    while (high > low) {
        --high;
        push_free(pfn + pages_of(high), high, type);
    }
}

// __rmqueue_fallback: steal the largest block another type has, so that one steal serves many
// later requests and the types stay apart; a movable request that could not take the whole
// pageblock takes the smallest block instead, so as not to break up a large one for nothing.
bool Zone::take_fallback(Order order, MigrateType type)
{
    bool can_steal = false;
    std::optional<MigrateType> fallback;
    Order current = MAX_ORDER;
    for (;; --current) {
        fallback = suitable_fallback(current, type, can_steal);
        if (fallback || current == order)
            break;
    }
    if (!fallback)
        return false;
    if (!can_steal && type == MigrateType::Movable && current > order) {
        for (current = order; current <= MAX_ORDER; ++current) {
            fallback = suitable_fallback(current, type, can_steal);
            if (fallback)
                break;
        }
        VERIFY(fallback && "a block found above must still be there");
    }
    Pfn pfn = m_frames.pfn_at(list(current, *fallback).front());
    steal_fallback(pfn, current, type, can_steal);
    return true;
}

// find_suitable_fallback with only_stealable false: the first type in Linux's order with a free
// block of this order.
std::optional<MigrateType> Zone::suitable_fallback(Order order, MigrateType type, bool& can_steal) const
{
    can_steal = false;
    if (m_free_count[order] == 0)
        return std::nullopt;
    for (MigrateType fallback : FALLBACKS[static_cast<u8>(type)]) {
        if (list(order, fallback).empty())
            continue;
        can_steal = can_steal_fallback(order, type);
        return fallback;
    }
    return std::nullopt;
}

// steal_suitable_fallback: a block of a pageblock or more changes the type of the pageblocks it
// spans; a smaller one may take its whole pageblock along (all its free pages move lists) and
// retag it when at least half of it is free or already holds pages of the new kind.
void Zone::steal_fallback(Pfn pfn, Order order, MigrateType type, bool whole_block)
{
    MigrateType old_type = pageblock_type(pfn);
    if (old_type != MigrateType::HighAtomic && order >= PAGEBLOCK_ORDER) {
        for (Pfn p = pfn; p < pfn + pages_of(order); p += PAGEBLOCK_NR_PAGES)
            set_pageblock_type(p, type);
    } else if (old_type != MigrateType::HighAtomic && whole_block) {
        u64 movable = 0;
        u64 free = move_freepages_block(pfn, type, movable);
        u64 alike = 0;
        if (type == MigrateType::Movable)
            alike = movable;
        else if (old_type == MigrateType::Movable)
            alike = PAGEBLOCK_NR_PAGES - (free + movable);
        if (free != 0) {
            if (free + alike >= PAGEBLOCK_NR_PAGES / 2)
                set_pageblock_type(pfn, type);
            return;
        }
    }
    move_free(pfn, order, type);
}

// move_freepages_block: every free block in pfn's pageblock goes to `type`'s lists; pages on an
// LRU list are counted as movable. Returns the free pages moved; none when the pageblock is not
// wholly in the zone.
u64 Zone::move_freepages_block(Pfn pfn, MigrateType type, u64& movable)
{
    Pfn start(pfn.value() & ~(PAGEBLOCK_NR_PAGES - 1));
    Pfn end = start + PAGEBLOCK_NR_PAGES;
    if (!contains(start) || !contains(end - 1))
        return 0;
    u64 moved = 0;
    for (Pfn p = start; p < end;) {
        const Frame& frame = m_frames[p];
        if (!frame.has(FF_BUDDY)) {
            movable += frame.has(FF_LRU);
            ++p;
            continue;
        }
        Order order = frame.order;
        move_free(p, order, type);
        moved += pages_of(order);
        p += pages_of(order);
    }
    return moved;
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
    insert_merging(pfn, order, pageblock_type(pfn));
}

bool Zone::take_specific(Pfn pfn)
{
    VERIFY(contains(pfn));
    auto block = free_block_of(pfn);
    if (!block)
        return false;
    Pfn head = block->head;
    Order order = block->order;
    MigrateType type = pageblock_type(head);
    remove_free(head, order);
    // Halve the block until only `pfn` is left, giving back the half that does not hold it.
    while (order > 0) {
        --order;
        Pfn upper = head + pages_of(order);
        if (pfn < upper) {
            push_free(upper, order, type);
        } else {
            push_free(head, order, type);
            head = upper;
        }
    }
    VERIFY(head == pfn);
    return true;
}

std::optional<Order> Zone::isolate_free_block(Pfn head)
{
    VERIFY(contains(head));
    const Frame& frame = m_frames[head];
    if (!frame.has(FF_BUDDY))
        return std::nullopt;
    Order order = frame.order;
    remove_free(head, order);
    // Linux retags the pageblocks a large isolated block spans as movable: compaction fills them
    // with the movable pages it migrates.
    if (order >= PAGEBLOCK_ORDER - 1) {
        for (Pfn p = head; p < head + pages_of(order); p += PAGEBLOCK_NR_PAGES) {
            MigrateType type = pageblock_type(p);
            if (type != MigrateType::Isolate && type != MigrateType::HighAtomic)
                set_pageblock_type(p, MigrateType::Movable);
        }
    }
    return order;
}

// __compact_finished's test: a block of the request's own type, or one find_suitable_fallback
// (only_stealable) would take with its pageblock.
bool Zone::has_suitable_block(Order order, MigrateType type) const
{
    if (!list(order, type).empty())
        return true;
    if (!can_steal_fallback(order, type))
        return false;
    for (MigrateType fallback : FALLBACKS[static_cast<u8>(type)]) {
        if (!list(order, fallback).empty())
            return true;
    }
    return false;
}

size_t Zone::block_index(Pfn pfn) const
{
    VERIFY(contains(pfn));
    return (pfn.value() >> PAGEBLOCK_ORDER) - (m_start.value() >> PAGEBLOCK_ORDER);
}

MigrateType Zone::pageblock_type(Pfn pfn) const
{
    return m_pageblock_types[block_index(pfn)];
}

void Zone::set_pageblock_type(Pfn pfn, MigrateType type)
{
    m_pageblock_types[block_index(pfn)] = type;
}

// pagetypeinfo_showblockcount_print walks from the zone's first frame in steps of a pageblock.
u64 Zone::pageblocks_of(MigrateType type) const
{
    u64 count = 0;
    for (u64 offset = 0; offset < m_spanned; offset += PAGEBLOCK_NR_PAGES)
        count += pageblock_type(m_start + offset) == type;
    return count;
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
    // Free blocks of isolated pageblocks cannot be handed out.
    for (Order o = order; o <= MAX_ORDER; ++o) {
        if (m_free_count[o] > list(o, MigrateType::Isolate).size())
            return true;
    }
    return false;
}

void Zone::push_free(Pfn pfn, Order order, MigrateType type)
{
    Frame& frame = m_frames[pfn];
    frame.set(FF_BUDDY);
    frame.order = static_cast<u8>(order);
    frame.free_type = static_cast<u8>(type);
    list(order, type).push_front(m_frames, m_frames.index_of(pfn));
    ++m_free_count[order];
    m_free += pages_of(order);
}

void Zone::remove_free(Pfn pfn, Order order)
{
    Frame& frame = m_frames[pfn];
    VERIFY(frame.has(FF_BUDDY) && frame.order == order);
    list(order, static_cast<MigrateType>(frame.free_type)).remove(m_frames, m_frames.index_of(pfn));
    frame.clear(FF_BUDDY);
    frame.order = 0;
    frame.free_type = 0;
    --m_free_count[order];
    m_free -= pages_of(order);
}

void Zone::move_free(Pfn pfn, Order order, MigrateType type)
{
    remove_free(pfn, order);
    push_free(pfn, order, type);
}

void Zone::reset_frames(Pfn pfn, u64 count)
{
    for (Pfn p = pfn; p < pfn + count; ++p) {
        Frame& frame = m_frames[p];
        VERIFY(!frame.links.linked() && "frame still on a list");
        frame = Frame{};
    }
}

// __free_one_page: while the buddy (the other half of the block one order up) is free at the same
// order and in this zone, take it off its list and continue with the combined block.
void Zone::insert_merging(Pfn pfn, Order order, MigrateType type)
{
    while (order < MAX_ORDER) {
        Pfn buddy(pfn.value() ^ pages_of(order));
        if (!contains(buddy))
            break;
        const Frame& frame = m_frames[buddy];
        if (!frame.has(FF_BUDDY) || frame.order != order || !may_merge(pfn, buddy, order, type))
            break;
        remove_free(buddy, order);
        pfn = std::min(pfn, buddy);
        ++order;
    }
    push_free(pfn, order, type);
}

// From a pageblock up, a block of a HighAtomic or Isolate pageblock merges only with its own kind.
bool Zone::may_merge(Pfn pfn, Pfn buddy, Order order, MigrateType type) const
{
    (void)pfn;
    if (order < PAGEBLOCK_ORDER)
        return true;
    MigrateType buddy_type = pageblock_type(buddy);
    return type == buddy_type || (mergeable(type) && mergeable(buddy_type));
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
        u64 blocks = 0;
        for (u8 t = 0; t < MIGRATE_TYPES; ++t) {
            const FrameList& free_list = list(order, static_cast<MigrateType>(t));
            blocks += free_list.size();
            if (!check_list(why, free_list, order, t, heads, free))
                return false;
        }
        if (blocks != m_free_count[order])
            return fail(why, m_name + ": order " + std::to_string(order) + " counts " +
                                 std::to_string(m_free_count[order]) + " blocks but its lists hold " +
                                 std::to_string(blocks));
    }
    if (free != m_free)
        return fail(why, m_name + ": free_pages " + std::to_string(m_free) + " but lists hold " +
                             std::to_string(free));
    if (m_free > m_managed)
        return fail(why, m_name + ": more free pages than managed pages");
    return true;
}

bool Zone::check_list(std::string* why, const FrameList& free_list, Order order, u8 type,
                      std::vector<u8>& heads, u64& free) const
{
    std::string name =
        m_name + " order " + std::to_string(order) + " " + migratetype_name(static_cast<MigrateType>(type));
    u64 seen = 0;
    for (u32 i = free_list.front(); i != IndexLinks::NIL; i = free_list.next(m_frames, i)) {
        Pfn pfn = m_frames.pfn_at(i);
        auto where = [&] { return name + " pfn " + hex(pfn); };
        if (++seen > free_list.size())
            return fail(why, name + ": list is too long");
        if (!contains(pfn) || !contains(pfn + (pages_of(order) - 1)))
            return fail(why, where() + ": free block outside the zone");
        if (!is_aligned(pfn, order))
            return fail(why, where() + ": free block not aligned to its order");
        const Frame& frame = m_frames[pfn];
        if (!frame.has(FF_BUDDY) || frame.order != order || frame.free_type != type)
            return fail(why, where() + ": head on the list lacks FF_BUDDY or has another order or type");
        if (heads[pfn - m_start])
            return fail(why, where() + ": block on a list twice");
        heads[pfn - m_start] = 1;
        free += pages_of(order);
    }
    if (seen != free_list.size())
        return fail(why, name + ": list is too short");
    return true;
}

bool Zone::check_frames(std::string* why, const std::vector<u8>& heads) const
{
    Pfn end = m_start + m_spanned;
    for (Pfn pfn = m_start; pfn < end;) {
        const Frame& frame = m_frames[pfn];
        auto where = [&] { return m_name + " pfn " + hex(pfn); };
        if (!frame.has(FF_BUDDY)) {
            ++pfn;
            continue;
        }
        if (!heads[pfn - m_start])
            return fail(why, where() + ": FF_BUDDY frame on no free list");
        Order order = frame.order;
        if (order < MAX_ORDER) {
            Pfn buddy(pfn.value() ^ pages_of(order));
            if (contains(buddy) && m_frames[buddy].has(FF_BUDDY) && m_frames[buddy].order == order &&
                may_merge(pfn, buddy, order, pageblock_type(pfn)))
                return fail(why,
                            where() + ": free buddies of order " + std::to_string(order) + " not merged");
        }
        if (frame.flags != FF_BUDDY)
            return fail(why, where() + ": free block head carries other flags");
        for (Pfn tail = pfn + 1; tail < pfn + pages_of(order); ++tail) {
            if (m_frames[tail].flags != 0)
                return fail(why, m_name + " pfn " + hex(tail) + ": frame inside a free block is not blank");
        }
        pfn += pages_of(order);
    }
    return true;
}

} // namespace kioku
