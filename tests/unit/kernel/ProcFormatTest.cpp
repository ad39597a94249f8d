// Golden texts for the /proc and procps formatters. The expected strings are written out by hand
// from Linux 6.1's format strings; the free and vmstat ones were checked against procps-ng 4.0.2
// fed the same /proc/meminfo. Tests that read Linux's recorded /proc files (tests/unit/data) only
// compare layout (columns, line shapes), never the numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "kernel/ProcFormat.h"
#include "mm/vm/Vma.h"

using namespace kioku;

namespace {

MeminfoValues numbered_meminfo()
{
    MeminfoValues m;
    u64 MeminfoValues::*fields[] = {
        &MeminfoValues::mem_total,
        &MeminfoValues::mem_free,
        &MeminfoValues::mem_available,
        &MeminfoValues::buffers,
        &MeminfoValues::cached,
        &MeminfoValues::swap_cached,
        &MeminfoValues::active,
        &MeminfoValues::inactive,
        &MeminfoValues::active_anon,
        &MeminfoValues::inactive_anon,
        &MeminfoValues::active_file,
        &MeminfoValues::inactive_file,
        &MeminfoValues::unevictable,
        &MeminfoValues::mlocked,
        &MeminfoValues::swap_total,
        &MeminfoValues::swap_free,
        &MeminfoValues::dirty,
        &MeminfoValues::writeback,
        &MeminfoValues::anon_pages,
        &MeminfoValues::mapped,
        &MeminfoValues::shmem,
        &MeminfoValues::kreclaimable,
        &MeminfoValues::slab,
        &MeminfoValues::sreclaimable,
        &MeminfoValues::sunreclaim,
        &MeminfoValues::kernel_stack,
        &MeminfoValues::page_tables,
        &MeminfoValues::sec_page_tables,
        &MeminfoValues::nfs_unstable,
        &MeminfoValues::bounce,
        &MeminfoValues::writeback_tmp,
        &MeminfoValues::commit_limit,
        &MeminfoValues::committed_as,
        &MeminfoValues::vmalloc_total,
        &MeminfoValues::vmalloc_used,
        &MeminfoValues::vmalloc_chunk,
        &MeminfoValues::percpu,
        &MeminfoValues::anon_huge_pages,
        &MeminfoValues::shmem_huge_pages,
        &MeminfoValues::shmem_pmd_mapped,
        &MeminfoValues::file_huge_pages,
        &MeminfoValues::file_pmd_mapped,
        &MeminfoValues::hugepages_total,
        &MeminfoValues::hugepages_free,
        &MeminfoValues::hugepages_rsvd,
        &MeminfoValues::hugepages_surp,
        &MeminfoValues::hugepagesize,
        &MeminfoValues::hugetlb,
    };
    u64 n = 0;
    for (auto field : fields)
        m.*field = ++n * 1001;
    m.vmalloc_total = 34359738367; // wider than the 8-column field, as on a 64-bit kernel
    return m;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// A file of Linux 6.18's /proc, recorded (tests/unit/data/README.md).
std::string recorded_linux_file(const std::string& name)
{
    std::ifstream in(KIOKU_TEST_DATA_DIR "/linux-6.18-x86_64/" + name);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

} // namespace

// ---- meminfo --------------------------------------------------------------------------------

TEST(Meminfo, FormatMatchesLinuxLayoutLineForLine)
{
    const char* expected = "MemTotal:           1001 kB\n"
                           "MemFree:            2002 kB\n"
                           "MemAvailable:       3003 kB\n"
                           "Buffers:            4004 kB\n"
                           "Cached:             5005 kB\n"
                           "SwapCached:         6006 kB\n"
                           "Active:             7007 kB\n"
                           "Inactive:           8008 kB\n"
                           "Active(anon):       9009 kB\n"
                           "Inactive(anon):    10010 kB\n"
                           "Active(file):      11011 kB\n"
                           "Inactive(file):    12012 kB\n"
                           "Unevictable:       13013 kB\n"
                           "Mlocked:           14014 kB\n"
                           "SwapTotal:         15015 kB\n"
                           "SwapFree:          16016 kB\n"
                           "Dirty:             17017 kB\n"
                           "Writeback:         18018 kB\n"
                           "AnonPages:         19019 kB\n"
                           "Mapped:            20020 kB\n"
                           "Shmem:             21021 kB\n"
                           "KReclaimable:      22022 kB\n"
                           "Slab:              23023 kB\n"
                           "SReclaimable:      24024 kB\n"
                           "SUnreclaim:        25025 kB\n"
                           "KernelStack:       26026 kB\n"
                           "PageTables:        27027 kB\n"
                           "SecPageTables:     28028 kB\n"
                           "NFS_Unstable:      29029 kB\n"
                           "Bounce:            30030 kB\n"
                           "WritebackTmp:      31031 kB\n"
                           "CommitLimit:       32032 kB\n"
                           "Committed_AS:      33033 kB\n"
                           "VmallocTotal:   34359738367 kB\n"
                           "VmallocUsed:       35035 kB\n"
                           "VmallocChunk:      36036 kB\n"
                           "Percpu:            37037 kB\n"
                           "AnonHugePages:     38038 kB\n"
                           "ShmemHugePages:    39039 kB\n"
                           "ShmemPmdMapped:    40040 kB\n"
                           "FileHugePages:     41041 kB\n"
                           "FilePmdMapped:     42042 kB\n"
                           "HugePages_Total:   43043\n"
                           "HugePages_Free:    44044\n"
                           "HugePages_Rsvd:    45045\n"
                           "HugePages_Surp:    46046\n"
                           "Hugepagesize:      47047 kB\n"
                           "Hugetlb:           48048 kB\n";
    EXPECT_EQ(format_meminfo(numbered_meminfo()), expected);
}

TEST(Meminfo, HugePageCountsArePaddedToFiveColumns)
{
    MeminfoValues m;
    m.hugepages_total = 7;
    std::string text = format_meminfo(m);
    EXPECT_NE(text.find("\nHugePages_Total:       7\n"), std::string::npos);
    EXPECT_NE(text.find("\nHugePages_Free:        0\n"), std::string::npos);
}

// Every value of Linux's /proc/meminfo that fits the field ends at column 24, whether it is a kB
// line or a huge page count; kioku's lines must have the same shape.
TEST(Meminfo, LinesHaveLinuxsColumns)
{
    // "Name:", spaces, digits, and " kB" unless it is a count.
    auto check = [](const std::string& line) {
        size_t colon = line.find(':');
        ASSERT_NE(colon, std::string::npos) << line;
        size_t digits_start = line.find_first_not_of(' ', colon + 1);
        ASSERT_NE(digits_start, std::string::npos) << line;
        size_t digits_end = line.find_first_not_of("0123456789", digits_start);
        bool kb = digits_end != std::string::npos;
        if (kb) {
            EXPECT_EQ(line.substr(digits_end), " kB") << line;
        } else {
            digits_end = line.size();
        }
        size_t digits = digits_end - digits_start;
        ASSERT_GT(digits, 0u) << line;
        if (digits <= 5 || (kb && digits <= 8)) {
            EXPECT_EQ(digits_end, 24u) << line;
        }
    };
    for (const std::string& line : lines_of(format_meminfo(numbered_meminfo())))
        check(line);
    std::string linux_text = recorded_linux_file("meminfo");
    ASSERT_FALSE(linux_text.empty()) << "the recording is missing";
    for (const std::string& line : lines_of(linux_text))
        check(line);
}

// Linux on x86 prints lines kioku leaves out (Zswap, DirectMap...), but the names both print come
// in the same order.
TEST(Meminfo, SharedNamesAppearInLinuxsOrder)
{
    std::string linux_text = recorded_linux_file("meminfo");
    ASSERT_FALSE(linux_text.empty()) << "the recording is missing";
    std::vector<std::string> host_names;
    for (const std::string& line : lines_of(linux_text))
        host_names.push_back(line.substr(0, line.find(':')));
    size_t last_index = 0;
    int shared = 0;
    for (const std::string& line : lines_of(format_meminfo(MeminfoValues{}))) {
        std::string name = line.substr(0, line.find(':'));
        auto it = std::find(host_names.begin(), host_names.end(), name);
        if (it == host_names.end())
            continue;
        size_t index = static_cast<size_t>(it - host_names.begin());
        EXPECT_GE(index, last_index) << name << " is out of order";
        last_index = index;
        ++shared;
    }
    EXPECT_GE(shared, 30);
}

TEST(Meminfo, JsonKeepsLinuxNamesAndOrder)
{
    MeminfoValues m;
    m.mem_total = 2048;
    m.hugepages_total = 3;
    std::string json = meminfo_json(m);
    EXPECT_EQ(json.rfind("{\"MemTotal\": 2048, \"MemFree\": 0, \"MemAvailable\": 0, ", 0), 0u);
    EXPECT_NE(json.find("\"Active(anon)\": 0, "), std::string::npos);
    EXPECT_NE(json.find("\"HugePages_Total\": 3, "), std::string::npos);
    EXPECT_EQ(json.substr(json.size() - 13), "\"Hugetlb\": 0}");
}

// ---- maps -----------------------------------------------------------------------------------

TEST(Maps, FileLinePutsThePathAtColumn73)
{
    MapsEntry e;
    e.start = 0x10000;
    e.end = 0x11000;
    e.r = true;
    e.x = true;
    e.offset = 0x2000;
    e.dev_major = 0xfe;
    e.dev_minor = 1;
    e.inode = 247134;
    e.path = "/usr/bin/cat";
    std::string line = format_maps_line(e);
    EXPECT_EQ(line,
              "00010000-00011000 r-xp 00002000 fe:01 247134                             /usr/bin/cat\n");
    EXPECT_EQ(line.find('/'), 73u);
}

TEST(Maps, SixtyFourBitAddressesPadTheSameWay)
{
    MapsEntry e;
    e.start = 0x3fffdde000;
    e.end = 0x3ffffff000;
    e.r = e.w = true;
    e.path = "[stack]";
    EXPECT_EQ(format_maps_line(e),
              "3fffdde000-3ffffff000 rw-p 00000000 00:00 0                              [stack]\n");
}

TEST(Maps, LineWithoutNameEndsWithTheSpaceAfterTheInode)
{
    MapsEntry e;
    e.start = 0x7f0f6957d000;
    e.end = 0x7f0f6959f000;
    e.r = e.w = true;
    EXPECT_EQ(format_maps_line(e), "7f0f6957d000-7f0f6959f000 rw-p 00000000 00:00 0 \n");
}

TEST(Maps, PrefixLongerThanThePadGetsOneSpaceBeforeTheName)
{
    MapsEntry e;
    e.start = 0xffffffffff600000;
    e.end = 0xffffffffff601000;
    e.x = true;
    e.dev_major = 0xfe;
    e.inode = 18446744073709551615ull;
    e.path = "/x";
    EXPECT_EQ(format_maps_line(e),
              "ffffffffff600000-ffffffffff601000 --xp 00000000 fe:00 18446744073709551615  /x\n");
}

TEST(Maps, NewlineInPathIsEscapedAsOctal)
{
    MapsEntry e;
    e.start = 0x1000;
    e.end = 0x2000;
    e.r = true;
    e.inode = 5;
    e.path = "/tmp/a\nb";
    std::string line = format_maps_line(e);
    EXPECT_EQ(line.substr(73), "/tmp/a\\012b\n");
}

TEST(Maps, SharedColumnFollowsMayShareNotShared)
{
    MapsEntry e;
    set_maps_permissions(e, VM_READ | VM_MAYREAD | VM_MAYSHARE); // read-only MAP_SHARED file
    EXPECT_TRUE(e.r);
    EXPECT_FALSE(e.w);
    EXPECT_FALSE(e.x);
    EXPECT_TRUE(e.shared);
    set_maps_permissions(e, VM_READ | VM_WRITE | VM_EXEC | VM_MAYWRITE);
    EXPECT_TRUE(e.w);
    EXPECT_TRUE(e.x);
    EXPECT_FALSE(e.shared);
}

// Parses each line of a /proc/self/maps recorded from Linux and formats it again: Linux's bytes
// must come back unchanged.
TEST(Maps, ReformattingLinuxMapsGivesTheSameBytes)
{
    std::string linux_text = recorded_linux_file("maps");
    ASSERT_FALSE(linux_text.empty()) << "the recording is missing";
    int checked = 0;
    for (const std::string& line : lines_of(linux_text)) {
        unsigned long long start, end, offset, inode;
        unsigned major, minor;
        char perms[5] = {};
        int consumed = 0;
        int fields = std::sscanf(line.c_str(), "%llx-%llx %4c %llx %x:%x %llu %n", &start, &end, perms,
                                 &offset, &major, &minor, &inode, &consumed);
        ASSERT_EQ(fields, 7) << line;
        MapsEntry e;
        e.start = start;
        e.end = end;
        e.r = perms[0] == 'r';
        e.w = perms[1] == 'w';
        e.x = perms[2] == 'x';
        e.shared = perms[3] == 's';
        e.offset = offset;
        e.dev_major = major;
        e.dev_minor = minor;
        e.inode = inode;
        e.path = line.substr(static_cast<size_t>(consumed));
        EXPECT_EQ(format_maps_line(e), line + "\n");
        ++checked;
    }
    EXPECT_GT(checked, 3);
}

// ---- smaps ----------------------------------------------------------------------------------

TEST(Smaps, VmFlagsMnemonicsFollowBitOrderWithTrailingSpaces)
{
    u64 flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    EXPECT_EQ(vm_flags_mnemonics(flags), "rd wr mr mw me ac ");
    EXPECT_EQ(vm_flags_mnemonics(VM_GROWSDOWN | VM_READ), "rd gd ");
    EXPECT_EQ(vm_flags_mnemonics(VM_SHARED | VM_MAYSHARE | VM_HUGEPAGE | VM_MERGEABLE), "sh ms hg mg ");
    EXPECT_EQ(vm_flags_mnemonics(0), "");
}

TEST(Smaps, UnknownFlagBitPrintsQuestionMarks)
{
    EXPECT_EQ(vm_flags_mnemonics(VM_READ | (u64{1} << 40)), "rd ?? ");
}

TEST(Smaps, EntryMatchesLinuxLayout)
{
    MapsEntry e;
    e.start = 0x2aaaaab000;
    e.end = 0x2aaaaaf000;
    e.r = e.w = true;
    e.path = "[heap]";
    SmapsValues v;
    v.size = 16 * 1024;
    v.rss = 12 * 1024;
    v.pss = pss_share(8 * 1024, 1) + pss_share(4096, 3); // 8 kB alone, 4 kB shared by three
    v.pss_dirty = pss_share(8 * 1024, 1);
    v.shared_clean = 4096;
    v.private_dirty = 8 * 1024;
    v.referenced = 12 * 1024;
    v.anonymous = 8 * 1024;
    v.swap = 4096;
    v.swap_pss = pss_share(4096, 2);
    v.private_hugetlb = 12345678ull * 1024;
    v.thp_eligible = true;
    v.vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    const char* expected = "2aaaaab000-2aaaaaf000 rw-p 00000000 00:00 0                              [heap]\n"
                           "Size:                 16 kB\n"
                           "KernelPageSize:        4 kB\n"
                           "MMUPageSize:           4 kB\n"
                           "Rss:                  12 kB\n"
                           "Pss:                   9 kB\n"
                           "Pss_Dirty:             8 kB\n"
                           "Shared_Clean:          4 kB\n"
                           "Shared_Dirty:          0 kB\n"
                           "Private_Clean:         0 kB\n"
                           "Private_Dirty:         8 kB\n"
                           "Referenced:           12 kB\n"
                           "Anonymous:             8 kB\n"
                           "LazyFree:              0 kB\n"
                           "AnonHugePages:         0 kB\n"
                           "ShmemPmdMapped:        0 kB\n"
                           "FilePmdMapped:         0 kB\n"
                           "Shared_Hugetlb:        0 kB\n"
                           "Private_Hugetlb: 12345678 kB\n"
                           "Swap:                  4 kB\n"
                           "SwapPss:               2 kB\n"
                           "Locked:                0 kB\n"
                           "THPeligible:    1\n"
                           "VmFlags: rd wr mr mw me ac \n";
    EXPECT_EQ(format_smaps_entry(e, v), expected);
}

TEST(Smaps, PssIsTruncatedOnlyAfterSumming)
{
    SmapsValues v;
    // One page shared three ways, counted three times: 4095.99 bytes, which prints as 3 kB.
    v.pss = pss_share(4096, 3) * 3;
    std::string text = format_smaps_entry(MapsEntry{}, v);
    EXPECT_NE(text.find("\nPss:                   3 kB\n"), std::string::npos);
    v.pss = pss_share(4096, 3) * 3 + pss_share(4096, 3) * 3; // two such pages: 8191.99 bytes, 7 kB
    text = format_smaps_entry(MapsEntry{}, v);
    EXPECT_NE(text.find("\nPss:                   7 kB\n"), std::string::npos);
}

TEST(Smaps, RollupHasHeaderAndPssBreakdownButNoFlags)
{
    SmapsValues v;
    v.rss = 1696 * 1024;
    v.pss = pss_share(424 * 1024, 1);
    v.pss_dirty = pss_share(116 * 1024, 1);
    v.pss_anon = pss_share(116 * 1024, 1);
    v.pss_file = pss_share(308 * 1024, 1);
    v.shared_clean = 1484 * 1024;
    v.private_clean = 96 * 1024;
    v.private_dirty = 116 * 1024;
    v.referenced = 1696 * 1024;
    v.anonymous = 116 * 1024;
    v.thp_eligible = true;
    v.vm_flags = VM_READ;
    const char* expected =
        "55ae80d18000-7fffda149000 ---p 00000000 00:00 0                          [rollup]\n"
        "Rss:                1696 kB\n"
        "Pss:                 424 kB\n"
        "Pss_Dirty:           116 kB\n"
        "Pss_Anon:            116 kB\n"
        "Pss_File:            308 kB\n"
        "Pss_Shmem:             0 kB\n"
        "Shared_Clean:       1484 kB\n"
        "Shared_Dirty:          0 kB\n"
        "Private_Clean:        96 kB\n"
        "Private_Dirty:       116 kB\n"
        "Referenced:         1696 kB\n"
        "Anonymous:           116 kB\n"
        "LazyFree:              0 kB\n"
        "AnonHugePages:         0 kB\n"
        "ShmemPmdMapped:        0 kB\n"
        "FilePmdMapped:         0 kB\n"
        "Shared_Hugetlb:        0 kB\n"
        "Private_Hugetlb:       0 kB\n"
        "Swap:                  0 kB\n"
        "SwapPss:               0 kB\n"
        "Locked:                0 kB\n";
    EXPECT_EQ(format_smaps_rollup(0x55ae80d18000, 0x7fffda149000, v), expected);
}

TEST(Smaps, RollupOfEmptyAddressSpaceStartsAtZero)
{
    std::string text = format_smaps_rollup(0, 0, SmapsValues{});
    EXPECT_EQ(text.substr(0, text.find('\n') + 1),
              "00000000-00000000 ---p 00000000 00:00 0                                  [rollup]\n");
}

// ---- status and statm -----------------------------------------------------------------------

TEST(Status, FullTextForARootProcess)
{
    StatusValues v;
    v.name = "hello";
    v.state = TaskState::Sleeping;
    v.tgid = v.pid = v.pgid = v.sid = 42;
    v.ppid = 1;
    v.vm_peak = 3060;
    v.vm_size = 3060;
    v.vm_hwm = 1776;
    v.vm_rss = 1776;
    v.rss_anon = 116;
    v.rss_file = 1660;
    v.vm_data = 360;
    v.vm_stk = 132;
    v.vm_exe = 20;
    v.vm_lib = 1528;
    v.vm_pte = 40;
    v.sigq_limit = default_sigpending_limit(262144);
    v.sig_ign = u64{1} << 12; // SIGPIPE (13)
    v.nonvoluntary_ctxt_switches = 3;
    const char* expected = "Name:\thello\n"
                           "Umask:\t0022\n"
                           "State:\tS (sleeping)\n"
                           "Tgid:\t42\n"
                           "Ngid:\t0\n"
                           "Pid:\t42\n"
                           "PPid:\t1\n"
                           "TracerPid:\t0\n"
                           "Uid:\t0\t0\t0\t0\n"
                           "Gid:\t0\t0\t0\t0\n"
                           "FDSize:\t64\n"
                           "Groups:\t \n"
                           "NStgid:\t42\n"
                           "NSpid:\t42\n"
                           "NSpgid:\t42\n"
                           "NSsid:\t42\n"
                           "VmPeak:\t    3060 kB\n"
                           "VmSize:\t    3060 kB\n"
                           "VmLck:\t       0 kB\n"
                           "VmPin:\t       0 kB\n"
                           "VmHWM:\t    1776 kB\n"
                           "VmRSS:\t    1776 kB\n"
                           "RssAnon:\t     116 kB\n"
                           "RssFile:\t    1660 kB\n"
                           "RssShmem:\t       0 kB\n"
                           "VmData:\t     360 kB\n"
                           "VmStk:\t     132 kB\n"
                           "VmExe:\t      20 kB\n"
                           "VmLib:\t    1528 kB\n"
                           "VmPTE:\t      40 kB\n"
                           "VmSwap:\t       0 kB\n"
                           "HugetlbPages:\t       0 kB\n"
                           "CoreDumping:\t0\n"
                           "THP_enabled:\t1\n"
                           "Threads:\t1\n"
                           "SigQ:\t0/4096\n"
                           "SigPnd:\t0000000000000000\n"
                           "ShdPnd:\t0000000000000000\n"
                           "SigBlk:\t0000000000000000\n"
                           "SigIgn:\t0000000000001000\n"
                           "SigCgt:\t0000000000000000\n"
                           "CapInh:\t0000000000000000\n"
                           "CapPrm:\t000001ffffffffff\n"
                           "CapEff:\t000001ffffffffff\n"
                           "CapBnd:\t000001ffffffffff\n"
                           "CapAmb:\t0000000000000000\n"
                           "NoNewPrivs:\t0\n"
                           "Seccomp:\t0\n"
                           "Seccomp_filters:\t0\n"
                           "Speculation_Store_Bypass:\tunknown\n"
                           "SpeculationIndirectBranch:\tunsupported\n"
                           "Cpus_allowed:\t1\n"
                           "Cpus_allowed_list:\t0\n"
                           "Mems_allowed:\t1\n"
                           "Mems_allowed_list:\t0\n"
                           "voluntary_ctxt_switches:\t0\n"
                           "nonvoluntary_ctxt_switches:\t3\n";
    EXPECT_EQ(format_status(v), expected);
}

TEST(Status, TaskWithoutMmSkipsTheMemoryBlock)
{
    StatusValues v;
    v.name = "zombie";
    v.state = TaskState::Zombie;
    v.has_mm = false;
    std::string text = format_status(v);
    EXPECT_NE(text.find("State:\tZ (zombie)\n"), std::string::npos);
    EXPECT_EQ(text.find("VmRSS"), std::string::npos);
    EXPECT_EQ(text.find("THP_enabled"), std::string::npos);
    EXPECT_NE(text.find("NSsid:\t0\nThreads:\t1\n"), std::string::npos);
}

TEST(Status, GroupsKeepTheTrailingSpace)
{
    StatusValues v;
    v.groups = {100, 14, 16};
    EXPECT_NE(format_status(v).find("\nGroups:\t100 14 16 \n"), std::string::npos);
}

TEST(Status, UmaskPrintsFourOctalDigits)
{
    StatusValues v;
    v.umask = 0;
    EXPECT_NE(format_status(v).find("\nUmask:\t0000\n"), std::string::npos);
    v.umask = 0777;
    EXPECT_NE(format_status(v).find("\nUmask:\t0777\n"), std::string::npos);
    v.umask = 07;
    EXPECT_NE(format_status(v).find("\nUmask:\t0007\n"), std::string::npos);
}

TEST(Status, NameIsTruncatedToCommLengthAndEscaped)
{
    StatusValues v;
    v.name = "a_very_long_program_name";
    EXPECT_EQ(format_status(v).rfind("Name:\ta_very_long_pro\n", 0), 0u);
    v.name = "x\ny\\z";
    EXPECT_EQ(format_status(v).rfind("Name:\tx\\ny\\\\z\n", 0), 0u);
}

TEST(Status, StateTextsAreLinuxs)
{
    EXPECT_STREQ(task_state_text(TaskState::Running), "R (running)");
    EXPECT_STREQ(task_state_text(TaskState::DiskSleep), "D (disk sleep)");
    EXPECT_STREQ(task_state_text(TaskState::TracingStop), "t (tracing stop)");
    EXPECT_STREQ(task_state_text(TaskState::Dead), "X (dead)");
    EXPECT_STREQ(task_state_text(TaskState::Idle), "I (idle)");
}

TEST(Status, SigpendingLimitFollowsRamSize)
{
    EXPECT_EQ(default_sigpending_limit(262144), 4096u);   // 1 GiB
    EXPECT_EQ(default_sigpending_limit(6171024), 96422u); // about 23.5 GiB
    EXPECT_EQ(default_sigpending_limit(16), 10u);         // clamped to MIN_THREADS / 2
}

TEST(Bitmap, HexGroupsThirtyTwoBitWordsFromTheTop)
{
    EXPECT_EQ(bitmap_hex(1, 1), "1");
    EXPECT_EQ(bitmap_hex(3, 2), "3");
    EXPECT_EQ(bitmap_hex(0x5, 8), "05");
    EXPECT_EQ(bitmap_hex(1, 32), "00000001");
    EXPECT_EQ(bitmap_hex(0xffffffffffull, 40), "ff,ffffffff");
    EXPECT_EQ(bitmap_hex(1, 64), "00000000,00000001");
}

TEST(Bitmap, ListJoinsRuns)
{
    EXPECT_EQ(bitmap_list(1, 1), "0");
    EXPECT_EQ(bitmap_list(3, 2), "0-1");
    EXPECT_EQ(bitmap_list(0b1011, 8), "0-1,3");
    EXPECT_EQ(bitmap_list(0xf0f0, 16), "4-7,12-15");
    EXPECT_EQ(bitmap_list(0, 8), "");
}

TEST(Statm, SevenColumnsWithLibAndDirtyZero)
{
    EXPECT_EQ(format_statm(765, 403, 375, 5, 123), "765 403 375 5 0 123 0\n");
}

// ---- pagemap --------------------------------------------------------------------------------

TEST(Pagemap, PresentEntryCarriesPfnAndFlagBits)
{
    u64 e = pagemap_entry_present(0x12345, false, true, false);
    EXPECT_EQ(e, (u64{1} << 63) | (u64{1} << 56) | 0x12345);
    e = pagemap_entry_present(0x1, true, false, true);
    EXPECT_EQ(e, (u64{1} << 63) | (u64{1} << 61) | (u64{1} << 55) | 0x1);
    EXPECT_EQ(pagemap_hide_frame(e), (u64{1} << 63) | (u64{1} << 61) | (u64{1} << 55));
}

TEST(Pagemap, SwapEntryPacksTypeBelowOffset)
{
    u64 e = pagemap_entry_swap(2, 0x100, false);
    EXPECT_EQ(e, (u64{1} << 62) | (0x100u << 5) | 2);
    EXPECT_FALSE(e & PM_PRESENT);
    EXPECT_EQ(pagemap_entry_swap(0, 1, true), (u64{1} << 62) | (u64{1} << 55) | (1u << 5));
}

TEST(Pagemap, NoneEntryIsZeroUnlessSoftDirty)
{
    EXPECT_EQ(pagemap_entry_none(), 0u);
    EXPECT_EQ(pagemap_entry_none(true), u64{1} << 55);
}

// ---- free and vmstat ------------------------------------------------------------------------

namespace {

MeminfoValues small_machine()
{
    MeminfoValues m;
    m.mem_total = 2014504;
    m.mem_free = 123456;
    m.mem_available = 1500000;
    m.buffers = 40000;
    m.cached = 700001;
    m.shmem = 12345;
    m.sreclaimable = 60000;
    m.swap_total = 1048572;
    m.swap_free = 900000;
    return m;
}

} // namespace

TEST(Free, DefaultOutputMatchesProcps)
{
    const char* expected =
        "               total        used        free      shared  buff/cache   available\n"
        "Mem:         2014504      514504      123456       12345      800001     1500000\n"
        "Swap:        1048572      148572      900000\n";
    EXPECT_EQ(format_free(small_machine(), false), expected);
}

TEST(Free, HumanOutputMatchesProcps)
{
    const char* expected =
        "               total        used        free      shared  buff/cache   available\n"
        "Mem:           1.9Gi       502Mi       120Mi        12Mi       781Mi       1.4Gi\n"
        "Swap:          1.0Gi       145Mi       878Mi\n";
    EXPECT_EQ(format_free(small_machine(), true), expected);
}

TEST(Free, WideValuesPushColumnsRightAsProcpsDoes)
{
    MeminfoValues m;
    m.mem_total = 123456789012;
    m.mem_free = 16777217;
    m.mem_available = 33554433;
    m.buffers = 16777219;
    m.cached = 1023;
    m.sreclaimable = 1;
    m.swap_total = m.swap_free = 123456789012;
    EXPECT_EQ(format_free(m, false),
              "               total        used        free      shared  buff/cache   available\n"
              "Mem:     123456789012 123423234579    16777217           0    16778243    33554433\n"
              "Swap:    123456789012           0 123456789012\n");
    EXPECT_EQ(format_free(m, true),
              "               total        used        free      shared  buff/cache   available\n"
              "Mem:           114Ti       114Ti        16Gi          0B        16Gi        32Gi\n"
              "Swap:          114Ti          0B       114Ti\n");
}

TEST(Free, AvailableAboveTotalFallsBackToFree)
{
    MeminfoValues m;
    m.mem_total = 1000;
    m.mem_free = 400;
    m.mem_available = 5000;
    std::string text = format_free(m, false);
    EXPECT_NE(text.find("Mem:            1000         600         400"), std::string::npos);
}

TEST(Vmstat, HeaderIsProcpsTwoLines)
{
    EXPECT_EQ(format_vmstat_header(),
              "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n"
              " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n");
}

TEST(Vmstat, LineMatchesProcpsColumns)
{
    VmstatSample s;
    s.r = 1;
    s.swpd = 148572;
    s.free = 123456;
    s.buff = 40000;
    s.cache = 760001;
    s.bi = 1200;
    s.bo = 772;
    s.in = 177;
    s.cs = 298;
    s.us = 16;
    s.sy = 5;
    s.id = 78;
    EXPECT_EQ(format_vmstat_line(s),
              " 1  0 148572 123456  40000 760001    0    0  1200   772  177  298 16  5 78  0  0\n");
}

TEST(Vmstat, MemoryColumnsGoThroughAFloatAsProcpsDoes)
{
    VmstatSample s;
    s.free = 16777217;
    s.buff = 16777219;
    s.cache = 1024;
    s.r = 1;
    s.bi = 1196;
    s.bo = 770;
    s.in = 176;
    s.cs = 297;
    s.us = 16;
    s.sy = 5;
    s.id = 78;
    EXPECT_EQ(format_vmstat_line(s),
              " 1  0      0 16777216 16777220   1024    0    0  1196   770  176  297 16  5 78  0  0\n");
}

TEST(Vmstat, SinceBootAveragesOverTicks)
{
    VmstatCounters c;
    c.user = 600;
    c.nice = 0;
    c.system = 150;
    c.irq = 25;
    c.softirq = 25;
    c.idle = 3000;
    c.iowait = 200;
    // Div = 4000 ticks, hz = 100: 40 CPU-seconds.
    c.pgpgin = 4000;
    c.pgpgout = 2000;
    c.pswpin = 100; // 400 kB
    c.pswpout = 10; // 40 kB
    c.intr = 8000;
    c.ctxt = 12000;
    VmstatSample s = vmstat_since_boot(c, 100);
    EXPECT_EQ(s.bi, 100u);
    EXPECT_EQ(s.bo, 50u);
    EXPECT_EQ(s.si, 10u);
    EXPECT_EQ(s.so, 1u);
    EXPECT_EQ(s.in, 200u);
    EXPECT_EQ(s.cs, 300u);
    EXPECT_EQ(s.us, 15u);
    EXPECT_EQ(s.sy, 5u);
    EXPECT_EQ(s.id, 75u);
    EXPECT_EQ(s.wa, 5u);
    EXPECT_EQ(s.st, 0u);
}

TEST(Vmstat, IntervalRatesRoundToNearest)
{
    VmstatCounters a;
    VmstatCounters b;
    b.pgpgin = 5;  // 5 kB over 2 s: (5 + 1) / 2 = 3
    b.pswpout = 1; // 4 kB over 2 s: 2
    b.ctxt = 3;    // (3 + 1) / 2 = 2
    b.user = 50;
    b.idle = 150;
    VmstatSample s = vmstat_interval(a, b, 2);
    EXPECT_EQ(s.bi, 3u);
    EXPECT_EQ(s.so, 2u);
    EXPECT_EQ(s.cs, 2u);
    EXPECT_EQ(s.us, 25u);
    EXPECT_EQ(s.id, 75u);
}

TEST(Vmstat, NoTicksCountsAsIdle)
{
    VmstatSample s = vmstat_interval(VmstatCounters{}, VmstatCounters{}, 1);
    EXPECT_EQ(s.id, 100u);
    EXPECT_EQ(s.us, 0u);
}
