/* getcwd after chdir and fchdir through symbolic links: the directory reached, links resolved
 * (printed relative to a scratch directory). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];

static void show(const char* what)
{
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) {
        perror(what);
        return;
    }
    size_t n = strlen(base);
    printf("%-32s %s\n", what, strncmp(buf, base, n) == 0 ? buf + n : buf);
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/cwd-links-%d", (int)getpid());
    mkdir(base, 0755);
    chdir(base);
    mkdir("real", 0755);
    mkdir("real/sub", 0755);
    symlink("real", "link");
    symlink("sub", "real/rel");
    symlink(base, "real/abs");
    symlink("link/rel", "chain");
    chdir("link");
    show("chdir link");
    chdir("rel");
    show("chdir rel (relative link)");
    chdir(base);
    chdir("chain");
    show("chdir chain (link to a link)");
    chdir("..");
    show("chdir .. from there");
    chdir(base);
    chdir("real/abs/link/sub");
    show("chdir real/abs/link/sub");
    chdir(base);
    int fd = open("link/rel", O_RDONLY | O_DIRECTORY);
    fchdir(fd);
    close(fd);
    show("fchdir of link/rel");
    chdir(base);
    unlink("chain");
    unlink("real/abs");
    unlink("real/rel");
    unlink("link");
    rmdir("real/sub");
    rmdir("real");
    chdir("/");
    return rmdir(base);
}
