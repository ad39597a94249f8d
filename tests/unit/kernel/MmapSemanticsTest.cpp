// The memory calls' Linux semantics, checked one behaviour at a time: the errno of malformed
// calls (as tests/parity/mmap_errno.c shows them on the host kernel), how VMAs split and merge,
// the /proc views (maps, smaps, statm, status, meminfo, pagemap), overcommit accounting, page
// table freeing, MAP_POPULATE, stack growth, drop_caches and truncation of a mapped file.
#include "KernelFixture.h"

#include <fcntl.h>
#include <sstream>

#include "kernel/ProcFormat.h"

namespace kioku::test {

namespace {

constexpr u64 PG = PAGE_SIZE;
constexpr int RW = PROT_READ_ | PROT_WRITE_;
constexpr int ANON = MAP_PRIVATE_ | MAP_ANONYMOUS_;
constexpr u64 FIXED_AREA = 0x3000'0000; // a quiet place for MAP_FIXED layouts

template <typename T>
std::string errno_of(const Result<T>& r)
{
    if (!r.is_error())
        return "OK";
    switch (r.error().code) {
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "E" + std::to_string(r.error().code);
    }
}

} // namespace

class MmapSemantics : public KernelTest {
  protected:
    void SetUp() override
    {
        KernelTest::SetUp();
        pid = kernel->spawn("t").value();
    }

    // The lines of /proc/PID/maps that overlap [start, end).
    std::vector<std::string> maps_in(Pid who, u64 start, u64 end)
    {
        std::vector<std::string> out;
        std::istringstream in(kernel->read_proc(who, "/proc/self/maps").value());
        std::string line;
        while (std::getline(in, line)) {
            u64 lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
            u64 hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
            if (lo < end && hi > start)
                out.push_back(line);
        }
        return out;
    }

    std::string perms_in(Pid who, u64 start, u64 end)
    {
        std::string out;
        for (auto& line : maps_in(who, start, end))
            out += (out.empty() ? "" : ",") + line.substr(line.find(' ') + 1, 4);
        return out;
    }

    // A "Name:   N kB" field of the smaps entry that contains addr.
    u64 smaps_kb(Pid who, u64 addr, const std::string& field)
    {
        std::istringstream in(kernel->read_proc(who, "/proc/self/smaps").value());
        std::string line;
        bool inside = false;
        while (std::getline(in, line)) {
            if (line.find('-') != std::string::npos && std::isxdigit(static_cast<unsigned char>(line[0])) &&
                line.find(':') > line.find(' ')) {
                u64 lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
                u64 hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
                inside = addr >= lo && addr < hi;
                continue;
            }
            if (inside && line.rfind(field + ":", 0) == 0)
                return std::stoull(line.substr(field.size() + 1));
        }
        return ~u64{0};
    }

    u64 meminfo_kb(const std::string& field)
    {
        auto text = kernel->read_proc(pid, "/proc/meminfo").value();
        auto at = text.find("\n" + field + ":");
        if (text.rfind(field + ":", 0) == 0)
            at = 0;
        else if (at != std::string::npos)
            ++at;
        EXPECT_NE(at, std::string::npos) << field;
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + field.size() + 1));
    }

    std::vector<u64> statm(Pid who)
    {
        std::istringstream in(kernel->read_proc(who, "/proc/self/statm").value());
        std::vector<u64> out;
        u64 v;
        while (in >> v)
            out.push_back(v);
        return out;
    }

    u64 map_fixed(u64 addr, u64 len, int prot = RW, int flags = ANON, int fd = -1, u64 off = 0)
    {
        auto r = kernel->mmap(pid, addr, len, prot, flags | MAP_FIXED_, fd, off);
        EXPECT_FALSE(r.is_error()) << errno_of(r);
        return r.is_error() ? 0 : r.value();
    }

    int make_file(const std::string& path, u64 pages, int flags = O_RDWR)
    {
        std::vector<u8> contents(pages * PG);
        for (u64 i = 0; i < contents.size(); ++i)
            contents[i] = static_cast<u8>(i / PG + 1);
        EXPECT_FALSE(kernel->create_file(path, contents).is_error());
        return kernel->open(pid, path, flags).value();
    }

    u8 load(Pid who, u64 addr, AccessOutcome* outcome = nullptr)
    {
        u8 b = 0;
        auto out = kernel->read_memory(who, addr, {&b, 1});
        if (outcome)
            *outcome = out;
        else
            EXPECT_TRUE(out.ok()) << "load at 0x" << std::hex << addr;
        return b;
    }

    AccessOutcome store(Pid who, u64 addr, u8 value) { return kernel->write_memory(who, addr, {&value, 1}); }

    Pid pid = 0;
};

// ---- errno table (tests/parity/mmap_errno.c, native column) ----

