/* devnet.c: the devnet's nodes as daemons. Each anvil is started detached (double fork,
 * setsid, so it outlives the command and is never our zombie), with its pid file
 * <home>/devnet/<name>.pid ("pid port chain_id") and log <home>/devnet/<name>.log.
 * Stopping checks through /proc that the pid is still an anvil on that port before
 * signalling it, so a recycled pid is never killed. */
#include "devnet/devnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/datafile.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "devnet/devnet_priv.h"

/* ---- paths ------------------------------------------------------------------------- */

static bool executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int devnet_find_anvil(char *out, size_t cap, err *e)
{
    const char *env = getenv("FUSION_ANVIL");
    if (env && *env) {
        if (!executable(env))
            return err_set(e, ERR_NOT_FOUND, "FUSION_ANVIL=%s is not an executable", env);
        snprintf(out, cap, "%s", env);
        return 0;
    }
    const char *tools = getenv("FUSION_TOOLS");
    if (tools && *tools) {
        int k = snprintf(out, cap, "%s/anvil", tools);
        if (k > 0 && (size_t)k < cap && executable(out))
            return 0;
    }
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            size_t n = strcspn(p, ":");
            int k = snprintf(out, cap, "%.*s/anvil", (int)n, p);
            if (n && k > 0 && (size_t)k < cap && executable(out))
                return 0;
            p += n;
            if (*p == ':')
                p++;
        }
    }
    char dir[PATH_MAX];
    if (datafile_exe_dir(dir, sizeof dir)) {
        int k = snprintf(out, cap, "%s/../tools/bin/anvil", dir);
        if (k > 0 && (size_t)k < cap && executable(out))
            return 0;
    }
    return err_set(e, ERR_NOT_FOUND,
                   "cannot find anvil: run scripts/bootstrap, or set "
                   "FUSION_ANVIL to Foundry's anvil");
}

/* ---- pid files and /proc ----------------------------------------------------------- */

static int devnet_dir(const char *home, char *out, size_t cap, bool create, err *e)
{
    int k = snprintf(out, cap, "%s/devnet", home);
    if (k <= 0 || (size_t)k >= cap)
        return err_set(e, ERR_INVALID, "desk home path too long");
    if (create && mkdir(out, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create %s: %s", out, strerror(errno));
    return 0;
}

static void node_file(char *out, size_t cap, const char *dir, size_t i, const char *ext)
{
    snprintf(out, cap, "%s/%s.%s", dir, devnet_chain(i)->name, ext);
}

static bool pidfile_read(const char *path, int *pid, unsigned *port, uint64_t *chain_id)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    unsigned long long cid = 0;
    bool ok = fscanf(f, "%d %u %llu", pid, port, &cid) == 3 && *pid > 1;
    fclose(f);
    *chain_id = cid;
    return ok;
}

/* Alive and not a zombie (whatever it runs: the wrapper script execs anvil). */
static bool pid_alive(int pid)
{
    char data[512];
    if (devnet_proc_read(pid, "stat", data, sizeof data) < 0)
        return false;
    char *rp = strrchr(data, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* True when pid is alive (not a zombie) and is an anvil serving `port`. */
static bool is_our_anvil(int pid, unsigned port)
{
    if (!pid_alive(pid))
        return false;
    char data[4096];
    long got = devnet_proc_read(pid, "cmdline", data, sizeof data);
    if (got < 0)
        return false;
    size_t n = (size_t)got;
    const char *argv0 = data;
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    if (strcmp(base, "anvil") != 0)
        return false;
    char want[16];
    snprintf(want, sizeof want, "%u", port);
    for (size_t off = strlen(data) + 1; off < n; off += strlen(data + off) + 1)
        if (strcmp(data + off, "--port") == 0 && off + 7 < n && strcmp(data + off + 7, want) == 0)
            return true;
    return false;
}

/* Does process pid hold the socket listening on 127.0.0.1:port? (/proc/net/tcp names the
 * listening socket's inode; /proc/PID/fd holds "socket:[inode]" for the sockets it owns.)
 * Between "the port is free" and anvil's bind another program can take the port; then our
 * anvil exits and a foreign node answers: this tells the two apart. */
static bool listens_on(int pid, unsigned port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return false;
    char line[512];
    unsigned long inode = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned lport, st;
        unsigned long ino;
        /* "  0: 0100007F:4A31 00000000:0000 0A ... uid timeout inode" */
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &lport, &st,
                   &ino) == 3 &&
            lport == port && st == 0x0A) {
            inode = ino;
            found = true;
        }
    }
    fclose(f);
    if (!found)
        return false;
    char want[64], dirp[64], fdp[128], target[64];
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    snprintf(dirp, sizeof dirp, "/proc/%d/fd", pid);
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(fdp, sizeof fdp, "%s/%d", dirp, fd);
        ssize_t n = readlink(fdp, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, want) == 0)
            return true;
    }
    return false;
}

