/* Permission checks for a process that is not root: search permission on the directories of a
 * path, read and write permission to open, access() with the real or the effective ids, making
 * and removing names in a directory (and the sticky bit's rule), chmod and chown by the owner and
 * by others, truncate, chdir, links. Files are made as root; a child drops to uid 1000 (groups
 * 1000 and 100) and prints each call's errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* name(int e)
{
    switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    default: return strerror(e);
    }
}

static void report(const char* what, int r)
{
    printf("%-40s %s\n", what, name(r < 0 ? errno : 0));
}

static int open_close(const char* path, int flags)
{
    int fd = open(path, flags, 0644);
    if (fd >= 0)
        close(fd);
    return fd;
}

static void make(const char* path, int mode, int uid, int gid)
{
    close(open(path, O_CREAT | O_WRONLY, 0600));
    chmod(path, mode);
    chown(path, uid, gid);
}

static void as_user(void)
{
    struct stat st;
    report("stat closed/f", stat("closed/f", &st));
    report("stat closed (itself)", stat("closed", &st));
    report("open closed/f", open_close("closed/f", O_RDONLY));
    report("open closed (a directory) for reading", open_close("closed", O_RDONLY | O_DIRECTORY));
    report("open secret O_RDONLY", open_close("secret", O_RDONLY));
    report("open secret O_WRONLY", open_close("secret", O_WRONLY));
    report("open open O_RDWR", open_close("open", O_RDWR));
    report("open grp O_RDONLY (group 100)", open_close("grp", O_RDONLY));
    report("open grp O_WRONLY", open_close("grp", O_WRONLY));
    report("open mine O_RDONLY|O_TRUNC", open_close("mine", O_RDONLY | O_TRUNC));
    report("open secret O_CREAT|O_EXCL (exists)", open_close("secret", O_CREAT | O_EXCL | O_WRONLY));
    report("access secret R_OK", access("secret", R_OK));
    report("access open W_OK", access("open", W_OK));
    report("access prog X_OK", access("prog", X_OK));
    report("access closed/f F_OK", access("closed/f", F_OK));
    report("creat ro/new", open_close("ro/new", O_CREAT | O_WRONLY));
    report("mkdir ro/d", mkdir("ro/d", 0755));
    report("mkdir ro/f (exists)", mkdir("ro/f", 0755));
    report("unlink ro/f", unlink("ro/f"));
    report("unlink ro/missing", unlink("ro/missing"));
    report("rename ro/f x", rename("ro/f", "x"));
    report("symlink x ro/l", symlink("x", "ro/l"));
    report("link open ro/l2", link("open", "ro/l2"));
    report("unlink sticky/rootfile", unlink("sticky/rootfile"));
    report("creat sticky/mine", open_close("sticky/mine", O_CREAT | O_WRONLY));
    report("rename sticky/rootfile sticky/z", rename("sticky/rootfile", "sticky/z"));
    report("unlink sticky/mine", unlink("sticky/mine"));
    report("chmod secret 0644", chmod("secret", 0644));
    report("chmod mine 0600", chmod("mine", 0600));
    report("chown mine 0:-1", chown("mine", 0, -1));
    report("chown mine -1:100 (a group of mine)", chown("mine", -1, 100));
    report("chown mine -1:5", chown("mine", -1, 5));
    report("chown mine 1000:1000 (no change)", chown("mine", 1000, 1000));
    report("chown open -1:1000 (not mine)", chown("open", -1, 1000));
    stat("mine", &st);
    printf("%-40s %u:%u %o\n", "mine now", (unsigned)st.st_uid, (unsigned)st.st_gid, st.st_mode & 07777);
    chown("mine", -1, 100);
    report("chmod mine 02750 (group 100, a member)", chmod("mine", 02750));
    stat("mine", &st);
    printf("%-40s %o\n", "mine's mode", st.st_mode & 07777);
    report("chmod other-group 02750 (group 5)", chmod("other-group", 02750));
    stat("other-group", &st);
    printf("%-40s %o (S_ISGID dropped)\n", "other-group's mode", st.st_mode & 07777);
    report("truncate secret", truncate("secret", 0));
    report("truncate open", truncate("open", 0));
    report("chdir closed", chdir("closed"));
    report("chdir ro", chdir("ro"));
    report("chdir .. (back)", chdir(".."));
    report("open open O_NOATIME (not the owner)", open_close("open", O_RDONLY | O_NOATIME));
    report("open mine O_NOATIME (the owner)", open_close("mine", O_RDONLY | O_NOATIME));
    char target[16];
    report("readlink closed/l", readlink("closed/l", target, sizeof target));
    /* A set-group-ID directory of group 5, which 1000 is not in. */
    report("creat sgid/f 02755", open_close("sgid/f", O_CREAT | O_WRONLY) < 0 ? -1 : chmod("sgid/f", 02755));
    close(open("sgid/g", O_CREAT | O_WRONLY, 02755));
    report("mkdir sgid/d", mkdir("sgid/d", 0755));
    const char* made[] = {"sgid/f", "sgid/g", "sgid/d"};
    for (unsigned i = 0; i < 3; ++i) {
        stat(made[i], &st);
        printf("%-40s %u:%u %o\n", made[i], (unsigned)st.st_uid, (unsigned)st.st_gid, st.st_mode & 07777);
    }
}

int main(void)
{
    char base[64];
    snprintf(base, sizeof base, "/tmp/perm-%d", (int)getpid());
    umask(0);
    if (mkdir(base, 0755) != 0 || chdir(base) != 0)
        return 1;
    mkdir("closed", 0700);
    make("closed/f", 0644, 0, 0);
    mkdir("ro", 0555);
    make("ro/f", 0666, 0, 0);
    make("secret", 0600, 0, 0);
    make("open", 0666, 0, 0);
    make("mine", 0644, 1000, 1000);
    mkdir("sticky", 01777);
    make("sticky/rootfile", 0666, 0, 0);
    make("prog", 0644, 0, 0);
    make("grp", 0640, 0, 100);
    make("other-group", 0644, 1000, 5);
    symlink("f", "closed/l");
    mkdir("sgid", 0777);
    chown("sgid", 0, 5);
    chmod("sgid", 02777);

    pid_t pid = fork();
    if (pid == 0) {
        gid_t groups[] = {100};
        if (setgroups(1, groups) != 0 || setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0)
            _exit(2);
        as_user();
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child exit %d\n", WEXITSTATUS(status));

    /* Real uid 1000, effective 0: access() checks with the real ids, AT_EACCESS with the
     * effective ones. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (setresuid(1000, 0, 0) != 0)
            _exit(2);
        report("access secret R_OK (real 1000)", access("secret", R_OK));
        report("faccessat secret R_OK AT_EACCESS", faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS));
        report("access prog X_OK (real 1000)", access("prog", X_OK));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("child exit %d\n", WEXITSTATUS(status));

    const char* files[] = {"closed/f", "ro/f", "secret", "open", "mine", "sticky/rootfile", "sticky/z",
                           "sticky/mine", "prog", "grp", "other-group", "x", "ro/l", "ro/l2", "ro/new"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; ++i)
        unlink(files[i]);
    unlink("closed/l");
    unlink("sgid/f");
    unlink("sgid/g");
    rmdir("sgid/d");
    rmdir("sgid");
    rmdir("ro/d");
    rmdir("closed");
    rmdir("ro");
    rmdir("sticky");
    chdir("/");
    return rmdir(base) == 0 ? 0 : 3;
}
