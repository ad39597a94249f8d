// The index of a file's page cache (Linux: the xarray address_space->i_pages, lib/xarray.c): a
// radix tree from a page index to one entry, 64 slots a node as Linux's XA_CHUNK_SHIFT 6 gives.
// Leaves (shift 0) hold the entries; an interior node of shift s holds the nodes that cover
// 64^(s/6) indices each. The root covers [0, 64^(root shift/6 + 1)): the tree grows a level at
// the top when an index beyond it arrives and shrinks back when only slot 0 of the root is left,
// as xas_expand and xas_shrink do, so a small file needs one leaf and a 128 MiB one three levels.
//
// The interface is the part of std::map the memory manager uses (find, emplace, erase, count,
// lower_bound, ordered forward iteration over (index, entry) pairs), so callers read as before;
// last() stands in for std::prev(end()). Lookups cost one load per level, and a walk over a
// contiguous range costs a bit scan per entry within a leaf, which is what fault-around and
// writeback do.
//
// Invariants: no node is empty (a node whose last slot empties is freed at once, and its parent
// after it when that empties too); a node's `occupied` bit is set exactly for its non-empty slots;
// size() counts the entries. An iterator stays valid until its own entry is erased, whatever else
// is inserted or erased: entries never move, and only empty nodes (which hold no iterator's entry)
// or a root with a single child are freed.
//
// Each node charges one radix_tree_node object to the slab (Linux allocates an xa_node of that
// cache per node), with SlabGfp::Atomic because the page cache inserts in the middle of an update;
// a node whose charge fails stays in the tree uncharged (Linux would fail the insertion). Linux
// keeps a file whose only entry is index 0 without any node; here that file has one leaf.
//
// Owned by the Inode it indexes. Single-threaded, like the machine.
#pragma once

#include <bit>
#include <cstddef>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

#include "base/Assert.h"
#include "base/Types.h"
#include "mm/slab/SlabCharge.h"

namespace kioku {

template <typename T>
class PageIndex {
  public:
    using key_type = u64;
    using mapped_type = T;
    using value_type = std::pair<const u64, T>;
    static_assert(std::is_trivially_destructible_v<value_type>, "entries are dropped without destruction");

    static constexpr u64 CHUNK_SHIFT = 6; // XA_CHUNK_SHIFT
    static constexpr u64 CHUNK_SLOTS = u64{1} << CHUNK_SHIFT;
    static constexpr u64 CHUNK_MASK = CHUNK_SLOTS - 1;

  private:
    struct Node {
        Node(SlabAllocator* allocator, u8 node_shift)
            : shift(node_shift)
            , charge(KmemCache::RadixTreeNode, allocator, SlabGfp::Atomic)
        {
        }
        Node* parent = nullptr;
        u64 occupied = 0; // bit i: slot i holds an entry (leaf) or a child (interior)
        u8 shift;         // 0 for a leaf; the index bits this node's slot number stands for
        u8 offset = 0;    // this node's slot in its parent
        SlabCharge charge;
    };

    struct Interior : Node {
        using Node::Node;
        Node* slots[CHUNK_SLOTS] = {};
    };

    struct Leaf : Node {
        using Node::Node;
        value_type& entry(u64 slot) { return *std::launder(reinterpret_cast<value_type*>(storage[slot])); }
        alignas(value_type) std::byte storage[CHUNK_SLOTS][sizeof(value_type)];
    };

    static Interior* interior(Node* node) { return static_cast<Interior*>(node); }
    static Leaf* leaf(Node* node) { return static_cast<Leaf*>(node); }

  public:
    template <bool Const>
    class Iterator {
      public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = PageIndex::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = std::conditional_t<Const, const value_type&, value_type&>;
        using pointer = std::conditional_t<Const, const value_type*, value_type*>;

        Iterator() = default;
        Iterator(const Iterator&) = default;
        Iterator& operator=(const Iterator&) = default;
        // An iterator converts to a const_iterator, as std::map's does.
        template <bool C = Const>
        requires C Iterator(const Iterator<false>& other)
            : m_leaf(other.m_leaf)
            , m_slot(other.m_slot)
        {
        }

