#include <gtest/gtest.h>

#include "base/Result.h"
#include "base/Size.h"

using namespace kioku;

TEST(Size, ParsesSuffixes)
{
    EXPECT_EQ(parse_size("4096"), 4096u);
    EXPECT_EQ(parse_size("64K"), 64u << 10);
    EXPECT_EQ(parse_size("512M"), 512u << 20);
    EXPECT_EQ(parse_size("16G"), u64{16} << 30);
    EXPECT_EQ(parse_size("2GiB"), u64{2} << 30);
    EXPECT_EQ(parse_size("1m"), 1u << 20);
}

TEST(Size, RejectsGarbage)
{
    EXPECT_FALSE(parse_size(""));
    EXPECT_FALSE(parse_size("12Q"));
    EXPECT_FALSE(parse_size("M"));
    EXPECT_FALSE(parse_size("-1"));
    EXPECT_FALSE(parse_size("1MX"));
    EXPECT_FALSE(parse_size("99999999999999999999"));
    EXPECT_FALSE(parse_size("20000000000T"));
}

TEST(Size, FormatsWholeUnits)
{
    EXPECT_EQ(format_size(512u << 20), "512M");
    EXPECT_EQ(format_size(u64{16} << 30), "16G");
    EXPECT_EQ(format_size(4097), "4097");
}

static Result<int> half(int v)
{
    if (v % 2)
        return Error::from_errno(EINVAL, "odd");
    return v / 2;
}

static Result<int> quarter(int v)
{
    int h = TRY(half(v));
    return TRY(half(h));
}

TEST(Result, TryPropagatesErrors)
{
    EXPECT_EQ(quarter(8).value(), 2);
    EXPECT_EQ(quarter(6).error().code, EINVAL);
}
