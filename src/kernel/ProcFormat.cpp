#include "kernel/ProcFormat.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <iterator>

#include "base/Assert.h"
#include "base/Json.h"
#include "mm/vm/Vma.h"

namespace kioku {

namespace {

// ---- seq_file-style building blocks -------------------------------------------------------

// seq_put_decimal_ull_width(): the number right-aligned in `width` columns (wider if needed).
void put_dec_width(std::string& out, u64 value, size_t width)
{
    std::string digits = std::to_string(value);
    if (digits.size() < width)
        out.append(width - digits.size(), ' ');
    out += digits;
}

// seq_put_hex_ll(): lower-case hex, zero-padded to at least `width` digits.
void put_hex_width(std::string& out, u64 value, int width)
{
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%0*llx", width, static_cast<unsigned long long>(value));
    out += buf;
}

// Pads the line that began at `line_start` with spaces to `column` characters (seq_pad()).
void pad_to(std::string& out, size_t line_start, size_t column)
{
    size_t len = out.size() - line_start;
    if (len < column)
        out.append(column - len, ' ');
}

// ---- /proc/meminfo -----------------------------------------------------------------------

enum class MeminfoUnit { Kb, Count };

struct MeminfoField {
    const char* name;
    u64 MeminfoValues::*member;
    MeminfoUnit unit;
};

constexpr MeminfoField MEMINFO_FIELDS[] = {
    {"MemTotal", &MeminfoValues::mem_total, MeminfoUnit::Kb},
    {"MemFree", &MeminfoValues::mem_free, MeminfoUnit::Kb},
    {"MemAvailable", &MeminfoValues::mem_available, MeminfoUnit::Kb},
    {"Buffers", &MeminfoValues::buffers, MeminfoUnit::Kb},
    {"Cached", &MeminfoValues::cached, MeminfoUnit::Kb},
    {"SwapCached", &MeminfoValues::swap_cached, MeminfoUnit::Kb},
    {"Active", &MeminfoValues::active, MeminfoUnit::Kb},
    {"Inactive", &MeminfoValues::inactive, MeminfoUnit::Kb},
    {"Active(anon)", &MeminfoValues::active_anon, MeminfoUnit::Kb},
    {"Inactive(anon)", &MeminfoValues::inactive_anon, MeminfoUnit::Kb},
    {"Active(file)", &MeminfoValues::active_file, MeminfoUnit::Kb},
    {"Inactive(file)", &MeminfoValues::inactive_file, MeminfoUnit::Kb},
    {"Unevictable", &MeminfoValues::unevictable, MeminfoUnit::Kb},
    {"Mlocked", &MeminfoValues::mlocked, MeminfoUnit::Kb},
    {"SwapTotal", &MeminfoValues::swap_total, MeminfoUnit::Kb},
    {"SwapFree", &MeminfoValues::swap_free, MeminfoUnit::Kb},
    {"Dirty", &MeminfoValues::dirty, MeminfoUnit::Kb},
    {"Writeback", &MeminfoValues::writeback, MeminfoUnit::Kb},
    {"AnonPages", &MeminfoValues::anon_pages, MeminfoUnit::Kb},
    {"Mapped", &MeminfoValues::mapped, MeminfoUnit::Kb},
    {"Shmem", &MeminfoValues::shmem, MeminfoUnit::Kb},
    {"KReclaimable", &MeminfoValues::kreclaimable, MeminfoUnit::Kb},
    {"Slab", &MeminfoValues::slab, MeminfoUnit::Kb},
    {"SReclaimable", &MeminfoValues::sreclaimable, MeminfoUnit::Kb},
    {"SUnreclaim", &MeminfoValues::sunreclaim, MeminfoUnit::Kb},
    {"KernelStack", &MeminfoValues::kernel_stack, MeminfoUnit::Kb},
    {"PageTables", &MeminfoValues::page_tables, MeminfoUnit::Kb},
    {"SecPageTables", &MeminfoValues::sec_page_tables, MeminfoUnit::Kb},
    {"NFS_Unstable", &MeminfoValues::nfs_unstable, MeminfoUnit::Kb},
    {"Bounce", &MeminfoValues::bounce, MeminfoUnit::Kb},
    {"WritebackTmp", &MeminfoValues::writeback_tmp, MeminfoUnit::Kb},
    {"CommitLimit", &MeminfoValues::commit_limit, MeminfoUnit::Kb},
    {"Committed_AS", &MeminfoValues::committed_as, MeminfoUnit::Kb},
    {"VmallocTotal", &MeminfoValues::vmalloc_total, MeminfoUnit::Kb},
    {"VmallocUsed", &MeminfoValues::vmalloc_used, MeminfoUnit::Kb},
    {"VmallocChunk", &MeminfoValues::vmalloc_chunk, MeminfoUnit::Kb},
    {"Percpu", &MeminfoValues::percpu, MeminfoUnit::Kb},
    {"AnonHugePages", &MeminfoValues::anon_huge_pages, MeminfoUnit::Kb},
    {"ShmemHugePages", &MeminfoValues::shmem_huge_pages, MeminfoUnit::Kb},
    {"ShmemPmdMapped", &MeminfoValues::shmem_pmd_mapped, MeminfoUnit::Kb},
    {"FileHugePages", &MeminfoValues::file_huge_pages, MeminfoUnit::Kb},
    {"FilePmdMapped", &MeminfoValues::file_pmd_mapped, MeminfoUnit::Kb},
    {"HugePages_Total", &MeminfoValues::hugepages_total, MeminfoUnit::Count},
    {"HugePages_Free", &MeminfoValues::hugepages_free, MeminfoUnit::Count},
    {"HugePages_Rsvd", &MeminfoValues::hugepages_rsvd, MeminfoUnit::Count},
    {"HugePages_Surp", &MeminfoValues::hugepages_surp, MeminfoUnit::Count},
    {"Hugepagesize", &MeminfoValues::hugepagesize, MeminfoUnit::Kb},
    {"Hugetlb", &MeminfoValues::hugetlb, MeminfoUnit::Kb},
};

// show_val_kb(): "Name:" padded to 16 columns, %8lu, " kB". hugetlb_report_meminfo() prints the
// counts as "HugePages_Total:   %5lu": the label padded to 19 columns, the count in 5.
void put_meminfo_line(std::string& out, const MeminfoField& field, u64 value)
{
    size_t start = out.size();
    out += field.name;
    out += ':';
    if (field.unit == MeminfoUnit::Count) {
        pad_to(out, start, 19);
        put_dec_width(out, value, 5);
        out += '\n';
        return;
    }
    pad_to(out, start, 16);
    put_dec_width(out, value, 8);
    out += " kB\n";
}

// ---- maps and smaps ----------------------------------------------------------------------

// show_vma_header_prefix() pads names to 25 + sizeof(void*) * 6 - 1 columns, then a space.
constexpr size_t MAPS_NAME_PAD = 25 + 8 * 6 - 1;

void put_maps_prefix(std::string& out, const MapsEntry& e)
{
    put_hex_width(out, e.start, 8);
    out += '-';
    put_hex_width(out, e.end, 8);
    out += ' ';
    out += e.r ? 'r' : '-';
    out += e.w ? 'w' : '-';
    out += e.x ? 'x' : '-';
    out += e.shared ? 's' : 'p';
    out += ' ';
    put_hex_width(out, e.offset, 8);
    out += ' ';
    put_hex_width(out, e.dev_major, 2);
    out += ':';
    put_hex_width(out, e.dev_minor, 2);
    out += ' ';
    out += std::to_string(e.inode);
    out += ' ';
}

// seq_file_path() runs the path through mangle_path(), which writes a newline as "\012".
void put_escaped_path(std::string& out, std::string_view path)
{
    for (char c : path) {
        if (c == '\n')
            out += "\\012";
        else
            out += c;
    }
}

void put_maps_line(std::string& out, const MapsEntry& e)
{
    size_t start = out.size();
    put_maps_prefix(out, e);
    if (!e.path.empty()) {
        pad_to(out, start, MAPS_NAME_PAD);
        out += ' ';
        put_escaped_path(out, e.path);
    }
    out += '\n';
}

// SEQ_PUT_DEC() of task_mmu.c: the label as Linux spells it (already padded), bytes in kB, %8.
void put_kb(std::string& out, const char* label, u64 bytes, size_t width = 8)
{
    out += label;
    put_dec_width(out, bytes >> 10, width);
    out += " kB\n";
}

u64 pss_bytes(u64 fixed_point)
{
    return fixed_point >> PSS_SHIFT;
}

// __show_smap(): the counters shared by smaps and smaps_rollup.
void put_smap_counters(std::string& out, const SmapsValues& v, bool rollup)
{
    put_kb(out, "Rss:            ", v.rss);
    put_kb(out, "Pss:            ", pss_bytes(v.pss));
    put_kb(out, "Pss_Dirty:      ", pss_bytes(v.pss_dirty));
    if (rollup) {
        put_kb(out, "Pss_Anon:       ", pss_bytes(v.pss_anon));
        put_kb(out, "Pss_File:       ", pss_bytes(v.pss_file));
        put_kb(out, "Pss_Shmem:      ", pss_bytes(v.pss_shmem));
    }
    put_kb(out, "Shared_Clean:   ", v.shared_clean);
    put_kb(out, "Shared_Dirty:   ", v.shared_dirty);
    put_kb(out, "Private_Clean:  ", v.private_clean);
    put_kb(out, "Private_Dirty:  ", v.private_dirty);
    put_kb(out, "Referenced:     ", v.referenced);
    put_kb(out, "Anonymous:      ", v.anonymous);
    put_kb(out, "LazyFree:       ", v.lazyfree);
    put_kb(out, "AnonHugePages:  ", v.anon_huge_pages);
    put_kb(out, "ShmemPmdMapped: ", v.shmem_pmd_mapped);
    put_kb(out, "FilePmdMapped:  ", v.file_pmd_mapped);
    put_kb(out, "Shared_Hugetlb: ", v.shared_hugetlb);
    // The one label too long for 16 columns: Linux narrows its number to keep the kB aligned.
    put_kb(out, "Private_Hugetlb: ", v.private_hugetlb, 7);
    put_kb(out, "Swap:           ", v.swap);
    put_kb(out, "SwapPss:        ", pss_bytes(v.swap_pss));
    put_kb(out, "Locked:         ", pss_bytes(v.locked));
}

// vm_flags bits that Linux 6.1 has but kioku's Vma.h does not define (include/linux/mm.h).
constexpr u64 LINUX_VM_UFFD_MISSING = 0x00000200;
constexpr u64 LINUX_VM_UFFD_WP = 0x00001000;
constexpr u64 LINUX_VM_SYNC = 0x00800000;
constexpr u64 LINUX_VM_ARCH_1 = 0x01000000;
constexpr u64 LINUX_VM_MIXEDMAP = 0x10000000;

struct Mnemonic {
    u64 flag;
    const char* text;
};

// show_smap_vma_flags()'s table. It is keyed by the flag constants, so it follows Vma.h's values.
// "lf" (VM_LOCKONFAULT) is the name Linux gave the flag in December 2022; kioku prints it rather
// than the "??" earlier kernels showed. "sd" is kept although the riscv reference lacks
// CONFIG_MEM_SOFT_DIRTY, so that a VMA carrying VM_SOFTDIRTY reads sensibly.
constexpr Mnemonic MNEMONICS[] = {
    {VM_READ, "rd"},          {VM_WRITE, "wr"},          {VM_EXEC, "ex"},
    {VM_SHARED, "sh"},        {VM_MAYREAD, "mr"},        {VM_MAYWRITE, "mw"},
    {VM_MAYEXEC, "me"},       {VM_MAYSHARE, "ms"},       {VM_GROWSDOWN, "gd"},
    {VM_PFNMAP, "pf"},        {VM_LOCKED, "lo"},         {VM_IO, "io"},
    {VM_SEQ_READ, "sr"},      {VM_RAND_READ, "rr"},      {VM_DONTCOPY, "dc"},
    {VM_DONTEXPAND, "de"},    {VM_LOCKONFAULT, "lf"},    {VM_ACCOUNT, "ac"},
    {VM_NORESERVE, "nr"},     {VM_HUGETLB, "ht"},        {LINUX_VM_SYNC, "sf"},
    {LINUX_VM_ARCH_1, "ar"},  {VM_WIPEONFORK, "wf"},     {VM_DONTDUMP, "dd"},
    {VM_SOFTDIRTY, "sd"},     {LINUX_VM_MIXEDMAP, "mm"}, {VM_HUGEPAGE, "hg"},
    {VM_NOHUGEPAGE, "nh"},    {VM_MERGEABLE, "mg"},      {LINUX_VM_UFFD_MISSING, "um"},
    {LINUX_VM_UFFD_WP, "uw"},
};

const char* mnemonic_of_bit(unsigned bit)
{
    u64 flag = u64{1} << bit;
    for (const Mnemonic& m : MNEMONICS) {
        if (m.flag == flag)
            return m.text;
    }
    return "??";
}

// ---- status ------------------------------------------------------------------------------

// proc_task_name(escape = true): comm with '\n' and '\\' escaped (seq_escape_str with
// ESCAPE_SPACE | ESCAPE_SPECIAL limited to those two characters).
void put_task_name(std::string& out, std::string_view name)
{
    constexpr size_t TASK_COMM_LEN = 16;
    name = name.substr(0, std::min(name.size(), TASK_COMM_LEN - 1));
    for (char c : name) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\\')
            out += "\\\\";
        else
            out += c;
    }
}

// "%#04o": at least four digits, with the leading 0 that '#' asks for on non-zero values.
std::string umask_text(u32 umask)
{
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%#04o", umask);
    return buf;
}

void put_field(std::string& out, const char* label, u64 value)
{
    out += label;
    out += ":\t";
    out += std::to_string(value);
    out += '\n';
}

void put_field(std::string& out, const char* label, std::string_view value)
{
    out += label;
    out += ":\t";
    out += value;
    out += '\n';
}

void put_hex16(std::string& out, const char* label, u64 value)
{
    out += label;
    out += ":\t";
    put_hex_width(out, value, 16);
    out += '\n';
}

// task_mem()'s lines: "VmPeak:\t" then the kB value in 8 columns.
void put_status_kb(std::string& out, const char* label, u64 kb)
{
    out += label;
    out += ":\t";
    put_dec_width(out, kb, 8);
    out += " kB\n";
}

void put_ids(std::string& out, const char* label, const u32 (&ids)[4])
{
    out += label;
    out += ':';
    for (u32 id : ids) {
        out += '\t';
        out += std::to_string(id);
    }
    out += '\n';
}

void put_task_state(std::string& out, const StatusValues& v)
{
    out += "Umask:\t" + umask_text(v.umask) + '\n';
    put_field(out, "State", task_state_text(v.state));
    put_field(out, "Tgid", v.tgid);
    put_field(out, "Ngid", v.ngid);
    put_field(out, "Pid", v.pid);
    put_field(out, "PPid", v.ppid);
    put_field(out, "TracerPid", v.tracer_pid);
    put_ids(out, "Uid", v.uid);
    put_ids(out, "Gid", v.gid);
    put_field(out, "FDSize", v.fd_size);
    out += "Groups:\t";
    for (size_t i = 0; i < v.groups.size(); ++i) {
        if (i != 0)
            out += ' ';
        out += std::to_string(v.groups[i]);
    }
    out += " \n"; // Linux keeps the historical trailing space
    // One pid namespace level: each NS* line has a single id.
    put_field(out, "NStgid", v.tgid);
    put_field(out, "NSpid", v.pid);
    put_field(out, "NSpgid", v.pgid);
    put_field(out, "NSsid", v.sid);
}

void put_task_mem(std::string& out, const StatusValues& v)
{
    put_status_kb(out, "VmPeak", v.vm_peak);
    put_status_kb(out, "VmSize", v.vm_size);
    put_status_kb(out, "VmLck", v.vm_lck);
    put_status_kb(out, "VmPin", v.vm_pin);
    put_status_kb(out, "VmHWM", v.vm_hwm);
    put_status_kb(out, "VmRSS", v.vm_rss);
    put_status_kb(out, "RssAnon", v.rss_anon);
    put_status_kb(out, "RssFile", v.rss_file);
    put_status_kb(out, "RssShmem", v.rss_shmem);
    put_status_kb(out, "VmData", v.vm_data);
    put_status_kb(out, "VmStk", v.vm_stk);
    put_status_kb(out, "VmExe", v.vm_exe);
    put_status_kb(out, "VmLib", v.vm_lib);
    put_status_kb(out, "VmPTE", v.vm_pte);
    put_status_kb(out, "VmSwap", v.vm_swap);
    put_status_kb(out, "HugetlbPages", v.hugetlb_pages);
    put_field(out, "CoreDumping", v.core_dumping ? 1 : 0);
    put_field(out, "THP_enabled", v.thp_enabled ? 1 : 0);
}

void put_task_sig_cap_seccomp(std::string& out, const StatusValues& v)
{
    put_field(out, "Threads", v.threads);
    out += "SigQ:\t" + std::to_string(v.sigq_queued) + '/' + std::to_string(v.sigq_limit) + '\n';
    put_hex16(out, "SigPnd", v.sig_pnd);
    put_hex16(out, "ShdPnd", v.shd_pnd);
    put_hex16(out, "SigBlk", v.sig_blk);
    put_hex16(out, "SigIgn", v.sig_ign);
    put_hex16(out, "SigCgt", v.sig_cgt);
    put_hex16(out, "CapInh", v.cap_inh);
    put_hex16(out, "CapPrm", v.cap_prm);
    put_hex16(out, "CapEff", v.cap_eff);
    put_hex16(out, "CapBnd", v.cap_bnd);
    put_hex16(out, "CapAmb", v.cap_amb);
    put_field(out, "NoNewPrivs", v.no_new_privs ? 1 : 0);
    put_field(out, "Seccomp", v.seccomp);
    put_field(out, "Seccomp_filters", v.seccomp_filters);
    put_field(out, "Speculation_Store_Bypass", v.speculation_store_bypass);
    put_field(out, "SpeculationIndirectBranch", v.speculation_indirect_branch);
}

// ---- free and vmstat ---------------------------------------------------------------------

struct FreeNumbers {
    u64 total, used, free, shared, buff_cache, available;
    u64 swap_total, swap_used, swap_free;
};

// procps-ng's library/meminfo.c derivations.
FreeNumbers free_numbers(const MeminfoValues& m)
{
    u64 available = m.mem_available == 0 ? m.mem_free : m.mem_available;
    if (available > m.mem_total)
        available = m.mem_free; // a container's distorted numbers
    i64 used = static_cast<i64>(m.mem_total) - static_cast<i64>(available);
    if (used < 0)
        used = static_cast<i64>(m.mem_total) - static_cast<i64>(m.mem_free);
    u64 swap_used = m.swap_free < m.swap_total ? m.swap_total - m.swap_free : 0;
    return FreeNumbers{
        m.mem_total, static_cast<u64>(used), m.mem_free, m.shmem,    m.buffers + m.cached + m.sreclaimable,
        available,   m.swap_total,           swap_used,  m.swap_free};
}

// free's scale_size() for -h: bytes as "NB" if that fits 4 characters, else the first of
// "%.1f<unit>i" and "%ld<unit>i" that fits 5, trying Ki, Mi, Gi, ... in turn. The float cast is
// procps's and decides the rounding.
std::string free_scale_human(u64 kb)
{
    static constexpr char UNITS[] = {'B', 'K', 'M', 'G', 'T', 'P'};
    long long bytes = static_cast<long long>(kb) * 1024LL;
    char buf[64];
    if (std::snprintf(buf, sizeof(buf), "%lld%c", bytes, UNITS[0]) <= 4)
        return buf;
    double scale = 1.0;
    for (size_t i = 1; i < std::size(UNITS); ++i) {
        scale *= 1024.0;
        float scaled = static_cast<float>(static_cast<double>(bytes) / scale);
        if (std::snprintf(buf, sizeof(buf), "%.1f%ci", static_cast<double>(scaled), UNITS[i]) <= 5)
            return buf;
        if (std::snprintf(buf, sizeof(buf), "%ld%ci", static_cast<long>(static_cast<double>(bytes) / scale),
                          UNITS[i]) <= 5)
            return buf;
    }
    return buf;
}

std::string free_value(u64 kb, bool human)
{
    return human ? free_scale_human(kb) : std::to_string(kb);
}

void put_free_row(std::string& out, const char* label, std::initializer_list<u64> values, bool human)
{
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%-9s", label);
    out += buf;
    bool first = true;
    for (u64 v : values) {
        std::snprintf(buf, sizeof(buf), first ? "%11s" : " %11s", free_value(v, human).c_str());
        out += buf;
        first = false;
    }
    out += '\n';
}

// vmstat's unitConvert() with the default unit: the kB value goes through a float, so values
// above 2^24 kB lose their low bits exactly as procps prints them.
u64 vmstat_unit_convert(u64 kb)
{
    float converted = static_cast<float>(kb) / 1024;
    converted = converted * 1024;
    return static_cast<u64>(converted);
}

constexpr u64 VMSTAT_KB_PER_PAGE = PAGE_SIZE / 1024;

struct CpuSplit {
    u64 use, sys, idl, iow, sto, gue;
};

CpuSplit cpu_split(const VmstatCounters& c)
{
    return CpuSplit{c.user + c.nice, c.system + c.irq + c.softirq, c.idle, c.iowait,
                    c.steal,         c.guest + c.guest_nice};
}

void fill_cpu_percent(VmstatSample& s, CpuSplit cpu)
{
    u64 div = cpu.use + cpu.sys + cpu.idl + cpu.iow + cpu.sto;
    if (div == 0) {
        div = 1;
        cpu.idl = 1;
    }
    u64 half = div / 2;
    // Guest time is counted in user time too; procps takes it out after computing the divisor.
    cpu.use = cpu.use >= cpu.gue ? cpu.use - cpu.gue : 0;
    s.us = (100 * cpu.use + half) / div;
    s.sy = (100 * cpu.sys + half) / div;
    s.id = (100 * cpu.idl + half) / div;
    s.wa = (100 * cpu.iow + half) / div;
    s.st = (100 * cpu.sto + half) / div;
}

} // namespace