        reference operator*() const { return m_leaf->entry(m_slot); }
        pointer operator->() const { return &m_leaf->entry(m_slot); }
        Iterator& operator++()
        {
            *this = seek(m_leaf, m_slot + 1);
            return *this;
        }
        Iterator operator++(int)
        {
            Iterator before = *this;
            ++*this;
            return before;
        }
        bool operator==(const Iterator& other) const = default;

      private:
        friend class PageIndex;
        template <bool>
        friend class Iterator;
        Iterator(Leaf* at, u64 slot)
            : m_leaf(at)
            , m_slot(slot)
        {
        }

        Leaf* m_leaf = nullptr; // null: end()
        u64 m_slot = 0;
    };
    using iterator = Iterator<false>;
    using const_iterator = Iterator<true>;

    // Node charges go to `allocator`, or to SlabAllocator::current() when it is null.
    explicit PageIndex(SlabAllocator* allocator = nullptr)
        : m_allocator(allocator)
    {
    }
    ~PageIndex() { clear(); }
    PageIndex(const PageIndex&) = delete;
    PageIndex& operator=(const PageIndex&) = delete;

    u64 size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    // Nodes of the tree, each charged as one radix_tree_node.
    u64 nodes() const { return m_nodes; }

    iterator begin() { return lower_bound(0); }
    iterator end() { return {}; }
    const_iterator begin() const { return const_cast<PageIndex*>(this)->begin(); }
    const_iterator end() const { return {}; }

    iterator find(u64 index)
    {
        Node* node = m_root;
        if (!node || !covers(node, index))
            return end();
        while (node->shift) {
            node = interior(node)->slots[(index >> node->shift) & CHUNK_MASK];
            if (!node)
                return end();
        }
        u64 slot = index & CHUNK_MASK;
        return (node->occupied >> slot) & 1 ? iterator(leaf(node), slot) : end();
    }
    const_iterator find(u64 index) const { return const_cast<PageIndex*>(this)->find(index); }
    u64 count(u64 index) const { return find(index) != end(); }

    // The first entry at or after index.
    iterator lower_bound(u64 index)
    {
        Node* node = m_root;
        if (!node || !covers(node, index))
            return end();
        while (node->shift) {
            u64 slot = (index >> node->shift) & CHUNK_MASK;
            Node* child = interior(node)->slots[slot];
            if (!child)
                return seek(node, slot + 1);
            node = child;
        }
        return seek(node, index & CHUNK_MASK);
    }
    const_iterator lower_bound(u64 index) const { return const_cast<PageIndex*>(this)->lower_bound(index); }

    // The entry with the highest index, or end() when empty.
    iterator last()
    {
        Node* node = m_root;
        if (!node)
            return end();
        while (node->shift)
            node = interior(node)->slots[highest_slot(node)];
        return iterator(leaf(node), highest_slot(node));
    }

    // Inserts (index, value) unless index is taken; returns the entry at index and whether it is new.
    std::pair<iterator, bool> emplace(u64 index, T value)
    {
        Leaf* at = leaf_for(index);
        u64 slot = index & CHUNK_MASK;
        if ((at->occupied >> slot) & 1)
            return {iterator(at, slot), false};
        ::new (at->storage[slot]) value_type(index, value);
        at->occupied |= u64{1} << slot;
        ++m_size;
        return {iterator(at, slot), true};
    }

    // Removes the entry at pos; returns the entry after it.
    iterator erase(iterator pos)
    {
        iterator next = std::next(pos);
        remove(pos.m_leaf, pos.m_slot);
        return next;
    }
    u64 erase(u64 index)
    {
        iterator it = find(index);
        if (it == end())
            return 0;
        remove(it.m_leaf, it.m_slot);
        return 1;
    }

    void clear()
    {
        if (m_root)
            destroy(m_root);
        m_root = nullptr;
        m_size = 0;
    }

