/* A hostile guest: tries to reach files outside its root (tests/guest/escape.sh plants links in
 * the root that point outside and checks afterwards that nothing outside changed). argv[1] is the
 * host path of the directory outside, which holds secret.txt and victim_dir/. Every attempt
 * prints its name and what came of it (ok or the errno name); a read that returns the secret's
 * contents prints ESCAPED. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* outside;
static int escaped;

static const char* result(int r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EXDEV: return "EXDEV";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EBUSY: return "EBUSY";
    default: return "other";
    }
}

static void attempt(const char* name, int r)
{
    printf("%s: %s\n", name, result(r));
}

/* Opens and reads a path; the secret must never come back. */
static void try_read_at(const char* name, int dirfd, const char* path)
{
    int fd = openat(dirfd, path, O_RDONLY);
    if (fd >= 0) {
        char buf[64] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0 && strstr(buf, "SECRET")) {
            printf("%s: ESCAPED\n", name);
            escaped = 1;
            return;
        }
    }
    attempt(name, fd);
}

static void try_read(const char* name, const char* path)
{
    try_read_at(name, AT_FDCWD, path);
}

static char* join(const char* a, const char* b)
{
    static char buf[8][4096];
    static int next;
    char* out = buf[next++ % 8];
    snprintf(out, 4096, "%s%s", a, b);
    return out;
}

int main(int argc, char** argv)
{
    if (argc < 2)
        return 2;
    outside = argv[1];
    const char* host_secret = join(outside, "/secret.txt");

    try_read("absolute host path", host_secret);
    try_read("link to an absolute host path", "/escape_abs/secret.txt");
    try_read("relative link out of the root", "/escape_rel/secret.txt");
    try_read("link to the file itself", "/link_secret");
    try_read("dot-dot chain", join("/../../../../../../..", host_secret));
    try_read("link to dot-dot chain", join("/dotdot", host_secret));
    try_read("/proc/self/root", join("/proc/self/root/../../..", host_secret));
    try_read("a distribution's var/run link", "/var/run/secret.txt");
    int root = open("/", O_RDONLY | O_DIRECTORY);
    try_read_at("openat from the root", root, join("../../../..", host_secret));

    attempt("mkdir through a link", mkdir("/escape_abs/made_by_guest", 0755));
    attempt("mkdir through a relative link", mkdir("/escape_rel/made_by_guest2", 0755));
    attempt("mkdir under var/run", mkdir("/var/run/made_by_guest3", 0755));
    attempt("rmdir through a link", rmdir("/escape_abs/victim_dir"));
    attempt("unlink through a link", unlink("/escape_abs/secret.txt"));
    attempt("rename a host file in", rename("/escape_abs/secret.txt", "/stolen.txt"));
    try_read("read what was renamed in", "/stolen.txt");
    attempt("rename out", rename("/inside.txt", "/escape_abs/planted.txt"));
    attempt("hard link to a host file", link("/escape_abs/secret.txt", "/hard.txt"));
    attempt("hard link following a link", linkat(AT_FDCWD, "/link_secret", AT_FDCWD, "/hard2.txt", AT_SYMLINK_FOLLOW));
    try_read("read the hard link", "/hard2.txt");
    attempt("symlink to a host path", symlink(outside, "/planted_link"));
    try_read("read through the new link", "/planted_link/secret.txt");
    attempt("create through a link", open("/escape_abs/created.txt", O_CREAT | O_WRONLY, 0644));
    attempt("chmod through a link", chmod("/link_secret", 0777));
    attempt("truncate through a link", truncate("/link_secret", 0));
    struct timespec times[2] = {{1, 0}, {1, 0}};
    attempt("utimensat through a link", utimensat(AT_FDCWD, "/link_secret", times, 0));
    attempt("chown through a link", chown("/link_secret", 1234, 1234));
    attempt("chdir through a link", chdir("/escape_abs"));
    try_read("read relative to that directory", "secret.txt");
    attempt("chdir back", chdir("/"));
    attempt("rename the link itself", rename("/escape_abs", "/moved_link"));
    try_read("read through the moved link", "/moved_link/secret.txt");
    printf("%s\n", escaped ? "ESCAPED" : "contained");
    return escaped;
}
