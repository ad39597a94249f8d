/* A store to an unmapped address kills the program with SIGSEGV: status 139, "Segmentation
 * fault" on stderr. */
#include <stdio.h>

int main(void)
{
    printf("before the fault\n");
    fflush(stdout);
    int* volatile bad = (int*)16;
    *bad = 1;
    printf("not reached\n");
    return 0;
}