TEST_F(MmapSemantics, MmapErrnoTableMatchesLinux)
{
    int ro = make_file("/f", 4, O_RDONLY);
    u64 mapped = map_anon(pid, 4 * PG);
    u64 gone = map_anon(pid, PG);
    ASSERT_FALSE(kernel->munmap(pid, gone, PG).is_error());
    auto mm = [&](u64 addr, u64 len, int prot, int flags, int fd, u64 off) {
        auto r = kernel->mmap(pid, addr, len, prot, flags, fd, off);
        if (!r.is_error()) {
            EXPECT_FALSE(kernel->munmap(pid, r.value(), len).is_error());
        }
        return errno_of(r);
    };
    EXPECT_EQ(mm(0, 0, RW, ANON, -1, 0), "EINVAL");
    EXPECT_EQ(mm(mapped + 1, PG, RW, ANON | MAP_FIXED_, -1, 0), "EINVAL");
    EXPECT_EQ(mm(0, PG, RW, MAP_ANONYMOUS_, -1, 0), "EINVAL");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_ | MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0), "EINVAL");
    EXPECT_EQ(mm(0, PG, PROT_READ_, MAP_PRIVATE_, 999, 0), "EBADF");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_, ro, 0), "EACCES");
    EXPECT_EQ(mm(0, PG, RW, MAP_PRIVATE_, ro, 0), "OK");
    EXPECT_EQ(mm(0, PG, PROT_READ_, MAP_PRIVATE_, ro, 100), "EINVAL");
    EXPECT_EQ(mm(0, u64{1} << 60, RW, ANON, -1, 0), "ENOMEM");
    EXPECT_EQ(mm(0, ~u64{0} - 10, RW, ANON, -1, 0), "ENOMEM");
    EXPECT_EQ(mm(mapped + PG, PG, RW, ANON | MAP_FIXED_NOREPLACE_, -1, 0), "EEXIST");
    EXPECT_EQ(mm(gone, PG, RW, ANON | MAP_FIXED_NOREPLACE_, -1, 0), "OK");
}

TEST_F(MmapSemantics, MmapOfADirectoryIsEnodev)
{
    int fd = kernel->open(pid, "/tmp", O_RDONLY | O_DIRECTORY).value();
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, PG, PROT_READ_, MAP_PRIVATE_, fd, 0)), "ENODEV");
}

TEST_F(MmapSemantics, MmapFlagValidationMatchesLinux)
{
    // Measured on the host (Linux 6.18): MAP_SHARED_VALIDATE rejects flags a file does not
    // support, is not a type for anonymous memory, and O_APPEND does not forbid a shared
    // writable mapping.
    int fd = make_file("/v", 4);
    int wo = kernel->open(pid, "/v", O_WRONLY).value();
    int app = kernel->open(pid, "/v", O_RDWR | O_APPEND).value();
    auto mm = [&](u64 addr, u64 len, int prot, int flags, int f, u64 off) {
        return errno_of(kernel->mmap(pid, addr, len, prot, flags, f, off));
    };
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_VALIDATE_ | MAP_SYNC_, fd, 0), "EOPNOTSUPP");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_VALIDATE_ | 0x800000, fd, 0), "EOPNOTSUPP");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_ | 0x800000, fd, 0), "OK");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_VALIDATE_, fd, 0), "OK");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_VALIDATE_ | MAP_ANONYMOUS_, -1, 0), "EINVAL");
    EXPECT_EQ(mm(0, PG, PROT_READ_, MAP_SHARED_ | MAP_ANONYMOUS_ | MAP_GROWSDOWN_, -1, 0), "EINVAL");
    EXPECT_EQ(mm(0, PG, PROT_READ_, MAP_PRIVATE_ | MAP_GROWSDOWN_, fd, 0), "EINVAL");
    EXPECT_EQ(mm(0, 2 * PG, PROT_READ_, MAP_PRIVATE_, fd, 0x7fff'ffff'ffff'f000), "EOVERFLOW");
    EXPECT_EQ(mm(0, PG, PROT_READ_, MAP_SHARED_, fd, 100 * PG), "OK");
    EXPECT_EQ(mm(0, PG, PROT_WRITE_, MAP_SHARED_, wo, 0), "EACCES");
    EXPECT_EQ(mm(0, PG, RW, MAP_SHARED_, app, 0), "OK");
    u64 a = map_anon(pid, 4 * PG);
    EXPECT_EQ(mm(a + 2 * PG, 4 * PG, PROT_READ_, ANON | MAP_FIXED_NOREPLACE_, -1, 0), "EEXIST");
}

TEST_F(MmapSemantics, MunmapMprotectMsyncErrnoMatchLinux)
{
    int ro = make_file("/f", 4, O_RDONLY);
    u64 mapped = map_anon(pid, 4 * PG);
    u64 gone = map_anon(pid, PG);
    ASSERT_FALSE(kernel->munmap(pid, gone, PG).is_error());
    EXPECT_EQ(errno_of(kernel->munmap(pid, mapped + 1, PG)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->munmap(pid, mapped, 0)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->munmap(pid, gone, PG)), "OK");
    EXPECT_EQ(errno_of(kernel->munmap(pid, mapped, ~u64{0} - 4095)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->munmap(pid, u64{1} << 47, PG)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, gone, PG, PROT_READ_)), "ENOMEM");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, mapped + 1, PG, PROT_READ_)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, mapped, PG, 0x100)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, mapped, PG, PROT_READ_ | 0x8)), "OK"); // PROT_SEM
    EXPECT_EQ(errno_of(kernel->mprotect(pid, gone, 0, PROT_READ_)), "OK");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, mapped, ~u64{0} - 4095, PROT_READ_)), "ENOMEM");
    EXPECT_EQ(errno_of(kernel->msync(pid, mapped + 1, PG, MS_SYNC_)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->msync(pid, mapped, PG, MS_SYNC_ | MS_ASYNC_)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->msync(pid, mapped, PG, 8)), "EINVAL");
    EXPECT_EQ(errno_of(kernel->msync(pid, gone, PG, MS_SYNC_)), "ENOMEM");
    EXPECT_EQ(errno_of(kernel->msync(pid, gone, 0, MS_SYNC_)), "OK");
    EXPECT_EQ(errno_of(kernel->msync(pid, mapped, PG, MS_INVALIDATE_)), "OK");
    EXPECT_EQ(errno_of(kernel->msync(pid, mapped, PG, MS_SYNC_)), "OK");
    u64 shared_ro = kernel->mmap(pid, 0, PG, PROT_READ_, MAP_SHARED_, ro, 0).value();
    EXPECT_EQ(errno_of(kernel->mprotect(pid, shared_ro, PG, RW)), "EACCES");
    u64 private_ro = kernel->mmap(pid, 0, PG, PROT_READ_, MAP_PRIVATE_, ro, 0).value();
    EXPECT_EQ(errno_of(kernel->mprotect(pid, private_ro, PG, RW)), "OK");
}

