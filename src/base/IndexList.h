// An intrusive doubly-linked list whose links are 32-bit indices instead of pointers, so that an
// element embedded in a dense table (the frame table) can sit on a list without any allocation
// and with 8 bytes of links. The table owns the elements; the list only threads them.
//
// Invariant: an element is on at most one IndexList at a time; its links are NIL when it is on none.
// Links hold each index plus one, so links of all-zero bytes are NIL: a table of elements that are
// blank when zero (the frame table) needs no pass over it to be made.
#pragma once

#include <cstdint>

#include "base/Assert.h"

namespace kioku {

struct IndexLinks {
    static constexpr std::uint32_t NIL = 0xffffffffu;

    std::uint32_t prev() const { return m_prev - 1; }
    std::uint32_t next() const { return m_next - 1; }
    void set_prev(std::uint32_t i) { m_prev = i + 1; }
    void set_next(std::uint32_t i) { m_next = i + 1; }
    bool linked() const { return (m_prev | m_next) != 0; }

  private:
    std::uint32_t m_prev = 0; // the index plus one; 0 is NIL
    std::uint32_t m_next = 0;
};

// Table must offer `IndexLinks& links(uint32_t index)`.
template <typename Table>
class IndexList {
  public:
    static constexpr std::uint32_t NIL = IndexLinks::NIL;

    bool empty() const { return m_head == NIL; }
    std::uint64_t size() const { return m_size; }
    std::uint32_t front() const { return m_head; }
    std::uint32_t back() const { return m_tail; }

    void push_front(Table& t, std::uint32_t i)
    {
        IndexLinks& l = t.links(i);
        VERIFY(!l.linked() && m_head != i);
        l.set_next(m_head);
        if (m_head != NIL)
            t.links(m_head).set_prev(i);
        else
            m_tail = i;
        m_head = i;
        ++m_size;
    }

    void push_back(Table& t, std::uint32_t i)
    {
        IndexLinks& l = t.links(i);
        VERIFY(!l.linked() && m_head != i);
        l.set_prev(m_tail);
        if (m_tail != NIL)
            t.links(m_tail).set_next(i);
        else
            m_head = i;
        m_tail = i;
        ++m_size;
    }

    void remove(Table& t, std::uint32_t i)
    {
        IndexLinks& l = t.links(i);
        if (l.prev() != NIL)
            t.links(l.prev()).set_next(l.next());
        else {
            VERIFY(m_head == i);
            m_head = l.next();
        }
        if (l.next() != NIL)
            t.links(l.next()).set_prev(l.prev());
        else {
            VERIFY(m_tail == i);
            m_tail = l.prev();
        }
        l = IndexLinks{};
        --m_size;
    }

    std::uint32_t pop_front(Table& t)
    {
        std::uint32_t i = m_head;
        VERIFY(i != NIL);
        remove(t, i);
        return i;
    }

    std::uint32_t next(Table& t, std::uint32_t i) const { return t.links(i).next(); }

  private:
    std::uint32_t m_head = NIL;
    std::uint32_t m_tail = NIL;
    std::uint64_t m_size = 0;
};

} // namespace kioku