// ---- public functions ------------------------------------------------------------------------

std::string format_meminfo(const MeminfoValues& values)
{
    std::string out;
    out.reserve(std::size(MEMINFO_FIELDS) * 28);
    for (const MeminfoField& field : MEMINFO_FIELDS)
        put_meminfo_line(out, field, values.*field.member);
    return out;
}

std::string meminfo_json(const MeminfoValues& values)
{
    JsonWriter json;
    json.open('{');
    for (const MeminfoField& field : MEMINFO_FIELDS) {
        json.key(field.name);
        json.number(values.*field.member);
    }
    json.close('}');
    return json.take();
}

void set_maps_permissions(MapsEntry& entry, u64 vm_flags)
{
    entry.r = vm_flags & VM_READ;
    entry.w = vm_flags & VM_WRITE;
    entry.x = vm_flags & VM_EXEC;
    entry.shared = vm_flags & VM_MAYSHARE;
}

std::string format_maps_line(const MapsEntry& entry)
{
    std::string out;
    put_maps_line(out, entry);
    return out;
}

std::string vm_flags_mnemonics(u64 vm_flags)
{
    std::string out;
    for (unsigned bit = 0; bit < 64; ++bit) {
        if (!(vm_flags & (u64{1} << bit)))
            continue;
        out += mnemonic_of_bit(bit);
        out += ' ';
    }
    return out;
}

