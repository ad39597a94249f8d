#include "front/RunOracle.h"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/pgtable/Pte.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Rmap.h"

namespace kioku {

namespace {

constexpr const char* HEADER = "time,obj_id,obj_size,op,pid,page";

// The n-th comma-separated field of `line` as a number.
bool field(std::string_view line, unsigned n, u64& out)
{
    for (unsigned i = 0; i < n; ++i) {
        size_t comma = line.find(',');
        if (comma == std::string_view::npos)
            return false;
        line.remove_prefix(comma + 1);
    }
    const char* end = line.data() + std::min(line.find(','), line.size());
    auto [ptr, ec] = std::from_chars(line.data(), end, out);
    return ec == std::errc() && ptr == end;
}

std::string hex(u64 v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace

std::unique_ptr<RecordedReferences> RecordedReferences::load(const std::string& path, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = "cannot read " + path;
        return nullptr;
    }
    auto refs = std::make_unique<RecordedReferences>();
    std::string line;
    if (!std::getline(in, line) || line != HEADER) {
        error = path + ":1: not a page reference stream of kioku run --trace-refs (its first line is " +
                HEADER + ")";
        return nullptr;
    }
    ReferenceFilter filter; // the file's rows already passed one; a file cut by hand may not have
    u64 number = 1;
    while (std::getline(in, line)) {
        ++number;
        u64 pid = 0;
        u64 vpn = 0;
        if (!field(line, 4, pid) || !field(line, 5, vpn) || pid == 0 || pid > 0x7fffffff ||
            vpn >= (u64{1} << 36)) {
            error = path + ":" + std::to_string(number) + ": expected time,obj_id,obj_size,op,pid,page";
            return nullptr;
        }
        if (!filter.admit(static_cast<Pid>(pid), vpn, isa::AccessType::Read))
            continue;
        u64 k = key(static_cast<Pid>(pid), vpn);
        auto [it, added] = refs->m_index.try_emplace(k, static_cast<u32>(refs->m_keys.size()));
        if (added) {
            refs->m_keys.push_back(k);
            refs->m_uses.emplace_back();
        }
        Stream& s = refs->m_streams[static_cast<Pid>(pid)];
        refs->m_uses[it->second].push_back(static_cast<u32>(s.pages.size()));
        s.pages.push_back(it->second);
        s.rows.push_back(refs->m_rows++);
        if (s.pages.size() == ~u32{0}) {
            error = path + ": more references of one process than OPT can follow (2^32)";
            return nullptr;
        }
    }
    return refs;
}

const RecordedReferences::Stream* RecordedReferences::stream(Pid pid) const
{
    auto it = m_streams.find(pid);
    return it == m_streams.end() ? nullptr : &it->second;
}

std::vector<Pid> RecordedReferences::pids() const
{
    std::vector<Pid> pids;
    for (const auto& entry : m_streams)
        pids.push_back(entry.first);
    std::sort(pids.begin(), pids.end());
    return pids;
}

u64 RecordedReferences::next_row(Pid pid, const Stream& stream, u64 vpn, u64 from) const
{
    auto it = m_index.find(key(pid, vpn));
    if (it == m_index.end())
        return NextUseOracle::NEVER;
    const std::vector<u32>& uses = m_uses[it->second];
    auto next = std::lower_bound(uses.begin(), uses.end(), from);
    return next == uses.end() ? NextUseOracle::NEVER : stream.rows[*next];
}

RunOracle::RunOracle(Runner& runner, std::unique_ptr<RecordedReferences> future, ReferenceSink* also)
    : m_runner(runner)
    , m_future(std::move(future))
    , m_also(also)
{
    if (m_future) {
        auto* opt = dynamic_cast<OptPolicy*>(&runner.kernel().mm().reclaimer().policy());
        VERIFY(opt && "--future without --policy opt");
        opt->set_oracle(this);
    }
}

RunOracle::~RunOracle()
{
    if (m_future) {
        if (auto* opt = dynamic_cast<OptPolicy*>(&m_runner.kernel().mm().reclaimer().policy()))
            opt->set_oracle(nullptr);
    }
}

void RunOracle::reference(u64 va, isa::AccessType access)
{
    if (m_also)
        m_also->reference(va, access);
    Pid pid = m_runner.running_pid();
    if (!m_filter.admit(pid, va >> PAGE_SHIFT, access))
        return;
    if (m_future) {
        follow(pid, va >> PAGE_SHIFT);
        return;
    }
    touch(pid, va, access);
    u64 code = m_filter.code_page(pid);
    if (access != isa::AccessType::Execute && code != ReferenceFilter::NONE)
        touch(pid, code << PAGE_SHIFT, isa::AccessType::Execute);
}

// Exact LRU: the frame the access reaches becomes the most recently used. A page not mapped yet,
// or mapped without the access's permission, is about to fault: the frame the fault maps is
// added as the newest page anyway.
void RunOracle::touch(Pid pid, u64 va, isa::AccessType access)
{
    Process* p = m_runner.kernel().process(pid);
    if (!p || !p->has_space())
        return;
    u64 pte = p->space().page_table().read(VirtAddr(va));
    u64 need = access == isa::AccessType::Write     ? isa::PTE_W
               : access == isa::AccessType::Execute ? isa::PTE_X
                                                    : isa::PTE_R;
    if (!pte_present(pte) || !(pte & need))
        return;
    MemoryManager& mm = m_runner.kernel().mm();
    Pfn pfn = pte_pfn(pte);
    if (mm.is_zero_pfn(pfn))
        return;
    // A page of a huge page: the policy knows the head.
    mm.page_accessed(compound_head(mm.frames(), pfn));
}

void RunOracle::follow(Pid pid, u64 vpn)
{
    if (!m_divergence.empty())
        return;
    u64& cursor = m_cursor[pid];
    const RecordedReferences::Stream* s = m_future->stream(pid);
    if (!s || cursor >= s->pages.size()) {
        m_divergence = "process " + std::to_string(pid) + " made more references than the file has for it (" +
                       std::to_string(cursor) + "); the next was to page " + hex(vpn << PAGE_SHIFT);
        return;
    }
    u64 recorded = m_future->key_of(s->pages[cursor]) & ((u64{1} << 36) - 1);
    if (recorded != vpn) {
        m_divergence = "process " + std::to_string(pid) + "'s reference " + std::to_string(cursor + 1) +
                       " was to page " + hex(vpn << PAGE_SHIFT) + " where the file has " +
                       hex(recorded << PAGE_SHIFT);
        return;
    }
    ++cursor;
}

void RunOracle::finish()
{
    if (!m_future || !m_divergence.empty())
        return;
    // Every process of the file should have made all its references: looked at in pid order, so
    // that the message names the same one every time.
    for (Pid pid : m_future->pids()) {
        auto it = m_cursor.find(pid);
        u64 made = it == m_cursor.end() ? 0 : it->second;
        u64 recorded = m_future->stream(pid)->pages.size();
        if (made != recorded) {
            m_divergence = "process " + std::to_string(pid) + " made " + std::to_string(made) +
                           " references where the file has " + std::to_string(recorded);
            return;
        }
    }
}

void RunOracle::begin_selection()
{
    m_spaces.clear();
    for (const auto& [pid, process] : m_runner.kernel().processes())
        if (process->alive() && process->has_space())
            m_spaces[&process->space()] = pid;
}

u64 RunOracle::next_use_of(Pid pid, u64 vpn) const
{
    const RecordedReferences::Stream* s = m_future->stream(pid);
    if (!s)
        return NEVER;
    auto it = m_cursor.find(pid);
    u64 cursor = it == m_cursor.end() ? 0 : it->second;
    // The code page is in use at every instruction: its next use is now, before the process's
    // next reference (or at the end of the file, when it has made them all).
    if (vpn == m_filter.code_page(pid))
        return cursor < s->rows.size() ? s->rows[cursor] : m_future->rows();
    return m_future->next_row(pid, *s, vpn, cursor);
}

u64 RunOracle::next_use(Pfn pfn)
{
    if (!m_divergence.empty())
        return NEVER;
    u64 best = NEVER;
    MemoryManager& mm = m_runner.kernel().mm();
    const Frame& frame = mm.frames()[pfn];
    if (frame.has(FF_HEAD) && frame.has(FF_ANON)) {
        // A transparent huge page, mapped whole: the earliest next use of any of its pages.
        Rmap(mm).for_each_huge_mapping(pfn, [&](AddressSpace& space, Vma&, VirtAddr base, PageSlot) {
            auto owner = m_spaces.find(&space);
            if (owner == m_spaces.end())
                return;
            u64 first = base.value() >> PAGE_SHIFT;
            for (u64 i = 0; i < (u64{1} << frame.order); ++i)
                best = std::min(best, next_use_of(owner->second, first + i));
        });
        return best;
    }
    Rmap(mm).for_each_mapping(pfn, [&](AddressSpace& space, Vma&, VirtAddr va, PageSlot) {
        auto owner = m_spaces.find(&space);
        if (owner != m_spaces.end())
            best = std::min(best, next_use_of(owner->second, va.value() >> PAGE_SHIFT));
    });
    return best;
}

} // namespace kioku