static bool port_free(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* ---- starting and probing ---------------------------------------------------------- */

/* Starts anvil detached; returns its pid (the grandchild) or -1. */
static int spawn_anvil(const char *anvil, const char *log_path, unsigned port, uint64_t chain_id,
                       err *e)
{
    char port_s[16], chain_s[32], what[64];
    snprintf(port_s, sizeof port_s, "%u", port);
    snprintf(chain_s, sizeof chain_s, "%llu", (unsigned long long)chain_id);
    snprintf(what, sizeof what, "anvil for port %u", port);
    /* --balance: the dev accounts hold DEVNET_DEV_BALANCE of the native coin (gas money,
     * not anvil's 10,000), so the demo desk's book is its test tokens, not ETH */
    char a0[] = "anvil", a1[] = "--host", a2[] = "127.0.0.1", a3[] = "--port", a5[] = "--chain-id",
         a7[] = "--block-time", a8[] = "1", a9[] = "--silent", a10[] = "--balance",
         a11[] = DEVNET_DEV_BALANCE, a12[] = "--accounts", a13[16];
    snprintf(a13, sizeof a13, "%d", DEVNET_DEV_KEYS);
    char *const argv[] = {a0, a1, a2,  a3,  port_s, a5,  chain_s, a7,
                          a8, a9, a10, a11, a12,    a13, NULL};
    /* argv[0] "anvil" whatever the path, so /proc shows what we started */
    return devnet_spawn(anvil, argv, false, log_path, what, e);
}

static int probe(devnet_node *nd, long timeout_ms)
{
    snprintf(nd->url, sizeof nd->url, "http://127.0.0.1:%u", nd->port);
    rpc_options ro;
    rpc_options_default(&ro);
    ro.connect_timeout_ms = timeout_ms;
    ro.timeout_ms = timeout_ms * 2;
    ro.max_attempts = 1;
    const char *urls[] = {nd->url};
    rpc_client *c = NULL;
    err e;
    err_clear(&e);
    if (rpc_client_new(&c, urls, 1, &ro, &e) < 0)
        return -1;
    int rc = -1;
    if (rpc_eth_chain_id(c, &nd->reported_chain_id, &e) == 0 &&
        rpc_eth_block_number(c, &nd->head, &e) == 0)
        rc = 0;
    rpc_client_free(&c);
    nd->answering = rc == 0;
    return rc;
}

static void node_init(devnet_node *nd, size_t i, unsigned port)
{
    memset(nd, 0, sizeof *nd);
    nd->spec = devnet_chain(i);
    nd->port = port;
    snprintf(nd->url, sizeof nd->url, "http://127.0.0.1:%u", port);
}

int devnet_parse_ports(const char *s, unsigned ports[DEVNET_N_CHAINS])
{
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v < 1024 || v > 65535)
            return -1;
        ports[i] = (unsigned)v;
        if (i + 1 < DEVNET_N_CHAINS) {
            if (*end != ',')
                return -1;
            s = end + 1;
        } else if (*end) {
            return -1;
        }
    }
    return 0;
}

int devnet_status(const char *home, devnet_node nodes[DEVNET_N_CHAINS], err *e)
{
    char dir[4200], pidf[4300];
    if (devnet_dir(home, dir, sizeof dir, false, e) < 0)
        return -1;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        node_init(&nodes[i], i, 0);
        node_file(pidf, sizeof pidf, dir, i, "pid");
        int pid;
        unsigned port;
        uint64_t cid;
        if (!pidfile_read(pidf, &pid, &port, &cid))
            continue;
        nodes[i].pid = pid;
        nodes[i].port = port;
        nodes[i].running = is_our_anvil(pid, port);
        if (nodes[i].running)
            (void)probe(&nodes[i], 1000);
        else
            snprintf(nodes[i].url, sizeof nodes[i].url, "http://127.0.0.1:%u", port);
    }
    return 0;
}

