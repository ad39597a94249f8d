/* The smallest guest: static glibc start-up, stdio and the exit status. */
#include <stdio.h>

int main(int argc, char** argv)
{
    printf("hello from riscv64\n");
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; ++i)
        printf("argv[%d] %s\n", i, argv[i]);
    return 0;
}