std::string format_smaps_entry(const MapsEntry& entry, const SmapsValues& values)
{
    std::string out;
    put_maps_line(out, entry);
    put_kb(out, "Size:           ", values.size);
    put_kb(out, "KernelPageSize: ", values.kernel_page_size);
    put_kb(out, "MMUPageSize:    ", values.mmu_page_size);
    put_smap_counters(out, values, false);
    out += "THPeligible:    ";
    out += values.thp_eligible ? '1' : '0';
    out += '\n';
    out += "VmFlags: " + vm_flags_mnemonics(values.vm_flags) + '\n';
    return out;
}

std::string format_smaps_rollup(u64 start, u64 end, const SmapsValues& totals)
{
    MapsEntry header;
    header.start = start;
    header.end = end;
    header.path = "[rollup]";
    std::string out;
    put_maps_line(out, header);
    put_smap_counters(out, totals, true);
    return out;
}

const char* task_state_text(TaskState state)
{
    switch (state) {
    case TaskState::Running: return "R (running)";
    case TaskState::Sleeping: return "S (sleeping)";
    case TaskState::DiskSleep: return "D (disk sleep)";
    case TaskState::Stopped: return "T (stopped)";
    case TaskState::TracingStop: return "t (tracing stop)";
    case TaskState::Dead: return "X (dead)";
    case TaskState::Zombie: return "Z (zombie)";
    case TaskState::Parked: return "P (parked)";
    case TaskState::Idle: return "I (idle)";
    }
    VERIFY_NOT_REACHED();
}