static int start_nodes(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e)
{
    char dir[4200], pidf[4300], logf[4300], anvil[PATH_MAX];
    if (devnet_dir(o->home, dir, sizeof dir, true, e) < 0)
        return -1;
    bool have_anvil = false;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        unsigned port = o->ports[i] ? o->ports[i] : DEVNET_PORT_BASE + (unsigned)i;
        node_init(&nodes[i], i, port);
        node_file(pidf, sizeof pidf, dir, i, "pid");
        node_file(logf, sizeof logf, dir, i, "log");
        int pid;
        unsigned oport;
        uint64_t cid;
        if (pidfile_read(pidf, &pid, &oport, &cid)) {
            if (is_our_anvil(pid, oport)) {
                if (oport != port && o->ports[i])
                    return err_set(e, ERR_STATE,
                                   "%s already runs on port %u (pid %d): run "
                                   "`fusion devnet down` first to change ports",
                                   devnet_chain(i)->name, oport, pid);
                nodes[i].port = oport;
                nodes[i].pid = pid;
                nodes[i].running = true;
                if (probe(&nodes[i], 1000) == 0 && nodes[i].reported_chain_id == cid)
                    continue;
                return err_set(e, ERR_STATE,
                               "%s (pid %d, port %u) runs but does not answer "
                               "as chain %llu: run `fusion devnet down` and up again",
                               devnet_chain(i)->name, pid, oport, (unsigned long long)cid);
            }
            unlink(pidf); /* stale: that process is gone */
        }
        for (size_t k = 0; k < DEVNET_N_CHAINS; k++) {
            unsigned pk = o->ports[k] ? o->ports[k] : DEVNET_PORT_BASE + (unsigned)k;
            if (k != i && pk == port)
                return err_set(e, ERR_USAGE, "port %u is given to two chains", port);
        }
        if (!port_free(port))
            return err_set(e, ERR_STATE,
                           "port %u for %s is taken by another program: free it "
                           "or choose other ports (--ports A,B,C,D)",
                           port, devnet_chain(i)->name);
        if (!have_anvil) {
            if (devnet_find_anvil(anvil, sizeof anvil, e) < 0)
                return -1;
            have_anvil = true;
        }
        int child = spawn_anvil(anvil, logf, port, devnet_chain(i)->chain_id, e);
        if (child < 0)
            return -1;
        char pidline[96];
        int pn = snprintf(pidline, sizeof pidline, "%d %u %llu\n", child, port,
                          (unsigned long long)devnet_chain(i)->chain_id);
        if (fsperm_write_atomic(pidf, pidline, (size_t)pn, true, e) < 0) {
            kill(child, SIGTERM);
            return -1;
        }
        nodes[i].pid = child;
        nodes[i].running = true;
        nodes[i].started_now = true;
        LOG_I("devnet", "started %s: anvil pid %d port %u chain %llu", devnet_chain(i)->name, child, port,
              (unsigned long long)devnet_chain(i)->chain_id);
    }
    /* wait until every node answers (anvil needs well under a second; allow 20 s) */
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        int tries = 0;
        while (probe(&nodes[i], 500) < 0) {
            if (!pid_alive(nodes[i].pid))
                return err_set(e, ERR_RPC, "anvil for %s exited at start: see %s/%s.log",
                               devnet_chain(i)->name, dir, devnet_chain(i)->name);
            if (++tries > 200)
                return err_set(e, ERR_RPC,
                               "anvil for %s does not answer on port %u after "
                               "20 s: see %s/%s.log",
                               devnet_chain(i)->name, nodes[i].port, dir, devnet_chain(i)->name);
            devnet_sleep_ms(100);
        }
        if (nodes[i].started_now && !listens_on(nodes[i].pid, nodes[i].port))
            return err_set(e, ERR_STATE,
                           "port %u for %s was taken by another program while anvil started: "
                           "free it or choose other ports (--ports A,B,C,D)",
                           nodes[i].port, devnet_chain(i)->name);
        if (nodes[i].reported_chain_id != devnet_chain(i)->chain_id)
            return err_set(e, ERR_STATE, "port %u answers as chain %llu, not %llu: another node?",
                           nodes[i].port, (unsigned long long)nodes[i].reported_chain_id,
                           (unsigned long long)devnet_chain(i)->chain_id);
    }
    return 0;
}

