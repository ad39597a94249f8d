#include "front/Demo.h"

#include <istream>
#include <ostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "base/Size.h"
#include "front/scenario/Scenario.h"
#include "front/text/Messages.h"

namespace kioku {

namespace {

using text::Msg;

struct Chapter {
    Msg title;
    std::vector<Msg> texts; // `say @N` paragraphs and `@N` labels in the script
    const char* script;     // {MEM} and {PAGING} are the demo's options
};

// clang-format off
const Chapter CHAPTERS[] = {
    {Msg::Demo1Title, {Msg::Demo1Text}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
show meminfo only=MemTotal,MemFree,MemAvailable
show buddyinfo
)kio"},
    {Msg::Demo2Title, {Msg::Demo2Text}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
spawn beta
mmap alpha name=a len=4K flags=private,anon,fixed addr=0x10000000
mmap beta name=b len=4K flags=private,anon,fixed addr=0x10000000
write alpha a pattern=0x41
write beta b pattern=0x42
read alpha a len=1 pattern=0x41
read beta b len=1 pattern=0x42
show pagemap alpha a
show pagemap beta b
)kio"},
    {Msg::Demo3Title, {Msg::Demo3Text, Msg::Demo3AfterMmap, Msg::Demo3AfterTouch}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
let v0 = alpha.vmsize
let r0 = alpha.rss
let f0 = alpha.minflt
mmap alpha name=big len=64M
print "@1 VmSize +{(alpha.vmsize - v0) / 1K} kB, VmRSS +{(alpha.rss - r0) / 1K} kB"
touch alpha big len=1000p write
print "@2 {alpha.minflt - f0}, VmRSS +{(alpha.rss - r0) / 1K} kB"
expect alpha.minflt - f0 == 1000
expect alpha.rss - r0 == 4000K
show status alpha only=VmSize,VmRSS,RssAnon,VmPTE
)kio"},
    {Msg::Demo4Title, {Msg::Demo4Text, Msg::Demo4AfterRead, Msg::Demo4AfterWrite}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
mmap alpha name=big len=2M
let r0 = alpha.rss
touch alpha big len=256p
print "@1 VmRSS +{(alpha.rss - r0) / 1K} kB"
expect alpha.rss == r0
show pagemap alpha big len=3p
touch alpha big len=1p write
print "@2 VmRSS +{(alpha.rss - r0) / 1K} kB"
expect alpha.rss - r0 == 4K
show pagemap alpha big len=3p
)kio"},
    {Msg::Demo5Title, {Msg::Demo5Text, Msg::Demo5Tlb, Msg::Demo5Passes}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
mmap alpha name=big len=64M
touch alpha big len=16M write
show status alpha only=VmPTE
show meminfo only=PageTables
say @1
let h0 = tlb.hits
let m0 = tlb.misses
let w0 = tlb.walks
touch alpha big len=64p write
touch alpha big len=64p write
touch alpha big len=64p write
touch alpha big len=64p write
print "@2 {tlb.hits - h0} hits, {tlb.misses - m0} misses, {tlb.walks - w0} walks"
expect tlb.hits - h0 >= 3 * 64
expect tlb.walks - w0 <= 64
)kio"},
    {Msg::Demo6Title, {Msg::Demo6Text, Msg::Demo6Faults, Msg::Demo6Parent, Msg::Demo6Pss}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
mmap alpha name=big len=4M
touch alpha big write value=1
fork alpha as child
print "@3 {alpha.smaps_rollup.Rss / 1K} {alpha.smaps_rollup.Pss / 1K}"
let f0 = child.minflt
touch child big len=16p write value=2
print "@1 {child.minflt - f0}"
expect child.minflt - f0 == 16
touch alpha big+500p len=1 as b
print "@2 {b}"
expect b == 1
print "@3 {alpha.smaps_rollup.Rss / 1K} {alpha.smaps_rollup.Pss / 1K}"
)kio"},
    {Msg::Demo7Title, {Msg::Demo7Text}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
mmap alpha name=shm len=64K flags=shared,anon
fork alpha as sharer
write sharer shm pattern=0x53
read alpha shm len=1 pattern=0x53
show meminfo only=Shmem:
expect meminfo.Shmem >= 64K
)kio"},
    {Msg::Demo8Title, {Msg::Demo8Text, Msg::Demo8Read}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
file /tmp/data size=1M pattern=0x2e
let c0 = meminfo.Cached
let j0 = alpha.majflt
mmap alpha name=f len=1M flags=shared file=/tmp/data
touch alpha f
print "@1 {alpha.majflt - j0}, Cached +{(meminfo.Cached - c0) / 1K} kB"
expect alpha.majflt - j0 > 0
write alpha f+100 text="kioku"
show meminfo only=Dirty
msync alpha f
show meminfo only=Dirty
expect meminfo.Dirty == 0
)kio"},
    {Msg::Demo9Title, {Msg::Demo9Text, Msg::Demo9Store}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
fork alpha as child
touch child 0x1000 len=1 write
print "@1 {last.signal} {last.si_code}"
expect child killed SIGSEGV
expect alpha alive
)kio"},
    {Msg::Demo10Title, {Msg::Demo10Text, Msg::Demo10Vmas}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
spawn alpha
mmap alpha name=r len=8p
mprotect alpha r offset=3p len=2p prot=r
print "@1 {alpha.maps(r).vmas} ({alpha.maps(r).perms})"
expect alpha.maps(r).vmas == 3
mprotect alpha r offset=3p len=2p prot=rw
print "@1 {alpha.maps(r).vmas} ({alpha.maps(r).perms})"
expect alpha.maps(r).vmas == 1
)kio"},
    {Msg::Demo11Title, {Msg::Demo11Text, Msg::Demo11Compare}, R"kio(
machine mem=16M swap=1M policy=fifo frames=3 paging={PAGING}
say @0
spawn A
mmap A name=buf len=8p
reference A buf pages=7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1 write trace as fifo
expect fifo == 15
say @1
compare policies=fifo,exact-lru,opt,clock frames=3,4 pages=7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1
compare policies=fifo,exact-lru,opt,clock frames=3,4 pages=1,2,3,4,1,2,5,1,2,3,4,5
)kio"},
    {Msg::Demo12Title, {Msg::Demo12Text, Msg::Demo12Wrote, Msg::Demo12Back, Msg::Demo12Read}, R"kio(
machine mem=32M swap=64M paging={PAGING}
say @0
print "vm.min_free_kbytes {sysctl.vm.min_free_kbytes}"
spawn A
mmap A name=big len=48M
write A big pattern=0x37
print "@1 kswapd scanned {vmstat.pgscan_kswapd} and took {vmstat.pgsteal_kswapd} pages; direct reclaim scanned {vmstat.pgscan_direct}; {vmstat.pswpout} pages to swap"
expect vmstat.pswpout > 0
say @2
let i0 = vmstat.pswpin
let j0 = A.majflt
read A big pattern=0x37
print "@3 {vmstat.pswpin - i0} pages swapped in by {A.majflt - j0} major faults"
expect vmstat.pswpin - i0 > 0
show meminfo only=SwapTotal,SwapFree,SwapCached
)kio"},
    {Msg::Demo13Title, {Msg::Demo13Text, Msg::Demo13Grow, Msg::Demo13Adj}, R"kio(
machine mem=32M paging={PAGING}
say @0
spawn small
spawn large
spawn grower
mmap small name=s len=4M
write small s pattern=1
mmap large name=l len=16M
write large l pattern=2
print "oom_score: small {small.oom_score}, large {large.oom_score}, grower {grower.oom_score}"
say @1
mmap grower name=g len=14M
write grower g pattern=3
expect large killed SIGKILL
expect small alive
expect grower alive
show dmesg
say @2
spawn big
procwrite big oom_score_adj=-1000
mmap big name=b len=20M
write big b pattern=4
expect big alive
expect grower killed SIGKILL
)kio"},
    {Msg::Demo14Title, {Msg::Demo14Text, Msg::Demo14Mode2}, R"kio(
machine mem=32M paging={PAGING}
say @0
spawn A
mmap A name=one len=24M
mmap A name=two len=24M
print "Committed_AS {meminfo.Committed_AS / 1K} kB, MemTotal {meminfo.MemTotal / 1K} kB"
expect meminfo.Committed_AS > meminfo.MemTotal
munmap A one
munmap A two
sysctl vm.overcommit_memory=2
print "@1 CommitLimit {meminfo.CommitLimit / 1K} kB, Committed_AS {meminfo.Committed_AS / 1K} kB"
spawn B
mmap B name=buf len=24M
expect error ENOMEM
mmap B name=small len=1M
write B small pattern=3
expect B alive
expect meminfo.Committed_AS <= meminfo.CommitLimit
)kio"},
    {Msg::Demo15Title, {Msg::Demo15Text, Msg::Demo15Small, Msg::Demo15Huge}, R"kio(
machine mem=512M paging={PAGING}
say @0
spawn A
mmap A name=small len=64M
touch A small write
let m0 = tlb.misses
touch A small write
print "@1 {tlb.misses - m0}"
sysctl vm.transparent_hugepage=always
mmap A name=huge len=66M
let h = huge + 2M - huge % 2M
touch A h len=64M write
let m1 = tlb.misses
touch A h len=64M write
print "@2 {tlb.misses - m1}; AnonHugePages {meminfo.AnonHugePages / 1M} MiB"
expect tlb.misses - m1 < tlb.misses - m0
expect meminfo.AnonHugePages == 64M
)kio"},
    {Msg::Demo16Title, {Msg::Demo16Text, Msg::Demo16Compact}, R"kio(
machine mem=16M paging={PAGING}
say @0
sysctl vm.compaction_proactiveness=0
spawn A
mmap A name=buf len=12M
reference A buf pages=0,512,1024,1536,2048,2560 write
write A buf pattern=0x5a
munmap A buf offset=0M len=1M-4K
munmap A buf offset=1M len=1M-4K
munmap A buf offset=2M len=1M-4K
munmap A buf offset=3M len=1M-4K
munmap A buf offset=4M len=1M-4K
munmap A buf offset=5M len=1M-4K
munmap A buf offset=6M len=1M-4K
munmap A buf offset=7M len=1M-4K
munmap A buf offset=8M len=1M-4K
munmap A buf offset=9M len=1M-4K
munmap A buf offset=10M len=1M-4K
munmap A buf offset=11M len=1M-4K
show physmap
show buddyinfo
sysctl vm.transparent_hugepage=always
sysctl vm.transparent_hugepage_defrag=never
mmap A name=t1 len=4M
touch A t1+2M-t1%2M len=4K write
expect vmstat.thp_fault_alloc == 0
say @1
sysctl vm.compact_memory=1
show physmap
show buddyinfo
print "pgmigrate_success {vmstat.pgmigrate_success}"
mmap A name=t2 len=4M
touch A t2+2M-t2%2M len=4K write
expect vmstat.thp_fault_alloc == 1
read A buf+12M-4K len=4K pattern=0x5a
)kio"},
    {Msg::Demo17Title, {Msg::Demo17Text, Msg::Demo17After}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
let s0 = meminfo.Slab
spawn A
spawn B
spawn C
spawn D
mmap A name=a1 len=4K prot=r
mmap A name=a2 len=4K prot=rw
mmap A name=a3 len=4K prot=rx
mmap B name=b1 len=4K prot=r
mmap B name=b2 len=4K prot=rw
mmap B name=b3 len=4K prot=rx
mmap C name=c1 len=4K prot=r
mmap C name=c2 len=4K prot=rw
mmap C name=c3 len=4K prot=rx
mmap D name=d1 len=4K prot=r
mmap D name=d2 len=4K prot=rw
mmap D name=d3 len=4K prot=rx
print "@1 {(meminfo.Slab - s0) / 1K} kB"
show slabinfo only=vm_area_struct,mm_struct,task_struct
expect meminfo.Slab > s0
)kio"},
    {Msg::Demo18Title, {Msg::Demo18Text, Msg::Demo18Highmem}, R"kio(
machine mem={MEM} paging={PAGING}
say @0
show layout
say @1
)kio"},
    {Msg::Demo19Title, {Msg::Demo19Text}, R"kio(
machine mem=64M paging={PAGING}
say @0
spawn database
spawn worker
mmap database name=cache len=24M
write database cache pattern=1
cgroup create batch memory.max=8M
cgroup attach batch worker
mmap worker name=w len=16M
write worker w pattern=3
expect worker killed SIGKILL
expect database alive
print "memory.peak {cgroup.batch.memory.peak / 1K} kB, oom_kill {cgroup.batch.memory.events.oom_kill}"
expect cgroup.batch.memory.events.oom_kill == 1
show dmesg
)kio"},
    {Msg::Demo20Title, {Msg::Demo20Text, Msg::Demo20Device, Msg::Demo20File}, R"kio(
machine mem={MEM} disk=16M paging={PAGING}
say @0
spawn A
mmap A name=buf len=8M
file /tmp/data size=8M pattern=0x11
sysctl vm.drop_caches=3
let b0 = meminfo.Buffers
let c0 = meminfo.Cached
open A /dev/vda as dev
fread A dev buf len=8M
print "@1 Buffers +{(meminfo.Buffers - b0) / 1K} kB, Cached +{(meminfo.Cached - c0) / 1K} kB"
expect meminfo.Buffers - b0 >= 8M
let b1 = meminfo.Buffers
open A /tmp/data as f
fread A f buf len=8M
print "@2 Buffers +{(meminfo.Buffers - b1) / 1K} kB, Cached +{(meminfo.Cached - c0) / 1K} kB"
expect meminfo.Cached - c0 >= 8M
expect meminfo.Buffers == b1
show free
)kio"},
};
// clang-format on

constexpr unsigned COUNT = static_cast<unsigned>(std::size(CHAPTERS));

// Text broken into lines of at most `width` columns: between words, or between two wide
// characters (Japanese has no spaces).
std::vector<std::string> wrap(const std::string& text, size_t width)
{
    std::vector<std::string> lines;
    std::string line;
    size_t at = 0;
    while (at < text.size()) {
        // The next unit: a run of ASCII non-spaces, one space, or one multi-byte character.
        size_t end = at;
        unsigned char c = static_cast<unsigned char>(text[at]);
        if (c == ' ')
            end = at + 1;
        else if (c < 0x80)
            while (end < text.size() && static_cast<unsigned char>(text[end]) < 0x80 && text[end] != ' ')
                ++end;
        else
            end = at + (c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4);
        std::string unit = text.substr(at, end - at);
        at = end;
        if (text::display_width(line) + text::display_width(unit) > width && !line.empty()) {
            while (!line.empty() && line.back() == ' ')
                line.pop_back();
            lines.push_back(line);
            line.clear();
            if (unit == " ")
                continue;
        }
        line += unit;
    }
    if (!line.empty())
        lines.push_back(line);
    return lines;
}

// The chapter's script with the options and texts in place.
std::string script_of(const Chapter& c, const DemoOptions& o)
{
    std::string out;
    std::istringstream in(c.script);
    for (std::string line; std::getline(in, line);) {
        auto replace = [&](const std::string& key, const std::string& value) {
            for (size_t at = line.find(key); at != std::string::npos; at = line.find(key, at + value.size()))
                line.replace(at, key.size(), value);
        };
        replace("{MEM}", o.mem_bytes % (u64{1} << 20) == 0 ? std::to_string(o.mem_bytes >> 20) + "M"
                                                           : std::to_string(o.mem_bytes >> 10) + "K");
        replace("{PAGING}", o.paging == isa::SatpMode::Sv48 ? "sv48" : "sv39");
        if (line.rfind("say @", 0) == 0) {
            size_t n = std::stoul(line.substr(5));
            for (const std::string& piece : wrap(text::say(c.texts.at(n)), 96))
                out += "echo \"" + piece + "\"\n";
            continue;
        }
        for (size_t n = c.texts.size(); n-- > 0;)
            replace("@" + std::to_string(n), text::say(c.texts[n]));
        out += line + "\n";
    }
    return out;
}

} // namespace

unsigned demo_chapters()
{
    return COUNT;
}

int run_demo(const DemoOptions& options, std::istream& in, std::ostream& out, std::ostream& err)
{
    if (options.list) {
        out << text::say(Msg::DemoList) << "\n";
        for (unsigned i = 0; i < COUNT; ++i)
            out << "  " << (i + 1 < 10 ? " " : "") << i + 1 << ". " << text::say(CHAPTERS[i].title) << "\n";
        return 0;
    }
    if (options.mem_bytes < (u64{128} << 20)) {
        // Chapters 3, 5 and 15 map 64 MiB; a smaller machine refuses it (heuristic overcommit).
        err << "kioku demo: --mem must be 128M or more\n";
        return 2;
    }
    if (options.chapter && (*options.chapter == 0 || *options.chapter > COUNT)) {
        err << "kioku demo: "
            << text::say(Msg::DemoNoChapter, {std::to_string(*options.chapter), std::to_string(COUNT)})
            << "\n";
        return 2;
    }
    for (const std::string& line : wrap(text::say(Msg::DemoIntro, {std::to_string(COUNT)}), 96))
        out << line << "\n";
    bool ok = true;
    bool pause = options.pause && ::isatty(STDIN_FILENO);
    for (unsigned i = 0; i < COUNT; ++i) {
        if (options.chapter && *options.chapter != i + 1)
            continue;
        const Chapter& c = CHAPTERS[i];
        out << "\n" << text::say(Msg::DemoHeading, {std::to_string(i + 1), text::say(c.title)}) << "\n";
        ScenarioOptions s;
        s.check_invariants = options.check_invariants;
        int status =
            run_scenario_text(script_of(c, options), "chapter " + std::to_string(i + 1), s, out, err);
        if (status != SCENARIO_OK) {
            err << text::say(Msg::DemoFailed, {std::to_string(i + 1)}) << "\n";
            ok = false;
        }
        bool last = options.chapter || i + 1 == COUNT;
        if (pause && !last) {
            out << text::say(Msg::DemoPause) << std::flush;
            std::string answer;
            if (!std::getline(in, answer))
                pause = false;
        }
    }
    return ok ? 0 : 1;
}

} // namespace kioku
