/*
 * Demand paging of anonymous private memory: mmap reserves addresses only; the first write to
 * each page takes one minor fault and adds one resident page; later writes take none; munmap
 * gives the pages back.
 */
#include "parity.h"

#define PAGES 256

int main(void) {
    parity_begin();

    /* Every measurement is taken before the first fact is printed, so that the code printing
     * it cannot fault pages in between. */
    long flt0 = minflt_now();
    long rss0 = rss_pages();
    volatile char* region = map_anon(PAGES, MAP_PRIVATE);
    long flt1 = minflt_now();
    long rss1 = rss_pages();

    for (size_t i = 0; i < PAGES; i++)
        region[i * PAGE] = (char)(i + 1);
    long flt2 = minflt_now();
    long rss2 = rss_pages();

    for (size_t i = 0; i < PAGES; i++)
        region[i * PAGE + PAGE - 1] = (char)i;
    long flt3 = minflt_now();

    fact("mmap_minflt_delta", flt1 - flt0);
    fact("mmap_rss_delta_pages", rss1 - rss0);
    fact("first_write_minflt_delta", flt2 - flt1);
    fact("first_write_rss_delta_pages", rss2 - rss0);
    fact("second_write_minflt_delta", flt3 - flt2);

    int intact = 1;
    for (size_t i = 0; i < PAGES; i++)
        intact &= region[i * PAGE] == (char)(i + 1);
    fact("data_intact", intact);

    long rss_before_unmap = rss_pages();
    if (munmap((void*)region, PAGES * PAGE) != 0)
        die("munmap");
    fact("munmap_rss_delta_pages", rss_pages() - rss_before_unmap);
    return 0;
}
