/* driver.c: the demo's market driver. Every step (default 2 s) replays the
 * next day of real daily closes (data/prices: ETH, BTC, USDC, MATIC, AVAX) into the USD feeds of
 * every devnet chain, and moves a scripted escrow flow on: a market maker (another firm,
 * DEVNET_MARKET_KEY in its own key store, never the desk's trader) creates escrows through
 * the factory (deterministic address, so token approval and funding follow in the same
 * step), the approvers approve and release some of them; the script includes what
 * screening must catch — a sanctioned payee, three deposits just under 10,000 USD within
 * 24 h (structuring), unknown payees, expired and rejected KYC, a high-risk jurisdiction.
 * Every transaction is built and signed by fusion (key store, audited).
 * One worker thread per chain, on a shared step clock: a node that stops answering (paused,
 * overloaded) holds up only its own chain, whose worker then resumes at the present day
 * (the missed days are counted, not replayed late); the other chains keep their pace. */
#include "devnet/devnet_priv.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"

/* the price histories replayed; the first one's dates set the pace */
#define N_ASSETS 5
static const char *const assets[N_ASSETS] = {"ETH", "BTC", "USDC", "MATIC", "AVAX"};

/* The script: payee by counterparty label, whole USDC, and whether it is settled. */
static const struct flow {
    size_t chain;
    const char *payee;
    unsigned usdc;
    bool settle;
} flows[] = {
    {0, "Northwind Capital LLC", 25000, true},     {1, "Helios Trading GmbH", 9900, false},
    {1, "Helios Trading GmbH", 9850, false},       {1, "Helios Trading GmbH", 9950, false},
    {0, "sanctioned wallet", 5000, false},         {2, "unknown wallet 1", 12000, false},
    {0, "Blue Lagoon Partners Ltd", 40000, false}, {2, "Korea Kwangson Trading Corp", 15000, false},
    {1, "Ostrava Metals s.r.o.", 7500, false},     {2, "Northwind Capital LLC", 3000, true},
    {0, "unknown wallet 2", 18000, true},
};
#define N_FLOWS (sizeof flows / sizeof flows[0])
/* The market maker pays the desk too (its trader's address, below the large-amount
 * threshold), in the steps between the script's: the desk's Dashboard shows those funds
 * due in escrow from the first steps, and the script keeps its pace. */
static const struct flow desk_flows[] = {
    {0, "Fusion Prime Demo Desk", 8000, false},
    {1, "Fusion Prime Demo Desk", 6000, false},
    {2, "Fusion Prime Demo Desk", 4000, false},
};
#define N_DESK_FLOWS (sizeof desk_flows / sizeof desk_flows[0])
#define FLOW_EVERY 2   /* steps between two new escrows */
#define SETTLE_AFTER 3 /* steps after creation: approvals; one more: release */
#define MAX_PENDING 16

typedef struct pending_settle {
    addr escrow;
    uint64_t approve_at; /* step */
    int stage;           /* 0: approvals due, 1: release due */
} pending_settle;

struct devnet_driver;

/* One chain's worker: everything below is owned by its thread after setup. */
typedef struct chain_rt {
    struct devnet_driver *d;
    size_t index;
    pthread_t thread;
    bool running;
    atomic_int done; /* the worker returned */
    atomic_uint progress; /* calls answered so far: the halt waits while this moves */
    uint64_t chain_id;
    rpc_client *rpc;
    addr factory, usdc;
    size_t n_feeds;
    addr feed[DEVNET_N_FEEDS];
    size_t feed_series[DEVNET_N_FEEDS]; /* index into assets[] */
    devnet_sender deployer, market, appr1, appr2;
    size_t idx[N_ASSETS]; /* the day's index in each price series */
    pending_settle pend[MAX_PENDING];
    size_t n_pend;
} chain_rt;

