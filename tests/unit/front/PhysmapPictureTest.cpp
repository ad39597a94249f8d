// The picture of physical memory, drawn from the text of /proc/kioku/physmap.
#include <gtest/gtest.h>

#include "front/PhysmapPicture.h"

using namespace kioku;

TEST(PhysmapPicture, OneRowPerPageblockAndARectanglePerRun)
{
    std::string text = "physmap: one character per 4 KiB frame\nlegend: ...\n"
                       "pageblock 0 at 0x80000000, zone DMA32, Movable\n"
                       "  0x080000000 aaaa....pp\n"
                       "pageblock 1 at 0x80200000, zone DMA32, Unmovable\n"
                       "  0x080200000 kkkkk\n";
    std::string error;
    std::string svg = physmap_svg(text, "test <1>", error);
    EXPECT_TRUE(error.empty()) << error;
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("<title>test &lt;1&gt;</title>"), std::string::npos);
    // Row 0: three runs (anonymous, free, page table); row 1: one run of slab.
    EXPECT_NE(svg.find("width=\"8\" height=\"5\" fill=\"#4e79a7\""), std::string::npos) << svg;
    EXPECT_NE(svg.find("width=\"8\" height=\"5\" fill=\"#eeeeee\""), std::string::npos);
    EXPECT_NE(svg.find("width=\"4\" height=\"5\" fill=\"#b07aa1\""), std::string::npos);
    EXPECT_NE(svg.find("width=\"10\" height=\"5\" fill=\"#edc948\""), std::string::npos);
    EXPECT_NE(svg.find("<title>block 0 at 0x80000000, DMA32, Movable</title>"), std::string::npos);
    EXPECT_NE(svg.find("<title>block 1 at 0x80200000, DMA32, Unmovable</title>"), std::string::npos);
}

TEST(PhysmapPicture, OtherTextIsRefused)
{
    std::string error;
    EXPECT_TRUE(physmap_svg("MemTotal: 1 kB\n", "x", error).empty());
    EXPECT_EQ(error, "not the text of /proc/kioku/physmap");
    EXPECT_TRUE(physmap_svg("physmap: x\nlegend\n", "x", error).empty());
    EXPECT_EQ(error, "no pageblocks in the physmap");
}
