// The JSON forms of the /proc views: exact text for hand-written inputs, well-formed JSON for
// every view of a live machine, and agreement value by value with the text views they encode.
// A small strict JSON reader lives here so that the checks need nothing outside the test.
#include <gtest/gtest.h>

#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <sstream>

#include "KernelFixture.h"
#include "hw/Machine.h"
#include "kernel/ProcFormat.h"
#include "kernel/ProcJson.h"

using namespace kioku;

namespace {

// A parsed JSON value. Numbers keep their text, so large integers compare exactly.
struct Json {
    enum class Kind { Null, Bool, Number, String, Array, Object };
    Kind kind = Kind::Null;
    bool boolean = false;
    std::string text; // number or string
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members; // in document order

    const Json& operator[](const std::string& key) const
    {
        for (const auto& [name, value] : members)
            if (name == key)
                return value;
        static const Json missing;
        ADD_FAILURE() << "no key " << key;
        return missing;
    }
    bool has(const std::string& key) const
    {
        for (const auto& member : members)
            if (member.first == key)
                return true;
        return false;
    }
    u64 number() const
    {
        EXPECT_EQ(kind, Kind::Number) << "not a number";
        u64 v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return v;
    }
};

// RFC 8259 grammar, strictly: no trailing commas, no leading zeros, nothing after the value.
class JsonReader {
  public:
    explicit JsonReader(std::string_view text)
        : m_text(text)
    {
    }

    std::optional<Json> document()
    {
        auto value = parse_value();
        skip_space();
        if (!value || m_at != m_text.size())
            return std::nullopt;
        return value;
    }

  private:
    void skip_space()
    {
        while (m_at < m_text.size() &&
               std::string_view(" \t\r\n").find(m_text[m_at]) != std::string_view::npos)
            ++m_at;
    }
    bool eat(char c)
    {
        skip_space();
        if (m_at < m_text.size() && m_text[m_at] == c) {
            ++m_at;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word)
    {
        if (m_text.substr(m_at, word.size()) != word)
            return false;
        m_at += word.size();
        return true;
    }

    std::optional<Json> parse_value()
    {
        skip_space();
        if (m_at >= m_text.size())
            return std::nullopt;
        Json v;
        char c = m_text[m_at];
        if (c == '{')
            return parse_object();
        if (c == '[')
            return parse_array();
        if (c == '"') {
            auto s = parse_string();
            if (!s)
                return std::nullopt;
            v.kind = Json::Kind::String;
            v.text = *s;
            return v;
        }
        if (literal("true") || literal("false")) {
            v.kind = Json::Kind::Bool;
            v.boolean = m_text[m_at - 1] == 'e' && m_text[m_at - 2] == 'u';
            return v;
        }
        if (literal("null"))
            return v;
        return parse_number();
    }

    std::optional<Json> parse_number()
    {
        size_t start = m_at;
        if (m_text[m_at] == '-')
            ++m_at;
        size_t digits = m_at;
        while (m_at < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_at])))
            ++m_at;
        if (m_at == digits || (m_text[digits] == '0' && m_at - digits > 1))
            return std::nullopt;
        Json v;
        v.kind = Json::Kind::Number;
        v.text = std::string(m_text.substr(start, m_at - start));
        return v;
    }

    std::optional<std::string> parse_string()
    {
        ++m_at; // the opening quote
        std::string out;
        while (m_at < m_text.size()) {
            char c = m_text[m_at++];
            if (c == '"')
                return out;
            if (static_cast<unsigned char>(c) < 0x20)
                return std::nullopt;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (m_at >= m_text.size())
                return std::nullopt;
            char e = m_text[m_at++];
            static constexpr std::string_view SIMPLE = "\"\\/bfnrt";
            if (SIMPLE.find(e) != std::string_view::npos) {
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            } else if (e == 'u' && m_at + 4 <= m_text.size()) {
                unsigned code = 0;
                auto [p, ec] = std::from_chars(m_text.data() + m_at, m_text.data() + m_at + 4, code, 16);
                if (ec != std::errc() || p != m_text.data() + m_at + 4)
                    return std::nullopt;
                out += static_cast<char>(code);
                m_at += 4;
            } else {
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

    std::optional<Json> parse_array()
    {
        ++m_at;
        Json v;
        v.kind = Json::Kind::Array;
        if (eat(']'))
            return v;
        do {
            auto item = parse_value();
            if (!item)
                return std::nullopt;
            v.items.push_back(std::move(*item));
        } while (eat(','));
        return eat(']') ? std::optional(v) : std::nullopt;
    }

    std::optional<Json> parse_object()
    {
        ++m_at;
        Json v;
        v.kind = Json::Kind::Object;
        if (eat('}'))
            return v;
        do {
            skip_space();
            if (m_at >= m_text.size() || m_text[m_at] != '"')
                return std::nullopt;
            auto key = parse_string();
            if (!key || !eat(':'))
                return std::nullopt;
            auto value = parse_value();
            if (!value)
                return std::nullopt;
            v.members.emplace_back(std::move(*key), std::move(*value));
        } while (eat(','));
        return eat('}') ? std::optional(v) : std::nullopt;
    }

    std::string_view m_text;
    size_t m_at = 0;
};

Json parse(std::string_view text)
{
    auto doc = JsonReader(text).document();
    EXPECT_TRUE(doc.has_value()) << "not JSON: " << text;
    return doc.value_or(Json{});
}

std::string ok(Result<std::string> result)
{
    EXPECT_FALSE(result.is_error()) << "error " << (result.is_error() ? result.error().code : 0);
    return result.is_error() ? std::string() : result.release_value();
}

std::string hex(u64 v)
{
    std::ostringstream out;
    out << "0x" << std::hex << v;
    return out.str();
}

// "Key:   value [kB]" lines in order, the first number of each value.
std::vector<std::pair<std::string, u64>> colon_numbers(const std::string& text)
{
    std::vector<std::pair<std::string, u64>> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        auto colon = line.find(':');
        out.emplace_back(line.substr(0, colon), std::stoull(line.substr(colon + 1)));
    }
    return out;
}

} // namespace

