/* attester.c: the devnet's attestation service (tools/cctp_attester.py, the stand-in for
 * Circle's Iris) as a daemon of `devnet up`, stopped by `devnet down`: started detached
 * like the nodes (double fork, setsid), on a free port it reports in a file, with its pid
 * file <home>/devnet/attester.pid ("pid port") and log attester.log. It signs with the
 * devnet's attester key (anvil #8, DEVNET_ATTESTER_KEY: the key every MessageTransmitter
 * was deployed to trust), not with any operator's. Stopping checks through /proc that the
 * pid is still that script before signalling it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/datafile.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "devnet/devnet_priv.h"

#define SCRIPT "cctp_attester.py"

static void nap_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void paths(const char *home, char *pidf, char *portf, char *logf, size_t cap)
{
    snprintf(pidf, cap, "%s/devnet/attester.pid", home);
    snprintf(portf, cap, "%s/devnet/attester.port", home);
    snprintf(logf, cap, "%s/devnet/attester.log", home);
}

static bool readable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* tools/cctp_attester.py: next to $FUSION_TOOLS (tools/bin), else next to the build tree. */
static int find_script(char *out, size_t cap, err *e)
{
    const char *tools = getenv("FUSION_TOOLS");
    if (tools && *tools) {
        snprintf(out, cap, "%s/../" SCRIPT, tools);
        if (readable(out))
            return 0;
    }
    char dir[PATH_MAX];
    if (datafile_exe_dir(dir, sizeof dir)) {
        snprintf(out, cap, "%s/../tools/" SCRIPT, dir);
        if (readable(out))
            return 0;
    }
    return err_set(e, ERR_NOT_FOUND, "cannot find tools/" SCRIPT " (the devnet's attestation "
                   "service): run fusion from its build tree or set FUSION_TOOLS");
}

/* Is pid alive and running the attester script? */
static bool is_attester(int pid)
{
    if (pid <= 1)
        return false;
    char path[64], cmd[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!cmd[i])
            cmd[i] = ' ';
    cmd[n] = '\0';
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    char st[512] = "";
    if (f) {
        if (!fgets(st, sizeof st, f))
            st[0] = '\0';
        fclose(f);
    }
    const char *rp = strrchr(st, ')');
    bool zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
    return !zombie && strstr(cmd, SCRIPT) != NULL;
}

static bool read_pidfile(const char *pidf, int *pid, unsigned *port)
{
    FILE *f = fopen(pidf, "r");
    if (!f)
        return false;
    bool ok = fscanf(f, "%d %u", pid, port) == 2;
    fclose(f);
    return ok;
}

bool devnet_attester_url(const char *home, char *out, size_t cap)
{
    char pidf[4300], portf[4300], logf[4300];
    paths(home, pidf, portf, logf, sizeof pidf);
    int pid;
    unsigned port;
    if (!read_pidfile(pidf, &pid, &port) || !is_attester(pid))
        return false;
    snprintf(out, cap, "http://127.0.0.1:%u", port);
    return true;
}

int devnet_attester_up(const char *home, const devnet_node nodes[DEVNET_N_CHAINS],
                       const addr *transmitter, char *url, size_t cap, bool *started, err *e)
{
    *started = false;
    if (devnet_attester_url(home, url, cap))
        return 0;
    char pidf[4300], portf[4300], logf[4300], script[PATH_MAX + 64];
    paths(home, pidf, portf, logf, sizeof pidf);
    unlink(pidf);
    unlink(portf);
    if (find_script(script, sizeof script, e) < 0)
        return -1;
    char mt[ADDR_STR_MAX];
    addr_to_lower(mt, transmitter);
    char a_py[] = "python3", a_port[] = "--port", a_zero[] = "0", a_pf[] = "--port-file",
         a_mt[] = "--transmitter", a_rpc[] = "--rpc";
    char *argv[9 + 2 * DEVNET_N_CHAINS]; /* 8 options, 2 per node, NULL */
    size_t k = 0;
    argv[k++] = a_py;
    argv[k++] = script;
    argv[k++] = a_port;
    argv[k++] = a_zero;
    argv[k++] = a_pf;
    argv[k++] = portf;
    argv[k++] = a_mt;
    argv[k++] = mt;
    char urls[DEVNET_N_CHAINS][64];
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        snprintf(urls[i], sizeof urls[i], "%s", nodes[i].url);
        argv[k++] = a_rpc;
        argv[k++] = urls[i];
    }
    argv[k] = NULL;
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
        int out = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        execvp("python3", argv);
        _exit(127);
    }
    close(pfd[1]);
    int gc = -1;
    ssize_t r = read(pfd[0], &gc, sizeof gc);
    close(pfd[0]);
    int st;
    waitpid(child, &st, 0);
    if (r != (ssize_t)sizeof gc || gc <= 0)
        return err_set(e, ERR_IO, "could not start the attestation service");
    /* wait (up to 20 s) for the port it listens on */
    unsigned port = 0;
    for (int t = 0; t < 200 && !port; t++) {
        FILE *f = fopen(portf, "r");
        if (f) {
            if (fscanf(f, "%u", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port) {
            if (!is_attester(gc) && t > 20)
                break;
            nap_ms(100);
        }
    }
    if (!port || port > 65535) {
        if (is_attester(gc))
            kill(gc, SIGTERM);
        return err_set(e, ERR_STATE, "the attestation service did not start: see %s", logf);
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%d %u\n", gc, port);
    if (fsperm_write_atomic(pidf, line, (size_t)n, true, e) < 0) {
        kill(gc, SIGTERM);
        return -1;
    }
    snprintf(url, cap, "http://127.0.0.1:%u", port);
    *started = true;
    LOG_I("devnet", "started the attestation service: pid %d on %s", gc, url);
    return 0;
}

int devnet_attester_down(const char *home, bool *stopped, err *e)
{
    *stopped = false;
    char pidf[4300], portf[4300], logf[4300];
    paths(home, pidf, portf, logf, sizeof pidf);
    int pid;
    unsigned port;
    if (!read_pidfile(pidf, &pid, &port))
        return 0;
    if (!is_attester(pid)) {
        LOG_W("devnet", "attester pid %d is no longer the attestation service; not signalled",
              pid);
    } else {
        kill(pid, SIGTERM);
        for (int t = 0; t < 50 && is_attester(pid); t++)
            nap_ms(100);
        if (is_attester(pid))
            kill(pid, SIGKILL);
        for (int t = 0; t < 50 && is_attester(pid); t++)
            nap_ms(100);
        if (is_attester(pid))
            return err_set(e, ERR_STATE, "the attestation service (pid %d) does not stop", pid);
        *stopped = true;
    }
    unlink(pidf);
    unlink(portf);
    return 0;
}