TEST_F(MmapSemantics, MprotectStopsAtAHoleAfterChangingWhatCameBefore)
{
    u64 a = map_fixed(FIXED_AREA, 2 * PG);
    map_fixed(FIXED_AREA + 3 * PG, PG);
    EXPECT_EQ(errno_of(kernel->mprotect(pid, a, 4 * PG, PROT_READ_)), "ENOMEM");
    EXPECT_EQ(perms_in(pid, a, a + 4 * PG), "r--p,rw-p");
}

TEST_F(MmapSemantics, MprotectAcrossVmasThatMergeOnTheWay)
{
    // Changing the first VMA makes it merge with the second; the walk must go on from there.
    u64 a = map_fixed(FIXED_AREA, 2 * PG, PROT_READ_);
    map_fixed(FIXED_AREA + 2 * PG, 2 * PG, RW);
    map_fixed(FIXED_AREA + 4 * PG, 2 * PG, PROT_READ_);
    ASSERT_EQ(perms_in(pid, a, a + 6 * PG), "r--p,rw-p,r--p");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, a, 6 * PG, RW)), "OK");
    EXPECT_EQ(perms_in(pid, a, a + 6 * PG), "rw-p");
    EXPECT_EQ(errno_of(kernel->mprotect(pid, a + PG, 4 * PG, PROT_READ_)), "OK");
    EXPECT_EQ(perms_in(pid, a, a + 6 * PG), "rw-p,r--p,rw-p");
}

TEST_F(MmapSemantics, BrkFollowsLinux)
{
    u64 start = kernel->brk(pid, 0);
    EXPECT_EQ(kernel->brk(pid, start + 4 * PG), start + 4 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, start, 4 * PG, 1).ok());
    EXPECT_EQ(kernel->brk(pid, start + 2 * PG), start + 2 * PG);
    AccessOutcome out;
    load(pid, start + 2 * PG, &out);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Segv);
    pid = kernel->spawn("t2").value();
    EXPECT_EQ(kernel->brk(pid, start + (u64{1} << 46)), start);
    EXPECT_EQ(kernel->brk(pid, PG), start);
    EXPECT_EQ(kernel->brk(pid, start + 100), start + 100);
    EXPECT_EQ(perms_in(pid, start, start + PG), "rw-p");
    EXPECT_EQ(kernel->brk(pid, start), start);
    EXPECT_EQ(perms_in(pid, start, start + PG), "");
}

TEST_F(MmapSemantics, BrkShrinkIntoAnUnmappedHeapKeepsTheBreak)
{
    // Measured on Linux 6.18: with [newbrk, oldbrk) already unmapped, brk refuses to shrink.
    u64 start = kernel->brk(pid, 0);
    ASSERT_EQ(kernel->brk(pid, start + 8 * PG), start + 8 * PG);
    ASSERT_FALSE(kernel->munmap(pid, start + 4 * PG, 4 * PG).is_error());
    EXPECT_EQ(kernel->brk(pid, start + 5 * PG + 100), start + 8 * PG);
    EXPECT_EQ(kernel->brk(pid, start + 2 * PG), start + 2 * PG);
}

