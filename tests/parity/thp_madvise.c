/*
 * Transparent huge pages under the "madvise" setting (the host's, and kioku's default).
 *
 * An 8 MiB anonymous region, 2 MiB-aligned, between two 2 MiB PROT_NONE guards (so it never
 * merges with a neighbour). Its first 4 MiB get MADV_HUGEPAGE, its last 4 MiB MADV_NOHUGEPAGE;
 * each advice splits the VMA at the 4 MiB boundary. Writing every page then takes one fault per
 * 2 MiB in the advised half (two THPs, AnonHugePages 4096 kB) and one per 4 KiB page in the
 * other (AnonHugePages 0). Unmapping one page 3 MiB into the region splits the second THP only:
 * the VMA at the start keeps one PMD-mapped THP (AnonHugePages 2048 kB) and 3 MiB of Rss.
 * prctl(PR_SET_THP_DISABLE) then stops THPs for the whole process even where advised.
 *
 * Every count assumes the kernel finds free 2 MiB blocks, which a machine with free memory does
 * (defrag "madvise" lets an advised fault compact for one).
 *
 * On this host (Linux 6.18, THP enabled=madvise, defrag=madvise) every run printed the same 46
 * facts: the advised half takes 2 write faults and shows AnonHugePages 4096 kB, THPeligible 1;
 * the other half 1024 faults, 0 kB, THPeligible 0; after the one-page munmap the first VMA
 * (3 MiB) keeps Rss 3072 kB and AnonHugePages 2048 kB; PR_GET_THP_DISABLE with a non-zero
 * argument is EINVAL; after PR_SET_THP_DISABLE, status shows THP_enabled 0 and an advised 2 MiB
 * mapping takes 512 faults and no THP (THPeligible 0). tests/parity/thp_madvise.kio prints the
 * same facts on kioku.
 */
#include "parity.h"

#include <sys/prctl.h>

#define MIB (1024UL * 1024UL)
#define HPAGE (2 * MIB)
#define REGION (8 * MIB)

static const char* const FIELDS[] = {"Size", "Rss", "Anonymous", "AnonHugePages", "THPeligible"};

static void print_smaps(const char* prefix, const char* start)
{
    print_smaps_fields(prefix, start, FIELDS, sizeof(FIELDS) / sizeof(FIELDS[0]));
}

/* Writes one byte into every page of [p, p + len) and returns the minor faults it took. */
static long write_pages(char* p, size_t len)
{
    long before = minflt_now();
    for (size_t off = 0; off < len; off += PAGE)
        ((volatile char*)p)[off] = 1;
    return minflt_now() - before;
}

static const char* call_errno(int result)
{
    return errno_name(result == 0 ? 0 : errno);
}

int main(void)
{
    parity_begin();

    /* 16 MiB of PROT_NONE; the region goes at the first 2 MiB boundary past its first 2 MiB, and
     * a later 2 MiB mapping right after it, leaving at least 2 MiB of guard on each side. */
    char* reservation = mmap(NULL, REGION + 8 * MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reservation == MAP_FAILED)
        die("mmap reservation");
    uintptr_t aligned = ((uintptr_t)reservation + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1);
    char* region = mmap((char*)aligned + HPAGE, REGION, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (region == MAP_FAILED)
        die("mmap region");
    char* huge = region;
    char* small = region + REGION / 2;

    fact("status_THP_enabled", status_kb("THP_enabled"));
    fact_str("madvise_unaligned", call_errno(madvise(region + 1, HPAGE, MADV_HUGEPAGE)));
    fact_str("madvise_bad_advice", call_errno(madvise(region, HPAGE, 999)));
    fact_str("madvise_hugepage", call_errno(madvise(huge, REGION / 2, MADV_HUGEPAGE)));
    fact_str("madvise_nohugepage", call_errno(madvise(small, REGION / 2, MADV_NOHUGEPAGE)));
    print_smaps("advised", huge);
    print_smaps("unadvised", small);

    long huge_faults = write_pages(huge, REGION / 2);
    long small_faults = write_pages(small, REGION / 2);
    fact("huge_write_minflt_delta", huge_faults);
    fact("nohuge_write_minflt_delta", small_faults);
    print_smaps("huge", huge);
    print_smaps("nohuge", small);

    /* One page 3 MiB in: inside the second THP, whose PMD is split; the first stays whole. */
    fact_str("munmap_one_page", call_errno(munmap(huge + 3 * MIB, PAGE)));
    print_smaps("after_munmap", huge);
    fact("after_munmap_data_kept", huge[0] == 1 && huge[3 * MIB + PAGE] == 1);

    /* PR_SET_THP_DISABLE: no THP for this process any more, advised or not. */
    fact("get_thp_disable_before", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    fact_str("get_thp_disable_bad_arg", call_errno(prctl(PR_GET_THP_DISABLE, 1, 0, 0, 0) < 0 ? -1 : 0));
    fact_str("set_thp_disable", call_errno(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)));
    fact("get_thp_disable_after", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    fact("status_THP_enabled_after", status_kb("THP_enabled"));
    char* late = mmap((char*)aligned + HPAGE + REGION, HPAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (late == MAP_FAILED)
        die("mmap late");
    fact_str("late_madvise_hugepage", call_errno(madvise(late, HPAGE, MADV_HUGEPAGE)));
    fact("late_write_minflt_delta", write_pages(late, HPAGE));
    print_smaps("late", late);
    return 0;
}
