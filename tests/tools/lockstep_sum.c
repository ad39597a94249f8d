/* A small program for the lock-step test: arithmetic, a loop, calls and a return status, no
 * system call whose answer depends on the machine. */
static long square_sum(long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += i * i;
    return s;
}

int main(void)
{
    return (int)(square_sum(200) % 101);
}
