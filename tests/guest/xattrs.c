/* Extended attributes on a filesystem that keeps none: every call checks its file (ENOENT, EBADF,
 * an O_PATH descriptor too) and name (ERANGE) first, then listing finds nothing and the others
 * are EOPNOTSUPP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char* what, long r)
{
    printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
    close(open("xattrs.file", O_CREAT | O_RDWR, 0644));
    int p = open("xattrs.file", O_PATH);
    char buf[64];
    show("getxattr of nothing", getxattr("xattrs.none", "user.a", buf, sizeof buf));
    show("fgetxattr of a closed fd", fgetxattr(99, "user.a", buf, sizeof buf));
    show("fgetxattr of an O_PATH fd", fgetxattr(p, "user.a", buf, sizeof buf));
    show("flistxattr of an O_PATH fd", flistxattr(p, buf, sizeof buf));
    show("fsetxattr of an O_PATH fd", fsetxattr(p, "user.a", "v", 1, 0));
    show("fremovexattr of an O_PATH fd", fremovexattr(p, "user.a"));
    show("getxattr with an empty name", getxattr("xattrs.file", "", buf, sizeof buf));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    memcpy(longname, "user.", 5);
    show("getxattr with a long name", getxattr("xattrs.file", longname, buf, sizeof buf));
    show("setxattr with bad flags", setxattr("xattrs.file", "user.a", "v", 1, 4));
    show("lremovexattr of nothing", lremovexattr("xattrs.none", "user.a"));
    unlink("xattrs.file");
    return 0;
}
