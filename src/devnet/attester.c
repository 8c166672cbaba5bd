/* attester.c: the devnet's attestation service (tools/cctp_attester.py, the stand-in for
 * Circle's Iris) as a daemon of `devnet up`, stopped by `devnet down`: started detached
 * like the nodes (double fork, setsid), on a free port it reports in a file, with its pid
 * file <home>/devnet/attester.pid ("pid port") and log attester.log. It signs with the
 * devnet's attester key (anvil #8, DEVNET_ATTESTER_KEY: the key every MessageTransmitter
 * was deployed to trust), not with any operator's. Stopping checks through /proc that the
 * pid is still that script before signalling it. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/datafile.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "devnet/devnet_priv.h"

#define SCRIPT "cctp_attester.py"

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
    char cmd[4096], st[512] = "";
    long n = devnet_proc_read(pid, "cmdline", cmd, sizeof cmd);
    if (n < 0)
        return false;
    for (long i = 0; i < n; i++)
        if (!cmd[i])
            cmd[i] = ' ';
    (void)devnet_proc_read(pid, "stat", st, sizeof st); /* unread: "" (not a zombie) */
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
    int gc = devnet_spawn("python3", argv, true, logf, "the attestation service", e);
    if (gc < 0)
        return -1;
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
            devnet_sleep_ms(100);
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
        if (!devnet_stop_pid(pid, is_attester))
            return err_set(e, ERR_STATE, "the attestation service (pid %d) does not stop", pid);
        *stopped = true;
    }
    unlink(pidf);
    unlink(portf);
    return 0;
}
