// The page-cache radix tree against an ordered map: random insertions, erasures and lookups over
// dense and sparse indices, its shape (how many nodes it keeps), and the radix_tree_node objects
// it charges to the slab.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "mm/cache/PageIndex.h"
#include "mm/slab/SlabAllocator.h"
#include "mm/slab/SlabCache.h"
#include "unit/mm/phys/PhysWorld.h"

namespace kioku {
namespace {

using Index = PageIndex<Pfn>;

// The nodes a tree holding `model`'s indices must have: one per distinct index prefix at each
// level, from the leaves up to the lowest root that covers the highest index.
u64 expected_nodes(const std::map<u64, Pfn>& model)
{
    if (model.empty())
        return 0;
    u64 highest = model.rbegin()->first;
    u64 nodes = 0;
    for (u64 shift = 0;; shift += Index::CHUNK_SHIFT) {
        std::set<u64> prefixes;
        u64 bits = shift + Index::CHUNK_SHIFT;
        for (const auto& entry : model)
            prefixes.insert(bits >= 64 ? 0 : entry.first >> bits);
        nodes += prefixes.size();
        if (bits >= 64 || (highest >> bits) == 0)
            return nodes;
    }
}

void expect_same(const Index& index, const std::map<u64, Pfn>& model)
{
    ASSERT_EQ(index.size(), model.size());
    auto want = model.begin();
    for (const auto& [page, pfn] : index) {
        ASSERT_NE(want, model.end());
        ASSERT_EQ(page, want->first);
        ASSERT_EQ(pfn, want->second);
        ++want;
    }
    EXPECT_EQ(want, model.end());
    EXPECT_EQ(index.nodes(), expected_nodes(model));
}

// Thousands of random operations with a fixed seed, each checked against std::map; draw() picks
// the index of each operation.
template <typename Draw>
void run_against_model(u32 seed, int operations, Draw draw)
{
    std::mt19937_64 rng(seed);
    Index index;
    std::map<u64, Pfn> model;
    for (int op = 0; op < operations; ++op) {
        u64 page = draw(rng);
        switch (rng() % 6) {
        case 0:
        case 1: {
            Pfn pfn(rng());
            auto [it, inserted] = index.emplace(page, pfn);
            auto [want, want_inserted] = model.emplace(page, pfn);
            ASSERT_EQ(inserted, want_inserted);
            ASSERT_EQ(it->first, page);
            ASSERT_EQ(it->second, want->second) << "an existing entry must not be overwritten";
            break;
        }
        case 2: ASSERT_EQ(index.erase(page), model.erase(page)); break;
        case 3: {
            auto it = index.lower_bound(page);
            auto want = model.lower_bound(page);
            ASSERT_EQ(it == index.end(), want == model.end());
            if (want != model.end()) {
                ASSERT_EQ(it->first, want->first);
                it = index.erase(it);
                want = model.erase(want);
                ASSERT_EQ(it == index.end(), want == model.end());
                if (want != model.end()) {
                    ASSERT_EQ(it->first, want->first) << "erase returns the next entry";
                }
            }
            break;
        }
        case 4: {
            auto it = index.find(page);
            auto want = model.find(page);
            ASSERT_EQ(it == index.end(), want == model.end());
            ASSERT_EQ(index.count(page), model.count(page));
            if (want != model.end()) {
                ASSERT_EQ(it->second, want->second);
            }
            break;
        }
        default: {
            auto last = index.last();
            ASSERT_EQ(last == index.end(), model.empty());
            if (!model.empty()) {
                ASSERT_EQ(last->first, model.rbegin()->first);
            }
            break;
        }
        }
        if (op % 499 == 0)
            expect_same(index, model);
    }
    expect_same(index, model);
}

TEST(PageIndex, DenseRandomOperationsMatchAnOrderedMap)
{
    run_against_model(1, 20000, [](std::mt19937_64& rng) { return rng() % 3000; });
}

TEST(PageIndex, SparseRandomOperationsMatchAnOrderedMap)
{
    // Clusters at both ends of the 64-bit range and in between, so that the tree grows to its full
    // eleven levels and shrinks back.
    run_against_model(2, 20000, [](std::mt19937_64& rng) -> u64 {
        switch (rng() % 4) {
        case 0: return rng() % 200;
        case 1: return ~u64{0} - rng() % 200;
        case 2: return (u64{1} << (rng() % 64)) + rng() % 3;
        default: return rng();
        }
    });
}

TEST(PageIndex, GrowsAndShrinksLevelsWithTheHighestIndex)
{
    Index index;
    index.emplace(5, Pfn(1));
    EXPECT_EQ(index.nodes(), 1u) << "a small file needs one leaf";
    index.emplace(1000, Pfn(2));
    EXPECT_EQ(index.nodes(), 3u) << "a root of shift 6 over two leaves";
    index.emplace(u64{1} << 63, Pfn(3));
    // Eleven levels reach index 2^63: nine new roots above the old one (shifts 12 to 60), and one
    // node for each of the ten levels below the top on the new entry's path.
    EXPECT_EQ(index.nodes(), 3u + 9u + 10u);
    index.erase(u64{1} << 63);
    EXPECT_EQ(index.nodes(), 3u);
    index.erase(1000);
    EXPECT_EQ(index.nodes(), 1u) << "the root shrinks back to the leaf";
    index.erase(5);
    EXPECT_EQ(index.nodes(), 0u);
    EXPECT_TRUE(index.empty());
    EXPECT_EQ(index.begin(), index.end());
}

TEST(PageIndex, A128MiBFileTakesLinuxsNodeCount)
{
    Index index;
    for (u64 page = 0; page < 32768; ++page)
        index.emplace(page, Pfn(page));
    // 512 leaves, 8 nodes of shift 6 and a root of shift 12, as Linux's xarray has.
    EXPECT_EQ(index.nodes(), 512u + 8u + 1u);
    u64 seen = 0;
    for (auto it = index.lower_bound(100); it != index.end() && it->first < 200; ++it)
        seen += it->first == it->second.value();
    EXPECT_EQ(seen, 100u);
}

TEST(PageIndex, IteratorsSurviveErasingOtherEntries)
{
    Index index;
    for (u64 page = 0; page < 1000; page += 3)
        index.emplace(page, Pfn(page));
    // drop_clean's pattern: step past an entry, then erase it, which may free its leaf.
    u64 kept = 0;
    for (auto it = index.begin(); it != index.end();) {
        auto here = it++;
        if (here->first % 2 == 0)
            index.erase(here->first);
        else
            ++kept;
    }
    EXPECT_EQ(index.size(), kept);
    for (const auto& [page, pfn] : index)
        EXPECT_EQ(page % 2, 1u);
}

TEST(PageIndex, EntriesAreAssignableThroughIterators)
{
    Index index;
    index.emplace(7, Pfn(1));
    index.find(7)->second = Pfn(9);
    for (auto& [page, pfn] : index)
        pfn = Pfn(pfn.value() + 1);
    EXPECT_EQ(index.find(7)->second, Pfn(10));
    const Index& view = index;
    EXPECT_EQ(view.find(7)->second, Pfn(10));
    EXPECT_EQ(view.find(8), view.end());
}

// A slab allocator over a small buddy allocator, current on this thread.
struct SlabWorld {
    SlabWorld()
        : phys(test::RAM_START, 4096)
    {
        phys.boot();
        slab = std::make_unique<SlabAllocator>(phys.frames,
                                               std::make_unique<BuddySlabPageSource>(phys.allocator));
    }
    u64 charged() const { return slab->cache(KmemCache::RadixTreeNode)->active_objects(); }

    test::PhysWorld phys;
    std::unique_ptr<SlabAllocator> slab;
};

TEST(PageIndex, ChargesOneRadixTreeNodePerNode)
{
    SlabWorld w;
    std::mt19937_64 rng(3);
    {
        Index index(w.slab.get());
        std::vector<u64> pages;
        for (int i = 0; i < 600; ++i) {
            u64 page = i % 2 ? rng() % 5000 : rng() % (u64{1} << 30);
            index.emplace(page, Pfn(page));
            pages.push_back(page);
        }
        EXPECT_GT(index.nodes(), 100u);
        EXPECT_EQ(w.charged(), index.nodes());
        for (size_t i = 0; i < pages.size(); i += 2)
            index.erase(pages[i]);
        EXPECT_EQ(w.charged(), index.nodes());
    }
    EXPECT_EQ(w.charged(), 0u) << "a dying index returns every node";
}

} // namespace
} // namespace kioku
