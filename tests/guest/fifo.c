/* Named FIFOs (mkfifo, mknod): an open for reading waits for a writer and one for writing waits
 * for a reader, unless O_NONBLOCK (then a writer with no reader is ENXIO) or O_RDWR; both ends
 * share one pipe, whose data goes when the last end closes; stat and fstat show the node; a
 * signal ends a wait and takes the waiting end away. Also mknod's regular files and its errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char* what, long r)
{
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static void on_alarm(int sig)
{
    (void)sig;
}

int main(void)
{
    umask(022);
    unlink("fifo.node");
    unlink("fifo.file");
    show("mkfifo", mkfifo("fifo.node", 0666));
    show("mkfifo again", mkfifo("fifo.node", 0666));
    struct stat st;
    stat("fifo.node", &st);
    printf("a FIFO %d, mode %o, size %ld\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long)st.st_size);
    show("mknod a regular file", mknod("fifo.file", S_IFREG | 0600, 0));
    stat("fifo.file", &st);
    printf("regular %d, mode %o\n", S_ISREG(st.st_mode), st.st_mode & 07777);
    show("mknod over it", mknod("fifo.file", S_IFIFO | 0600, 0));
    show("mknod of a bad type", mknod("fifo.bad", 0170000 | 0600, 0));
    show("open O_CREAT|O_EXCL", open("fifo.node", O_CREAT | O_EXCL | O_RDONLY | O_NONBLOCK, 0600));
    show("open O_DIRECTORY", open("fifo.node", O_DIRECTORY | O_RDONLY | O_NONBLOCK));

    show("writer, no reader, O_NONBLOCK", open("fifo.node", O_WRONLY | O_NONBLOCK));
    int r = open("fifo.node", O_RDONLY | O_NONBLOCK);
    show("reader, no writer, O_NONBLOCK", r);
    int w = open("fifo.node", O_WRONLY | O_NONBLOCK);
    show("writer with a reader, O_NONBLOCK", w);
    struct stat fs, ps;
    fstat(r, &fs);
    stat("fifo.node", &ps);
    printf("fstat: a FIFO %d, the node's inode %d\n", S_ISFIFO(fs.st_mode), fs.st_ino == ps.st_ino);
    write(w, "abc", 3);
    char buf[64] = {0};
    printf("read %zd '%s'\n", read(r, buf, sizeof buf - 1), buf);
    show("lseek", lseek(r, 0, SEEK_SET));
    write(w, "left", 4);
    close(w);
    close(r);
    int rw = open("fifo.node", O_RDWR);
    show("O_RDWR", rw);
    int n = -1;
    ioctl(rw, FIONREAD, &n);
    printf("after the last end closed, bytes waiting %d\n", n);
    write(rw, "both", 4);
    memset(buf, 0, sizeof buf);
    printf("read back %zd '%s'\n", read(rw, buf, sizeof buf - 1), buf);
    close(rw);

    /* Each side's blocking open waits for the other. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int cw = open("fifo.node", O_WRONLY);
        write(cw, "hello from the child", 20);
        close(cw);
        _exit(0);
    }
    int pr = open("fifo.node", O_RDONLY);
    show("reader waits for the writer", pr);
    memset(buf, 0, sizeof buf);
    size_t got = 0;
    ssize_t k;
    while ((k = read(pr, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)k;
    printf("read '%s', then end of file\n", buf);
    close(pr);
    int status;
    waitpid(child, &status, 0);

    fflush(stdout);
    child = fork();
    if (child == 0) {
        int cr = open("fifo.node", O_RDONLY);
        char cb[32] = {0};
        read(cr, cb, sizeof cb - 1);
        printf("child read '%s'\n", cb);
        fflush(stdout);
        _exit(0);
    }
    int pw = open("fifo.node", O_WRONLY);
    show("writer waits for the reader", pw);
    write(pw, "to the child", 12);
    close(pw);
    waitpid(child, &status, 0);
    /* A signal ends a reader's wait (no SA_RESTART): its end goes, and a writer finds none. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    show("a reader's wait cut by a signal", open("fifo.node", O_RDONLY));
    show("then a writer, O_NONBLOCK", open("fifo.node", O_WRONLY | O_NONBLOCK));
    fflush(stdout);
    show("unlink", unlink("fifo.node"));
    unlink("fifo.file");
    return 0;
}
