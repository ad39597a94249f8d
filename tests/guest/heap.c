/* malloc through brk and mmap, realloc growing a large block (mremap), calloc zeroing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    long sum = 0;
    char* small[100];
    for (int i = 0; i < 100; ++i) {
        small[i] = malloc(100 + i);
        memset(small[i], i, 100 + i);
    }
    for (int i = 0; i < 100; ++i) {
        sum += small[i][99];
        free(small[i]);
    }
    printf("small blocks sum %ld\n", sum);

    size_t big = 8 << 20;
    unsigned char* p = malloc(big);
    for (size_t i = 0; i < big; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    p = realloc(p, 2 * big);
    long check = 0;
    for (size_t i = 0; i < big; i += 4096)
        check += p[i];
    printf("realloc kept data: %ld\n", check);
    free(p);

    int* z = calloc(1 << 20, sizeof(int));
    long zeros = 0;
    for (int i = 0; i < (1 << 20); ++i)
        zeros += z[i] == 0;
    printf("calloc zeros %ld\n", zeros);
    free(z);
    return 0;
}