struct devnet_driver {
    devnet_driver_opts o;
    atomic_int stop;     /* cancels the calls in flight: the workers end now */
    atomic_int stopping; /* the workers end after the step they are in */
    bool halted; /* devnet_driver_halt ran (the main thread's) */
    pthread_mutex_t mu;
    devnet_driver_stats st; /* under mu */
    unsigned step_ms;
    uint64_t t0_ms; /* the step clock's origin (monotonic) */
    /* read-only once the workers run (the key store locks itself) */
    keystore *ks, *ks_market;
    ks_key *k_deployer, *k_market, *k_appr1, *k_appr2;
    addr market, appr1, appr2, arbiter;
    chain_rt chains[DEVNET_N_CHAINS];
    size_t n_chains;
    devnet_closes closes[N_ASSETS];
    /* the desk, where the day replayed is written for the risk service (risk_history_until:
     * risk computed "on" that day reads no close after it); under db_mu */
    store *db;
    pthread_mutex_t db_mu;
    char day_written[11];
    size_t start_idx[N_ASSETS];
    devnet_party *parties;
    size_t n_parties;
    devnet_artifact *a_factory, *a_escrow, *a_token, *a_feed;
};

static void note_error(chain_rt *c, const err *e)
{
    devnet_driver *d = c->d;
    if (atomic_load(&d->stop))
        return; /* a call cancelled by stopping is no error */
    LOG_W("demo", "driver: %s: %s", devnet_chain(c->index)->name, e->msg);
    pthread_mutex_lock(&d->mu);
    d->st.errors++;
    d->st.chains[c->index].errors++;
    snprintf(d->st.last_error, sizeof d->st.last_error, "%.20s: %.200s",
             devnet_chain(c->index)->name, e->msg);
    pthread_mutex_unlock(&d->mu);
}

/* The node did not answer (timeout, connection) or the driver is stopping: the rest of
 * this chain's step would only wait out more timeouts. */
static bool node_silent(const chain_rt *c)
{
    rpc_status st = rpc_last_status(c->rpc);
    return st == RPC_TIMEOUT || st == RPC_TRANSPORT || st == RPC_CANCELLED;
}

/* A call of the worker's came back (answered, refused or failed): the halt waits while
 * they do. */
static void tick(chain_rt *c)
{
    atomic_fetch_add(&c->progress, 1);
}

static void count(devnet_driver *d, uint64_t *field, uint64_t k)
{
    pthread_mutex_lock(&d->mu);
    *field += k;
    pthread_mutex_unlock(&d->mu);
}

/* ---- setup ------------------------------------------------------------------------- */

static int setup_chains(devnet_driver *d, err *e)
{
    store *db = NULL;
    if (devnet_open_desk(d->o.home, &db, e) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        chain_rt *c = &d->chains[i];
        c->chain_id = devnet_chain(i)->chain_id;
        store_endpoint *eps = NULL;
        store_contract *cs = NULL;
        store_token *ts = NULL;
        store_feed *fs = NULL;
        size_t ne = 0, nc = 0, nt = 0, nf = 0;
        int r = -1;
        bool have_factory = false, have_usdc = false;
        if (store_endpoint_list(db, c->chain_id, &eps, &ne, e) < 0 ||
            store_contract_list(db, c->chain_id, &cs, &nc, e) < 0 ||
            store_token_list(db, c->chain_id, &ts, &nt, e) < 0 ||
            store_feed_list(db, c->chain_id, &fs, &nf, e) < 0)
            goto next;
        for (size_t k = 0; k < nc; k++)
            if (cs[k].kind == STORE_CONTRACT_FACTORY && cs[k].version != 2) {
                c->factory = cs[k].address;
                have_factory = true;
            }
        for (size_t k = 0; k < nt; k++)
            if (strcmp(ts[k].symbol, "USDC") == 0) {
                c->usdc = ts[k].address;
                have_usdc = true;
            }
        for (size_t k = 0; k < nf && c->n_feeds < DEVNET_N_FEEDS; k++) {
            const char *series = devnet_feed_series(fs[k].asset);
            for (size_t a = 0; series && a < N_ASSETS; a++)
                if (strcmp(series, assets[a]) == 0) {
                    c->feed[c->n_feeds] = fs[k].address;
                    c->feed_series[c->n_feeds++] = a;
                }
        }
        if (ne == 0 || !have_factory || !have_usdc) {
            err_set(e, ERR_NOT_FOUND, "chain %s is not deployed: run `fusion devnet up`",
                    devnet_chain(i)->name);
            goto next;
        }
        const char *urls[] = {eps[0].url};
        rpc_options ro;
        rpc_options_default(&ro);
        ro.timeout_ms = 5000;
        ro.max_attempts = 2;
        if (rpc_client_new(&c->rpc, urls, 1, &ro, e) < 0)
            goto next;
        /* stopping aborts a call in flight instead of waiting out its timeout */
        rpc_client_set_cancel(c->rpc, &d->stop);
        c->d = d;
        c->index = i;
        devnet_sender_init(&c->deployer, c->rpc, d->k_deployer, c->chain_id);
        devnet_sender_init(&c->market, c->rpc, d->k_market, c->chain_id);
        devnet_sender_init(&c->appr1, c->rpc, d->k_appr1, c->chain_id);
        devnet_sender_init(&c->appr2, c->rpc, d->k_appr2, c->chain_id);
        r = 0;
    next:
        free(eps);
        free(cs);
        free(ts);
        free(fs);
        if (r < 0)
            goto out;
        d->n_chains = i + 1;
    }
    rc = 0;
out:
    store_close(&db);
    return rc;
}

