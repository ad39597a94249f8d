/* Computes forever: for the run limits (kioku run --max-instructions, --time-limit). */
#include <stdio.h>

int main(void)
{
    printf("spinning\n");
    fflush(stdout);
    for (volatile unsigned long n = 0;; ++n) {
    }
}
