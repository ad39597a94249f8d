// /proc/vmstat: the item list, its order and the conversions Linux applies when printing.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "mm/core/VmStat.h"

using namespace kioku;

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// "name value" with a lower-case name of letters, digits and underscores.
bool is_vmstat_line(const std::string& line)
{
    size_t space = line.find(' ');
    if (space == 0 || space == std::string::npos || space + 1 == line.size())
        return false;
    bool name_ok = std::all_of(line.begin(), line.begin() + static_cast<long>(space), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    bool value_ok = std::all_of(line.begin() + static_cast<long>(space) + 1, line.end(),
                                [](char c) { return c >= '0' && c <= '9'; });
    return name_ok && value_ok && line[0] >= 'a' && line[0] <= 'z';
}

size_t line_index(const std::vector<std::string>& lines, const std::string& name)
{
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind(name + " ", 0) == 0)
            return i;
    }
    return SIZE_MAX;
}

} // namespace

TEST(VmStat, FormatPrintsEveryItemThenNrUnstable)
{
    VmStat stat;
    auto lines = lines_of(stat.format());
    ASSERT_EQ(lines.size(), size_t{VM_ITEM_COUNT} + 1);
    EXPECT_EQ(lines.front(), "nr_free_pages 0");
    EXPECT_EQ(lines.back(), "nr_unstable 0");
    EXPECT_EQ(lines[lines.size() - 2], "swap_ra_hit 0");
}

TEST(VmStat, ZoneItemsComeFirstInLinuxOrder)
{
    auto lines = lines_of(VmStat{}.format());
    const char* expected[] = {
        "nr_free_pages",       "nr_zone_inactive_anon", "nr_zone_active_anon",   "nr_zone_inactive_file",
        "nr_zone_active_file", "nr_zone_unevictable",   "nr_zone_write_pending", "nr_mlock",
        "nr_bounce",           "nr_free_cma",           "nr_inactive_anon"};
    for (size_t i = 0; i < std::size(expected); ++i)
        EXPECT_EQ(lines[i], std::string(expected[i]) + " 0");
}

TEST(VmStat, WritebackThresholdsSitBetweenNodeItemsAndEvents)
{
    auto lines = lines_of(VmStat{}.format());
    size_t swapcached = line_index(lines, "nr_swapcached");
    ASSERT_NE(swapcached, SIZE_MAX);
    EXPECT_EQ(lines[swapcached - 2], "nr_page_table_pages 0");
    EXPECT_EQ(lines[swapcached - 1], "nr_sec_page_table_pages 0");
    EXPECT_EQ(lines[swapcached + 1], "nr_dirty_threshold 0");
    EXPECT_EQ(lines[swapcached + 2], "nr_dirty_background_threshold 0");
    EXPECT_EQ(lines[swapcached + 3], "pgpgin 0");
}

TEST(VmStat, PerZoneEventsNameDma32NormalMovable)
{
    auto lines = lines_of(VmStat{}.format());
    size_t first = line_index(lines, "pswpout") + 1;
    const char* expected[] = {
        "pgalloc_dma32",      "pgalloc_normal", "pgalloc_movable", "allocstall_dma32", "allocstall_normal",
        "allocstall_movable", "pgskip_dma32",   "pgskip_normal",   "pgskip_movable",   "pgfree"};
    for (size_t i = 0; i < std::size(expected); ++i)
        EXPECT_EQ(lines[first + i], std::string(expected[i]) + " 0");
    EXPECT_EQ(line_index(lines, "pgalloc_dma"), SIZE_MAX);
    EXPECT_EQ(line_index(lines, "pgalloc_high"), SIZE_MAX);
}

TEST(VmStat, EventOrderFollowsLinux)
{
    auto lines = lines_of(VmStat{}.format());
    const char* ordered[] = {"pgfault",
                             "pgmajfault",
                             "pglazyfreed",
                             "pgrefill",
                             "pgreuse",
                             "pgsteal_kswapd",
                             "pgsteal_direct",
                             "pgdemote_kswapd",
                             "pgdemote_direct",
                             "pgscan_kswapd",
                             "pgscan_direct",
                             "pgscan_direct_throttle",
                             "pgscan_anon",
                             "pgscan_file",
                             "pgsteal_anon",
                             "pgsteal_file",
                             "pginodesteal",
                             "oom_kill",
                             "pgmigrate_success",
                             "compact_migrate_scanned",
                             "compact_stall",
                             "compact_daemon_free_scanned",
                             "htlb_buddy_alloc_success",
                             "unevictable_pgs_culled",
                             "thp_fault_alloc",
                             "thp_split_pmd",
                             "thp_scan_exceed_share_pte",
                             "thp_zero_page_alloc",
                             "thp_swpout_fallback",
                             "swap_ra"};
    size_t previous = 0;
    for (const char* name : ordered) {
        size_t index = line_index(lines, name);
        ASSERT_NE(index, SIZE_MAX) << name;
        EXPECT_GT(index, previous) << name;
        previous = index;
    }
}