/* Undoes a failed `up`: stops the nodes this call started (and only those). */
static void stop_started(const char *home, devnet_node nodes[DEVNET_N_CHAINS])
{
    char dir[4200], pidf[4300];
    err e;
    if (devnet_dir(home, dir, sizeof dir, false, &e) < 0)
        return;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        if (!nodes[i].started_now)
            continue;
        (void)devnet_stop_pid(nodes[i].pid, pid_alive);
        node_file(pidf, sizeof pidf, dir, i, "pid");
        unlink(pidf);
        nodes[i].started_now = false;
        nodes[i].running = false;
    }
}

/* The attestation service for the bridge contracts devnet_deploy_all recorded, and its URL
 * in the desk's routes: the devnet's own set-up, like the contracts' addresses (an operator
 * pointing the desk at another service still does it with `bridge config`). */
static int attester_up(const char *home, const devnet_node nodes[DEVNET_N_CHAINS], err *e)
{
    store *db = NULL;
    store_bridge_cctp r;
    bool found = false;
    if (devnet_open_desk(home, &db, e) < 0)
        return -1;
    int rc = store_bridge_cctp_get(db, devnet_chain(0)->chain_id, &r, &found, e);
    if (rc == 0 && found) {
        char url[64];
        bool started = false;
        rc = devnet_attester_up(home, nodes, &r.message_transmitter, url, sizeof url, &started, e);
        if (rc == 0 && strcmp(r.attestation_url, url) != 0)
            rc = store_bridge_cctp_set_url(db, url, e);
    }
    store_close(&db);
    return rc;
}

int devnet_up(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e)
{
    memset(nodes, 0, sizeof(devnet_node) * DEVNET_N_CHAINS);
    if (start_nodes(o, nodes, e) < 0 || devnet_deploy_all(o, nodes, e) < 0 ||
        attester_up(o->home, nodes, e) < 0) {
        stop_started(o->home, nodes);
        return -1;
    }
    return 0;
}

int devnet_down(const char *home, unsigned *stopped, err *e)
{
    *stopped = 0;
    char dir[4200], pidf[4300];
    if (devnet_dir(home, dir, sizeof dir, false, e) < 0)
        return -1;
    bool att = false;
    if (devnet_attester_down(home, &att, e) < 0)
        return -1;
    int pids[DEVNET_N_CHAINS] = {0};
    unsigned ports[DEVNET_N_CHAINS] = {0};
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        node_file(pidf, sizeof pidf, dir, i, "pid");
        int pid;
        unsigned port;
        uint64_t cid;
        if (!pidfile_read(pidf, &pid, &port, &cid))
            continue;
        if (is_our_anvil(pid, port)) {
            if (kill(pid, SIGTERM) == 0) {
                pids[i] = pid;
                ports[i] = port;
            }
        } else {
            LOG_W("devnet", "%s: pid %d is no longer our anvil; not signalled", devnet_chain(i)->name,
                  pid);
        }
    }
    /* wait up to 5 s, then SIGKILL what is left, and wait again */
    for (int round = 0; round < 2; round++) {
        for (int t = 0; t < 50; t++) {
            bool left = false;
            for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
                left |= pids[i] && is_our_anvil(pids[i], ports[i]);
            if (!left)
                break;
            devnet_sleep_ms(100);
        }
        if (round == 0)
            for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
                if (pids[i] && is_our_anvil(pids[i], ports[i]))
                    kill(pids[i], SIGKILL);
    }
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        if (pids[i] && is_our_anvil(pids[i], ports[i]))
            return err_set(e, ERR_STATE, "anvil pid %d (%s) does not stop", pids[i],
                           devnet_chain(i)->name);
        if (pids[i])
            (*stopped)++;
        node_file(pidf, sizeof pidf, dir, i, "pid");
        unlink(pidf);
    }
    return 0;
}
