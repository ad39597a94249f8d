// The reference stream's rule (ReferenceFilter) and its reading back for OPT (RecordedReferences).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "front/RunOracle.h"

namespace kioku {
namespace {

using isa::AccessType;

TEST(ReferenceFilterTest, KeepsEachProcessStreamApart)
{
    ReferenceFilter f;
    EXPECT_TRUE(f.admit(2, 0x10, AccessType::Execute));
    EXPECT_TRUE(f.admit(2, 0x80, AccessType::Read));
    EXPECT_FALSE(f.admit(2, 0x80, AccessType::Write)); // the same page again
    // Another process between two references of one does not make the second a new one.
    EXPECT_TRUE(f.admit(3, 0x10, AccessType::Execute));
    EXPECT_FALSE(f.admit(2, 0x80, AccessType::Read));
    // The code page reported again (after a TLB flush) is not a reference; a data reference to it is.
    EXPECT_FALSE(f.admit(2, 0x10, AccessType::Execute));
    EXPECT_TRUE(f.admit(2, 0x10, AccessType::Read));
    EXPECT_TRUE(f.admit(2, 0x80, AccessType::Read));
    EXPECT_FALSE(f.admit(2, 0x10, AccessType::Execute)); // still the same code page
    EXPECT_TRUE(f.admit(2, 0x11, AccessType::Execute));
    EXPECT_EQ(f.code_page(2), 0x11u);
    EXPECT_EQ(f.code_page(3), 0x10u);
    EXPECT_EQ(f.code_page(4), ReferenceFilter::NONE);
}

class RecordedReferencesTest : public ::testing::Test {
  protected:
    std::string write(const std::string& text)
    {
        std::ofstream(m_path) << text;
        return m_path;
    }
    void TearDown() override { std::remove(m_path.c_str()); }
    std::string m_path = ::testing::TempDir() + "kioku-refs-test.csv";
};

TEST_F(RecordedReferencesTest, NextUseIsTheRowOfTheProcessNextReference)
{
    std::string error;
    auto refs = RecordedReferences::load(write("time,obj_id,obj_size,op,pid,page\n"
                                               "0,0,4096,x,2,16\n"    // row 0
                                               "0,0,4096,r,2,128\n"   // row 1
                                               "0,0,4096,r,3,128\n"   // row 2: another process's page 128
                                               "0,0,4096,r,2,129\n"   // row 3
                                               "0,0,4096,w,2,128\n"   // row 4
                                               "0,0,4096,r,3,128\n"), // dropped: the same page again
                                         error);
    ASSERT_TRUE(refs) << error;
    EXPECT_EQ(refs->rows(), 5u);
    EXPECT_EQ(refs->pids(), (std::vector<Pid>{2, 3}));
    const auto* two = refs->stream(2);
    ASSERT_TRUE(two);
    ASSERT_EQ(two->pages.size(), 4u);
    EXPECT_EQ(refs->next_row(2, *two, 128, 0), 1u);
    EXPECT_EQ(refs->next_row(2, *two, 128, 2), 4u); // after process 2's second reference
    EXPECT_EQ(refs->next_row(2, *two, 128, 4), NextUseOracle::NEVER);
    EXPECT_EQ(refs->next_row(2, *two, 999, 0), NextUseOracle::NEVER);
    const auto* three = refs->stream(3);
    ASSERT_TRUE(three);
    EXPECT_EQ(three->pages.size(), 1u);
    EXPECT_EQ(refs->next_row(3, *three, 128, 0), 2u);
    EXPECT_FALSE(refs->stream(4));
}

TEST_F(RecordedReferencesTest, ABadFileSaysWhere)
{
    std::string error;
    EXPECT_FALSE(RecordedReferences::load(write("time,page\n1,2\n"), error));
    EXPECT_NE(error.find(":1: not a page reference stream"), std::string::npos) << error;
    EXPECT_FALSE(RecordedReferences::load(
        write("time,obj_id,obj_size,op,pid,page\n0,0,4096,r,2,7\n0,0,4096,r,x,7\n"), error));
    EXPECT_NE(error.find(":3: expected time,obj_id,obj_size,op,pid,page"), std::string::npos) << error;
    EXPECT_FALSE(
        RecordedReferences::load(write("time,obj_id,obj_size,op,pid,page\n0,0,4096,r,0,7\n"), error));
    EXPECT_NE(error.find(":2:"), std::string::npos) << error;
    EXPECT_FALSE(RecordedReferences::load(m_path + ".missing", error));
    EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
}

} // namespace
} // namespace kioku
