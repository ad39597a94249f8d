/* uname names the Linux whose behaviour kioku follows (6.18), and /proc/sys/kernel/osrelease and
 * ostype agree with it. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static void read_line(const char* path, char* out, size_t n)
{
    FILE* f = fopen(path, "r");
    out[0] = 0;
    if (f && fgets(out, (int)n, f))
        out[strcspn(out, "\n")] = 0;
    if (f)
        fclose(f);
}

int main(void)
{
    struct utsname u;
    uname(&u);
    char release[128], type[32];
    read_line("/proc/sys/kernel/osrelease", release, sizeof release);
    read_line("/proc/sys/kernel/ostype", type, sizeof type);
    printf("sysname %s\n", u.sysname);
    printf("release 6.18.x: %s\n", strncmp(u.release, "6.18.", 5) == 0 ? "yes" : "no");
    printf("osrelease is uname's release: %s\n", strcmp(release, u.release) == 0 ? "yes" : "no");
    printf("ostype %s\n", type);
    return 0;
}