TEST_F(MmapSemantics, BrkRefusesToGrowIntoAMapping)
{
    u64 start = kernel->brk(pid, 0);
    map_fixed(start + 4 * PG, PG);
    // The new break must leave a page free below the next mapping.
    EXPECT_EQ(kernel->brk(pid, start + 4 * PG), start);
    EXPECT_EQ(kernel->brk(pid, start + 3 * PG + 1), start);
    EXPECT_EQ(kernel->brk(pid, start + 3 * PG), start + 3 * PG);
}

// ---- VMA shapes ----

TEST_F(MmapSemantics, AdjacentAnonymousMappingsMerge)
{
    map_fixed(FIXED_AREA, 2 * PG);
    map_fixed(FIXED_AREA + 2 * PG, 3 * PG);
    EXPECT_EQ(maps_in(pid, FIXED_AREA, FIXED_AREA + 5 * PG).size(), 1u);
    // A different protection does not merge.
    map_fixed(FIXED_AREA + 5 * PG, PG, PROT_READ_);
    EXPECT_EQ(perms_in(pid, FIXED_AREA, FIXED_AREA + 6 * PG), "rw-p,r--p");
}

TEST_F(MmapSemantics, FileMappingsMergeOnlyWithContiguousOffsets)
{
    int fd = make_file("/m", 16);
    map_fixed(FIXED_AREA, 2 * PG, PROT_READ_, MAP_PRIVATE_, fd, 0);
    map_fixed(FIXED_AREA + 2 * PG, 2 * PG, PROT_READ_, MAP_PRIVATE_, fd, 2 * PG);
    EXPECT_EQ(maps_in(pid, FIXED_AREA, FIXED_AREA + 4 * PG).size(), 1u);
    map_fixed(FIXED_AREA + 4 * PG, 2 * PG, PROT_READ_, MAP_PRIVATE_, fd, 8 * PG);
    auto lines = maps_in(pid, FIXED_AREA, FIXED_AREA + 6 * PG);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find(" 00008000 "), std::string::npos) << lines[1];
    // Shared and private mappings of the same file never merge.
    map_fixed(FIXED_AREA + 6 * PG, 2 * PG, PROT_READ_, MAP_SHARED_, fd, 10 * PG);
    EXPECT_EQ(perms_in(pid, FIXED_AREA, FIXED_AREA + 8 * PG), "r--p,r--p,r--s");
}

TEST_F(MmapSemantics, MprotectSplitsIntoThreeAndMergesBack)
{
    u64 a = map_fixed(FIXED_AREA, 8 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 8 * PG, 7).ok());
    ASSERT_FALSE(kernel->mprotect(pid, a + 3 * PG, 2 * PG, PROT_READ_).is_error());
    EXPECT_EQ(perms_in(pid, a, a + 8 * PG), "rw-p,r--p,rw-p");
    ASSERT_FALSE(kernel->mprotect(pid, a + 3 * PG, 2 * PG, RW).is_error());
    EXPECT_EQ(perms_in(pid, a, a + 8 * PG), "rw-p");
    ASSERT_FALSE(kernel->mprotect(pid, a + 4 * PG, 4 * PG, PROT_NONE_).is_error());
    EXPECT_EQ(perms_in(pid, a, a + 8 * PG), "rw-p,---p");
    EXPECT_EQ(load(pid, a + 2 * PG), 7);
}

TEST_F(MmapSemantics, MunmapOfAMiddlePageLeavesTwoAndRefillingMerges)
{
    u64 a = map_fixed(FIXED_AREA, 8 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 8 * PG, 9).ok());
    ASSERT_FALSE(kernel->munmap(pid, a + 3 * PG, PG).is_error());
    EXPECT_EQ(perms_in(pid, a, a + 8 * PG), "rw-p,rw-p");
    map_fixed(a + 3 * PG, PG);
    EXPECT_EQ(perms_in(pid, a, a + 8 * PG), "rw-p");
    EXPECT_EQ(load(pid, a + 2 * PG), 9);
    EXPECT_EQ(load(pid, a + 3 * PG), 0);
    EXPECT_EQ(load(pid, a + 4 * PG), 9);
}

TEST_F(MmapSemantics, MapFixedOverPartOfAMappingReplacesIt)
{
    u64 a = map_fixed(FIXED_AREA, 4 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 4 * PG, 5).ok());
    u64 rss = status_kb(pid, "RssAnon");
    map_fixed(a + PG, 2 * PG, PROT_READ_);
    EXPECT_EQ(perms_in(pid, a, a + 4 * PG), "rw-p,r--p,rw-p");
    EXPECT_EQ(load(pid, a + PG), 0);
    EXPECT_EQ(load(pid, a + 3 * PG), 5);
    EXPECT_EQ(status_kb(pid, "RssAnon"), rss - 8);
}

