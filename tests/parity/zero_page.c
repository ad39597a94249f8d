/*
 * Reads of never-written anonymous memory map the shared zero page: each first read takes one
 * minor fault yet adds nothing to RSS (the zero page is not counted). The first write to such a
 * page takes another fault, which replaces the zero page with a private frame and adds it to RSS.
 */
#include "parity.h"

#define PAGES 256

int main(void) {
    parity_begin();

    volatile char* region = map_anon(PAGES, MAP_PRIVATE);
    long rss0 = rss_pages();

    /* Every measurement is taken before the first fact is printed, so that the code printing
     * it cannot fault pages in between. */
    long flt0 = minflt_now();
    int sum = 0;
    for (size_t i = 0; i < PAGES; i++)
        sum += region[i * PAGE + 7];
    long flt1 = minflt_now();
    long rss1 = rss_pages();

    for (size_t i = 0; i < PAGES; i++)
        sum += region[i * PAGE + 9];
    long flt2 = minflt_now();

    for (size_t i = 0; i < PAGES; i++)
        region[i * PAGE] = 1;
    long flt3 = minflt_now();
    long rss3 = rss_pages();

    fact("read_minflt_delta", flt1 - flt0);
    fact("read_rss_delta_pages", rss1 - rss0);
    fact("read_sum", sum);
    fact("reread_minflt_delta", flt2 - flt1);
    fact("write_after_read_minflt_delta", flt3 - flt2);
    fact("write_after_read_rss_delta_pages", rss3 - rss0);

    int zeroes_kept = 1;
    for (size_t i = 0; i < PAGES; i++)
        zeroes_kept &= region[i * PAGE + 1] == 0;
    fact("rest_of_page_still_zero", zeroes_kept);
    return 0;
}