// ---- the reader itself ----------------------------------------------------------------------

TEST(ProcJsonReader, RejectsWhatIsNotJson)
{
    for (std::string_view bad : {"", "{", "{\"a\": 1,}", "[1 2]", "{a: 1}", "01", "[1] x", "\"\n\""})
        EXPECT_FALSE(JsonReader(bad).document().has_value()) << bad;
    EXPECT_TRUE(JsonReader("{\"a\": [1, true, null, \"x\\n\"], \"b\": {}}").document().has_value());
}

// ---- exact text from hand-written inputs ----------------------------------------------------

TEST(ProcJson, MapsLinesBecomeObjectsWithHexAddresses)
{
    std::string text = "00010000-00012000 r-xp 00001000 fd:01 1234                       /bin/prog\n"
                       "7ffff7f00000-7ffff7f10000 rw-p 00000000 00:00 0 \n";
    EXPECT_EQ(ok(maps_json(text)),
              "[{\"start\": \"0x10000\", \"end\": \"0x12000\", \"perms\": \"r-xp\", \"offset\": \"0x1000\", "
              "\"dev\": \"fd:01\", \"inode\": 1234, \"path\": \"/bin/prog\"}, "
              "{\"start\": \"0x7ffff7f00000\", \"end\": \"0x7ffff7f10000\", \"perms\": \"rw-p\", "
              "\"offset\": \"0x0\", \"dev\": \"00:00\", \"inode\": 0, \"path\": \"\"}]");
    EXPECT_EQ(ok(maps_json("")), "[]");
}

