/* Owners of files as stat shows them: what a file is made with (the caller's fsuid and fsgid),
 * what chown, fchown and lchown give, and -1 leaving an id as it is. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void show(const char* what, const char* name, int follow)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) {
        perror(what);
        exit(1);
    }
    printf("%-28s %u:%u\n", what, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

static void at(char* out, const char* name) { snprintf(out, 128, "%s/%s", dir, name); }

int main(void)
{
    char p[128], q[128];
    snprintf(dir, sizeof dir, "/tmp/owners-%d", (int)getpid());
    if (mkdir(dir, 0777) != 0 || chmod(dir, 0777) != 0)
        return 1;
    at(p, "root-file");
    close(open(p, O_CREAT | O_WRONLY, 0644));
    show("made by root", "root-file", 1);
    if (chown(p, 1000, 1001) != 0)
        perror("chown");
    show("chown 1000:1001", "root-file", 1);
    if (chown(p, -1, 2000) != 0)
        perror("chown -1");
    show("chown -1:2000", "root-file", 1);
    int fd = open(p, O_RDONLY);
    if (fchown(fd, 3000, -1) != 0)
        perror("fchown");
    close(fd);
    show("fchown 3000:-1", "root-file", 1);

    at(q, "link");
    if (symlink("root-file", q) != 0)
        perror("symlink");
    if (lchown(q, 4000, 4001) != 0)
        perror("lchown");
    show("lchown: the link", "link", 0);
    show("lchown: its target", "link", 1);

    /* As another user (fsuid and fsgid follow the effective ids). */
    if (setegid(100) != 0 || seteuid(1000) != 0)
        perror("seteuid");
    at(p, "user-file");
    close(open(p, O_CREAT | O_WRONLY, 0644));
    show("made by 1000:100", "user-file", 1);
    at(p, "user-dir");
    if (mkdir(p, 0755) != 0)
        perror("mkdir");
    show("mkdir by 1000:100", "user-dir", 1);
    at(p, "user-link");
    if (symlink("user-file", p) != 0)
        perror("symlink");
    show("symlink by 1000:100", "user-link", 0);
    /* fsuid alone changes the owner of what is made (0: the real and saved uid). */
    setfsuid(0);
    at(p, "fsuid-file");
    close(open(p, O_CREAT | O_WRONLY, 0644));
    show("made with fsuid 0", "fsuid-file", 1);
    setfsuid(1000);
    if (seteuid(0) != 0 || setegid(0) != 0)
        perror("back to root");
    /* A rename and a link keep the owner. */
    at(p, "user-file");
    at(q, "renamed");
    if (rename(p, q) != 0)
        perror("rename");
    show("renamed", "renamed", 1);
    at(p, "hard");
    if (link(q, p) != 0)
        perror("link");
    show("hard link", "hard", 1);
    /* A file made again under an old name is the new maker's. */
    at(p, "renamed");
    unlink(p);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    show("made again by root", "renamed", 1);

    const char* names[] = {"root-file", "link", "user-dir", "user-link", "fsuid-file", "renamed", "hard"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; ++i) {
        at(p, names[i]);
        if (i == 2)
            rmdir(p);
        else
            unlink(p);
    }
    rmdir(dir);
    return 0;
}
