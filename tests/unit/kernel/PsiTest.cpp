#include <gtest/gtest.h>

#include "kernel/Psi.h"

using namespace kioku;

namespace {

constexpr u64 MS = 1'000'000;

} // namespace

TEST(PsiTest, NewGroupShowsZeroes)
{
    PsiGroup psi;
    EXPECT_EQ(psi.show(0), "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                           "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

TEST(PsiTest, HalfAPeriodStalledFoldsFiftyPercentIntoEachAverage)
{
    // One second stalled in the first 2 s period: a 50% sample. avg10 = (50 * 2048 * (2048 -
    // 1677) + 2047) / 2048 = 18550, which psi_show prints as 9.05; avg60 (decay 1981) 1.63;
    // avg300 (decay 2034) 0.34.
    PsiGroup psi;
    psi.stall(0, 1000 * MS, true);
    EXPECT_EQ(psi.show(1999 * MS), "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n"
                                   "full avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n")
        << "the period has not ended: nothing is folded in yet";
    EXPECT_EQ(psi.show(2000 * MS), "some avg10=9.05 avg60=1.63 avg300=0.34 total=1000000\n"
                                   "full avg10=9.05 avg60=1.63 avg300=0.34 total=1000000\n");
    EXPECT_EQ(psi.average(PsiGroup::Some, 0), 18550u);
}

TEST(PsiTest, SomeWithoutFullAndAStallAcrossPeriods)
{
    // 1.5 s to 2.5 s: half a second in each of the first two periods (25% each), "some" only.
    PsiGroup psi;
    psi.stall(1500 * MS, 2500 * MS, false);
    psi.update(4000 * MS);
    EXPECT_EQ(psi.total_ns(PsiGroup::Some), 1000 * MS);
    EXPECT_EQ(psi.total_ns(PsiGroup::Full), 0u);
    // Two samples of 25%: (25*2048*371 + 2047)/2048 = 9275, then (9275*1677 + 51200*371 +
    // 2047)/2048 = 16870.
    EXPECT_EQ(psi.average(PsiGroup::Some, 0), 16870u);
    EXPECT_EQ(psi.average(PsiGroup::Full, 0), 0u);
}

TEST(PsiTest, QuietPeriodsDecayTheAverageToZero)
{
    PsiGroup psi;
    psi.stall(0, 2000 * MS, true); // 100%
    psi.update(2000 * MS);
    u64 after_one = psi.average(PsiGroup::Some, 0);
    EXPECT_GT(after_one, 0u);
    psi.update(4000 * MS);
    EXPECT_LT(psi.average(PsiGroup::Some, 0), after_one);
    psi.update(u64{3600} * 1000 * MS); // an hour later
    for (unsigned w = 0; w < 3; ++w)
        EXPECT_EQ(psi.average(PsiGroup::Some, w), 0u);
    EXPECT_EQ(psi.total_ns(PsiGroup::Some), 2000 * MS) << "the total never decays";
}

TEST(PsiTest, PercentHasTwoDecimals)
{
    EXPECT_EQ(PsiGroup::percent(0), "0.00");
    EXPECT_EQ(PsiGroup::percent(PsiGroup::FIXED_1 * 100), "100.00");
    EXPECT_EQ(PsiGroup::percent(PsiGroup::FIXED_1 + 21), "1.01");
}