TEST(ProcJson, SmapsEntryKeepsLinuxFieldOrderAndListsVmFlags)
{
    MapsEntry e;
    e.start = 0x20000;
    e.end = 0x22000;
    e.r = e.w = true;
    e.path = "[heap]";
    SmapsValues s;
    s.size = 8192;
    s.rss = s.private_dirty = s.anonymous = s.referenced = 4096;
    s.pss = s.pss_dirty = 4096 << PSS_SHIFT;
    s.vm_flags = VM_READ | VM_WRITE;
    std::string json = ok(smaps_json(format_smaps_entry(e, s)));
    EXPECT_EQ(json.substr(0, json.find(", \"Rss\"")),
              "[{\"start\": \"0x20000\", \"end\": \"0x22000\", \"perms\": \"rw-p\", \"offset\": \"0x0\", "
              "\"dev\": \"00:00\", \"inode\": 0, \"path\": \"[heap]\", \"Size\": 8, \"KernelPageSize\": 4, "
              "\"MMUPageSize\": 4");
    EXPECT_NE(json.find("\"Rss\": 4, \"Pss\": 4, \"Pss_Dirty\": 4, \"Shared_Clean\": 0"), std::string::npos)
        << json;
    EXPECT_NE(json.find("\"THPeligible\": 0, \"VmFlags\": [\"rd\", \"wr\"]}]"), std::string::npos) << json;
    // Every field line of the text is a key of the object, in the same order.
    Json entry = parse(json).items.at(0);
    std::istringstream lines(format_smaps_entry(e, s));
    std::string line;
    std::getline(lines, line); // the maps line
    size_t member = 7;
    while (std::getline(lines, line))
        EXPECT_EQ(entry.members.at(member++).first, line.substr(0, line.find(':')));
    EXPECT_EQ(member, entry.members.size());
}

TEST(ProcJson, SmapsRollupIsOneObject)
{
    SmapsValues totals;
    totals.rss = 3 * 4096;
    std::string json = ok(smaps_rollup_json(format_smaps_rollup(0x10000, 0x40000, totals)));
    Json rollup = parse(json);
    EXPECT_EQ(rollup.kind, Json::Kind::Object);
    EXPECT_EQ(rollup["path"].text, "[rollup]");
    EXPECT_EQ(rollup["Rss"].number(), 12u);
    EXPECT_TRUE(rollup.has("Pss_Anon"));
}

TEST(ProcJson, StatusTypesIdsAmountsAndMasks)
{
    std::string text = "Name:\tA\nUmask:\t0022\nState:\tR (running)\nPid:\t7\nUid:\t0\t0\t0\t0\n"
                       "Groups:\t\nVmRSS:\t     16 kB\nSigQ:\t0/7745\nCapEff:\t000001ffffffffff\n"
                       "Cpus_allowed:\t1\nvoluntary_ctxt_switches:\t0\n";
    EXPECT_EQ(ok(status_json(text)),
              "{\"Name\": \"A\", \"Umask\": \"0022\", \"State\": \"R (running)\", \"Pid\": 7, "
              "\"Uid\": [0, 0, 0, 0], \"Groups\": [], \"VmRSS\": 16, \"SigQ\": \"0/7745\", "
              "\"CapEff\": \"000001ffffffffff\", \"Cpus_allowed\": \"1\", \"voluntary_ctxt_switches\": 0}");
}

TEST(ProcJson, StatmUsesTheProcDocumentationNames)
{
    EXPECT_EQ(
        ok(statm_json(format_statm(100, 20, 5, 1, 40))),
        "{\"size\": 100, \"resident\": 20, \"shared\": 5, \"trs\": 1, \"lrs\": 0, \"drs\": 40, \"dt\": 0}");
}

TEST(ProcJson, BuddyinfoListsFreeBlocksPerOrder)
{
    std::string text = "Node 0, zone    DMA32      3      1      0      0      0      0      0      0      0 "
                       "     1     14 \n";
    EXPECT_EQ(ok(buddyinfo_json(text)),
              "[{\"node\": 0, \"zone\": \"DMA32\", \"free\": [3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 14]}]");
}