u64 default_sigpending_limit(u64 totalram_pages)
{
    constexpr u64 THREAD_SIZE = 16 * 1024; // riscv64: THREAD_SIZE_ORDER 2
    constexpr u64 MIN_THREADS = 20;
    constexpr u64 MAX_THREADS = 0x3fffffff; // FUTEX_TID_MASK
    u64 threads = totalram_pages * PAGE_SIZE / (THREAD_SIZE * 8);
    threads = std::clamp(threads, MIN_THREADS, MAX_THREADS);
    return threads / 2;
}

std::string format_status(const StatusValues& v)
{
    std::string out = "Name:\t";
    put_task_name(out, v.name);
    out += '\n';
    put_task_state(out, v);
    if (v.has_mm)
        put_task_mem(out, v);
    put_task_sig_cap_seccomp(out, v);
    put_field(out, "Cpus_allowed", bitmap_hex(v.cpus_allowed, v.nr_cpu_ids));
    put_field(out, "Cpus_allowed_list", bitmap_list(v.cpus_allowed, v.nr_cpu_ids));
    put_field(out, "Mems_allowed", bitmap_hex(v.mems_allowed, v.nr_mem_nodes));
    put_field(out, "Mems_allowed_list", bitmap_list(v.mems_allowed, v.nr_mem_nodes));
    put_field(out, "voluntary_ctxt_switches", v.voluntary_ctxt_switches);
    put_field(out, "nonvoluntary_ctxt_switches", v.nonvoluntary_ctxt_switches);
    return out;
}