// ---- /proc text ----

TEST_F(MmapSemantics, MapsNamesHeapStackAndFiles)
{
    u64 start = kernel->brk(pid, 0);
    kernel->brk(pid, start + 2 * PG);
    auto heap = maps_in(pid, start, start + PG);
    ASSERT_EQ(heap.size(), 1u);
    EXPECT_NE(heap[0].find("rw-p 00000000 00:00 0"), std::string::npos) << heap[0];
    EXPECT_EQ(heap[0].substr(heap[0].size() - 7), " [heap]");
    u64 top = kernel->process(pid)->space().task_size();
    auto stack = maps_in(pid, top - PG, top);
    ASSERT_EQ(stack.size(), 1u);
    EXPECT_EQ(stack[0].substr(stack[0].size() - 8), " [stack]");
    int fd = make_file("/tmp/file.bin", 8);
    u64 f = kernel->mmap(pid, 0, 2 * PG, PROT_READ_, MAP_SHARED_, fd, 3 * PG).value();
    auto line = maps_in(pid, f, f + PG);
    ASSERT_EQ(line.size(), 1u);
    EXPECT_NE(line[0].find(" r--s 00003000 "), std::string::npos) << line[0];
    EXPECT_EQ(line[0].substr(line[0].size() - 14), " /tmp/file.bin");
    u64 shm = map_anon(pid, PG, RW, MAP_SHARED_);
    line = maps_in(pid, shm, shm + PG);
    ASSERT_EQ(line.size(), 1u);
    EXPECT_NE(line[0].find(" rw-s 00000000 00:01 "), std::string::npos) << line[0];
    EXPECT_EQ(line[0].substr(line[0].size() - 20), " /dev/zero (deleted)");
}

TEST_F(MmapSemantics, SmapsAfterForkHalvesPssAndSharesDirtyPages)
{
    // tests/parity/smaps_fields.c: 32 pages, 20 written, 5 read, 7 untouched.
    u64 a = map_anon(pid, 32 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 20 * PG, 3).ok());
    std::vector<u8> sink(5 * PG);
    ASSERT_TRUE(kernel->read_memory(pid, a + 20 * PG, sink).ok());
    EXPECT_EQ(smaps_kb(pid, a, "Size"), 128u);
    EXPECT_EQ(smaps_kb(pid, a, "Rss"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Pss"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Private_Dirty"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Anonymous"), 80u);
    Pid child = kernel->fork(pid).value();
    EXPECT_EQ(smaps_kb(pid, a, "Rss"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Pss"), 40u);
    EXPECT_EQ(smaps_kb(pid, a, "Shared_Dirty"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Private_Dirty"), 0u);
    EXPECT_EQ(smaps_kb(child, a, "Pss"), 40u);
    ASSERT_FALSE(kernel->exit(child, 0).is_error());
    EXPECT_EQ(smaps_kb(pid, a, "Pss"), 80u);
    EXPECT_EQ(smaps_kb(pid, a, "Shared_Dirty"), 0u);
    EXPECT_EQ(smaps_kb(pid, a, "Private_Dirty"), 80u);
}

TEST_F(MmapSemantics, StatmAgreesWithStatus)
{
    map_anon(pid, 16 * PG);
    u64 a = map_anon(pid, 8 * PG);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 8 * PG, 1).ok());
    int fd = make_file("/s", 8);
    u64 f = kernel->mmap(pid, 0, 8 * PG, PROT_READ_, MAP_PRIVATE_, fd, 0).value();
    load(pid, f);
    u64 shm = map_anon(pid, 4 * PG, RW, MAP_SHARED_);
    ASSERT_TRUE(kernel->fill_memory(pid, shm, 4 * PG, 1).ok());
    auto m = statm(pid);
    ASSERT_EQ(m.size(), 7u);
    EXPECT_EQ(m[0] * 4, status_kb(pid, "VmSize"));
    EXPECT_EQ(m[1] * 4, status_kb(pid, "VmRSS"));
    EXPECT_EQ(m[2] * 4, status_kb(pid, "RssFile") + status_kb(pid, "RssShmem"));
    EXPECT_EQ(m[5] * 4, status_kb(pid, "VmData") + status_kb(pid, "VmStk"));
    EXPECT_EQ(status_kb(pid, "VmRSS"),
              status_kb(pid, "RssAnon") + status_kb(pid, "RssFile") + status_kb(pid, "RssShmem"));
    EXPECT_EQ(status_kb(pid, "RssAnon"), 32u);
    EXPECT_EQ(status_kb(pid, "RssFile"), 32u); // fault-around mapped the whole 8-page file
    EXPECT_EQ(status_kb(pid, "RssShmem"), 16u);
}

// ---- overcommit ----

TEST_F(MmapSemantics, CommittedAsCountsPrivateWritableMemoryOnly)
{
    int fd = make_file("/c", 16);
    u64 base = meminfo_kb("Committed_AS");
    u64 priv = map_anon(pid, 64 * PG);
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 256u);
    u64 ro = map_anon(pid, 64 * PG, PROT_READ_);
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 256u);
    u64 noreserve = kernel->mmap(pid, 0, 64 * PG, RW, ANON | MAP_NORESERVE_, -1, 0).value();
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 256u);
    u64 shared_file = kernel->mmap(pid, 0, 16 * PG, RW, MAP_SHARED_, fd, 0).value();
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 256u);
    u64 private_file = kernel->mmap(pid, 0, 16 * PG, RW, MAP_PRIVATE_, fd, 0).value();
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 320u);
    // Shared anonymous memory is shmem, charged for its whole size.
    u64 shm = map_anon(pid, 16 * PG, RW, MAP_SHARED_);
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 384u);
    // Making read-only private memory writable charges it then.
    ASSERT_FALSE(kernel->mprotect(pid, ro, 64 * PG, RW).is_error());
    EXPECT_EQ(meminfo_kb("Committed_AS") - base, 640u);
    std::vector<std::pair<u64, u64>> all = {{priv, 64},        {ro, 64},           {noreserve, 64},
                                            {shared_file, 16}, {private_file, 16}, {shm, 16}};
    for (auto [addr, len] : all)
        ASSERT_FALSE(kernel->munmap(pid, addr, len * PG).is_error());
    EXPECT_EQ(meminfo_kb("Committed_AS"), base);
}