TEST(VmStat, ConfigOffItemsAreAbsent)
{
    auto lines = lines_of(VmStat{}.format());
    for (const char* name :
         {"numa_hit", "nr_zspages", "cma_alloc_success", "zswpin", "cow_ksm", "balloon_inflate",
          "thp_split_pud", "direct_map_level2_splits", "pgpromote_success", "vmacache_find_calls",
          "nr_shadow_call_stack", "pgsteal_khugepaged"})
        EXPECT_EQ(line_index(lines, name), SIZE_MAX) << name;
}

TEST(VmStat, NamesAreUniqueAndWellFormed)
{
    std::set<std::string> seen;
    for (u16 i = 0; i < VM_ITEM_COUNT; ++i) {
        std::string name = vm_item_name(static_cast<VmItem>(i));
        EXPECT_TRUE(is_vmstat_line(name + " 0")) << name;
        EXPECT_TRUE(seen.insert(name).second) << name << " appears twice";
    }
}

TEST(VmStat, AddAppliesSignedDeltas)
{
    VmStat stat;
    stat.add(VmItem::NrFreePages, 100);
    stat.add(VmItem::NrFreePages, -30);
    stat.inc(VmItem::Pgfault);
    stat[VmItem::NrDirtyThreshold] = 12345;
    EXPECT_EQ(stat[VmItem::NrFreePages], 70u);
    EXPECT_EQ(stat[VmItem::Pgfault], 1u);
    std::string text = stat.format();
    EXPECT_NE(text.find("\nnr_dirty_threshold 12345\n"), std::string::npos);
    EXPECT_EQ(text.rfind("nr_free_pages 70\n", 0), 0u);
    EXPECT_NE(text.find("\npgfault 1\n"), std::string::npos);
}

TEST(VmStatDeathTest, GaugeBelowZeroIsAModelBug)
{
    VmStat stat;
    stat.add(VmItem::NrAnonPages, 1);
    EXPECT_DEATH(stat.add(VmItem::NrAnonPages, -2), "");
}

TEST(VmStat, PgpginIsCountedInSectorsAndPrintedInKb)
{
    VmStat stat;
    stat.add(VmItem::Pgpgin, 8 * 3); // three 4 KiB pages read
    stat.add(VmItem::Pgpgout, 9);
    EXPECT_EQ(stat.printed_value(VmItem::Pgpgin), 12u);
    EXPECT_EQ(stat.printed_value(VmItem::Pgpgout), 4u);
    EXPECT_NE(stat.format().find("\npgpgin 12\npgpgout 4\n"), std::string::npos);
}

TEST(VmStat, HugePageGaugesPrintInPmdUnits)
{
    VmStat stat;
    stat.add(VmItem::NrAnonTransparentHugepages, 2 * 512);
    stat.add(VmItem::NrShmemPmdmapped, 511);
    stat.add(VmItem::NrAnonPages, 1024);
    EXPECT_EQ(stat.printed_value(VmItem::NrAnonTransparentHugepages), 2u);
    EXPECT_EQ(stat.printed_value(VmItem::NrShmemPmdmapped), 0u);
    EXPECT_EQ(stat.printed_value(VmItem::NrAnonPages), 1024u);
}

TEST(VmStat, ZoneItemPicksTheZonesMember)
{
    EXPECT_EQ(zone_item(VmItem::PgallocDma32, 0), VmItem::PgallocDma32);
    EXPECT_EQ(zone_item(VmItem::PgallocDma32, 1), VmItem::PgallocNormal);
    EXPECT_EQ(zone_item(VmItem::AllocstallDma32, 2), VmItem::AllocstallMovable);
    EXPECT_EQ(zone_item(VmItem::PgskipDma32, 1), VmItem::PgskipNormal);
    EXPECT_STREQ(vm_item_name(zone_item(VmItem::PgskipDma32, 2)), "pgskip_movable");
}

// Linux 6.18's /proc/vmstat (recorded, tests/unit/data) has the same line shape and also ends with
// "nr_unstable 0".
TEST(VmStat, LinuxVmstatHasTheSameLineShape)
{
    std::ifstream in(KIOKU_TEST_DATA_DIR "/linux-6.18-x86_64/vmstat");
    std::stringstream buf;
    buf << in.rdbuf();
    auto host = lines_of(buf.str());
    ASSERT_GT(host.size(), 100u) << "the recording is missing";
    for (const std::string& line : host)
        EXPECT_TRUE(is_vmstat_line(line)) << line;
    for (const std::string& line : lines_of(VmStat{}.format()))
        EXPECT_TRUE(is_vmstat_line(line)) << line;
    EXPECT_EQ(host.back(), "nr_unstable 0");
}