std::string bitmap_hex(u64 mask, u32 nbits)
{
    VERIFY(nbits <= 64 && "bitmap_hex handles masks of at most 64 bits");
    std::string out;
    if (nbits == 0)
        return out;
    // Linux prints 32-bit words from the top; the first holds the leftover bits and is only as
    // wide as they need.
    u32 first_bits = nbits % 32 == 0 ? 32 : nbits % 32;
    int chunk_start = static_cast<int>(nbits - first_bits);
    u32 chunk_bits = first_bits;
    for (; chunk_start >= 0; chunk_start -= 32) {
        u64 chunk_mask = (u64{1} << chunk_bits) - 1;
        u64 chunk = (mask >> chunk_start) & chunk_mask;
        if (!out.empty())
            out += ',';
        put_hex_width(out, chunk, static_cast<int>((chunk_bits + 3) / 4));
        chunk_bits = 32;
    }
    return out;
}

std::string bitmap_list(u64 mask, u32 nbits)
{
    VERIFY(nbits <= 64 && "bitmap_list handles masks of at most 64 bits");
    std::string out;
    u32 bit = 0;
    while (bit < nbits) {
        if (!(mask & (u64{1} << bit))) {
            ++bit;
            continue;
        }
        u32 run_end = bit;
        while (run_end + 1 < nbits && (mask & (u64{1} << (run_end + 1))))
            ++run_end;
        if (!out.empty())
            out += ',';
        out += std::to_string(bit);
        if (run_end != bit)
            out += '-' + std::to_string(run_end);
        bit = run_end + 1;
    }
    return out;
}