TEST_F(MmapSemantics, StrictOvercommitRefusesATooLargeMapping)
{
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/overcommit_memory", "2").is_error());
    u64 limit_kb = meminfo_kb("CommitLimit");
    u64 committed_kb = meminfo_kb("Committed_AS");
    auto big = kernel->mmap(pid, 0, (limit_kb - committed_kb + 1024) * 1024, RW, ANON, -1, 0);
    EXPECT_EQ(errno_of(big), "ENOMEM");
    EXPECT_EQ(meminfo_kb("Committed_AS"), committed_kb);
    // Read-only and MAP_NORESERVE are not charged; under mode 2 MAP_NORESERVE is ignored.
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, (limit_kb + 1024) * 1024, PROT_READ_, ANON, -1, 0)), "OK");
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, (limit_kb + 1024) * 1024, RW, ANON | MAP_NORESERVE_, -1, 0)),
              "ENOMEM");
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, 64 * PG, RW, ANON, -1, 0)), "OK");
    // Back to the heuristic: only a request larger than RAM and swap together is refused.
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/overcommit_memory", "0").is_error());
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, u64{32} << 20, RW, ANON, -1, 0)), "OK");
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, u64{1} << 30, RW, ANON, -1, 0)), "ENOMEM");
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/overcommit_memory", "1").is_error());
    EXPECT_EQ(errno_of(kernel->mmap(pid, 0, u64{1} << 30, RW, ANON, -1, 0)), "OK");
}

// ---- page tables, populate, stack ----

TEST_F(MmapSemantics, PageTablesAreFreedAfterMunmap)
{
    u64 tables = meminfo_kb("PageTables");
    u64 vmpte = status_kb(pid, "VmPTE");
    // 1 GiB-aligned, far from everything: touching it needs fresh tables at every level.
    u64 far = 0x40'0000'0000;
    map_fixed(far, 8 * PG);
    map_fixed(far + (u64{4} << 20), PG);
    ASSERT_TRUE(kernel->fill_memory(pid, far, 8 * PG, 1).ok());
    ASSERT_TRUE(kernel->fill_memory(pid, far + (u64{4} << 20), PG, 1).ok());
    EXPECT_EQ(meminfo_kb("PageTables") - tables, 16u); // one PUD, one PMD, two PTE tables
    EXPECT_EQ(status_kb(pid, "VmPTE") - vmpte, 16u);
    ASSERT_FALSE(kernel->munmap(pid, far, 8 * PG).is_error());
    EXPECT_EQ(meminfo_kb("PageTables") - tables, 12u); // the other range keeps its tables
    ASSERT_FALSE(kernel->munmap(pid, far + (u64{4} << 20), PG).is_error());
    EXPECT_EQ(meminfo_kb("PageTables"), tables);
    EXPECT_EQ(status_kb(pid, "VmPTE"), vmpte);
}

