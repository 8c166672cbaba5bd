/* sync_chain.c: the thread that keeps one chain's events in the desk database.
 *
 * Each step reads the node's latest block and compares the checkpoint's stored
 * hash with the node's block at that height; a difference is a reorg (or a node
 * that went back), handled by walking the stored block-hash window down to the
 * highest block the node still agrees with, and deleting everything above it,
 * rewinding the checkpoint and rebuilding the touched escrows in one transaction.
 * Otherwise the next range is fetched: the hash of its last block is read before
 * the logs and again after them (with every header near the head, linked by
 * parent hash to the checkpoint), so logs from a chain that changed meanwhile are
 * never committed. Events, block hashes, projections and the checkpoint go into
 * one transaction: a crash at any instant loses nothing and duplicates nothing.
 *
 * With a book on a server (sync_options.book, docs/scale.md) the thread first takes the
 * chain's lock there, and the same steps read the checkpoint and block hashes from the book
 * and write each range (book_commit_range) and each rewind to it instead of desk.db: the
 * events, block hashes, checkpoint and the escrow projection (the book projects the touched
 * escrows again from their events there); the other projections stay on the SQLite path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "rpc/rpc_ws.h"
#include "sync/bridge_legs.h"
#include "sync/inflows.h"
#include "sync/vault.h"
#include "sync/events.h"
#include "sync/projection.h"
#include "sync/range.h"
#include "sync/sync.h"
#include "sync/sync_internal.h"

#define ADDR_CHUNK 1000  /* addresses per eth_getLogs filter */
#define HEADER_BATCH 200 /* blocks per eth_getBlockByNumber batch */
#define MOVED_MAX 4      /* reads in a row that find the chain changed before the node is blamed */
#define INFLOW_RANGE_MAX 2000 /* a catch-up range's inflows are read with it up to this size */
/* The longest wait before trying again a book's server that refused this fusion (its server
 * version another): the wait doubles from 1 s up to it, and ends early when the server
 * announces a change (store_book.wait_change). */
#define REFUSED_MAX_MS 60000u

/* A set of addresses: insertion order in v, membership by open addressing. */
typedef struct addrset {
    addr *v;
    size_t n, cap;
    uint32_t *slots; /* index into v + 1; 0 is empty */
    size_t n_slots;  /* power of two */
} addrset;

static size_t addr_hash(const addr *a, size_t mask)
{
    uint64_t h;
    memcpy(&h, a->b + 4, sizeof h); /* addresses are hashes: any 8 bytes will do */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(h >> 17) & mask;
}

/* Slot of a (its own or the empty one where it would go). */
static size_t addrset_slot(const addrset *s, const addr *a)
{
    size_t mask = s->n_slots - 1, i = addr_hash(a, mask);
    while (s->slots[i] && memcmp(s->v[s->slots[i] - 1].b, a->b, ADDR_LEN) != 0)
        i = (i + 1) & mask;
    return i;
}

static bool addrset_has(const addrset *s, const addr *a)
{
    return s->n && s->slots[addrset_slot(s, a)] != 0;
}

/* Index of a in v, or -1. */
static long addrset_index(const addrset *s, const addr *a)
{
    if (!s->n)
        return -1;
    uint32_t k = s->slots[addrset_slot(s, a)];
    return k ? (long)k - 1 : -1;
}

static int addrset_add(addrset *s, const addr *a)
{
    if (addrset_has(s, a))
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        addr *p = realloc(s->v, nc * sizeof *p);
        if (!p)
            return -1;
        s->v = p;
        s->cap = nc;
    }
    if ((s->n + 1) * 2 > s->n_slots) {
        size_t ns = s->n_slots ? s->n_slots * 2 : 128;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl)
            return -1;
        free(s->slots);
        s->slots = sl;
        s->n_slots = ns;
        for (size_t i = 0; i < s->n; i++)
            s->slots[addrset_slot(s, &s->v[i])] = (uint32_t)i + 1;
    }
    s->v[s->n] = *a;
    s->slots[addrset_slot(s, a)] = (uint32_t)s->n + 1;
    s->n++;
    return 0;
}