std::string format_statm(u64 size, u64 resident, u64 shared, u64 text, u64 data)
{
    return std::to_string(size) + ' ' + std::to_string(resident) + ' ' + std::to_string(shared) + ' ' +
           std::to_string(text) + " 0 " + std::to_string(data) + " 0\n";
}

u64 pagemap_entry_present(u64 pfn, bool soft_dirty, bool exclusive, bool file_or_shared_anon)
{
    u64 entry = (pfn & PM_PFRAME_MASK) | PM_PRESENT;
    if (soft_dirty)
        entry |= PM_SOFT_DIRTY;
    if (exclusive)
        entry |= PM_MMAP_EXCLUSIVE;
    if (file_or_shared_anon)
        entry |= PM_FILE;
    return entry;
}

u64 pagemap_entry_swap(u64 type, u64 offset, bool soft_dirty)
{
    VERIFY(type < (u64{1} << PM_SWAP_TYPE_BITS) && "Linux has at most 32 swap types");
    u64 frame = type | (offset << PM_SWAP_TYPE_BITS);
    u64 entry = (frame & PM_PFRAME_MASK) | PM_SWAP;
    if (soft_dirty)
        entry |= PM_SOFT_DIRTY;
    return entry;
}

u64 pagemap_entry_none(bool soft_dirty)
{
    return soft_dirty ? PM_SOFT_DIRTY : 0;
}