TEST(ProcJson, CountersKeepFileOrder)
{
    EXPECT_EQ(ok(counters_json("nr_free_pages 15000\npgfault 12\nnr_unstable 0\n")),
              "{\"nr_free_pages\": 15000, \"pgfault\": 12, \"nr_unstable\": 0}");
}

TEST(ProcJson, FreeRowsUseFreeHeadings)
{
    MeminfoValues m;
    m.mem_total = 65536;
    m.mem_free = 60000;
    m.mem_available = 61000;
    m.cached = 100;
    m.shmem = 8;
    m.swap_total = 4096;
    m.swap_free = 4000;
    EXPECT_EQ(
        ok(free_json(format_free(m, false))),
        "{\"Mem\": {\"total\": 65536, \"used\": 4536, \"free\": 60000, \"shared\": 8, \"buff/cache\": 100, "
        "\"available\": 61000}, \"Swap\": {\"total\": 4096, \"used\": 96, \"free\": 4000}}");
    EXPECT_TRUE(free_json(format_free(m, true)).is_error()); // -h units are not numbers
}

TEST(ProcJson, VmstatCommandUsesColumnHeadings)
{
    VmstatSample s;
    s.r = 2;
    s.free = 1234;
    s.us = 100;
    EXPECT_EQ(
        ok(vmstat_command_json(format_vmstat_header() + format_vmstat_line(s))),
        "{\"r\": 2, \"b\": 0, \"swpd\": 0, \"free\": 1234, \"buff\": 0, \"cache\": 0, \"si\": 0, \"so\": 0, "
        "\"bi\": 0, \"bo\": 0, \"in\": 0, \"cs\": 0, \"us\": 100, \"sy\": 0, \"id\": 0, \"wa\": 0, \"st\": "
        "0}");
}

TEST(ProcJson, PagemapDecodesEveryEntryKind)
{
    u64 entries[] = {pagemap_entry_present(0x80123, false, true, false), pagemap_entry_swap(1, 0x12, true),
                     pagemap_entry_none()};
    EXPECT_EQ(
        pagemap_json(0x10000, entries),
        "[{\"addr\": \"0x10000\", \"present\": true, \"swapped\": false, \"file_or_shared\": false, "
        "\"exclusive\": true, \"soft_dirty\": false, \"pfn\": 524579, \"swap_type\": null, \"swap_offset\": "
        "null}, "
        "{\"addr\": \"0x11000\", \"present\": false, \"swapped\": true, \"file_or_shared\": false, "
        "\"exclusive\": false, \"soft_dirty\": true, \"pfn\": null, \"swap_type\": 1, \"swap_offset\": 18}, "
        "{\"addr\": \"0x12000\", \"present\": false, \"swapped\": false, \"file_or_shared\": false, "
        "\"exclusive\": false, \"soft_dirty\": false, \"pfn\": null, \"swap_type\": null, \"swap_offset\": "
        "null}]");
}

TEST(ProcJson, TextOfTheWrongShapeIsAnError)
{
    EXPECT_TRUE(maps_json("hello world\n").is_error());
    EXPECT_TRUE(smaps_json("Rss: 4 kB\n").is_error()); // a field before any entry
    EXPECT_TRUE(counters_json("pgfault twelve\n").is_error());
    EXPECT_TRUE(statm_json("1 2 3\n").is_error());
    EXPECT_TRUE(buddyinfo_json("zone DMA32 1 2\n").is_error());
    EXPECT_TRUE(status_json("VmRSS:\tmany kB\n").is_error());
}

// ---- a live machine --------------------------------------------------------------------------

class ProcJsonKernel : public test::KernelTest {
  protected:
    void SetUp() override
    {
        KernelTest::SetUp();
        pid = kernel->spawn("json").value();
        buf = map_anon(pid, 16 * PAGE_SIZE);
        EXPECT_TRUE(kernel->fill_memory(pid, buf, 4 * PAGE_SIZE, 0x5a).ok());
    }