TEST_F(MmapSemantics, MapPopulateFaultsEverythingIn)
{
    u64 before = minflt(pid);
    u64 rss = status_kb(pid, "VmRSS");
    u64 a = kernel->mmap(pid, 0, 32 * PG, RW, ANON | MAP_POPULATE_, -1, 0).value();
    EXPECT_EQ(minflt(pid) - before, 32u);
    EXPECT_EQ(status_kb(pid, "VmRSS") - rss, 128u);
    ASSERT_TRUE(kernel->fill_memory(pid, a, 32 * PG, 1).ok());
    EXPECT_EQ(minflt(pid) - before, 32u);
    // MAP_NONBLOCK turns population off.
    kernel->mmap(pid, 0, 8 * PG, RW, ANON | MAP_POPULATE_ | MAP_NONBLOCK_, -1, 0).value();
    EXPECT_EQ(minflt(pid) - before, 32u);
    // A read-only private file mapping is populated from the page cache, not copied.
    int fd = make_file("/p", 4);
    u64 anon = status_kb(pid, "RssAnon");
    kernel->mmap(pid, 0, 4 * PG, PROT_READ_, MAP_PRIVATE_ | MAP_POPULATE_, fd, 0).value();
    EXPECT_EQ(status_kb(pid, "RssAnon"), anon);
    EXPECT_EQ(status_kb(pid, "RssFile"), 16u);
}

TEST_F(MmapSemantics, MapLockedPopulatesAndIsNotInheritedByFork)
{
    u64 before = minflt(pid);
    u64 a = kernel->mmap(pid, 0, 16 * PG, RW, ANON | MAP_LOCKED_, -1, 0).value();
    EXPECT_EQ(minflt(pid) - before, 16u);
    EXPECT_EQ(status_kb(pid, "VmLck"), 64u);
    EXPECT_EQ(smaps_kb(pid, a, "Locked"), 64u);
    Pid child = kernel->fork(pid).value();
    EXPECT_EQ(status_kb(child, "VmLck"), 0u);
    EXPECT_EQ(smaps_kb(child, a, "Locked"), 0u);
    EXPECT_EQ(status_kb(pid, "VmLck"), 64u);
}

TEST_F(MmapSemantics, StackGrowsDownOnAccessBelowIt)
{
    AddressSpace& space = kernel->process(pid)->space();
    Vma* stack = space.vma_containing(VirtAddr(space.task_size() - PG));
    ASSERT_NE(stack, nullptr);
    u64 low = stack->start.value();
    u64 size_kb = status_kb(pid, "VmStk");
    ASSERT_TRUE(store(pid, low - 10 * PG + 8, 1).ok());
    EXPECT_EQ(space.vma_containing(VirtAddr(space.task_size() - PG))->start.value(), low - 10 * PG);
    EXPECT_EQ(status_kb(pid, "VmStk"), size_kb + 40);
    auto line = maps_in(pid, low - 10 * PG, low - 9 * PG);
    ASSERT_EQ(line.size(), 1u);
    EXPECT_EQ(line[0].substr(line[0].size() - 8), " [stack]");
    // Beyond the 8 MiB stack limit the access is a plain SIGSEGV.
    auto out = store(pid, space.task_size() - (u64{9} << 20), 1);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Segv);
    EXPECT_EQ(out.si_code, 1);
}

TEST_F(MmapSemantics, StackDoesNotGrowIntoTheGuardGapOfAMapping)
{
    AddressSpace& space = kernel->process(pid)->space();
    u64 low = space.vma_containing(VirtAddr(space.task_size() - PG))->start.value();
    // A mapping 2 MiB below the stack: within the 1 MiB guard gap of any growth past 1 MiB.
    map_fixed(low - (u64{2} << 20) - PG, PG);
    ASSERT_TRUE(store(pid, low - (u64{512} << 10), 1).ok());
    auto out = store(pid, low - (u64{1} << 20) - 64 * PG, 1);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Segv);
}

// ---- pagemap ----