std::string format_free(const MeminfoValues& values, bool human)
{
    FreeNumbers n = free_numbers(values);
    std::string out = "               total        used        free      shared  buff/cache   available\n";
    put_free_row(out, "Mem:", {n.total, n.used, n.free, n.shared, n.buff_cache, n.available}, human);
    put_free_row(out, "Swap:", {n.swap_total, n.swap_used, n.swap_free}, human);
    return out;
}

VmstatSample vmstat_since_boot(const VmstatCounters& now, u64 hz)
{
    VmstatSample s;
    CpuSplit cpu = cpu_split(now);
    u64 div = cpu.use + cpu.sys + cpu.idl + cpu.iow + cpu.sto;
    if (div == 0)
        div = 1;
    u64 half = div / 2;
    s.si = (vmstat_unit_convert(now.pswpin * VMSTAT_KB_PER_PAGE) * hz + half) / div;
    s.so = (vmstat_unit_convert(now.pswpout * VMSTAT_KB_PER_PAGE) * hz + half) / div;
    s.bi = (now.pgpgin * hz + half) / div;
    s.bo = (now.pgpgout * hz + half) / div;
    s.in = (now.intr * hz + half) / div;
    s.cs = (now.ctxt * hz + half) / div;
    fill_cpu_percent(s, cpu);
    return s;
}

