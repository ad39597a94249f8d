#define _GNU_SOURCE
/* The modes of new files, directories and FIFOs under several umasks: the process's umask alone
 * takes bits away (the host's own umask under a simulator must not). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/umask-%d", (int)getpid());
    umask(0);
    if (mkdir(dir, 0777) != 0 || chdir(dir) != 0)
        return 1;
    const mode_t masks[] = {0, 022, 027, 077, 0777, 0111};
    for (unsigned i = 0; i < sizeof masks / sizeof *masks; ++i) {
        umask(masks[i]);
        struct stat f, d, p, t;
        close(open("f", O_CREAT | O_WRONLY, 0777));
        mkdir("d", 0777);
        mkfifo("p", 0777);
        int tmp = open(".", O_TMPFILE | O_RDWR, 0777);
        stat("f", &f);
        stat("d", &d);
        stat("p", &p);
        fstat(tmp, &t);
        printf("umask %04o: file %04o dir %04o fifo %04o tmpfile %04o\n", (unsigned)masks[i],
               (unsigned)(f.st_mode & 07777), (unsigned)(d.st_mode & 07777), (unsigned)(p.st_mode & 07777),
               (unsigned)(t.st_mode & 07777));
        close(tmp);
        unlink("f");
        rmdir("d");
        unlink("p");
    }
    chdir("/");
    return rmdir(dir);
}
