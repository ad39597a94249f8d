// The files of /sys/kernel/mm/transparent_hugepage (Linux: mm/huge_memory.c and mm/khugepaged.c
// sysfs attributes), with Linux's exact text: the choices of a mode file on one line with the
// current one in brackets, numbers as decimal lines. Writes take the same words (a trailing
// newline allowed, as sysfs_streq allows) and answer EINVAL otherwise.
#include <array>

#include "base/Number.h"
#include "mm/thp/Thp.h"

namespace kioku {

namespace {

constexpr std::array<const char*, 3> MODE_NAMES = {"always", "madvise", "never"};
constexpr std::array<const char*, 5> DEFRAG_NAMES = {"always", "defer", "defer+madvise", "madvise", "never"};
// shmem_enabled's choices. kioku's shmem and tmpfs never use huge pages: of these only "never" and
// "deny" (which also refuses them to every mount) can be set.
constexpr std::array<const char*, 6> SHMEM_NAMES = {"always", "within_size", "advise",
                                                    "never",  "deny",        "force"};
constexpr size_t SHMEM_NEVER = 3, SHMEM_DENY = 4;

template <size_t N>
std::string choices(const std::array<const char*, N>& names, size_t current)
{
    std::string out;
    for (size_t i = 0; i < N; ++i) {
        if (i)
            out += ' ';
        out += i == current ? std::string("[") + names[i] + "]" : names[i];
    }
    return out + "\n";
}

std::string trimmed(const std::string& value)
{
    std::string v = value;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
        v.pop_back();
    return v;
}

template <size_t N>
std::optional<size_t> choice_of(const std::array<const char*, N>& names, const std::string& value)
{
    std::string v = trimmed(value);
    for (size_t i = 0; i < N; ++i)
        if (v == names[i])
            return i;
    return std::nullopt;
}

std::optional<u64> number_of(const std::string& value)
{
    return parse_u64(trimmed(value));
}

std::string line(u64 n)
{
    return std::to_string(n) + "\n";
}

} // namespace

Result<std::string> Thp::sysfs_read(const std::string& name) const
{
    const ThpSettings& s = m_settings;
    if (name == "enabled")
        return choices(MODE_NAMES, static_cast<size_t>(s.enabled));
    if (name == "defrag")
        return choices(DEFRAG_NAMES, static_cast<size_t>(s.defrag));
    if (name == "shmem_enabled")
        return choices(SHMEM_NAMES, s.shmem_enabled);
    if (name == "use_zero_page")
        return line(s.use_zero_page);
    if (name == "hpage_pmd_size")
        return line(HPAGE_PMD_SIZE);
    if (name == "khugepaged/defrag")
        return line(s.khugepaged_defrag);
    if (name == "khugepaged/pages_to_scan")
        return line(s.pages_to_scan);
    if (name == "khugepaged/scan_sleep_millisecs")
        return line(s.scan_sleep_millisecs);
    if (name == "khugepaged/alloc_sleep_millisecs")
        return line(s.alloc_sleep_millisecs);
    if (name == "khugepaged/max_ptes_none")
        return line(s.max_ptes_none);
    if (name == "khugepaged/max_ptes_swap")
        return line(s.max_ptes_swap);
    if (name == "khugepaged/max_ptes_shared")
        return line(s.max_ptes_shared);
    if (name == "khugepaged/full_scans")
        return line(m_full_scans);
    if (name == "khugepaged/pages_collapsed")
        return line(m_pages_collapsed);
    return Error::from_errno(ENOENT, "no such transparent_hugepage file");
}

Result<void> Thp::sysfs_write(const std::string& name, const std::string& value)
{
    ThpSettings& s = m_settings;
    if (name == "enabled" || name == "defrag") {
        auto mode = name == "enabled" ? choice_of(MODE_NAMES, value) : choice_of(DEFRAG_NAMES, value);
        if (!mode)
            return Error::from_errno(EINVAL, "not one of the choices");
        if (name == "enabled")
            s.enabled = static_cast<ThpMode>(*mode);
        else
            s.defrag = static_cast<ThpDefrag>(*mode);
        return {};
    }
    if (name == "shmem_enabled") {
        auto mode = choice_of(SHMEM_NAMES, value);
        if (!mode)
            return Error::from_errno(EINVAL, "not one of the choices");
        if (*mode != SHMEM_NEVER && *mode != SHMEM_DENY)
            return Error::from_errno(EINVAL, "shmem has no transparent huge pages in kioku");
        s.shmem_enabled = static_cast<u8>(*mode);
        return {};
    }
    auto n = number_of(value);
    if (!n)
        return Error::from_errno(EINVAL, "not a number");
    // Each limit as Linux's store function checks it.
    if (name == "use_zero_page" || name == "khugepaged/defrag") {
        if (*n > 1)
            return Error::from_errno(EINVAL, "0 or 1");
        (name == "use_zero_page" ? s.use_zero_page : s.khugepaged_defrag) = *n == 1;
    } else if (name == "khugepaged/pages_to_scan") {
        if (*n == 0 || *n > UINT32_MAX)
            return Error::from_errno(EINVAL, "pages_to_scan out of range");
        s.pages_to_scan = *n;
    } else if (name == "khugepaged/scan_sleep_millisecs" || name == "khugepaged/alloc_sleep_millisecs") {
        if (*n > UINT32_MAX)
            return Error::from_errno(EINVAL, "out of range");
        (name == "khugepaged/scan_sleep_millisecs" ? s.scan_sleep_millisecs : s.alloc_sleep_millisecs) = *n;
        m_next_scan_ns = 0; // the new interval starts now, as the kthread is woken
    } else if (name == "khugepaged/max_ptes_none" || name == "khugepaged/max_ptes_swap" ||
               name == "khugepaged/max_ptes_shared") {
        if (*n > HPAGE_PMD_NR - 1)
            return Error::from_errno(EINVAL, "at most HPAGE_PMD_NR - 1");
        u64& field = name == "khugepaged/max_ptes_none"   ? s.max_ptes_none
                     : name == "khugepaged/max_ptes_swap" ? s.max_ptes_swap
                                                          : s.max_ptes_shared;
        field = *n;
    } else if (name == "hpage_pmd_size" || name == "khugepaged/full_scans" ||
               name == "khugepaged/pages_collapsed") {
        return Error::from_errno(EACCES, "read-only file");
    } else {
        return Error::from_errno(ENOENT, "no such transparent_hugepage file");
    }
    return {};
}

} // namespace kioku
