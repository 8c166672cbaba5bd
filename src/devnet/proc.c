/* proc.c: the devnet's daemons as processes: started detached, stopped with a check that
 * the pid is still ours, /proc read (see devnet_priv.h). Nothing here knows which daemon. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devnet/devnet_priv.h"

long devnet_proc_read(int pid, const char *name, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return (long)n;
}

void devnet_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool devnet_stop_pid(int pid, bool (*alive)(int pid))
{
    if (alive(pid))
        kill(pid, SIGTERM);
    for (int t = 0; t < 50 && alive(pid); t++)
        devnet_sleep_ms(100);
    if (alive(pid))
        kill(pid, SIGKILL);
    for (int t = 0; t < 50 && alive(pid); t++)
        devnet_sleep_ms(100);
    return !alive(pid);
}

int devnet_spawn(const char *file, char *const argv[], bool search_path, const char *log_path,
                 const char *what, err *e)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return err_set(e, ERR_IO, "pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return err_set(e, ERR_IO, "fork: %s", strerror(errno));
    }
    if (child == 0) {
        close(pfd[0]);
        setsid();
        pid_t gc = fork();
        if (gc != 0) {
            int v = gc > 0 ? (int)gc : -1;
            ssize_t w = write(pfd[1], &v, sizeof v);
            (void)w;
            _exit(0);
        }
        close(pfd[1]);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        if (search_path)
            execvp(file, argv);
        else
            execv(file, argv);
        _exit(127);
    }
    close(pfd[1]);
    int gc = -1;
    ssize_t r = read(pfd[0], &gc, sizeof gc);
    close(pfd[0]);
    int st;
    waitpid(child, &st, 0);
    if (r != (ssize_t)sizeof gc || gc <= 0)
        return err_set(e, ERR_IO, "could not start %s", what);
    return gc;
}