TEST_F(MmapSemantics, PagemapBitsFollowLinux)
{
    u64 a = map_anon(pid, 4 * PG);
    load(pid, a + PG);
    ASSERT_TRUE(store(pid, a, 1).ok());
    u64 shm = map_anon(pid, PG, RW, MAP_SHARED_);
    ASSERT_TRUE(store(pid, shm, 1).ok());
    auto pm = kernel->pagemap(pid, a, 3).value();
    // Never touched: not present; the new VMA is soft-dirty.
    EXPECT_EQ(pm[2] & (PM_PRESENT | PM_FILE | PM_MMAP_EXCLUSIVE), 0u);
    EXPECT_TRUE(pm[2] & PM_SOFT_DIRTY);
    // Written: present, exclusive, anonymous.
    EXPECT_TRUE(pm[0] & PM_PRESENT);
    EXPECT_TRUE(pm[0] & PM_MMAP_EXCLUSIVE);
    EXPECT_FALSE(pm[0] & PM_FILE);
    EXPECT_NE(pm[0] & PM_PFRAME_MASK, 0u);
    // Read only: the zero page, present but neither exclusive nor file.
    EXPECT_TRUE(pm[1] & PM_PRESENT);
    EXPECT_EQ(pm[1] & (PM_MMAP_EXCLUSIVE | PM_FILE), 0u);
    auto spm = kernel->pagemap(pid, shm, 1).value();
    EXPECT_TRUE(spm[0] & PM_PRESENT);
    EXPECT_TRUE(spm[0] & PM_FILE);
    EXPECT_TRUE(spm[0] & PM_MMAP_EXCLUSIVE);
    Pid child = kernel->fork(pid).value();
    EXPECT_FALSE(kernel->pagemap(pid, a, 1).value()[0] & PM_MMAP_EXCLUSIVE);
    EXPECT_FALSE(kernel->pagemap(child, a, 1).value()[0] & PM_MMAP_EXCLUSIVE);
    ASSERT_FALSE(kernel->exit(child, 0).is_error());
    EXPECT_TRUE(kernel->pagemap(pid, a, 1).value()[0] & PM_MMAP_EXCLUSIVE);
    // Outside every VMA: nothing at all.
    ASSERT_FALSE(kernel->munmap(pid, a + 3 * PG, PG).is_error());
    EXPECT_EQ(kernel->pagemap(pid, a + 3 * PG, 1).value()[0], 0u);
}

// ---- page cache ----

TEST_F(MmapSemantics, DropCachesDropsCleanUnmappedPages)
{
    int fd = make_file("/dc", 32);
    u64 buf = map_anon(pid, 32 * PG);
    u64 cached = meminfo_kb("Cached");
    ASSERT_EQ(kernel->pread(pid, fd, buf, 32 * PG, 0).value(), 32 * PG);
    EXPECT_EQ(meminfo_kb("Cached") - cached, 128u);
    // Map and touch 16 of them (one fault-around window), dirty 1 more through write().
    u64 f = map_fixed(FIXED_AREA, 16 * PG, PROT_READ_, MAP_SHARED_, fd, 0);
    load(pid, f);
    ASSERT_EQ(kernel->pwrite(pid, fd, buf, 10, 20 * PG).value(), 10u);
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/drop_caches", "1").is_error());
    EXPECT_EQ(meminfo_kb("Cached") - cached, 68u);
    EXPECT_EQ(meminfo_kb("Dirty"), 4u);
    // Data is still right afterwards: read back from the file.
    ASSERT_EQ(kernel->pread(pid, fd, buf, PG, 30 * PG).value(), PG);
    EXPECT_EQ(load(pid, buf), 31);
}

TEST_F(MmapSemantics, FtruncateShrinkingAMappedFileGivesSigbusBeyondTheEnd)
{
    int fd = make_file("/t", 8);
    u64 shared = kernel->mmap(pid, 0, 8 * PG, RW, MAP_SHARED_, fd, 0).value();
    u64 priv = kernel->mmap(pid, 0, 8 * PG, RW, MAP_PRIVATE_, fd, 0).value();
    EXPECT_EQ(load(pid, shared + 6 * PG), 7);
    ASSERT_TRUE(store(pid, priv + 6 * PG, 0x66).ok()); // a private copy of page 6
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 4 * PG + 100).is_error());
    EXPECT_EQ(load(pid, shared + 4 * PG), 5);
    EXPECT_EQ(load(pid, shared + 4 * PG + 100), 0); // the cut tail of the last page reads zero
    AccessOutcome out;
    load(pid, shared + 5 * PG + 8, &out);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Bus);
    EXPECT_EQ(out.fault_addr, shared + 5 * PG + 8);
    EXPECT_EQ(out.si_code, 2); // BUS_ADRERR
    EXPECT_FALSE(kernel->process(pid)->alive());
}

TEST_F(MmapSemantics, TruncationAlsoDropsPrivateCopiesBeyondTheEnd)
{
    // Linux's unmap_mapping_range(..., even_cows=1): the copied page goes too.
    int fd = make_file("/t", 8);
    u64 priv = kernel->mmap(pid, 0, 8 * PG, RW, MAP_PRIVATE_, fd, 0).value();
    ASSERT_TRUE(store(pid, priv + 6 * PG, 0x66).ok());
    ASSERT_TRUE(store(pid, priv + 2 * PG, 0x22).ok());
    u64 anon = status_kb(pid, "RssAnon");
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 4 * PG).is_error());
    EXPECT_EQ(status_kb(pid, "RssAnon"), anon - 4);
    EXPECT_EQ(load(pid, priv + 2 * PG), 0x22); // a copy below the end stays
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 8 * PG).is_error());
    EXPECT_EQ(load(pid, priv + 6 * PG), 0); // the file's (new, zero) page, not the old copy
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 4 * PG).is_error());
    AccessOutcome out;
    load(pid, priv + 6 * PG, &out);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Bus);
}

} // namespace kioku::test