static void addrset_free(addrset *s)
{
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* Logs of one range, from several eth_getLogs answers, in chain order. */
typedef struct logset {
    rpc_log_list *parts;
    size_t n_parts, cap_parts;
    const rpc_log **v;
    size_t n;
    bool by_topic; /* asked by event signature: look-alikes are expected */
} logset;

static void logset_free(logset *ls)
{
    for (size_t i = 0; i < ls->n_parts; i++)
        rpc_log_list_free(&ls->parts[i]);
    free(ls->parts);
    free(ls->v);
    memset(ls, 0, sizeof *ls);
}

static int logptr_cmp(const void *a, const void *b)
{
    const rpc_log *x = *(const rpc_log *const *)a, *y = *(const rpc_log *const *)b;
    if (x->block_number != y->block_number)
        return x->block_number < y->block_number ? -1 : 1;
    if (x->log_index != y->log_index)
        return x->log_index < y->log_index ? -1 : 1;
    return memcmp(x->block_hash, y->block_hash, 32);
}

/* Sorts all parts' logs into v, dropping exact repeats. */
static int logset_index(logset *ls, err *e)
{
    size_t total = 0;
    for (size_t i = 0; i < ls->n_parts; i++)
        total += ls->parts[i].n;
    free(ls->v);
    ls->v = calloc(total ? total : 1, sizeof *ls->v);
    if (!ls->v)
        return err_set(e, ERR_NOMEM, "out of memory sorting %zu logs", total);
    size_t k = 0;
    for (size_t i = 0; i < ls->n_parts; i++)
        for (size_t j = 0; j < ls->parts[i].n; j++)
            ls->v[k++] = &ls->parts[i].items[j];
    /* Each answer comes sorted (rpc_eth_get_logs) and one answer is the common case: the
     * sort is only needed when the parts interleave. */
    bool sorted = true;
    for (size_t i = 1; i < k && sorted; i++)
        sorted = logptr_cmp(&ls->v[i - 1], &ls->v[i]) <= 0;
    if (!sorted)
        qsort(ls->v, k, sizeof *ls->v, logptr_cmp);
    size_t out = 0;
    for (size_t i = 0; i < k; i++)
        if (out == 0 || logptr_cmp(&ls->v[out - 1], &ls->v[i]) != 0)
            ls->v[out++] = ls->v[i];
    ls->n = out;
    return 0;
}

typedef struct ctx {
    chain_worker *w;
    sync_engine *eng;
    const sync_options *opt;
    store_chain chain;
    store *db;
    rpc_client *rpc;
    rpc_client *rpc2; /* the pipelined catch-up's reader (NULL: none) */
    sync_range range;
    addrset factories, escrows;
    store_contract *others; /* configured htlc/feed/escrow contracts */
    size_t n_others;
    sync_bridge_watch bridge; /* the bridge contracts (bridge_legs.h) */
    bool has_target;
    uint64_t target;
    double t0;
    double last_hook;  /* when after_commit last ran (sync_now) */
    bool hook_pending; /* a commit stored events (or a reorg) since after_commit ran */
    /* a reorg's rewind since after_commit ran: the hook waits for the chain read again (a
     * commit, or caught up), so the screener's sweep tells a replaced escrow from one gone */
    bool hook_after_resync;
    unsigned moved;    /* reads in a row that found the chain changed under them */
    char ws_url[STORE_URL_MAX]; /* the first endpoint's, as stored ("" when none) */
    rpc_ws *ws;                 /* newHeads subscription while following (NULL: polling) */
    double ws_retry_at;         /* when to try subscribing again */
    unsigned ws_failures;       /* attempts in a row that failed */
    struct foldset *carry; /* a pipelined catch-up's escrows, from commit to commit */
    bool defer_rows;       /* this commit leaves the carried escrows' rows behind (foldset_write) */
    store_operator *ops;   /* the desk's accounts, for a catch-up's inflows (NULL: none) */
    size_t nops;
    void *book;               /* the book's connection (opt->book; NULL: not open) */
    bool locked;              /* that connection holds the chain's lock */
    store_checkpoint book_cp; /* the book's checkpoint as this thread last read or wrote it */
    bool watch_stale;         /* the book refused a range read without one of its factories */
    unsigned refused_ms;      /* the server refused this fusion: the last wait (0: it did not) */
    char refused[ERR_MSG_MAX]; /* its reason as last logged */
    /* With a book and its reader (opt->book_reader): desk.db with the book's reads attached,
     * for the credit repayments recognised from the book's inflows (opened on first use),
     * and whether the book's inflows changed since they last were (a commit or a scan that
     * stored some, a rewind that marked some, or this thread's start). */
    store *credit_db;
    bool credit_pending;
    double credit_retry_at; /* after a failure: not tried again before (sync_now) */
} ctx;

enum { STEP_PROGRESS, STEP_CAUGHT_UP, STEP_RETRY };

/* What a fetch works with: the chain thread's own client and range, or (pipelined
 * catch-up) a helper thread's, which asks by event signature only and so never reads
 * the escrow list the chain thread is extending meanwhile. */
typedef struct fx {
    ctx *c;
    rpc_client *rpc;
    sync_range *range;
    bool topic_only;
    bool inflows; /* read the range's inflows too (c->ops, read-only meanwhile) */
} fx;

/* ---- statistics ---- */

static void stats_update(ctx *c, void (*fn)(sync_chain_stats *, const void *), const void *arg)
{
    pthread_mutex_lock(&c->eng->mu);
    fn(&c->w->stats, arg);
    c->w->stats.elapsed = sync_now() - c->t0;
    c->w->stats.range = c->range.size;
    pthread_mutex_unlock(&c->eng->mu);
}

static void set_phase_fn(sync_chain_stats *s, const void *arg)
{
    s->phase = *(const sync_phase *)arg;
}

static void set_phase(ctx *c, sync_phase p)
{
    stats_update(c, set_phase_fn, &p);
}

static void set_error_fn(sync_chain_stats *s, const void *arg)
{
    snprintf(s->last_error, sizeof s->last_error, "%s", (const char *)arg);
}

static void set_error(ctx *c, const char *msg)
{
    stats_update(c, set_error_fn, msg);
}

typedef struct progress {
    uint64_t head, synced, events, blocks, reorgs;
    bool has_head, has_synced;
} progress;

static void progress_fn(sync_chain_stats *s, const void *arg)
{
    const progress *p = arg;
    if (p->has_head) {
        s->head = p->head;
        s->has_head = true;
    }
    if (p->has_synced) {
        s->synced = p->synced;
        s->has_synced = true;
    }
    s->events += p->events;
    s->blocks += p->blocks;
    s->reorgs += p->reorgs;
}

static void add_progress(ctx *c, const progress *p)
{
    stats_update(c, progress_fn, p);
}

static void target_fn(sync_chain_stats *s, const void *arg)
{
    s->target = *(const uint64_t *)arg;
}

static void first_fn(sync_chain_stats *s, const void *arg)
{
    s->first_synced = *(const uint64_t *)arg;
}

/* ---- configuration ---- */

static int load_watch(ctx *c, err *e)
{
    addrset_free(&c->factories);
    addrset_free(&c->escrows);
    free(c->others);
    c->others = NULL;
    c->n_others = 0;
    store_contract *ks;
    size_t n;
    if (store_contract_list(c->db, c->chain.chain_id, &ks, &n, e) < 0)
        return -1;
    c->others = calloc(n ? n : 1, sizeof *c->others);
    if (!c->others) {
        free(ks);
        return err_set(e, ERR_NOMEM, "out of memory loading contracts");
    }
    for (size_t i = 0; i < n; i++) {
        if (ks[i].kind == STORE_CONTRACT_FACTORY) {
            if (addrset_add(&c->factories, &ks[i].address) < 0)
                goto nomem;
        } else if (ks[i].kind != STORE_CONTRACT_TOKEN) {
            c->others[c->n_others++] = ks[i];
        }
    }
    free(ks);
    /* the book's factories too: one another workstation's desk added (its rewind is why
     * this thread reads the range again) is read with the desk's own */
    if (c->opt->book && c->opt->book->factories && c->book) {
        addr *fs;
        size_t nf;
        if (c->opt->book->factories(c->book, c->chain.chain_id, &fs, &nf, e) < 0)
            return -1;
        for (size_t i = 0; i < nf; i++)
            if (addrset_add(&c->factories, &fs[i]) < 0) {
                free(fs);
                return err_set(e, ERR_NOMEM, "out of memory loading factories");
            }
        free(fs);
    }
    if (sync_bridge_watch_load(c->db, c->chain.chain_id, &c->bridge, e) < 0)
        return -1;
    addr *esc;
    int erc = c->opt->book ? c->opt->book->escrows(c->book, c->chain.chain_id, &esc, &n, e)
                           : store_escrow_addresses(c->db, c->chain.chain_id, &esc, &n, e);
    if (erc < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (addrset_add(&c->escrows, &esc[i]) < 0) {
            free(esc);
            return err_set(e, ERR_NOMEM, "out of memory loading escrows");
        }
    free(esc);
    return 0;
nomem:
    free(ks);
    return err_set(e, ERR_NOMEM, "out of memory loading contracts");
}

/* The emitter kind of an address we watch; false when we do not watch it. */
static bool emitter_kind(const ctx *c, const addrset *fresh, const addr *a,
                         store_contract_kind *kind)
{
    if (addrset_has(&c->factories, a)) {
        *kind = STORE_CONTRACT_FACTORY;
        return true;
    }
    if (addrset_has(&c->escrows, a) || (fresh && addrset_has(fresh, a))) {
        *kind = STORE_CONTRACT_ESCROW;
        return true;
    }
    for (size_t i = 0; i < c->n_others; i++) {
        if (memcmp(c->others[i].address.b, a->b, ADDR_LEN) == 0) {
            *kind = c->others[i].kind;
            return true;
        }
    }
    return false;
}

/* ---- fetching ---- */

/* Room for one more answer in ls. */
static int logset_grow(logset *ls, err *e)
{
    if (ls->n_parts < ls->cap_parts)
        return 0;
    size_t nc = ls->cap_parts ? ls->cap_parts * 2 : 4;
    rpc_log_list *p = realloc(ls->parts, nc * sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory fetching logs");
    ls->parts = p;
    ls->cap_parts = nc;
    return 0;
}

static int get_logs_part(fx *f, logset *ls, const addr *addrs, size_t n, uint64_t from, uint64_t to,
                         err *e)
{
    for (size_t off = 0; off < n; off += ADDR_CHUNK) {
        size_t k = n - off < ADDR_CHUNK ? n - off : ADDR_CHUNK;
        if (logset_grow(ls, e) < 0)
            return -1;
        rpc_log_filter lf = {.from = from, .to = to, .addresses = addrs + off, .n_addresses = k};
        if (rpc_eth_get_logs(f->rpc, &lf, &ls->parts[ls->n_parts], e) < 0)
            return -1;
        ls->n_parts++;
    }
    return 0;
}

/* Many escrows: ask by event signature instead of by address (one request per range,
 * whatever the number of escrows) and keep only the logs of our contracts; commit_range
 * drops the others, in chain order, so an escrow created in the range is known by the
 * time its own logs come. Other configured contracts are still asked for by address. */
static int collect_by_topic(fx *f, uint64_t from, uint64_t to, bool escrows_only, logset *ls,
                            err *e)
{
    ctx *c = f->c;
    uint8_t topics[EV_COUNT][32];
    size_t nt = 0;
    const store_contract_kind kinds[] = {STORE_CONTRACT_ESCROW, STORE_CONTRACT_FACTORY};
    for (size_t k = 0; k < (escrows_only ? 1u : 2u); k++) {
        const uint8_t(*t)[32];
        size_t n = sync_event_topics_for(kinds[k], &t);
        for (size_t i = 0; i < n; i++)
            memcpy(topics[nt++], t[i], 32);
    }
    if (logset_grow(ls, e) < 0)
        return -1;
    rpc_log_filter lf = {
        .from = from, .to = to, .topic0 = (const uint8_t(*)[32])topics, .n_topic0 = nt};
    if (rpc_eth_get_logs(f->rpc, &lf, &ls->parts[ls->n_parts], e) < 0)
        return -1;
    ls->n_parts++;
    ls->by_topic = true;
    if ((c->n_others || c->bridge.n) && !escrows_only) {
        addr *others = calloc(c->n_others + c->bridge.n, sizeof *others);
        if (!others)
            return err_set(e, ERR_NOMEM, "out of memory building the address filter");
        for (size_t i = 0; i < c->n_others; i++)
            others[i] = c->others[i].address;
        for (size_t i = 0; i < c->bridge.n; i++)
            others[c->n_others + i] = c->bridge.v[i];
        int rc = get_logs_part(f, ls, others, c->n_others + c->bridge.n, from, to, e);
        free(others);
        if (rc < 0)
            return -1;
    }
    return logset_index(ls, e);
}

/* Every log of [from, to] from the factories, known escrows and other watched
 * contracts, plus the logs of escrows created inside the range. */
static int collect(fx *f, uint64_t from, uint64_t to, logset *ls, err *e)
{
    ctx *c = f->c;
    memset(ls, 0, sizeof *ls);
    if (f->topic_only || c->factories.n + c->escrows.n > c->opt->max_addresses) {
        if (collect_by_topic(f, from, to, false, ls, e) < 0) {
            logset_free(ls);
            return -1;
        }
        return 0;
    }
    size_t n = c->factories.n + c->escrows.n + c->n_others + c->bridge.n;
    if (n == 0)
        return logset_index(ls, e);
    addr *all = calloc(n, sizeof *all);
    if (!all)
        return err_set(e, ERR_NOMEM, "out of memory building the address filter");
    size_t k = 0;
    for (size_t i = 0; i < c->factories.n; i++)
        all[k++] = c->factories.v[i];
    for (size_t i = 0; i < c->escrows.n; i++)
        all[k++] = c->escrows.v[i];
    for (size_t i = 0; i < c->n_others; i++)
        all[k++] = c->others[i].address;
    for (size_t i = 0; i < c->bridge.n; i++)
        all[k++] = c->bridge.v[i];
    int rc = get_logs_part(f, ls, all, k, from, to, e);
    free(all);
    if (rc < 0)
        goto fail;
    /* Escrows created in this range: their own logs were not asked for yet. */
    addrset fresh = {0};
    uint64_t first = to;
    size_t parts_before = ls->n_parts;
    for (size_t p = 0; p < parts_before; p++) {
        for (size_t i = 0; i < ls->parts[p].n; i++) {
            const rpc_log *lg = &ls->parts[p].items[i];
            if (!addrset_has(&c->factories, &lg->address) || lg->n_topics == 0 ||
                (memcmp(lg->topics[0], sync_event_topic(EV_ESCROW_CREATED), 32) != 0 &&
                 memcmp(lg->topics[0], sync_event_topic(EV_ESCROW_CREATED_V2), 32) != 0))
                continue;
            sync_decoded d;
            err ignored;
            if (sync_event_decode(STORE_CONTRACT_FACTORY, lg->topics, lg->n_topics, lg->data,
                                  lg->data_len, &d, &ignored) < 0 ||
                !sync_is_escrow_created(d.kind))
                continue;
            const addr *x = &sync_field(&d, "escrow")->a;
            if (addrset_has(&c->escrows, x))
                continue;
            if (addrset_add(&fresh, x) < 0) {
                addrset_free(&fresh);
                err_set(e, ERR_NOMEM, "out of memory collecting new escrows");
                goto fail;
            }
            if (lg->block_number < first)
                first = lg->block_number;
        }
    }
    if (fresh.n && c->factories.n + c->escrows.n + fresh.n > c->opt->max_addresses) {
        /* Too many new escrows to name them all: ask for escrow events by signature
         * (the factories' and other contracts' logs of the range are already here). */
        addrset_free(&fresh);
        if (collect_by_topic(f, from, to, true, ls, e) < 0)
            goto fail;
        return 0;
    }
    if (fresh.n) {
        rc = get_logs_part(f, ls, fresh.v, fresh.n, first, to, e);
        addrset_free(&fresh);
        if (rc < 0)
            goto fail;
    }
    if (logset_index(ls, e) < 0)
        goto fail;
    return 0;
fail:
    logset_free(ls);
    return -1;
}

static int get_block_required(rpc_client *rpc, uint64_t number, rpc_block *out, err *e)
{
    bool found;
    if (rpc_eth_get_block(rpc, number, NULL, out, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_RPC, "the node does not have block %llu (yet)",
                       (unsigned long long)number);
    return 0;
}

static int get_headers(rpc_client *rpc, uint64_t from, size_t n, rpc_block *out, err *e)
{
    for (size_t off = 0; off < n; off += HEADER_BATCH) {
        size_t k = n - off < HEADER_BATCH ? n - off : HEADER_BATCH;
        if (rpc_eth_get_blocks(rpc, from + off, k, out + off, e) < 0)
            return -1;
    }
    return 0;
}

/* ---- committing ---- */

static uint64_t final_of(const ctx *c, uint64_t head)
{
    return head >= c->chain.confirmations ? head - c->chain.confirmations : 0;
}

static void event_from_log(const ctx *c, const rpc_log *lg, store_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->chain_id = c->chain.chain_id;
    ev->block_number = lg->block_number;
    memcpy(ev->block_hash, lg->block_hash, 32);
    memcpy(ev->tx_hash, lg->tx_hash, 32);
    ev->tx_index = lg->tx_index;
    ev->log_index = lg->log_index;
    ev->address = lg->address;
    ev->n_topics = lg->n_topics;
    memcpy(ev->topics, lg->topics, sizeof ev->topics);
    ev->data = lg->data;
    ev->data_len = lg->data_len;
}

/* The escrows with events in a range, folded in memory as the range's logs are decoded
 * (each log once): one created in this range starts from nothing (all its events are
 * here); one known before continues from its stored state, which is the fold's
 * accumulator as the last commit left it. Both give exactly what sync_rebuild_escrows
 * would give by folding every stored event again (`fusion reindex` does that; the tests
 * compare the two), without reading back what was just written. Each escrow's row is
 * written at most once per range (a pipelined catch-up defers the rows whose state did not
 * move: foldset_write). A catch-up carries the escrows the last range touched from one
 * commit to the next (up to FOLD_CARRY_MAX): each accumulator is its stored row or, for a
 * deferred one, ahead of it, so the next range continues from it without reading back. */
#define FOLD_CARRY_MAX 8192

typedef struct foldset {
    addrset keys;   /* escrow addresses; keys.v[i] is folded in xs[i] */
    store_escrow *xs;
    bool *rebuild;  /* no stored state to continue from: fold what is stored instead */
    unsigned *used; /* the range (gen) that last touched it */
    unsigned *born; /* the range whose fold started it from nothing (0: from a stored row) */
    bool *behind;   /* its row lags behind xs[i]: listed in escrows_stale, written later */
    escrow_state *row_state; /* the state its stored row holds (what the API feed last saw) */
    size_t n_behind; /* escrows listed in escrows_stale by this catch-up */
    unsigned gen;   /* the range being committed */
    size_t cap;
} foldset;

static void foldset_free(foldset *f)
{
    addrset_free(&f->keys);
    free(f->xs);
    free(f->rebuild);
    free(f->used);
    free(f->born);
    free(f->behind);
    free(f->row_state);
    memset(f, 0, sizeof *f);
}

/* Between two commits of a pipelined catch-up: keeps only what the last range touched
 * (what the next one most likely continues), so that the carry is bounded by a range's
 * logs, not by the escrows of the whole chain; the rest is read back when touched again
 * (their rows are current: foldset_write wrote the ones that lagged). In place: the arrays
 * keep the size the largest range needed. On no memory the set is kept whole (a row that
 * lags must stay carried until it is written). */
static void foldset_keep_last(foldset *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->keys.n; i++)
        k += f->used[i] == f->gen;
    if (k == f->keys.n)
        return;
    addrset keys = {0};
    for (size_t i = 0; i < f->keys.n; i++) {
        if (f->used[i] == f->gen && addrset_add(&keys, &f->keys.v[i]) < 0) {
            addrset_free(&keys);
            return;
        }
    }
    size_t j = 0;
    for (size_t i = 0; i < f->keys.n; i++) {
        if (f->used[i] != f->gen)
            continue;
        if (j != i) {
            f->xs[j] = f->xs[i];
            f->rebuild[j] = f->rebuild[i];
            f->used[j] = f->used[i];
            f->born[j] = f->born[i];
            f->behind[j] = f->behind[i];
            f->row_state[j] = f->row_state[i];
        }
        j++;
    }
    addrset_free(&f->keys);
    f->keys = keys;
}

/* Starts x for this range: from nothing (fresh), else from the stored row; *rebuild when
 * there is none. -1 on a store error. */
static int fold_start(ctx *c, store_escrow *x, const addr *esc, bool fresh, bool *rebuild,
                      err *e)
{
    *rebuild = false;
    if (fresh) {
        escrow_fold_init(x, c->chain.chain_id, esc);
        return 0;
    }
    bool found = false;
    if (store_escrow_get(c->db, c->chain.chain_id, esc, x, &found, e) < 0)
        return -1;
    *rebuild = !found;
    return 0;
}

/* The accumulator of escrow `esc`, started on first use in this range. NULL with *skip
 * set when the escrow is to be rebuilt from the store at the end instead. */
static store_escrow *foldset_get(ctx *c, foldset *f, const addr *esc, bool fresh, bool *skip,
                                 err *e)
{
    *skip = false;
    long k = addrset_index(&f->keys, esc);
    if (k >= 0) {
        /* Carried from an earlier commit: its accumulator is the stored row, unless that
         * row was rebuilt from the events (then it is read) or the escrow is new here. */
        if (f->used[k] != f->gen) {
            f->used[k] = f->gen;
            if (fresh || f->rebuild[k]) {
                if (fold_start(c, &f->xs[k], esc, fresh, &f->rebuild[k], e) < 0)
                    return NULL; /* the commit fails and the set is freed */
                if (fresh)
                    f->born[k] = f->gen;
                f->row_state[k] = f->xs[k].state; /* the stored row's, when one was read */
            }
        }
        *skip = f->rebuild[k];
        return *skip ? NULL : &f->xs[k];
    }
    if (f->keys.n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 256;
        store_escrow *xs = realloc(f->xs, nc * sizeof *xs);
        if (xs)
            f->xs = xs;
        bool *rb = realloc(f->rebuild, nc * sizeof *rb);
        if (rb)
            f->rebuild = rb;
        unsigned *us = realloc(f->used, nc * sizeof *us);
        if (us)
            f->used = us;
        unsigned *bo = realloc(f->born, nc * sizeof *bo);
        if (bo)
            f->born = bo;
        bool *be = realloc(f->behind, nc * sizeof *be);
        if (be)
            f->behind = be;
        escrow_state *rs = realloc(f->row_state, nc * sizeof *rs);
        if (rs)
            f->row_state = rs;
        if (!xs || !rb || !us || !bo || !be || !rs) {
            err_set(e, ERR_NOMEM, "out of memory building escrows");
            return NULL;
        }
        f->cap = nc;
    }
    if (addrset_add(&f->keys, esc) < 0) {
        err_set(e, ERR_NOMEM, "out of memory building escrows");
        return NULL;
    }
    k = (long)f->keys.n - 1;
    f->used[k] = f->gen;
    f->born[k] = fresh ? f->gen : 0;
    f->behind[k] = false;
    if (fold_start(c, &f->xs[k], esc, fresh, &f->rebuild[k], e) < 0)
        return NULL; /* the commit fails and the set is freed */
    f->row_state[k] = f->xs[k].state; /* the stored row's, when one was read */
    *skip = f->rebuild[k];
    return *skip ? NULL : &f->xs[k];
}

/* A range that creates at least this many escrows writes them as one batch (their search
 * index in one statement; store_escrow_batch_begin): a catch-up's first ranges. Fewer (the
 * live steps) keep the per-row trigger: the batch's DDL re-prepares every statement. */
#define ESCROW_BATCH_MIN 64

/* Writes the carried rows that lag behind (foldset_write, behind[i]) and forgets the
 * chain's escrows_stale list: in the commit that ends a catch-up, or after it. */
static int foldset_catch_up(ctx *c, foldset *f, err *e)
{
    if (!f->n_behind)
        return 0;
    for (size_t i = 0; i < f->keys.n; i++) {
        if (!f->behind[i])
            continue;
        if (f->xs[i].anomaly[0])
            LOG_W("sync", "escrow on chain %llu: %s", (unsigned long long)c->chain.chain_id,
                  f->xs[i].anomaly);
        if (store_escrow_put(c->db, &f->xs[i], e) < 0)
            return -1;
    }
    if (store_escrow_stale_clear(c->db, c->chain.chain_id, e) < 0)
        return -1;
    for (size_t i = 0; i < f->keys.n; i++)
        f->behind[i] = false;
    f->n_behind = 0;
    return 0;
}

/* Writes every escrow this range touched (after its events are in); n_fresh of them are
 * new. Escrows rebuilt from their stored events go last, outside the batch (a rebuild may
 * delete a row, which the batch does not allow). With c->defer_rows (a catch-up's commit
 * that another follows) an escrow whose row exists already and whose state did not move
 * is not rewritten (a state change is written in its commit, as the API feed records
 * each): it is listed in escrows_stale in this commit (once) and written by the
 * catch-up's last commit (foldset_catch_up), or rebuilt from its events if the catch-up
 * dies first (repair_stale). New escrows are written in the commit that creates them. */
static int foldset_write(ctx *c, foldset *f, uint64_t final, size_t n_fresh, err *e)
{
    bool defer = c->defer_rows && f->keys.n <= FOLD_CARRY_MAX; /* a carry kept to the end */
    store_escrow_batch batch = {0};
    bool batched = n_fresh >= ESCROW_BATCH_MIN;
    if (batched && store_escrow_batch_begin(c->db, &batch, e) < 0)
        return -1;
    for (size_t i = 0; i < f->keys.n; i++) {
        if (f->rebuild[i])
            continue;
        if (f->used[i] != f->gen) {
            /* Not touched by this range: it leaves the carry before the next one
             * (foldset_keep_last), so a row that lags is written now (a later range that
             * touches it again reads its row back and must find it current). */
            if (defer && f->behind[i]) {
                if (store_escrow_put(c->db, &f->xs[i], e) < 0)
                    goto fail;
                f->behind[i] = false;
                f->row_state[i] = f->xs[i].state;
            }
            continue;
        }
        if (defer && f->born[i] != f->gen && f->xs[i].state == f->row_state[i]) {
            if (!f->behind[i] &&
                store_escrow_stale_mark(c->db, c->chain.chain_id, &f->keys.v[i], e) < 0)
                goto fail;
            f->n_behind += !f->behind[i];
            f->behind[i] = true;
            continue;
        }
        if (f->xs[i].anomaly[0])
            LOG_W("sync", "escrow on chain %llu: %s", (unsigned long long)c->chain.chain_id,
                  f->xs[i].anomaly);
        if (store_escrow_put(c->db, &f->xs[i], e) < 0)
            goto fail;
        f->behind[i] = false; /* up to date; its mark goes with the list (n_behind: marks) */
        f->row_state[i] = f->xs[i].state;
    }
    if (batched && store_escrow_batch_end(c->db, &batch, e) < 0)
        goto fail;
    if (!defer && foldset_catch_up(c, f, e) < 0)
        return -1;
    for (size_t i = 0; i < f->keys.n; i++) {
        if (f->used[i] == f->gen && f->rebuild[i] &&
            sync_rebuild_escrows(c->db, c->chain.chain_id, &f->keys.v[i], 1, final, e) < 0)
            return -1;
    }
    return 0;
fail:
    store_escrow_batch_free(&batch); /* the caller rolls back, trigger included */
    return -1;
}

/* The options' after-commit hook (automatic screening), on this thread's connection. */
static void after_commit(ctx *c)
{
    c->hook_pending = false;
    c->hook_after_resync = false;
    c->last_hook = sync_now();
    if (c->opt->after_commit && (!c->opt->book || c->opt->after_commit_on_book))
        c->opt->after_commit(c->opt->after_commit_ctx, c->db, c->chain.chain_id);
}

/* Stores the n buffered events (in log order); n becomes 0. */
static int events_flush(ctx *c, store_event *evs, size_t *n, uint64_t *inserted, err *e)
{
    size_t added = 0;
    int rc = store_event_put_many(c->db, evs, *n, &added, e);
    *n = 0;
    *inserted += added;
    return rc;
}

/* ---- the book on a server ---- */

/* commit_range for a book (sync_options.book): the same logs, decoded the same way, the
 * same escrows discovered (so that their own logs are asked for next), written with the
 * headers and the checkpoint in one transaction of the book, which also projects the escrows
 * with events in the range again from their events there (escrow_project, what
 * sync_rebuild_escrows does and the in-memory fold equals), records the vault flows and the
 * inflows read with the range (a catch-up's: sync_inflows_fetch), with the inflow cursor,
 * as sync_inflows_put_range does in desk.db, and the bridge legs of the watched transmitter
 * (sync_bridge_leg_of: each MessageSent and MessageReceived, tied to its event; which
 * transfer of the desk's it belongs to is its reader's to find, desk.db's transfers are not
 * written). The credit repayments recognised from the inflows are posted in desk.db once
 * caught up (book_credit), read through the book's reader. */
static int book_commit_range(ctx *c, uint64_t from, uint64_t to, uint64_t head, const logset *ls,
                             const rpc_block *hdrs, size_t nh, uint64_t prune_below,
                             const store_inflow *inflows, size_t n_inflows, uint64_t inflow_to,
                             err *e)
{
    uint64_t final = final_of(c, head);
    addrset fresh = {0}, touched = {0};
    bool *is_fresh = NULL;
    store_vault_flow *flows = calloc(ls->n ? ls->n : 1, sizeof *flows);
    size_t n_flows = 0;
    store_bridge_leg *legs = NULL; /* made at the first bridge log */
    size_t n_legs = 0;
    store_event *evs = calloc(ls->n ? ls->n : 1, sizeof *evs);
    store_block *blocks = calloc(nh ? nh : 1, sizeof *blocks);
    size_t n = 0;
    int rc = -1;
    if (!evs || !blocks || !flows) {
        err_set(e, ERR_NOMEM, "out of memory storing %zu logs", ls->n);
        goto out;
    }
    for (size_t i = 0; i < ls->n; i++) {
        const rpc_log *lg = ls->v[i];
        store_event *ev = &evs[n];
        if (sync_bridge_watches(&c->bridge, &lg->address)) {
            event_from_log(c, lg, ev);
            n++;
            if (!legs && !(legs = calloc(ls->n, sizeof *legs))) {
                err_set(e, ERR_NOMEM, "out of memory storing %zu logs", ls->n);
                goto out;
            }
            bool is_leg = false;
            sync_bridge_leg_of(&c->bridge, lg, ev, &legs[n_legs], &is_leg);
            n_legs += is_leg;
            continue;
        }
        store_contract_kind kind;
        if (!emitter_kind(c, &fresh, &lg->address, &kind)) {
            char a[ADDR_STR_MAX];
            hex_encode(a, sizeof a, lg->address.b, ADDR_LEN, true);
            log_msg(ls->by_topic ? LOG_DEBUG : LOG_WARN, "sync",
                    "%s: ignoring a log from %s, which is none of our contracts", c->chain.name, a);
            continue;
        }
        event_from_log(c, lg, ev);
        sync_decoded d;
        err de;
        if (sync_event_decode(kind, lg->topics, lg->n_topics, lg->data, lg->data_len, &d, &de) <
            0) {
            LOG_W("sync", "%s: block %llu log %u: %s", c->chain.name,
                  (unsigned long long)lg->block_number, lg->log_index, de.msg);
            memset(&d, 0, sizeof d);
        }
        if (d.kind != EV_NONE)
            snprintf(ev->name, sizeof ev->name, "%s", d.name);
        n++;
        bool is_flow = false;
        if (kind == STORE_CONTRACT_VAULT &&
            sync_vault_flow_of(ev, &d, &flows[n_flows], &is_flow, e) < 0)
            goto out;
        n_flows += is_flow;
        if (kind == STORE_CONTRACT_FACTORY && sync_is_escrow_created(d.kind)) {
            ev->has_escrow = true;
            ev->escrow = sync_field(&d, "escrow")->a;
            if (!addrset_has(&c->escrows, &ev->escrow) && addrset_add(&fresh, &ev->escrow) < 0) {
                err_set(e, ERR_NOMEM, "out of memory tracking escrows");
                goto out;
            }
        } else if (kind == STORE_CONTRACT_ESCROW) {
            ev->has_escrow = true;
            ev->escrow = lg->address;
        }
        if (ev->has_escrow && addrset_add(&touched, &ev->escrow) < 0) {
            err_set(e, ERR_NOMEM, "out of memory tracking escrows");
            goto out;
        }
    }
    for (size_t i = 0; i < nh; i++) {
        blocks[i] = (store_block){.number = hdrs[i].number, .timestamp = hdrs[i].timestamp};
        memcpy(blocks[i].hash, hdrs[i].hash, 32);
        memcpy(blocks[i].parent_hash, hdrs[i].parent_hash, 32);
    }
    store_checkpoint cp = {.chain_id = c->chain.chain_id,
                           .synced = true,
                           .synced_block = to,
                           .final_block = final,
                           .head_block = head};
    memcpy(cp.synced_hash, hdrs[nh - 1].hash, 32);
    is_fresh = calloc(touched.n ? touched.n : 1, sizeof *is_fresh);
    if (!is_fresh) {
        err_set(e, ERR_NOMEM, "out of memory tracking escrows");
        goto out;
    }
    for (size_t i = 0; i < touched.n; i++)
        is_fresh[i] = addrset_has(&fresh, &touched.v[i]);
    store_book_range r = {.chain_id = c->chain.chain_id,
                          .prev = &c->book_cp,
                          .events = evs,
                          .n_events = n,
                          .blocks = blocks,
                          .n_blocks = nh,
                          .prune_below = prune_below,
                          .cp = &cp,
                          .escrows = touched.v,
                          .fresh = is_fresh,
                          .n_escrows = touched.n,
                          .project = escrow_project,
                          .flows = flows,
                          .n_flows = n_flows,
                          .inflows = inflows,
                          .n_inflows = n_inflows,
                          .inflow_from = from,
                          .inflow_to = inflow_to,
                          .inflow_start = c->chain.start_block,
                          .factories = c->factories.v,
                          .n_factories = c->factories.n,
                          .check_factories = true,
                          .legs = legs,
                          .n_legs = n_legs};
    uint64_t inserted = 0;
    if (c->opt->book->commit(c->book, &r, &inserted, e) < 0) {
        if (e->code == ERR_STATE)
            c->watch_stale = true; /* the checkpoint moved, or the book has a new factory */
        goto out;
    }
    c->book_cp = cp;
    if (inserted || n_inflows)
        c->hook_pending = true; /* the hook runs with a book only when it reads it (after_commit) */
    if (n_inflows)
        c->credit_pending = true;
    for (size_t i = 0; i < fresh.n; i++) {
        if (addrset_add(&c->escrows, &fresh.v[i]) < 0) {
            err le;
            if (load_watch(c, &le) < 0)
                LOG_E("sync", "%s: cannot reload the escrow list: %s", c->chain.name, le.msg);
            break;
        }
    }
    sync_notify(c->eng);
    progress p = {.head = head,
                  .has_head = true,
                  .synced = to,
                  .has_synced = true,
                  .events = inserted,
                  .blocks = to - from + 1};
    add_progress(c, &p);
    rc = 0;
out:
    free(evs);
    free(blocks);
    addrset_free(&fresh);
    addrset_free(&touched);
    free(is_fresh);
    free(flows);
    free(legs);
    return rc;
}

static int commit_range(ctx *c, uint64_t from, uint64_t to, uint64_t head, const logset *ls,
                        const rpc_block *hdrs, size_t nh, uint64_t prune_below,
                        const store_inflow *inflows, size_t n_inflows, uint64_t inflow_to,
                        err *e)
{
    if (c->opt->book)
        return book_commit_range(c, from, to, head, ls, hdrs, nh, prune_below, inflows, n_inflows,
                                 inflow_to, e);
    uint64_t final = final_of(c, head);
    bool by_topic = ls->by_topic;
    addrset fresh = {0};
    foldset local = {0}, *fs = c->carry ? c->carry : &local;
    foldset_keep_last(fs);
    if (fs->keys.n > FOLD_CARRY_MAX)
        foldset_free(fs);
    fs->gen++;
    uint64_t inserted_total = 0;
    store_event pend[STORE_EVENT_BATCH];
    size_t n_pend = 0;
    if (store_begin_first(c->db, e) < 0) {
        foldset_free(fs);
        return -1;
    }
    double t_rows = sync_now();
    for (size_t i = 0; i < ls->n; i++) {
        const rpc_log *lg = ls->v[i];
        if (sync_bridge_watches(&c->bridge, &lg->address)) {
            store_event bev;
            event_from_log(c, lg, &bev);
            bool ins = false;
            if (sync_bridge_log(c->db, &c->bridge, &bev, lg, &ins, e) < 0)
                goto fail;
            inserted_total += ins;
            continue;
        }
        store_contract_kind kind;
        if (!emitter_kind(c, &fresh, &lg->address, &kind)) {
            /* By-topic requests return look-alikes from other contracts; by-address
             * requests should not return anything else. */
            char a[ADDR_STR_MAX];
            hex_encode(a, sizeof a, lg->address.b, ADDR_LEN, true);
            log_msg(by_topic ? LOG_DEBUG : LOG_WARN, "sync",
                    "%s: ignoring a log from %s, which is none of our contracts", c->chain.name, a);
            continue;
        }
        store_event ev;
        event_from_log(c, lg, &ev);
        sync_decoded d;
        err de;
        if (sync_event_decode(kind, lg->topics, lg->n_topics, lg->data, lg->data_len, &d, &de) <
            0) {
            LOG_W("sync", "%s: block %llu log %u: %s", c->chain.name,
                  (unsigned long long)lg->block_number, lg->log_index, de.msg);
            memset(&d, 0, sizeof d);
        }
        if (d.kind != EV_NONE)
            snprintf(ev.name, sizeof ev.name, "%s", d.name);
        bool is_fresh = false;
        if (kind == STORE_CONTRACT_FACTORY && sync_is_escrow_created(d.kind)) {
            ev.has_escrow = true;
            ev.escrow = sync_field(&d, "escrow")->a;
            if (!addrset_has(&c->escrows, &ev.escrow)) {
                is_fresh = !addrset_has(&fresh, &ev.escrow);
                if (addrset_add(&fresh, &ev.escrow) < 0) {
                    err_set(e, ERR_NOMEM, "out of memory tracking escrows");
                    goto fail;
                }
            }
        } else if (kind == STORE_CONTRACT_ESCROW) {
            ev.has_escrow = true;
            ev.escrow = lg->address;
        }
        /* Stored STORE_EVENT_BATCH at a time (the fold below reads no events table). */
        pend[n_pend++] = ev;
        if (n_pend == STORE_EVENT_BATCH && events_flush(c, pend, &n_pend, &inserted_total, e) < 0)
            goto fail;
        /* A vault flow refers to its stored event: the batch is stored first (vault logs
         * are rare). */
        if (kind == STORE_CONTRACT_VAULT &&
            (events_flush(c, pend, &n_pend, &inserted_total, e) < 0 ||
             sync_vault_record(c->db, &ev, &d, e) < 0))
            goto fail;
        if (!ev.has_escrow)
            continue;
        /* The fold sees what the projection of stored events sees: a factory log only as
         * EscrowCreated, an undecodable escrow log as an unknown event. */
        bool skip;
        store_escrow *x = foldset_get(c, fs, &ev.escrow, is_fresh, &skip, e);
        if (!x && !skip)
            goto fail;
        if (x)
            escrow_fold(x, &ev, &d, final);
    }
    if (events_flush(c, pend, &n_pend, &inserted_total, e) < 0)
        goto fail; /* before the escrows: a rebuild reads the stored events */
    double t_fold = sync_now();
    if (foldset_write(c, fs, final, fresh.n, e) < 0)
        goto fail;
    double t_done = sync_now();
    LOG_D("sync",
          "%s: %zu logs stored in %.3f s; escrows (%zu new, %zu in memory) written in"
          " %.3f s",
          c->chain.name, ls->n, t_fold - t_rows, fresh.n, fs->keys.n, t_done - t_fold);
    for (size_t i = 0; i < nh; i++) {
        store_block b = {.number = hdrs[i].number, .timestamp = hdrs[i].timestamp};
        memcpy(b.hash, hdrs[i].hash, 32);
        memcpy(b.parent_hash, hdrs[i].parent_hash, 32);
        if (store_block_put(c->db, c->chain.chain_id, &b, e) < 0)
            goto fail;
    }
    if (store_block_prune(c->db, c->chain.chain_id, prune_below, e) < 0)
        goto fail;
    store_checkpoint cp = {.chain_id = c->chain.chain_id,
                           .synced = true,
                           .synced_block = to,
                           .final_block = final,
                           .head_block = head};
    memcpy(cp.synced_hash, hdrs[nh - 1].hash, 32);
    size_t n_new_inflows = 0;
    if (inflow_to && sync_inflows_put_range(c->db, &c->chain, from, inflow_to, inflows, n_inflows,
                                            &n_new_inflows, e) < 0)
        goto fail;
    if (store_checkpoint_put(c->db, &cp, e) < 0 ||
        store_escrow_settle(c->db, c->chain.chain_id, final, e) < 0)
        goto fail;
    double t_end = sync_now();
    if (store_commit(c->db, e) < 0)
        goto fail;
    LOG_D("sync",
          "%s: blocks %llu..%llu: headers, inflows, checkpoint and settling in %.3f s,"
          " commit %.3f s",
          c->chain.name, (unsigned long long)from, (unsigned long long)to, t_end - t_done,
          sync_now() - t_end);
    for (size_t i = 0; i < fresh.n; i++) {
        if (addrset_add(&c->escrows, &fresh.v[i]) < 0) {
            err le;
            if (load_watch(c, &le) < 0)
                LOG_E("sync", "%s: cannot reload the escrow list: %s", c->chain.name, le.msg);
            break;
        }
    }
    addrset_free(&fresh);
    foldset_free(&local);
    if (inserted_total || n_new_inflows)
        c->hook_pending = true;
    sync_notify(c->eng);
    progress p = {.head = head,
                  .has_head = true,
                  .synced = to,
                  .has_synced = true,
                  .events = inserted_total,
                  .blocks = to - from + 1};
    add_progress(c, &p);
    return 0;
fail:
    store_rollback(c->db);
    addrset_free(&fresh);
    foldset_free(fs); /* what it holds was rolled back */
    return -1;
}

/* The credit repayments recognised from the book's inflows (sync_inflows_credit_book), on
 * desk.db with the book's reads attached (opened here on first use); a failure is logged
 * and the work left pending for a step caught up at least SYNC_HOOK_BUSY_S later. */
static void book_credit(ctx *c)
{
    const store_book_reader *rd = c->opt->book_reader;
    if (!c->opt->book || !rd || !c->credit_pending || sync_now() < c->credit_retry_at)
        return;
    err e;
    err_clear(&e);
    if (!c->credit_db) {
        void *conn = NULL;
        if (store_open(&c->credit_db, c->eng->db_path, &e) < 0 ||
            rd->open(&conn, c->opt->book_url, &e) < 0) {
            store_close(&c->credit_db);
            goto fail;
        }
        store_set_reader(c->credit_db, rd, conn);
    }
    if (sync_inflows_credit_book(c->credit_db, c->chain.chain_id, &e) < 0)
        goto fail;
    c->credit_pending = false;
    return;
fail:
    LOG_W("inflows", "%s: credit repayments from the book's inflows: %s (tried again later)",
          c->chain.name, e.msg);
    c->credit_retry_at = sync_now() + SYNC_HOOK_BUSY_S;
}

/* ---- reorgs ---- */

/* handle_reorg's rewind in the book: one transaction there. */
static int book_rewind(ctx *c, const store_checkpoint *cp, uint64_t head, bool found_fork,
                       const store_block *fork, uint64_t first_gone, uint64_t final, err *e)
{
    store_checkpoint ncp = {.chain_id = c->chain.chain_id,
                            .synced = found_fork,
                            .synced_block = found_fork ? fork->number : 0,
                            .final_block = final,
                            .head_block = head};
    if (found_fork)
        memcpy(ncp.synced_hash, fork->hash, 32);
    uint64_t gone = 0;
    size_t rebuilt = 0;
    if (c->opt->book->rewind(c->book, c->chain.chain_id, first_gone, found_fork ? &ncp : NULL,
                             final, escrow_project, &gone, &rebuilt, e) < 0)
        return -1;
    c->book_cp = ncp;
    c->hook_pending = true; /* the screener's sweep of vanished or replaced escrows */
    c->credit_pending = true; /* repayments of the inflows the rewind marked undone */
    c->hook_after_resync = true;
    LOG_W("sync",
          "%s: reorg: blocks from %llu on (checkpoint was %llu, head is %llu) rolled back in "
          "the book: %llu events deleted, %zu escrows rebuilt",
          c->chain.name, (unsigned long long)first_gone, (unsigned long long)cp->synced_block,
          (unsigned long long)head, (unsigned long long)gone, rebuilt);
    sync_notify(c->eng);
    progress p = {.head = head,
                  .has_head = true,
                  .reorgs = 1,
                  .synced = ncp.synced_block,
                  .has_synced = found_fork};
    add_progress(c, &p);
    return load_watch(c, e);
}

static int handle_reorg(ctx *c, const store_checkpoint *cp, uint64_t head, err *e)
{
    store_block *stored = NULL;
    size_t ns = 0;
    int lrc = c->opt->book ? c->opt->book->blocks_desc(c->book, c->chain.chain_id, cp->synced_block,
                                                       c->opt->window + 1, &stored, &ns, e)
                           : store_block_list_desc(c->db, c->chain.chain_id, cp->synced_block,
                                                   c->opt->window + 1, &stored, &ns, e);
    if (lrc < 0)
        return -1;
    bool found_fork = false;
    store_block fork = {0};
    for (size_t i = 0; i < ns && !found_fork; i++) {
        if (stored[i].number > head)
            continue;
        rpc_block canon;
        bool found;
        if (rpc_eth_get_block(c->rpc, stored[i].number, NULL, &canon, &found, e) < 0) {
            free(stored);
            return -1;
        }
        if (found && memcmp(canon.hash, stored[i].hash, 32) == 0) {
            fork = stored[i];
            found_fork = true;
        }
    }
    free(stored);
    uint64_t first_gone = found_fork ? fork.number + 1 : 0;
    if (!found_fork)
        LOG_E("sync",
              "%s: the node shares none of the last %u stored blocks (a reorg deeper "
              "than the window, or a different chain behind the same id): resyncing from "
              "block %llu",
              c->chain.name, c->opt->window, (unsigned long long)c->chain.start_block);
    uint64_t final = final_of(c, head);
    if (found_fork && final > fork.number)
        final = fork.number;
    if (c->opt->book)
        return book_rewind(c, cp, head, found_fork, &fork, first_gone, final, e);
    addr *touched = NULL;
    size_t nt = 0, flagged = 0;
    uint64_t gone = 0;
    if (store_begin_first(c->db, e) < 0)
        return -1;
    if (store_events_rewind(c->db, c->chain.chain_id, first_gone, &touched, &nt, &gone, e) < 0 ||
        sync_rebuild_escrows(c->db, c->chain.chain_id, touched, nt, final, e) < 0 ||
        store_outbound_flag_reorged(c->db, c->chain.chain_id, found_fork ? fork.number : 0, touched,
                                    nt, &flagged, e) < 0 ||
        sync_inflows_reorg(c->db, c->chain.chain_id, first_gone, e) < 0 ||
        sync_bridge_reorg(c->db, c->chain.chain_id, first_gone, e) < 0)
        goto fail;
    if (found_fork) {
        store_checkpoint ncp = {.chain_id = c->chain.chain_id,
                                .synced = true,
                                .synced_block = fork.number,
                                .final_block = final,
                                .head_block = head};
        memcpy(ncp.synced_hash, fork.hash, 32);
        if (store_checkpoint_put(c->db, &ncp, e) < 0)
            goto fail;
    } else if (store_checkpoint_delete(c->db, c->chain.chain_id, e) < 0) {
        goto fail;
    }
    if (store_commit(c->db, e) < 0)
        goto fail;
    free(touched);
    LOG_W("sync",
          "%s: reorg: blocks from %llu on (checkpoint was %llu, head is %llu) rolled "
          "back: %llu events deleted, %zu escrows rebuilt, %zu desk transactions flagged",
          c->chain.name, (unsigned long long)first_gone, (unsigned long long)cp->synced_block,
          (unsigned long long)head, (unsigned long long)gone, nt, flagged);
    c->hook_pending = true;
    c->hook_after_resync = true;
    sync_notify(c->eng);
    progress p = {.head = head,
                  .has_head = true,
                  .reorgs = 1,
                  .synced = found_fork ? fork.number : 0,
                  .has_synced = found_fork};
    add_progress(c, &p);
    return load_watch(c, e);
fail:
    store_rollback(c->db);
    free(touched);
    return -1;
}

/* ---- one step ---- */

/* A range read and checked, ready to commit. */
typedef struct fetched {
    uint64_t from, to, head;
    logset ls;
    rpc_block *hdrs; /* the window's headers in the range, else the last block */
    size_t nh;
    uint64_t prune_below;
    double t_logs;
    bool moved; /* the chain changed while it was read: read again */
    store_inflow *inflows; /* transfers into the desk's accounts in [from, inflow_to] */
    size_t n_inflows;
    uint64_t inflow_to; /* 0: none read */
} fetched;

static void fetched_free(fetched *r)
{
    logset_free(&r->ls);
    free(r->inflows);
    r->inflows = NULL;
    free(r->hdrs);
    r->hdrs = NULL;
}

/* Reads the logs of [from, ...] (as many blocks as the range allows), and checks that
 * the chain did not move under them. prev_hash: the checkpoint's hash (from - 1), or
 * NULL when nothing is synced yet. */
static int fetch_range(fx *f, uint64_t from, const rpc_block *latest, const uint8_t *prev_hash,
                       fetched *out, err *e)
{
    ctx *c = f->c;
    memset(out, 0, sizeof *out);
    uint64_t head = latest->number;
    out->from = from;
    out->head = head;
    uint64_t to;
    rpc_block pre;
    for (;;) {
        /* what this endpoint is known to take, when that is less */
        uint64_t size = f->range->size, cap = rpc_logs_range_cap(f->rpc);
        to = from + (size < cap ? size : cap) - 1;
        if (to > head || to < from)
            to = head;
        if (to == head) {
            pre = *latest;
        } else if (get_block_required(f->rpc, to, &pre, e) < 0) {
            return -1;
        }
        double t = sync_now();
        if (collect(f, from, to, &out->ls, e) == 0) {
            out->t_logs = sync_now() - t;
            break;
        }
        rpc_status st = rpc_last_status(f->rpc);
        if (st != RPC_RANGE && st != RPC_TIMEOUT)
            return -1;
        if (to == from)
            return err_prefix(e, "the node refuses the logs of even one block (%llu)",
                              (unsigned long long)from);
        const rpc_error *er = rpc_last_error(f->rpc);
        uint64_t hint =
            er->has_hint && er->hint_to >= er->hint_from ? er->hint_to - er->hint_from + 1 : 0;
        sync_range_failure(f->range, to - from + 1, hint);
        LOG_I("sync", "%s: blocks %llu..%llu: %s; asking for %llu blocks at a time", c->chain.name,
              (unsigned long long)from, (unsigned long long)to, rpc_status_str(st),
              (unsigned long long)f->range->size);
    }
    out->to = to;
    sync_range_success(f->range, to - from + 1, out->ls.n, (uint64_t)(out->t_logs * 1000));
    /* A catch-up range whose blocks are all confirmed: its inflows are read here, off the
     * chain thread when pipelined, and committed with it (else the scan once caught up reads
     * them). Blocks that changed meanwhile only leave them to that scan. */
    if (f->inflows && to <= final_of(c, head) && to - from < INFLOW_RANGE_MAX) {
        err ie;
        err_clear(&ie);
        if (sync_inflows_fetch(f->rpc, c->chain.chain_id, c->ops, c->nops, from, to, pre.hash,
                               &out->inflows, &out->n_inflows, &ie) == 0)
            out->inflow_to = to;
        else
            LOG_D("sync", "%s: %s (read again once caught up)", c->chain.name, ie.msg);
    }

    /* Headers near the head (the reorg window), else the last block only. */
    uint64_t window_lo = head + 1 > c->opt->window ? head + 1 - c->opt->window : 0;
    uint64_t hdr_from = from > window_lo ? from : window_lo;
    size_t nh = to >= hdr_from ? (size_t)(to - hdr_from + 1) : 1;
    if (to < hdr_from)
        hdr_from = to;
    out->prune_below = window_lo < to ? window_lo : to;
    out->hdrs = calloc(nh, sizeof *out->hdrs);
    if (!out->hdrs) {
        fetched_free(out);
        return err_set(e, ERR_NOMEM, "out of memory fetching headers");
    }
    out->nh = nh;
    if (get_headers(f->rpc, hdr_from, nh, out->hdrs, e) < 0) {
        fetched_free(out);
        return -1;
    }
    /* The chain must not have moved under the logs, and the headers must link. */
    const rpc_block *hdrs = out->hdrs;
    bool moved = memcmp(hdrs[nh - 1].hash, pre.hash, 32) != 0;
    for (size_t i = 1; i < nh && !moved; i++)
        moved = memcmp(hdrs[i].parent_hash, hdrs[i - 1].hash, 32) != 0;
    if (!moved && prev_hash && hdr_from == from)
        moved = memcmp(hdrs[0].parent_hash, prev_hash, 32) != 0;
    for (size_t i = 0; i < out->ls.n && !moved; i++) {
        const rpc_log *lg = out->ls.v[i];
        if (lg->block_number >= hdr_from)
            moved = memcmp(lg->block_hash, hdrs[lg->block_number - hdr_from].hash, 32) != 0;
    }
    out->moved = moved;
    return 0;
}

/* The chain changed while [from, to] was read (rpc read it). A reorg settles within a read
 * or two; a node whose logs keep disagreeing with its own headers serves inconsistent
 * data, and reading again would never end: after MOVED_MAX reads in a row the step fails
 * (the thread backs off, and --once gives up in the end) and the endpoint is set aside
 * for the next one. */
static int chain_moved(ctx *c, rpc_client *rpc, uint64_t from, uint64_t to, err *e)
{
    if (++c->moved < MOVED_MAX) {
        LOG_I("sync", "%s: the chain changed while blocks %llu..%llu were read; reading again",
              c->chain.name, (unsigned long long)from, (unsigned long long)to);
        return 0;
    }
    c->moved = 0;
    err_set(e, ERR_RPC,
            "blocks %llu..%llu: the node's logs and block hashes do not match after %u reads "
            "(a node serving inconsistent data)",
            (unsigned long long)from, (unsigned long long)to, MOVED_MAX);
    rpc_endpoint_reject(rpc, e->msg);
    return -1;
}

static int commit_fetched(ctx *c, const fetched *r, err *e)
{
    double t_commit = sync_now();
    if (commit_range(c, r->from, r->to, r->head, &r->ls, r->hdrs, r->nh, r->prune_below,
                     r->inflows, r->n_inflows, r->inflow_to, e) < 0)
        return -1;
    c->moved = 0;
    LOG_D("sync", "%s: blocks %llu..%llu: %zu logs in %.3f s, %zu headers, commit %.3f s",
          c->chain.name, (unsigned long long)r->from, (unsigned long long)r->to, r->ls.n, r->t_logs,
          r->nh, sync_now() - t_commit);
    return 0;
}

static int pipeline(ctx *c, const store_checkpoint *cp, const rpc_block *latest, fetched *first,
                    int *result, err *e);

/* The desk's accounts, read again for a catch-up (an operator may have been added). */
static void load_ops(ctx *c)
{
    free(c->ops);
    c->ops = NULL;
    c->nops = 0;
    err e; /* the accounts are desk.db's, with a book too */
    if (store_operator_list(c->db, &c->ops, &c->nops, &e) < 0) {
        LOG_W("sync", "%s: %s", c->chain.name, e.msg);
        c->ops = NULL;
        c->nops = 0;
    }
}

static int fetch_and_commit(ctx *c, const store_checkpoint *cp, const rpc_block *latest,
                            int *result, err *e)
{
    uint64_t from = cp->synced ? cp->synced_block + 1 : c->chain.start_block;
    fx f = {.c = c, .rpc = c->rpc, .range = &c->range};
    /* catching up (not following the head block by block): inflows come with the range */
    if (from + c->range.size <= latest->number) {
        load_ops(c);
        f.inflows = c->nops > 0;
    }
    fetched r;
    if (fetch_range(&f, from, latest, cp->synced ? cp->synced_hash : NULL, &r, e) < 0)
        return -1;
    int rc = 0;
    if (r.moved) {
        *result = STEP_RETRY;
        rc = chain_moved(c, f.rpc, r.from, r.to, e);
    } else if (c->rpc2 && r.ls.by_topic && r.to < r.head) {
        /* This range found many escrows (they were asked for by signature): the next
         * ranges are read while it commits. */
        return pipeline(c, cp, latest, &r, result, e);
    } else if ((rc = commit_fetched(c, &r, e)) == 0)
        *result = r.to >= r.head ? STEP_CAUGHT_UP : STEP_PROGRESS;
    fetched_free(&r);
    return rc;
}

/* ---- pipelined catch-up ---- */

/* Behind the head by more than a range, with many escrows (asked for by event signature),
 * the next range is read by a helper thread, with its own HTTP client, while this one
 * commits the last: the node's work and the database's overlap. Ranges are still
 * committed in order, each checked as above (the next range's first header must link to
 * the last one's hash, so a reorg in between is caught); the pipeline ends at the head
 * seen when it started, on any failure or change of the chain, and on stop. */
typedef struct job {
    fx f;
    sync_range range;
    uint64_t from;
    rpc_block latest;
    bool has_prev;
    uint8_t prev_hash[32];
    fetched out;
    int rc;
    err e;
    pthread_t tid;
} job;

static void *job_main(void *arg)
{
    job *j = arg;
    err_clear(&j->e);
    j->rc =
        fetch_range(&j->f, j->from, &j->latest, j->has_prev ? j->prev_hash : NULL, &j->out, &j->e);
    return NULL;
}

static bool pipeline_wanted(const ctx *c, const store_checkpoint *cp, uint64_t head)
{
    if (!c->rpc2 || c->factories.n + c->escrows.n <= c->opt->max_addresses)
        return false;
    uint64_t from = cp->synced ? cp->synced_block + 1 : c->chain.start_block;
    return from + c->range.size <= head; /* at least two ranges to go */
}

/* first: a range this thread read already (taken over, freed here), committed first while
 * the next one is read; NULL: the helper reads the first range too. */
static int pipeline(ctx *c, const store_checkpoint *cp, const rpc_block *latest, fetched *first,
                    int *result, err *e)
{
    uint64_t head = latest->number;
    job *a = calloc(2, sizeof *a), *b = a + 1;
    if (!a) {
        if (first)
            fetched_free(first);
        return err_set(e, ERR_NOMEM, "out of memory starting a pipelined sync");
    }
    load_ops(c); /* the helper only reads them; freed or reloaded on this thread later */
    a->f = (fx){.c = c, .rpc = c->rpc2, .range = &a->range, .topic_only = true,
                .inflows = c->nops > 0};
    a->range = c->range;
    a->from = cp->synced ? cp->synced_block + 1 : c->chain.start_block;
    a->latest = *latest;
    a->has_prev = cp->synced;
    memcpy(a->prev_hash, cp->synced_hash, 32);
    int rc = 0;
    *result = STEP_PROGRESS;
    LOG_I("sync", "%s: catching up from block %llu with reads ahead of commits", c->chain.name,
          (unsigned long long)a->from);
    bool have = first != NULL; /* a->out holds a range already, no thread to join */
    if (first) {
        a->out = *first;
        memset(first, 0, sizeof *first);
    } else if (pthread_create(&a->tid, NULL, job_main, a) != 0) {
        free(a);
        return fetch_and_commit(c, cp, latest, result, e);
    }
    err be;
    bool bulk = !c->opt->book && store_bulk(c->db, true, &be) == 0;
    if (!bulk && !c->opt->book)
        LOG_W("sync", "%s: %s", c->chain.name, be.msg);
    foldset carry = {0};
    c->carry = &carry;
    bool first_commit = true;
    size_t held_logs = 0, held_escrows = 0; /* the most one range held: the debug log's */
    for (;;) {
        if (!have)
            pthread_join(a->tid, NULL);
        have = false;
        c->range = a->range;
        if (a->rc < 0) {
            *e = a->e;
            rc = -1;
            break;
        }
        if (a->out.moved) {
            *result = STEP_RETRY;
            rc = chain_moved(c, a->f.rpc, a->out.from, a->out.to, e);
            fetched_free(&a->out);
            break;
        }
        /* Start the next read, then commit this one. */
        bool more = a->out.to < head && !atomic_load(&c->eng->stop);
        if (more) {
            *b = (job){.f = a->f,
                       .range = a->range,
                       .from = a->out.to + 1,
                       .latest = *latest,
                       .has_prev = true};
            b->f.range = &b->range;
            memcpy(b->prev_hash, a->out.hdrs[a->out.nh - 1].hash, 32);
            if (pthread_create(&b->tid, NULL, job_main, b) != 0)
                more = false;
        }
        uint64_t c_from = a->out.from, c_to = a->out.to;
        if (a->out.ls.n > held_logs)
            held_logs = a->out.ls.n;
        c->defer_rows = bulk && more;
        rc = commit_fetched(c, &a->out, e);
        c->defer_rows = false;
        if (carry.keys.n > held_escrows) /* it only grows within a range */
            held_escrows = carry.keys.n;
        fetched_free(&a->out);
        /* The whole catch-up is one step: the hook's work (screening, on its own thread)
         * starts on what is committed instead of waiting for the end; at once after the
         * first commit, whose range creates most of a catch-up's escrows (the screening
         * then overlaps the later ranges instead of trailing the last one), then at most
         * every SYNC_HOOK_BUSY_S. */
        if (rc == 0 && c->hook_pending &&
            (first_commit || sync_now() - c->last_hook >= SYNC_HOOK_BUSY_S)) {
            LOG_D("sync", "%s: after-commit hook after blocks %llu..%llu", c->chain.name,
                  (unsigned long long)c_from, (unsigned long long)c_to);
            after_commit(c);
        }
        first_commit = false;
        if (rc < 0 || !more) {
            if (more) {
                pthread_join(b->tid, NULL);
                if (b->rc == 0)
                    fetched_free(&b->out);
            }
            break;
        }
        job *t = a;
        a = b;
        b = t;
    }
    free(a < b ? a : b);
    /* Ended before its last commit (the chain moved, a stop, an error): the rows left
     * behind are written now, in their own transaction; if that fails too, or the carry
     * was lost with a failed commit, the next step rebuilds them (repair_stale). */
    if (carry.n_behind) {
        err fe;
        store_checkpoint now;
        if (store_begin_first(c->db, &fe) < 0 || foldset_catch_up(c, &carry, &fe) < 0 ||
            store_checkpoint_get(c->db, c->chain.chain_id, &now, &fe) < 0 ||
            (now.synced &&
             store_escrow_settle(c->db, c->chain.chain_id, now.final_block, &fe) < 0) ||
            store_commit(c->db, &fe) < 0) {
            store_rollback(c->db);
            LOG_W("sync", "%s: escrow rows left behind by the catch-up: %s", c->chain.name, fe.msg);
        } else {
            c->hook_pending = true;
            sync_notify(c->eng);
        }
    }
    c->carry = NULL;
    foldset_free(&carry);
    LOG_D("sync", "%s: catch-up held at most %zu logs and %zu folded escrows in one range",
          c->chain.name, held_logs, held_escrows);
    if (bulk && store_bulk(c->db, false, &be) < 0)
        LOG_W("sync", "%s: %s", c->chain.name, be.msg);
    return rc;
}

/* Escrow rows a catch-up left behind its stored events (listed in escrows_stale: it
 * stopped before its last commit, or could not write them after it) are rebuilt from those
 * events before this step folds anything onto a stored row. */
static int repair_stale(ctx *c, err *e)
{
    if (c->opt->book)
        return 0;
    addr *v = NULL;
    size_t n = 0;
    if (store_escrow_stale_list(c->db, c->chain.chain_id, &v, &n, e) < 0)
        return -1;
    if (!n)
        return 0;
    free(v);
    v = NULL;
    store_checkpoint cp;
    if (store_begin_first(c->db, e) < 0)
        return -1;
    if (store_escrow_stale_list(c->db, c->chain.chain_id, &v, &n, e) < 0 ||
        store_checkpoint_get(c->db, c->chain.chain_id, &cp, e) < 0 ||
        sync_rebuild_escrows(c->db, c->chain.chain_id, v, n, cp.final_block, e) < 0 ||
        store_escrow_stale_clear(c->db, c->chain.chain_id, e) < 0 || store_commit(c->db, e) < 0) {
        store_rollback(c->db);
        free(v);
        return -1;
    }
    free(v);
    LOG_I("sync", "%s: %zu escrow rows a stopped catch-up left behind, rebuilt from their events",
          c->chain.name, n);
    c->hook_pending = true;
    sync_notify(c->eng);
    return 0;
}

static int step(ctx *c, int *result, err *e)
{
    *result = STEP_PROGRESS;
    if (repair_stale(c, e) < 0)
        return -1;
    rpc_block latest;
    bool found;
    if (rpc_eth_get_block(c->rpc, 0, "latest", &latest, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_RPC, "the node has no latest block");
    uint64_t head = latest.number;
    if (c->opt->once && !c->has_target) {
        c->has_target = true;
        c->target = head;
        stats_update(c, target_fn, &head);
    }
    progress p = {.head = head, .has_head = true};
    add_progress(c, &p);
    store_checkpoint cp;
    if (c->opt->book) {
        if (c->opt->book->checkpoint_get(c->book, c->chain.chain_id, &cp, e) < 0)
            return -1;
        /* moved by another writer (`chain add-factory`'s rewind on the server): what to
         * watch is read again, the book's new factory with it */
        bool moved = cp.synced != c->book_cp.synced ||
                     (cp.synced && (cp.synced_block != c->book_cp.synced_block ||
                                    memcmp(cp.synced_hash, c->book_cp.synced_hash, 32) != 0));
        c->book_cp = cp;
        if (moved || c->watch_stale) {
            c->watch_stale = false;
            LOG_I("sync",
                  "%s: the book changed under this thread (its checkpoint at %s%llu, "
                  "or a factory added): reading the watched contracts again",
                  c->chain.name, cp.synced ? "block " : "none ",
                  (unsigned long long)(cp.synced ? cp.synced_block : 0));
            if (load_watch(c, e) < 0)
                return -1;
        }
    } else if (store_checkpoint_get(c->db, c->chain.chain_id, &cp, e) < 0) {
        return -1;
    }
    if (cp.synced) {
        bool same = false;
        if (cp.synced_block == head) {
            same = memcmp(latest.hash, cp.synced_hash, 32) == 0;
        } else if (cp.synced_block < head) {
            rpc_block b;
            if (rpc_eth_get_block(c->rpc, cp.synced_block, NULL, &b, &found, e) < 0)
                return -1;
            same = found && memcmp(b.hash, cp.synced_hash, 32) == 0;
        }
        if (!same)
            return handle_reorg(c, &cp, head, e);
        if (cp.synced_block == head || (c->opt->once && cp.synced_block >= c->target)) {
            *result = STEP_CAUGHT_UP;
            return 0;
        }
    }
    uint64_t from = cp.synced ? cp.synced_block + 1 : c->chain.start_block;
    if (from > head) {
        *result = STEP_CAUGHT_UP;
        return 0;
    }
    if (pipeline_wanted(c, &cp, head))
        return pipeline(c, &cp, &latest, NULL, result, e);
    return fetch_and_commit(c, &cp, &latest, result, e);
}

/* ---- the thread ---- */

static store_health health_of(rpc_health h)
{
    switch (h) {
    case RPC_HEALTH_OK:
        return STORE_HEALTH_OK;
    case RPC_HEALTH_DEGRADED:
        return STORE_HEALTH_DEGRADED;
    case RPC_HEALTH_DOWN:
        return STORE_HEALTH_DOWN;
    default:
        return STORE_HEALTH_UNKNOWN;
    }
}

static void write_health_of(ctx *c, rpc_client *rpc)
{
    if (!rpc || !rpc_health_changed(rpc))
        return;
    for (size_t i = 0; i < rpc_endpoint_count(rpc); i++) {
        rpc_endpoint_info info;
        rpc_endpoint_get(rpc, i, &info);
        bool bad = info.health == RPC_HEALTH_DEGRADED || info.health == RPC_HEALTH_DOWN;
        err e;
        if (store_endpoint_set_health(c->db, c->chain.chain_id, info.url, health_of(info.health),
                                      bad ? info.last_error : NULL,
                                      bad ? info.last_fail : info.last_ok, &e) < 0)
            LOG_W("sync", "%s: recording endpoint health: %s", c->chain.name, e.msg);
        else if (store_endpoint_set_stats(c->db, c->chain.chain_id, info.url, info.latency_ms,
                                          info.range_cap, info.rate_limited_until, &e) < 0)
            LOG_W("sync", "%s: recording endpoint statistics: %s", c->chain.name, e.msg);
    }
}

static void write_health(ctx *c)
{
    write_health_of(c, c->rpc2);
    write_health_of(c, c->rpc);
}

/* ---- following the head ---- */

/* Until the next step: a newHeads notification over the WebSocket when there is one,
 * else the poll interval. A notification only wakes the step, which reads by range from
 * the checkpoint as always: a socket that drops or falls silent costs latency, never a
 * block. While it is down the thread polls and tries again now and then. */
static void wait_head(ctx *c)
{
    if (!c->ws && !c->opt->no_subscribe && c->ws_url[0] && sync_now() >= c->ws_retry_at) {
        char *url = NULL;
        err e;
        err_clear(&e);
        int rc = rpc_ws_url_of(c->ws_url, &url, &e);
        if (rc == 0)
            rc = rpc_ws_open(&c->ws, url, 3000, &e);
        char shown[160];
        rpc_url_redact(shown, sizeof shown, url ? url : "");
        free(url);
        if (rc == 0) {
            LOG_I("sync", "%s: following the head by subscription (newHeads over %s)",
                  c->chain.name, shown);
            c->ws_failures = 0;
        } else {
            c->ws_failures++;
            unsigned s = c->ws_failures < 6 ? 2u << c->ws_failures : 120u;
            c->ws_retry_at = sync_now() + s;
            LOG_I("sync", "%s: no head subscription over %s (%s): polling every %u ms, trying "
                  "again in %u s", c->chain.name, shown, e.msg, c->opt->poll_ms, s);
        }
    }
    if (!c->ws) {
        /* Polling: but not past the next subscription attempt (with a long poll interval
         * a lost socket would otherwise wait a whole interval before it is tried again). */
        unsigned sleep_ms = c->opt->poll_ms;
        if (!c->opt->no_subscribe && c->ws_url[0]) {
            double left = c->ws_retry_at - sync_now();
            unsigned until = left <= 0 ? 1 : (unsigned)(left * 1000.0) + 1;
            if (until < sleep_ms)
                sleep_ms = until;
        }
        sync_sleep(c->eng, sleep_ms);
        return;
    }
    /* A quiet socket is checked against the node now and then all the same. */
    unsigned ms = c->opt->poll_ms * 10 < 2000 ? 2000 : c->opt->poll_ms * 10;
    uint64_t n;
    err e;
    err_clear(&e);
    if (rpc_ws_wait(c->ws, c->eng->stop_fd, (int)(ms > 30000 ? 30000 : ms), &n, &e) < 0) {
        LOG_W("sync", "%s: head subscription lost (%s): polling every %u ms until it is back",
              c->chain.name, e.msg, c->opt->poll_ms);
        rpc_ws_close(&c->ws);
        c->ws_retry_at = sync_now() + 1;
    }
}

static int open_ctx(ctx *c, err *e)
{
    if (store_open(&c->db, c->eng->db_path, e) < 0)
        return -1;
    store_endpoint *eps;
    size_t n;
    if (store_endpoint_list(c->db, c->chain.chain_id, &eps, &n, e) < 0)
        return -1;
    const char **urls = calloc(n ? n : 1, sizeof *urls);
    if (!urls) {
        free(eps);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        urls[i] = eps[i].url;
    if (n)
        snprintf(c->ws_url, sizeof c->ws_url, "%s", eps[0].url);
    int rc = rpc_client_new(&c->rpc, urls, n, &c->opt->rpc, e);
    if (rc == 0 && rpc_client_new(&c->rpc2, urls, n, &c->opt->rpc, e) < 0)
        c->rpc2 = NULL; /* no pipelining, nothing else lost */
    free(urls);
    free(eps);
    if (rc < 0)
        return -1;
    /* Each endpoint is asked for its chain id before it is used, and after each failure:
     * a URL may serve another chain since `chain add` checked it. */
    rpc_client_expect_chain(c->rpc, c->chain.chain_id);
    rpc_client_set_cancel(c->rpc, &c->eng->stop);
    if (c->rpc2) {
        rpc_client_share_limits(c->rpc, c->rpc2);
        rpc_client_expect_chain(c->rpc2, c->chain.chain_id);
        rpc_client_set_cancel(c->rpc2, &c->eng->stop);
    }
    sync_range_init(&c->range, c->opt->initial_range, c->opt->max_range);
    /* A range's logs are held until it commits (two ranges at once when pipelined):
     * bounded per answer, whatever the chain's length or density. */
    size_t rl = c->opt->range_logs ? c->opt->range_logs : 1;
    c->range.target_logs = rl / 2 ? rl / 2 : 1;
    rpc_client_set_logs_max(c->rpc, rl);
    if (c->rpc2)
        rpc_client_set_logs_max(c->rpc2, rl);
    if (c->opt->book)
        return 0; /* the checkpoint and the escrows are the book's: read once it is held */
    store_checkpoint cp;
    if (store_checkpoint_get(c->db, c->chain.chain_id, &cp, e) < 0)
        return -1;
    uint64_t first =
        cp.synced ? cp.synced_block : (c->chain.start_block ? c->chain.start_block - 1 : 0);
    stats_update(c, first_fn, &first);
    if (cp.synced) {
        progress p = {.synced = cp.synced_block, .has_synced = true};
        add_progress(c, &p);
    }
    return load_watch(c, e);
}

/* True when the chain is no longer configured (removed under a running sync): its
 * writes can only fail now, so the thread ends instead of retrying them forever. */
static bool chain_removed(ctx *c)
{
    store_chain ch;
    bool found = true;
    err e;
    if (store_chain_get(c->db, c->chain.chain_id, &ch, &found, &e) < 0)
        return false; /* cannot tell: carry on, the step is retried */
    return !found;
}

/* With a book: 1 when this thread's connection is open and holds the chain's lock; 0 when
 * another syncer holds it (the thread waits and asks again); -1 on a failure (e says it);
 * -2 when the server answered and refused this fusion (open's ERR_STATE: book_refused).
 * A lost connection is opened again and the lock taken again: the server dropped it with
 * the session. On taking the lock the thread starts from the book's checkpoint. */
static int book_hold(ctx *c, err *e)
{
    const store_book *b = c->opt->book;
    if (c->book && !b->alive(c->book)) {
        LOG_W("sync", "%s: the connection to %s was lost: connecting again", c->chain.name,
              c->opt->book_shown);
        b->close(&c->book);
        c->locked = false;
    }
    if (!c->book) {
        if (b->open(&c->book, c->opt->book_url, e) < 0)
            return e->code == ERR_STATE ? -2 : -1;
        if (c->refused_ms)
            LOG_I("sync", "%s: the book on %s accepts this fusion again: resuming",
                  c->chain.name, c->opt->book_shown);
        c->refused_ms = 0;
        c->refused[0] = '\0';
    }
    if (c->locked)
        return 1;
    bool held = false;
    if (b->lock_try(c->book, c->chain.chain_id, &held, e) < 0)
        return -1;
    if (!held) {
        if (c->w->stats.phase != SYNC_WAITING)
            LOG_I("sync", "%s: another syncer holds the chain's lock on %s: waiting for it",
                  c->chain.name, c->opt->book_shown);
        set_error(c, "another syncer holds this chain's lock on the server; asking every "
                     "second");
        set_phase(c, SYNC_WAITING);
        return 0;
    }
    store_checkpoint cp;
    if (b->checkpoint_get(c->book, c->chain.chain_id, &cp, e) < 0 || load_watch(c, e) < 0) {
        b->close(&c->book); /* the lock goes with the session */
        return -1;
    }
    c->locked = true;
    c->book_cp = cp;
    uint64_t first =
        cp.synced ? cp.synced_block : (c->chain.start_block ? c->chain.start_block - 1 : 0);
    stats_update(c, first_fn, &first);
    if (cp.synced) {
        progress p = {.synced = cp.synced_block, .has_synced = true};
        add_progress(c, &p);
    }
    LOG_I("sync", "%s: holds the chain's lock on %s: resuming from block %llu", c->chain.name,
          c->opt->book_shown,
          (unsigned long long)(cp.synced ? cp.synced_block + 1 : c->chain.start_block));
    set_phase(c, SYNC_CATCHING_UP);
    return 1;
}

/* The book's server refused this fusion (book_hold's -2: its server version another, or
 * no desk's book there). No outage: it lasts until someone changes the server (`fusion db
 * upgrade`) or this workstation, so it is logged once per reason (not per try), shown as
 * such (phase server refused, the reason as the last error: the Chains screen, `fusion
 * sync`'s status lines), and tried again after a wait doubling from 1 s to REFUSED_MAX_MS,
 * cut short when the server announces a step applied. */
static void book_refused(ctx *c, const err *e)
{
    if (strcmp(c->refused, e->msg) != 0) {
        LOG_W("sync", "%s: %s; the sync waits for the server to change (tried again at least "
              "every %u s, at once after a `fusion db upgrade`)",
              c->chain.name, e->msg, REFUSED_MAX_MS / 1000);
        snprintf(c->refused, sizeof c->refused, "%s", e->msg);
    }
    set_error(c, e->msg);
    set_phase(c, SYNC_REFUSED);
    if (!c->refused_ms)
        c->refused_ms = 1000;
    else
        c->refused_ms = c->refused_ms >= REFUSED_MAX_MS / 2 ? REFUSED_MAX_MS : c->refused_ms * 2;
    const store_book *b = c->opt->book;
    if (b->wait_change)
        b->wait_change(c->opt->book_url, c->eng->stop_fd, c->refused_ms);
    else
        sync_sleep(c->eng, c->refused_ms);
}

void *sync_chain_main(void *arg)
{
    chain_worker *w = arg;
    ctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.eng = w->eng;
    c.opt = &w->eng->opt;
    c.chain = w->chain;
    c.t0 = sync_now();
    err e;
    err_clear(&e);
    unsigned failures = 0;
    if (open_ctx(&c, &e) < 0) {
        LOG_E("sync", "%s: %s", c.chain.name, e.msg);
        set_error(&c, e.msg);
        set_phase(&c, SYNC_FAILED);
        goto out;
    }
    LOG_I("sync", "%s (chain %llu): sync thread started", c.chain.name,
          (unsigned long long)c.chain.chain_id);
    set_phase(&c, SYNC_CATCHING_UP);
    /* what earlier runs stored but nobody processed yet: the hook after the first step,
     * not before it (a reorg that step finds is rewound first and the chain read again,
     * so the screener's sweep sees a replaced escrow, not one gone; it ran concurrently
     * with the rewind: compliance_reorg_pg, now and then) */
    c.hook_pending = true;
    c.credit_pending = true; /* likewise the book's inflows' credit repayments */
    while (!atomic_load(&c.eng->stop)) {
        int result = STEP_RETRY;
        err_clear(&e);
        int held = c.opt->book ? book_hold(&c, &e) : 1;
        if (held == 0) {
            sync_sleep(c.eng, 1000);
            continue;
        }
        if (held == -2 && c.opt->once) { /* --once: the server will not change meanwhile */
            LOG_E("sync", "%s: giving up: %s", c.chain.name, e.msg);
            set_error(&c, e.msg);
            set_phase(&c, SYNC_FAILED);
            break;
        }
        if (held == -2) {
            /* what is stored gets the hook's work meanwhile, as while a server is away */
            if (c.hook_pending && !c.hook_after_resync &&
                sync_now() - c.last_hook >= SYNC_HOOK_BUSY_S)
                after_commit(&c);
            book_refused(&c, &e);
            continue;
        }
        int rc = held < 0 ? -1 : step(&c, &result, &e);
        write_health(&c);
        if (atomic_load(&c.eng->stop))
            break;
        if (rc < 0 && chain_removed(&c)) {
            LOG_W("sync", "%s: the chain was removed from the desk (fusion chain remove): its "
                  "sync thread stops", c.chain.name);
            break;
        }
        if (rc < 0) {
            failures++;
            set_error(&c, e.msg);
            /* a node or server away: the hook's work on what is stored goes on meanwhile */
            if (c.hook_pending && !c.hook_after_resync &&
                sync_now() - c.last_hook >= SYNC_HOOK_BUSY_S)
                after_commit(&c);
            if (e.code == ERR_DENIED || (c.opt->once && failures >= c.opt->once_max_failures)) {
                LOG_E("sync", "%s: giving up: %s", c.chain.name, e.msg);
                set_phase(&c, SYNC_FAILED);
                break;
            }
            LOG_W("sync", "%s: %s (retrying)", c.chain.name, e.msg);
            /* the book's server gone (not opened, or its session lost): shown as such */
            bool gone = c.opt->book && (!c.book || !c.opt->book->alive(c.book));
            set_phase(&c, gone ? SYNC_UNREACHABLE : SYNC_RETRYING);
            unsigned ms = 250u << (failures < 5 ? failures : 5);
            sync_sleep(c.eng, ms > 5000 ? 5000 : ms);
            continue;
        }
        /* Reading again is no recovery: only a step that got on does. */
        if (failures && result != STEP_RETRY) {
            LOG_I("sync", "%s: recovered after %u failed attempts", c.chain.name, failures);
            failures = 0;
        }
        /* transfers into the desk's accounts, from confirmed blocks, once caught up */
        if (result == STEP_CAUGHT_UP &&
            (c.opt->book
                 ? sync_inflows_step_book(c.opt->book, c.book, &c.book_cp, c.db, c.rpc, &c.chain)
                 : sync_inflows_step(c.db, c.rpc, &c.chain)))
            c.hook_pending = c.credit_pending = true;
        /* with a book: the credit repayments of its inflows, in desk.db, once caught up */
        if (result == STEP_CAUGHT_UP)
            book_credit(&c);
        /* the hook once caught up, and during a catch-up at most every SYNC_HOOK_BUSY_S
         * (not after each of its many commits) */
        if (c.hook_pending &&
            (result == STEP_CAUGHT_UP ||
             (!c.hook_after_resync && sync_now() - c.last_hook >= SYNC_HOOK_BUSY_S)))
            after_commit(&c);
        if (result == STEP_CAUGHT_UP) {
            if (c.opt->once) {
                set_phase(&c, SYNC_DONE);
                break;
            }
            set_phase(&c, SYNC_FOLLOWING);
            if (sync_now() - c.last_hook >= SYNC_HOOK_IDLE_S)
                after_commit(&c); /* time-based work (SLA deadlines) while the chain is idle */
            wait_head(&c);
        } else if (result == STEP_PROGRESS) {
            set_phase(&c, SYNC_CATCHING_UP);
        } else if (result == STEP_RETRY) {
            sync_sleep(c.eng, c.opt->poll_ms); /* let a reorg in progress settle */
        }
    }
out:
    if (w->stats.phase != SYNC_FAILED && w->stats.phase != SYNC_DONE)
        set_phase(&c, SYNC_DONE);
    rpc_client_free(&c.rpc);
    rpc_client_free(&c.rpc2);
    rpc_ws_close(&c.ws);
    if (c.book)
        c.opt->book->close(&c.book);
    store_close(&c.db);
    store_close(&c.credit_db); /* the reader's connection with it */
    addrset_free(&c.factories);
    addrset_free(&c.escrows);
    free(c.others);
    free(c.ops);
    LOG_I("sync", "%s: sync thread stopped", c.chain.name);
    atomic_store(&w->finished, 1);
    sync_notify(c.eng);
    return NULL;
}