    std::string view(const std::string& name, u64 start = 0, u64 pages = 0)
    {
        return ok(kernel->view_json(pid, name, pid, start, pages));
    }
    std::string text(const std::string& path) { return kernel->read_proc(pid, path).value(); }

    const Json* entry_at(const Json& array, u64 start)
    {
        for (const Json& item : array.items)
            if (item["start"].text == hex(start))
                return &item;
        ADD_FAILURE() << "no entry at " << hex(start);
        return nullptr;
    }

    Pid pid = 0;
    u64 buf = 0;
};

TEST_F(ProcJsonKernel, EveryViewIsWellFormedJson)
{
    for (const char* name : {"meminfo", "vmstat", "buddyinfo", "free", "tlb", "vmstat_cmd", "maps", "smaps",
                             "smaps_rollup", "status", "statm"})
        EXPECT_TRUE(JsonReader(view(name)).document().has_value()) << name;
    EXPECT_TRUE(JsonReader(view("pagemap", buf, 16)).document().has_value());
}

TEST_F(ProcJsonKernel, UnknownViewIsEnoent)
{
    auto r = kernel->view_json(pid, "slabinfo");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, ENOENT);
    EXPECT_EQ(kernel->view_json(pid, "maps", 999).error().code, ENOENT);
}

TEST_F(ProcJsonKernel, MappedAndTouchedRegionShowsInMapsSmapsAndPagemap)
{
    Json maps = parse(view("maps"));
    const Json* maps_entry = entry_at(maps, buf);
    ASSERT_NE(maps_entry, nullptr);
    EXPECT_EQ((*maps_entry)["end"].text, hex(buf + 16 * PAGE_SIZE));
    EXPECT_EQ((*maps_entry)["perms"].text, "rw-p");
    EXPECT_EQ((*maps_entry)["offset"].text, "0x0");
    EXPECT_EQ((*maps_entry)["dev"].text, "00:00");
    EXPECT_EQ((*maps_entry)["inode"].number(), 0u);
    EXPECT_EQ((*maps_entry)["path"].text, "");

    Json smaps = parse(view("smaps"));
    const Json* smaps_entry = entry_at(smaps, buf);
    ASSERT_NE(smaps_entry, nullptr);
    EXPECT_EQ((*smaps_entry)["Size"].number(), 64u);
    EXPECT_EQ((*smaps_entry)["Rss"].number(), 16u);
    EXPECT_EQ((*smaps_entry)["Private_Dirty"].number(), 16u);
    EXPECT_EQ((*smaps_entry)["Anonymous"].number(), 16u);
    const Json& flags = (*smaps_entry)["VmFlags"];
    ASSERT_GE(flags.items.size(), 2u);
    EXPECT_EQ(flags.items[0].text, "rd");
    EXPECT_EQ(flags.items[1].text, "wr");

    auto raw = kernel->pagemap(pid, buf, 16).value();
    Json pages = parse(view("pagemap", buf, 16));
    ASSERT_EQ(pages.items.size(), 16u);
    for (u64 i = 0; i < 16; ++i) {
        const Json& page = pages.items[i];
        EXPECT_EQ(page["addr"].text, hex(buf + i * PAGE_SIZE));
        EXPECT_EQ(page["present"].boolean, i < 4) << i;
        if (i < 4) {
            EXPECT_EQ(page["pfn"].number(), raw[i] & PM_PFRAME_MASK);
            EXPECT_TRUE(page["exclusive"].boolean);
        } else {
            EXPECT_EQ(page["pfn"].kind, Json::Kind::Null);
        }
    }
}

