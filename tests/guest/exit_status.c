/* A program's exit status becomes kioku's; output written before exit is flushed. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("about to exit with 42\n");
    exit(42);
}