  private:
    // Whether index lies in the range the node's subtree covers (its low bits are ignored).
    static bool covers_shift(u64 shift, u64 index)
    {
        return shift + CHUNK_SHIFT >= 64 || (index >> (shift + CHUNK_SHIFT)) == 0;
    }
    static bool covers(const Node* node, u64 index) { return covers_shift(node->shift, index); }

    static u64 highest_slot(const Node* node)
    {
        return 63 - static_cast<u64>(std::countl_zero(node->occupied));
    }

    // The first entry in node's subtree at slot >= slot, or after the subtree in index order: scans
    // the node's bitmap, climbs to the parent when the node is exhausted, and descends leftmost.
    static iterator seek(Node* node, u64 slot)
    {
        for (;;) {
            u64 bits = slot < CHUNK_SLOTS ? node->occupied & (~u64{0} << slot) : 0;
            if (bits) {
                slot = static_cast<u64>(std::countr_zero(bits));
                if (node->shift == 0)
                    return iterator(leaf(node), slot);
                node = interior(node)->slots[slot];
                slot = 0;
                continue;
            }
            if (!node->parent)
                return {};
            slot = node->offset + u64{1};
            node = node->parent;
        }
    }

    Node* make_node(u8 shift)
    {
        ++m_nodes;
        if (shift == 0)
            return new Leaf(m_allocator, 0);
        return new Interior(m_allocator, shift);
    }

    void free_node(Node* node)
    {
        --m_nodes;
        if (node->shift == 0)
            delete leaf(node);
        else
            delete interior(node);
    }

    // Frees node and everything below it.
    void destroy(Node* node)
    {
        if (node->shift) {
            for (u64 bits = node->occupied; bits; bits &= bits - 1)
                destroy(interior(node)->slots[std::countr_zero(bits)]);
        }
        free_node(node);
    }

    // The leaf that holds index, made (with the levels above it) when missing.
    Leaf* leaf_for(u64 index)
    {
        if (!m_root) {
            u8 shift = 0;
            while (!covers_shift(shift, index))
                shift += CHUNK_SHIFT;
            m_root = make_node(shift);
        }
        while (!covers(m_root, index))
            grow();
        Node* node = m_root;
        while (node->shift) {
            u64 slot = (index >> node->shift) & CHUNK_MASK;
            Node*& child = interior(node)->slots[slot];
            if (!child) {
                child = make_node(static_cast<u8>(node->shift - CHUNK_SHIFT));
                child->parent = node;
                child->offset = static_cast<u8>(slot);
                node->occupied |= u64{1} << slot;
            }
            node = child;
        }
        return leaf(node);
    }

    // xas_expand: a new root one level up, with the old root in its slot 0.
    void grow()
    {
        Node* top = make_node(static_cast<u8>(m_root->shift + CHUNK_SHIFT));
        interior(top)->slots[0] = m_root;
        top->occupied = 1;
        m_root->parent = top;
        m_root->offset = 0;
        m_root = top;
    }

    void remove(Leaf* at, u64 slot)
    {
        VERIFY(((at->occupied >> slot) & 1) && "erasing an empty slot of the page index");
        at->occupied &= ~(u64{1} << slot);
        --m_size;
        Node* node = at;
        while (node && node->occupied == 0) {
            Node* parent = node->parent;
            if (parent) {
                parent->occupied &= ~(u64{1} << node->offset);
                interior(parent)->slots[node->offset] = nullptr;
            } else {
                m_root = nullptr;
            }
            free_node(node);
            node = parent;
        }
        shrink();
    }

    // xas_shrink: while the root's only child sits in slot 0, that child becomes the root.
    void shrink()
    {
        while (m_root && m_root->shift && m_root->occupied == 1) {
            Node* child = interior(m_root)->slots[0];
            child->parent = nullptr;
            free_node(m_root);
            m_root = child;
        }
    }

    SlabAllocator* m_allocator;
    Node* m_root = nullptr;
    u64 m_size = 0;
    u64 m_nodes = 0;
};

} // namespace kioku