TEST_F(ProcJsonKernel, StatusAndStatmAgreeWithTheirText)
{
    Json status = parse(view("status"));
    EXPECT_EQ(status["Name"].text, "json");
    EXPECT_EQ(status["Pid"].number(), static_cast<u64>(pid));
    EXPECT_EQ(status["Uid"].items.size(), 4u);
    EXPECT_EQ(status["VmRSS"].number(), status_kb(pid, "VmRSS"));
    EXPECT_EQ(status["RssAnon"].number(), status_kb(pid, "RssAnon"));
    EXPECT_GE(status["RssAnon"].number(), 16u);

    Json statm = parse(view("statm"));
    std::istringstream columns(text("/proc/self/statm"));
    for (const char* name : {"size", "resident", "shared", "trs", "lrs", "drs", "dt"}) {
        u64 column = 0;
        columns >> column;
        EXPECT_EQ(statm[name].number(), column) << name;
    }
    EXPECT_EQ(statm["resident"].number() * 4, status_kb(pid, "VmRSS"));
}

TEST_F(ProcJsonKernel, EveryMeminfoFieldEqualsItsTextValue)
{
    Json meminfo = parse(view("meminfo"));
    auto lines = colon_numbers(text("/proc/meminfo"));
    ASSERT_EQ(meminfo.members.size(), lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(meminfo.members[i].first, lines[i].first);
        EXPECT_EQ(meminfo.members[i].second.number(), lines[i].second) << lines[i].first;
    }
}

TEST_F(ProcJsonKernel, EveryVmstatAndTlbCounterEqualsItsTextValue)
{
    for (auto [name, path] : {std::pair{"vmstat", "/proc/vmstat"}, std::pair{"tlb", "/proc/kioku/tlb"}}) {
        Json counters = parse(view(name));
        std::istringstream lines(text(path));
        std::string key;
        u64 value = 0;
        size_t i = 0;
        while (lines >> key >> value) {
            ASSERT_LT(i, counters.members.size());
            EXPECT_EQ(counters.members[i].first, key);
            EXPECT_EQ(counters.members[i++].second.number(), value) << key;
        }
        EXPECT_EQ(i, counters.members.size()) << name;
    }
    EXPECT_GT(parse(view("vmstat"))["pgfault"].number(), 0u);
}

TEST_F(ProcJsonKernel, FreeAndBuddyinfoMatchMeminfo)
{
    Json meminfo = parse(view("meminfo"));
    Json free = parse(view("free"));
    EXPECT_EQ(free["Mem"]["total"].number(), meminfo["MemTotal"].number());
    EXPECT_EQ(free["Mem"]["free"].number(), meminfo["MemFree"].number());
    EXPECT_EQ(free["Swap"]["total"].number(), meminfo["SwapTotal"].number());

    u64 free_pages = 0;
    for (const Json& zone : parse(view("buddyinfo")).items) {
        ASSERT_EQ(zone["free"].items.size(), 11u);
        for (size_t order = 0; order < 11; ++order)
            free_pages += zone["free"].items[order].number() << order;
    }
    EXPECT_EQ(free_pages * 4, meminfo["MemFree"].number());
}

TEST_F(ProcJsonKernel, VmstatCommandBooksSimulatedTimeAsUserTime)
{
    std::string before = kernel->vmstat_text();
    EXPECT_EQ(before.substr(0, before.find('\n') + 1),
              format_vmstat_header().substr(0, before.find('\n') + 1));
    Json sample = parse(view("vmstat_cmd"));
    EXPECT_EQ(sample["r"].number(), 1u);
    EXPECT_EQ(sample["free"].number(), parse(view("meminfo"))["MemFree"].number());
    EXPECT_EQ(sample["in"].number(), 0u);
    EXPECT_EQ(sample["cs"].number(), 0u);

    kernel->machine().clock().advance(u64{2'000'000'000}); // two simulated seconds
    sample = parse(view("vmstat_cmd"));
    EXPECT_EQ(sample["us"].number(), 100u);
    EXPECT_EQ(sample["id"].number(), 0u);
    // The sample line of the text is the JSON's values in column order.
    std::string line = kernel->vmstat_text();
    std::istringstream columns(line.substr(line.rfind('\n', line.size() - 2) + 1));
    for (const auto& [name, value] : sample.members) {
        u64 column = 0;
        columns >> column;
        EXPECT_EQ(value.number(), column) << name;
    }
}
