/* Owners when kioku does not run as the host's root: the guest is root all the same. Prints the
 * owner of the root, of a file the run found there (made by kioku's host user), of one another
 * host user made (when the script could make one), of a file the guest makes, and what chown
 * gives it. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char* what, const char* path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("%-26s absent\n", what);
        return;
    }
    printf("%-26s %u:%u\n", what, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

int main(void)
{
    printf("uid %u gid %u\n", (unsigned)getuid(), (unsigned)getgid());
    show("the root", "/");
    show("found, kioku's user's", "/found");
    show("found, another user's", "/foreign");
    close(open("/made", O_CREAT | O_WRONLY, 0644));
    show("made by the guest", "/made");
    printf("chown 1000:1001: %s\n", chown("/made", 1000, 1001) == 0 ? "done" : "refused");
    show("after chown", "/made");
    printf("chown -1:7: %s\n", chown("/found", -1, 7) == 0 ? "done" : "refused");
    show("after chown", "/found");
    return 0;
}
