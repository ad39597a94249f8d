// `kioku demo`: the chapters, one at a time or all, in English and Japanese; each chapter's own
// expectations decide its status.
#include <gtest/gtest.h>

#include <sstream>

#include "front/Demo.h"
#include "front/text/Messages.h"

using namespace kioku;

namespace {

struct Output {
    int status = 0;
    std::string out, err;
};

Output demo(const DemoOptions& o)
{
    std::istringstream in;
    std::ostringstream out, err;
    Output r;
    r.status = run_demo(o, in, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

} // namespace

TEST(Demo, ListsItsChapters)
{
    DemoOptions o;
    o.list = true;
    Output r = demo(o);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find(" 1. Physical memory and the buddy allocator\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("11. Page replacement: FIFO, LRU, OPT and Belady's anomaly\n"), std::string::npos);
    EXPECT_NE(r.out.find("19. Memory cgroups\n"), std::string::npos);
    EXPECT_NE(r.out.find("20. The buffer cache: Buffers and Cached\n"), std::string::npos);
    EXPECT_EQ(demo_chapters(), 20u);
}

TEST(Demo, RunsOneChapterWithItsOwnFigures)
{
    DemoOptions o;
    o.chapter = 5;
    Output r = demo(o);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("== 5. Page tables and the TLB =="), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("== 4."), std::string::npos) << r.out;
    // The step's own TLB figures: three passes of 64 pages hit, one walks.
    EXPECT_NE(r.out.find("the TLB during the four passes: 192 hits, 64 misses, 64 walks"), std::string::npos)
        << r.out;
    o.chapter = 21;
    Output none = demo(o);
    EXPECT_EQ(none.status, 2);
    EXPECT_NE(none.err.find("there is no chapter 21 (1 to 20)"), std::string::npos) << none.err;
}

TEST(Demo, EveryChapterHoldsInJapaneseToo)
{
    text::set_lang(text::Lang::Ja);
    DemoOptions o;
    o.mem_bytes = u64{256} << 20;
    Output r = demo(o);
    text::set_lang(text::Lang::En);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("== 第 13 章　OOM キラー：誰が、なぜ終わらされるか =="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("32 ビットのカーネルが自分で使えるアドレスは 1 GiB しかなく"), std::string::npos);
    EXPECT_EQ(r.out.find("Physical memory is a row"), std::string::npos);
}