VmstatSample vmstat_interval(const VmstatCounters& before, const VmstatCounters& after, u64 seconds)
{
    VERIFY(seconds > 0 && "vmstat samples over at least one second");
    VmstatSample s;
    u64 half = seconds / 2;
    s.si = (vmstat_unit_convert((after.pswpin - before.pswpin) * VMSTAT_KB_PER_PAGE) + half) / seconds;
    s.so = (vmstat_unit_convert((after.pswpout - before.pswpout) * VMSTAT_KB_PER_PAGE) + half) / seconds;
    s.bi = (after.pgpgin - before.pgpgin + half) / seconds;
    s.bo = (after.pgpgout - before.pgpgout + half) / seconds;
    s.in = (after.intr - before.intr + half) / seconds;
    s.cs = (after.ctxt - before.ctxt + half) / seconds;
    CpuSplit a = cpu_split(after);
    CpuSplit b = cpu_split(before);
    // procps 4.0.2 subtracts the cumulative guest ticks here, not their change; kept as it does.
    fill_cpu_percent(
        s, CpuSplit{a.use - b.use, a.sys - b.sys, a.idl - b.idl, a.iow - b.iow, a.sto - b.sto, a.gue});
    return s;
}

std::string format_vmstat_header()
{
    return "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n"
           " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n";
}

std::string format_vmstat_line(const VmstatSample& s)
{
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "%2llu %2llu %6llu %6llu %6llu %6llu %4u %4u %5u %5u %4u %4u %2u %2u %2u %2u %2u\n",
                  static_cast<unsigned long long>(s.r), static_cast<unsigned long long>(s.b),
                  static_cast<unsigned long long>(vmstat_unit_convert(s.swpd)),
                  static_cast<unsigned long long>(vmstat_unit_convert(s.free)),
                  static_cast<unsigned long long>(vmstat_unit_convert(s.buff)),
                  static_cast<unsigned long long>(vmstat_unit_convert(s.cache)), static_cast<unsigned>(s.si),
                  static_cast<unsigned>(s.so), static_cast<unsigned>(s.bi), static_cast<unsigned>(s.bo),
                  static_cast<unsigned>(s.in), static_cast<unsigned>(s.cs), static_cast<unsigned>(s.us),
                  static_cast<unsigned>(s.sy), static_cast<unsigned>(s.id), static_cast<unsigned>(s.wa),
                  static_cast<unsigned>(s.st));
    return buf;
}

} // namespace kioku