static int setup(devnet_driver *d, err *e)
{
    devnet_operator ops[DEVNET_MAX_OPERATORS];
    size_t n_ops = 0;
    if (devnet_operators_load(ops, &n_ops, e) < 0)
        return -1;
    const devnet_operator *trader = devnet_operator_by_role(ops, n_ops, "trader");
    const devnet_operator *arb = devnet_operator_by_role(ops, n_ops, "arbiter");
    const devnet_operator *appr[2] = {NULL, NULL};
    for (size_t i = 0, k = 0; i < n_ops && k < 2; i++)
        if (strcmp(ops[i].role, "approver") == 0)
            appr[k++] = &ops[i];
    if (!trader || !arb || !appr[0] || !appr[1])
        return err_set(e, ERR_INVALID,
                       "data/demo/operators.csv needs a trader, two approvers "
                       "and an arbiter");
    uint8_t sk[32];
    if (devnet_dev_key(arb->dev_key, sk) < 0 || addr_from_seckey(&d->arbiter, sk) < 0)
        return err_set(e, ERR_INTERNAL, "arbiter dev key");
    sodium_memzero(sk, sizeof sk);
    /* the market maker's keys are its own: a key store of their own, outside the desk's */
    char mhome[4200];
    int mk = snprintf(mhome, sizeof mhome, "%s/%s", d->o.home, DEVNET_MARKET_DIR);
    if (mk < 0 || (size_t)mk >= sizeof mhome)
        return err_set(e, ERR_INVALID, "desk home path is too long");
    if (mkdir(mhome, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create %s: %s", mhome, strerror(errno));
    if (keystore_open(&d->ks, d->o.home, d->o.operator_name ? d->o.operator_name : "demo", e) < 0 ||
        keystore_open(&d->ks_market, mhome, "market", e) < 0 ||
        devnet_dev_signer(d->ks, 0, "deployer (anvil #0)", &d->k_deployer, e) < 0 ||
        devnet_dev_signer(d->ks_market, DEVNET_MARKET_KEY, "market maker (anvil #10)",
                          &d->k_market, e) < 0 ||
        devnet_dev_signer(d->ks, appr[0]->dev_key, appr[0]->label, &d->k_appr1, e) < 0 ||
        devnet_dev_signer(d->ks, appr[1]->dev_key, appr[1]->label, &d->k_appr2, e) < 0)
        return -1;
    /* the demo runs for hours: its (public) keys must not lock themselves after 5 minutes */
    keystore_set_idle_timeout(d->ks, 7 * 86400);
    keystore_set_idle_timeout(d->ks_market, 7 * 86400);
    d->market = *keystore_key_address(d->k_market);
    d->appr1 = *keystore_key_address(d->k_appr1);
    d->appr2 = *keystore_key_address(d->k_appr2);
    if (setup_chains(d, e) < 0)
        return -1;
    const char *start = d->o.start_date ? d->o.start_date : "2024-01-01";
    for (size_t a = 0; a < N_ASSETS; a++) {
        if (devnet_closes_load(&d->closes[a], assets[a], e) < 0)
            return -1;
        size_t i = 0;
        while (i + 1 < d->closes[a].n && strcmp(d->closes[a].date[i], start) < 0)
            i++;
        d->start_idx[a] = i;
    }
    for (size_t i = 0; i < d->n_chains; i++)
        memcpy(d->chains[i].idx, d->start_idx, sizeof d->start_idx);
    if (devnet_parties_load(&d->parties, &d->n_parties, e) < 0 ||
        devnet_artifact_load(&d->a_factory, "EscrowFactory", e) < 0 ||
        devnet_artifact_load(&d->a_escrow, "Escrow", e) < 0 ||
        devnet_artifact_load(&d->a_token, "TestToken", e) < 0 ||
        devnet_artifact_load(&d->a_feed, "MockPriceFeed", e) < 0)
        return -1;
    for (size_t f = 0; f < N_FLOWS + N_DESK_FLOWS; f++) {
        const char *payee = f < N_FLOWS ? flows[f].payee : desk_flows[f - N_FLOWS].payee;
        bool found = false;
        for (size_t p = 0; p < d->n_parties; p++)
            found |= strcmp(d->parties[p].label, payee) == 0;
        if (!found)
            return err_set(e, ERR_INVALID, "data/demo/counterparties.csv has no \"%s\"", payee);
    }
    return 0;
}

static void teardown(devnet_driver *d)
{
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
        rpc_client_free(&d->chains[i].rpc);
    for (size_t a = 0; a < N_ASSETS; a++)
        devnet_closes_free(&d->closes[a]);
    devnet_artifact_free(&d->a_factory);
    devnet_artifact_free(&d->a_escrow);
    devnet_artifact_free(&d->a_token);
    devnet_artifact_free(&d->a_feed);
    free(d->parties);
    d->parties = NULL;
    keystore_lock(&d->k_deployer);
    keystore_lock(&d->k_market);
    keystore_lock(&d->k_appr1);
    keystore_lock(&d->k_appr2);
    keystore_free(&d->ks);
    keystore_free(&d->ks_market);
    store_close(&d->db);
}

/* ---- one step ---------------------------------------------------------------------- */

static int send_call(chain_rt *c, devnet_sender *s, devnet_artifact *a, const addr *to,
                     const char *fn, const char *args, uint64_t gas, err *e)
{
    buf data;
    buf_init(&data);
    int rc = devnet_artifact_calldata(a, fn, args, &data, e);
    if (rc == 0)
        rc = devnet_send(s, to, NULL, data.data, data.len, gas, NULL, e);
    tick(c);
    buf_free(&data);
    return rc < 0 ? err_prefix(e, "%s", fn) : 0;
}

/* The day of a step: ETH's history sets the pace, from the start date to its end, then
 * over again; the other series take their first close on or after that day (they have gaps
 * of their own). Sets c->idx. */
static const char *day_of_step(chain_rt *c, uint64_t step)
{
    devnet_driver *d = c->d;
    size_t span = d->closes[0].n - d->start_idx[0];
    c->idx[0] = d->start_idx[0] + (size_t)(step % span);
    const char *day = d->closes[0].date[c->idx[0]];
    for (size_t a = 1; a < N_ASSETS; a++) {
        size_t lo = d->start_idx[a], hi = d->closes[a].n - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(d->closes[a].date[mid], day) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        c->idx[a] = lo;
    }
    return day;
}

/* The day's closes into this chain's feeds; -1 when the node stopped answering. */
static int step_prices(chain_rt *c)
{
    devnet_driver *d = c->d;
    for (size_t k = 0; k < c->n_feeds; k++) {
        size_t a = c->feed_series[k];
        char dec[U256_DEC_MAX], args[U256_DEC_MAX + 4];
        u256_to_dec(dec, &d->closes[a].answer[c->idx[a]]);
        snprintf(args, sizeof args, "(%s)", dec);
        err e;
        err_clear(&e);
        if (send_call(c, &c->deployer, d->a_feed, &c->feed[k], "setAnswer", args, 250000,
                      &e) < 0) {
            note_error(c, &e);
            if (node_silent(c))
                return -1;
        } else {
            count(d, &d->st.price_txs, 1);
        }
    }
    return 0;
}

static int start_flow(chain_rt *c, const struct flow *f, uint64_t step, err *e)
{
    devnet_driver *d = c->d;
    const devnet_party *payee = NULL;
    for (size_t p = 0; p < d->n_parties; p++)
        if (strcmp(d->parties[p].label, f->payee) == 0)
            payee = &d->parties[p];
    if (!payee)
        return err_set(e, ERR_NOT_FOUND, "no counterparty %s", f->payee);
    uint8_t salt[32];
    randombytes_buf(salt, sizeof salt);
    char salt_hex[67], s_payee[ADDR_STR_MAX], s_usdc[ADDR_STR_MAX], s_a1[ADDR_STR_MAX],
        s_a2[ADDR_STR_MAX], s_arb[ADDR_STR_MAX], s_payer[ADDR_STR_MAX], s_escrow[ADDR_STR_MAX];
    hex_encode(salt_hex, sizeof salt_hex, salt, 32, true);
    addr_to_checksum(s_payee, &payee->address);
    addr_to_checksum(s_usdc, &c->usdc);
    addr_to_checksum(s_a1, &d->appr1);
    addr_to_checksum(s_a2, &d->appr2);
    addr_to_checksum(s_arb, &d->arbiter);
    addr_to_checksum(s_payer, &d->market);
    char args[800];
    /* where the escrow will be: the factory's own prediction for (payer, salt) */
    snprintf(args, sizeof args, "(%s, %s)", s_payer, salt_hex);
    buf data;
    buf_init(&data);
    uint8_t word[32];
    int rc = devnet_artifact_calldata(d->a_factory, "predictEscrowAddress", args, &data, e);
    if (rc == 0)
        rc = devnet_call_word(c->rpc, &c->factory, &data, word, e);
    tick(c);
    buf_free(&data);
    if (rc < 0)
        return err_prefix(e, "predicting an escrow address");
    addr escrow;
    memcpy(escrow.b, word + 12, 20);
    addr_to_checksum(s_escrow, &escrow);
    char amount[40];
    snprintf(amount, sizeof amount, "%u000000", f->usdc);
    uint64_t deadline = (uint64_t)time(NULL) + 7 * 86400;
    snprintf(args, sizeof args, "(%s, %s, %s, [%s, %s], 2, %s, %llu, %s)", s_payee, s_usdc, amount,
             s_a1, s_a2, s_arb, (unsigned long long)deadline, salt_hex);
    if (send_call(c, &c->market, d->a_factory, &c->factory, "createEscrowDeterministic", args,
                  900000, e) < 0)
        return -1;
    snprintf(args, sizeof args, "(%s, %s)", s_escrow, amount);
    if (send_call(c, &c->market, d->a_token, &c->usdc, "approve", args, 120000, e) < 0)
        return -1;
    if (send_call(c, &c->market, d->a_escrow, &escrow, "fund", NULL, 250000, e) < 0)
        return -1;
    count(d, &d->st.escrow_txs, 3);
    count(d, &d->st.escrows, 1);
    LOG_I("demo", "escrow %s: %u USDC to %s on chain %llu", s_escrow, f->usdc, f->payee,
          (unsigned long long)c->chain_id);
    if (f->settle && c->n_pend < MAX_PENDING)
        c->pend[c->n_pend++] = (pending_settle){escrow, step + SETTLE_AFTER, 0};
    return 0;
}

/* The script's flows of this chain due in steps *from..to (the script runs on the shared
 * step clock, so a chain that lagged starts what fell due meanwhile). *from moves past
 * each flow tried, failed or not (a failed flow is not retried, as before); -1 when the
 * node stopped answering: the flows not tried yet stay due. */
static int step_flows(chain_rt *c, uint64_t *from, uint64_t to)
{
    /* a lag of more than one round of the script starts each flow once, not once per round */
    if (*from <= to && to - *from >= (uint64_t)FLOW_EVERY * N_FLOWS)
        *from = to + 1 - (uint64_t)FLOW_EVERY * N_FLOWS;
    for (; *from <= to; (*from)++) {
        uint64_t k = *from;
        const struct flow *f = NULL;
        if (k % FLOW_EVERY == 0)
            f = &flows[(k / FLOW_EVERY) % N_FLOWS];
        else if (k % FLOW_EVERY == 1 && (k / FLOW_EVERY) % N_FLOWS < N_DESK_FLOWS)
            f = &desk_flows[(k / FLOW_EVERY) % N_FLOWS];
        if (!f)
            continue;
        if ((f->chain < c->d->n_chains ? f->chain : 0) != c->index)
            continue;
        err e;
        err_clear(&e);
        if (start_flow(c, f, to, &e) < 0) {
            note_error(c, &e);
            if (node_silent(c)) {
                (*from)++;
                return -1;
            }
        }
    }
    return 0;
}

/* The day the market has reached, for the risk service: its history stops there. */
static void write_day(devnet_driver *d, const char *day)
{
    pthread_mutex_lock(&d->db_mu);
    if (d->db && strcmp(d->day_written, day) < 0) {
        err e;
        err_clear(&e);
        if (store_setting_put(d->db, "risk_history_until", day, "demo", &e) < 0)
            LOG_W("demo", "driver: recording the replayed day: %s", e.msg);
        else
            snprintf(d->day_written, sizeof d->day_written, "%s", day);
    }
    pthread_mutex_unlock(&d->db_mu);
}

static int step_settlements(chain_rt *c, uint64_t step)
{
    devnet_driver *d = c->d;
    for (size_t i = 0; i < c->n_pend;) {
        pending_settle *p = &c->pend[i];
        err e;
        err_clear(&e);
        bool done = false, failed = false;
        if (p->stage == 0 && step >= p->approve_at) {
            if (send_call(c, &c->appr1, d->a_escrow, &p->escrow, "approve", NULL, 200000, &e) <
                    0 ||
                send_call(c, &c->appr2, d->a_escrow, &p->escrow, "approve", NULL, 200000, &e) <
                    0)
                failed = true;
            else
                count(d, &d->st.escrow_txs, 2);
            p->stage = 1;
        } else if (p->stage == 1 && step >= p->approve_at + 1) {
            if (send_call(c, &c->appr1, d->a_escrow, &p->escrow, "release", NULL, 250000, &e) <
                0)
                failed = true;
            else
                count(d, &d->st.escrow_txs, 1);
            done = true;
        }
        if (done)
            c->pend[i] = c->pend[--c->n_pend];
        else
            i++;
        if (failed) {
            note_error(c, &e);
            if (node_silent(c))
                return -1;
        }
    }
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One chain's worker. Step k is due at t0 + k * step_ms. A step the node kept the worker
 * past is not replayed late: the worker goes on with the step due now (the feeds jump to
 * that day, as an oracle's do after an outage) and counts the days it skipped. */
static void *chain_main(void *arg)
{
    chain_rt *c = arg;
    devnet_driver *d = c->d;
    uint64_t next = 0, flows_next = 0; /* flows_next: the first step whose flows are due */
    while (!atomic_load(&d->stop) && !atomic_load(&d->stopping)) {
        uint64_t now = (mono_ms() - d->t0_ms) / d->step_ms;
        if (now < next) {
            devnet_sleep_ms(50);
            continue;
        }
        if (now > next)
            LOG_W("demo", "driver: %s: its node kept the worker past %llu step(s): going on "
                  "with the day due now", devnet_chain(c->index)->name,
                  (unsigned long long)(now - next));
        const char *day = day_of_step(c, now);
        bool whole = step_prices(c) == 0 && step_flows(c, &flows_next, now) == 0 &&
                     step_settlements(c, now) == 0;
        pthread_mutex_lock(&d->mu);
        devnet_driver_chain_stats *cs = &d->st.chains[c->index];
        cs->skipped += now - next;
        if (whole) {
            cs->steps++;
            snprintf(cs->day, sizeof cs->day, "%s", day);
        } else {
            cs->cut_short++;
        }
        bool advanced = false;
        if (whole && now + 1 > d->st.steps) {
            d->st.steps = now + 1;
            snprintf(d->st.day, sizeof d->st.day, "%s", day);
            advanced = true;
        }
        pthread_mutex_unlock(&d->mu);
        if (advanced)
            write_day(d, day);
        next = now + 1;
    }
    atomic_store(&c->done, 1);
    return NULL;
}

int devnet_driver_start(devnet_driver **out, const devnet_driver_opts *o, err *e)
{
    *out = NULL;
    devnet_driver *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory for the market driver");
    d->o = *o;
    d->step_ms = o->step_ms ? o->step_ms : 2000;
    atomic_init(&d->stop, 0);
    atomic_init(&d->stopping, 0);
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->db_mu, NULL);
    if (setup(d, e) < 0 || devnet_open_desk(d->o.home, &d->db, e) < 0) {
        teardown(d);
        pthread_mutex_destroy(&d->mu);
        pthread_mutex_destroy(&d->db_mu);
        free(d);
        return err_prefix(e, "market driver");
    }
    d->st.n_chains = d->n_chains;
    for (size_t i = 0; i < d->n_chains; i++)
        snprintf(d->st.chains[i].name, sizeof d->st.chains[i].name, "%s", devnet_chain(i)->name);
    d->t0_ms = mono_ms();
    for (size_t i = 0; i < d->n_chains; i++)
        atomic_init(&d->chains[i].progress, 0);
    for (size_t i = 0; i < d->n_chains; i++) {
        chain_rt *c = &d->chains[i];
        if (pthread_create(&c->thread, NULL, chain_main, c) != 0) {
            devnet_driver_stop(&d);
            return err_set(e, ERR_INTERNAL, "cannot start the market driver's threads");
        }
        c->running = true;
    }
    *out = d;
    return 0;
}

void devnet_driver_stats_get(devnet_driver *d, devnet_driver_stats *out)
{
    pthread_mutex_lock(&d->mu);
    *out = d->st;
    pthread_mutex_unlock(&d->mu);
}

/* Waits (at most about 10 s per chain) until the transactions the workers sent are mined,
 * so that whoever reads the chains after the demo returns (a risk report, a test) sees the
 * last day's prices and flows, not the day before for the first block. */
static void wait_mined(chain_rt *c)
{
    if (!c->rpc)
        return;
    rpc_client_set_cancel(c->rpc, NULL); /* the stop flag is set: calls would be cancelled */
    devnet_sender *ss[] = {&c->deployer, &c->market, &c->appr1, &c->appr2};
    for (size_t i = 0; i < sizeof ss / sizeof ss[0]; i++) {
        devnet_sender *s = ss[i];
        if (!s->key || !s->have_nonce)
            continue;
        for (unsigned tries = 0; tries < 100; tries++) {
            uint64_t mined = 0;
            err e;
            err_clear(&e);
            if (rpc_eth_get_transaction_count(c->rpc, keystore_key_address(s->key), "latest",
                                              &mined, &e) < 0) {
                LOG_W("demo", "driver: %s: %s", devnet_chain(c->index)->name, e.msg);
                return; /* the node is gone: nothing to wait for */
            }
            if (mined >= s->nonce)
                break;
            devnet_sleep_ms(100);
        }
    }
}

void devnet_driver_halt(devnet_driver *d)
{
    if (!d || d->halted)
        return;
    d->halted = true;
    /* Each worker ends after the step it is in (a step is whole: the day's prices and its
     * flows), however slow its node, as long as the node answers: only a worker whose calls
     * have not moved for about 5 s (its node stopped answering) has its call in flight
     * cancelled, and none is waited for past a minute. A slow machine must not cut a step
     * short: its chain's feeds would show a day the summary does not name. */
    atomic_store(&d->stopping, 1);
    unsigned seen[DEVNET_N_CHAINS] = {0}, still[DEVNET_N_CHAINS] = {0};
    for (unsigned waited = 0; waited < 1200; waited++) {
        bool live = false; /* a worker still in its step whose node answers */
        for (size_t i = 0; i < d->n_chains; i++) {
            chain_rt *c = &d->chains[i];
            if (!c->running || atomic_load(&c->done))
                continue;
            unsigned p = atomic_load(&c->progress);
            still[i] = p == seen[i] ? still[i] + 1 : 0;
            seen[i] = p;
            live |= still[i] < 100;
        }
        if (!live)
            break;
        devnet_sleep_ms(50);
    }
    atomic_store(&d->stop, 1);
    for (size_t i = 0; i < d->n_chains; i++)
        if (d->chains[i].running)
            pthread_join(d->chains[i].thread, NULL);
    for (size_t i = 0; i < d->n_chains; i++)
        if (d->chains[i].running)
            wait_mined(&d->chains[i]);
}

void devnet_driver_stop(devnet_driver **p)
{
    if (!p || !*p)
        return;
    devnet_driver *d = *p;
    devnet_driver_halt(d);
    teardown(d);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->db_mu);
    free(d);
    *p = NULL;
}
