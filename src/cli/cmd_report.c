/* cmd_report.c: `fusion report daily [--date YYYY-MM-DD]`: the day's book for accounting and
 * auditors, as one JSON file and CSV tables in <home>/reports (or --out DIR): positions by
 * asset and chain and the risk figures (as the risk service sees the desk when the report
 * runs), escrows opened and settled on the day (by their blocks' times), the desk's
 * transactions and the cases opened and closed that day, their totals, and the audit head at
 * the time of the report. The rows are the listings' own (`escrow list`, `tx list`, `case
 * list` --json), so the report and the listings say the same. */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/amount.h"
#include "base/bytes.h"
#include "base/csv.h"
#include "base/fsperm.h"
#include "base/u256.h"
#include "cli/opts.h"
#include "cli/risk_cli.h"
#include "risk/service.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"
#include "store/store.h"
#include "store/store_book.h"

static const char report_usage[] =
    "usage: fusion report daily [--date YYYY-MM-DD] [--out DIR] [--force] [--no-risk]\n";

/* "YYYY-MM-DD" (a real calendar day) to its 00:00 UTC. */
static int parse_day(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != m - 1)
        return -1; /* 2026-02-30 */
    *out = (int64_t)t;
    return 0;
}

/* ---- block times: the window the sync keeps, else the node, remembered ---- */

typedef struct block_time {
    uint64_t chain_id, number;
    int64_t t; /* -1: unknown */
} block_time;

typedef struct times {
    store *db;
    block_time *v;
    size_t n, cap;
    rpc_client *rpc;
    uint64_t rpc_chain;
    bool rpc_failed;
} times;

static int64_t time_of(times *ts, uint64_t chain_id, uint64_t number)
{
    for (size_t i = 0; i < ts->n; i++)
        if (ts->v[i].chain_id == chain_id && ts->v[i].number == number)
            return ts->v[i].t;
    int64_t t = -1;
    err e;
    err_clear(&e);
    store_block b;
    bool found = false;
    if (store_block_get(ts->db, chain_id, number, &b, &found, &e) == 0 && found) {
        t = (int64_t)b.timestamp;
    } else {
        if (ts->rpc_chain != chain_id) {
            rpc_client_free(&ts->rpc);
            ts->rpc_chain = chain_id;
            ts->rpc_failed = false;
            rpc_options o;
            rpc_options_default(&o);
            o.max_attempts = 2;
            o.timeout_ms = 10000;
            if (rpc_chain_client(&ts->rpc, ts->db, chain_id, &o, &e) < 0)
                ts->rpc_failed = true;
        }
        rpc_block rb;
        if (!ts->rpc_failed && ts->rpc &&
            rpc_eth_get_block(ts->rpc, number, NULL, &rb, &found, &e) == 0 && found)
            t = (int64_t)rb.timestamp;
    }
    if (ts->n == ts->cap) {
        size_t nc = ts->cap ? ts->cap * 2 : 64;
        block_time *nv = realloc(ts->v, nc * sizeof *nv);
        if (!nv)
            return t;
        ts->v = nv;
        ts->cap = nc;
    }
    ts->v[ts->n++] = (block_time){chain_id, number, t};
    return t;
}

/* ---- totals of exact amounts by (chain, asset) ---- */

typedef struct total {
    uint64_t chain_id;
    char chain[STORE_NAME_MAX];
    char asset[64];
    char kind[24];
    unsigned decimals;
    u256 amount;
    double usd;
    size_t count;
} total;

typedef struct totals {
    total *v;
    size_t n, cap;
} totals;

static void total_add(totals *t, uint64_t chain_id, const char *chain, const char *asset,
                      const char *kind, unsigned decimals, const u256 *amount, double usd)
{
    for (size_t i = 0; i < t->n; i++) {
        total *x = &t->v[i];
        if (x->chain_id == chain_id && !strcmp(x->asset, asset) && !strcmp(x->kind, kind)) {
            u256 sum;
            if (u256_add(&sum, &x->amount, amount) == 0)
                x->amount = sum;
            x->usd += usd;
            x->count++;
            return;
        }
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        total *nv = realloc(t->v, nc * sizeof *nv);
        if (!nv)
            return;
        t->v = nv;
        t->cap = nc;
    }
    total *x = &t->v[t->n++];
    memset(x, 0, sizeof *x);
    x->chain_id = chain_id;
    snprintf(x->chain, sizeof x->chain, "%s", chain);
    snprintf(x->asset, sizeof x->asset, "%s", asset);
    snprintf(x->kind, sizeof x->kind, "%s", kind);
    x->decimals = decimals;
    x->amount = *amount;
    x->usd = usd;
    x->count = 1;
}

static json_t *totals_json(const totals *t, bool with_usd)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const total *x = &t->v[i];
        char dec[U256_DEC_MAX], shown[AMOUNT_STR_MAX];
        u256_to_dec(dec, &x->amount);
        amount_format(shown, &x->amount, x->decimals);
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "chain_id",
                              (json_int_t)x->chain_id, "chain", x->chain, "asset", x->asset,
                              "amount", dec, "amount_display", shown, "count",
                              (json_int_t)x->count);
        if (x->kind[0])
            json_object_set_new(o, "kind", json_string(x->kind));
        if (with_usd)
            json_object_set_new(o, "usd", isnan(x->usd) ? json_null() : json_real(x->usd));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* An escrow's asset: the chain's native coin, a token the desk knows (symbol, decimals),
 * else the token's address with amounts in base units. */
static void escrow_asset(store *db, const store_chain *ch, const store_escrow *x, char *out,
                         size_t cap, unsigned *decimals)
{
    if (addr_is_zero(&x->token)) {
        snprintf(out, cap, "%s", ch ? ch->native_symbol : "native");
        *decimals = ch ? ch->native_decimals : 18;
        return;
    }
    addr_to_lower(out, &x->token);
    *decimals = 0;
    store_token *tk = NULL;
    size_t n = 0;
    err e;
    if (store_token_list(db, x->chain_id, &tk, &n, &e) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (!memcmp(&tk[i].address, &x->token, sizeof(addr))) {
            snprintf(out, cap, "%s", tk[i].symbol);
            *decimals = tk[i].decimals;
        }
    free(tk);
}

static bool in_day(int64_t t, int64_t from, int64_t to)
{
    return t >= from && t < to;
}

/* rows with a first column naming what happened ("opened", "settled"...). */
static json_t *tagged(const char *what, const json_t *row)
{
    json_t *o = json_pack("{s:s}", "event", what);
    json_object_update(o, (json_t *)(uintptr_t)row);
    return o;
}

/* Scalar risk figures as metric rows for the summary table. */
static void risk_rows(json_t *rows, const json_t *risk)
{
    static const char *const keys[] = {"gross_usd", "drawn", "total_value"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(risk, keys[i]);
        if (v)
            json_array_append_new(rows, json_pack("{s:s, s:O}", "metric", keys[i], "value", v));
    }
    static const char *const groups[] = {"historical", "ewma", "monte_carlo"};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        json_t *g = json_object_get(risk, groups[i]);
        const char *k;
        json_t *v;
        json_object_foreach(g, k, v) {
            if (!json_is_number(v))
                continue;
            char name[96];
            snprintf(name, sizeof name, "%s.%s", groups[i], k);
            json_array_append_new(rows, json_pack("{s:s, s:O}", "metric", name, "value", v));
        }
    }
}

static int write_file(const char *dir, const char *date, const char *suffix, const buf *b,
                      bool force, json_t *written, err *e)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/fusion-daily-%s%s", dir, date, suffix);
    if (fsperm_write_atomic(path, b->data, b->len, force, e) < 0) {
        if (e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "%s exists: add --force to replace the day's report", path);
        return -1;
    }
    json_array_append_new(written, json_string(path));
    return 0;
}

static int csv_file(const char *dir, const char *date, const char *suffix, const json_t *rows,
                    bool force, json_t *written, err *e)
{
    buf b;
    buf_init(&b);
    int rc = csv_from_json(&b, rows, 0, e);
    if (rc == 0)
        rc = write_file(dir, date, suffix, &b, force, written, e);
    buf_free(&b);
    return rc;
}

static int report_daily(cli_ctx *ctx, int argc, char **argv)
{
    const char *date_s = NULL, *out_dir = NULL;
    bool force = false, no_risk = false;
    const cli_opt opts[] = {
        {"date", CLI_OPT_STR, &date_s},
        {"out", CLI_OPT_STR, &out_dir},
        {"force", CLI_OPT_FLAG, &force},
        {"no-risk", CLI_OPT_FLAG, &no_risk},
    };
    size_t n_pos;
    int u = cli_opts("report daily", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("report daily", "unexpected argument '%s'", argv[1]);
    int64_t now = (int64_t)time(NULL), from;
    char date[11];
    if (date_s) {
        if (parse_day(date_s, &from) < 0)
            return cli_usage("report daily", "--date wants a calendar day YYYY-MM-DD, not '%s'",
                             date_s);
    } else {
        from = now - now % 86400;
    }
    struct tm tm;
    time_t tf = (time_t)from;
    gmtime_r(&tf, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    int64_t to = from + 86400;
    err e;
    err_clear(&e);
    store *db = NULL, *rdb = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    char dir[4200];
    if (out_dir)
        snprintf(dir, sizeof dir, "%s", out_dir);
    else
        snprintf(dir, sizeof dir, "%s/reports", ctx->home);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        err_set(&e, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        store_close(&db);
        return cli_fail(&e);
    }
    /* The audit head when the report is made: the chain verified up to it. */
    audit_report ar;
    if (audit_verify(ctx->home, NULL, &ar, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *root = json_object();
    json_object_set_new(root, "date", json_string(date));
    json_object_set_new(root, "from", json_integer((json_int_t)from));
    json_object_set_new(root, "to", json_integer((json_int_t)to));
    json_object_set_new(root, "generated_at", json_integer((json_int_t)now));
    json_object_set_new(root, "audit_head",
                        json_pack("{s:b, s:I, s:s, s:s?}", "verified", ar.ok, "seq",
                                  (json_int_t)ar.head_seq, "hash", ar.head_hash, "problem",
                                  ar.ok ? NULL : ar.problem));
    int rc = -1;
    times ts = {.db = db};
    totals opened = {0}, settled = {0}, positions = {0};
    json_t *esc_rows = json_array(), *tx_rows = json_array(), *case_rows = json_array();
    json_t *undated = json_array();
    store_chain *chains = NULL;
    size_t nc = 0;
    size_t n_opened = 0, n_settled = 0, n_tx = 0, n_case_opened = 0, n_case_closed = 0;
    json_t *tx_states = json_object();
    risk_snapshot *snap = NULL;
    if (store_chain_list(db, &chains, &nc, &e) < 0)
        goto out;
    /* escrows opened and settled on the day, by their blocks' times */
    for (size_t c = 0; c < nc; c++) {
        store_escrow *xs = NULL;
        size_t nx = 0;
        if (store_escrow_list(db, chains[c].chain_id, &xs, &nx, &e) < 0)
            goto out;
        for (size_t i = 0; i < nx; i++) {
            const store_escrow *x = &xs[i];
            json_t *row = cli_escrow_json(db, &chains[c], x);
            int64_t t_open = time_of(&ts, x->chain_id, x->created_block);
            bool done = x->state == ESCROW_RELEASED || x->state == ESCROW_REFUNDED ||
                        x->state == ESCROW_RESOLVED;
            int64_t t_done = done ? time_of(&ts, x->chain_id, x->last_event_block) : -1;
            json_object_set_new(row, "created_at", t_open >= 0 ? json_integer(t_open) : json_null());
            json_object_set_new(row, "settled_at", t_done >= 0 ? json_integer(t_done) : json_null());
            if (t_open < 0 || (done && t_done < 0))
                json_array_append(undated, json_object_get(row, "address"));
            char asset[64];
            unsigned dec = 0;
            escrow_asset(db, &chains[c], x, asset, sizeof asset, &dec);
            json_object_set_new(row, "asset", json_string(asset));
            if (t_open >= 0 && in_day(t_open, from, to)) {
                json_array_append_new(esc_rows, tagged("opened", row));
                total_add(&opened, x->chain_id, chains[c].name, asset, "", dec, &x->amount, 0);
                n_opened++;
            }
            if (t_done >= 0 && in_day(t_done, from, to)) {
                json_array_append_new(esc_rows, tagged("settled", row));
                total_add(&settled, x->chain_id, chains[c].name, asset, "", dec, &x->amount, 0);
                n_settled++;
            }
            json_decref(row);
        }
        free(xs);
    }
    /* the desk's transactions signed that day */
    store_outbound *os = NULL;
    size_t no = 0;
    if (store_outbound_list(db, 0, &os, &no, &e) < 0)
        goto out;
    for (size_t i = 0; i < no; i++) {
        if (!in_day(os[i].created_at, from, to))
            continue;
        json_array_append_new(tx_rows, cli_tx_json(db, &os[i]));
        const char *st = outbound_state_str(os[i].state);
        json_object_set_new(tx_states, st,
                            json_integer(json_integer_value(json_object_get(tx_states, st)) + 1));
        n_tx++;
    }
    free(os);
    /* cases opened and closed that day */
    store_case_filter f = {0};
    store_case *cs = NULL;
    size_t ncs = 0;
    if (store_case_list(db, &f, &cs, &ncs, &e) < 0)
        goto out;
    for (size_t i = 0; i < ncs; i++) {
        json_t *row = cli_case_json(db, &cs[i], now, &e);
        if (!row) {
            free(cs);
            goto out;
        }
        if (in_day(cs[i].opened_at, from, to)) {
            json_array_append_new(case_rows, tagged("opened", row));
            n_case_opened++;
        }
        if (cs[i].closed_at && in_day(cs[i].closed_at, from, to)) {
            json_array_append_new(case_rows, tagged("closed", row));
            n_case_closed++;
        }
        json_decref(row);
    }
    free(cs);
    /* positions and risk figures: the risk service's view of the desk now, over the desk's
     * book as `fusion risk report` reads it (risk_cli_book, on a store of its own: the
     * sections above read desk.db as before). A risk figure it cannot make is written as
     * the section's error; the book's server away (or a book.conf the desk refuses) fails
     * the report in one line instead, nothing written: the day's record would otherwise
     * hold desk.db's figures (no escrowed value, nothing in flight) as if complete, and
     * the report is made again, whole, once the server answers. */
    json_t *risk = NULL;
    if (!no_risk) {
        risk_service_opts ro;
        risk_service_opts_default(&ro);
        err re;
        err_clear(&re);
        if (cli_desk_open(ctx, &rdb, &e) < 0 || risk_cli_book(rdb, ctx->home, &ro, &e) < 0)
            goto out;
        if (risk_service_refresh(rdb, &ro, &snap, &re) < 0) {
            if (strncmp(re.msg, STORE_BOOK_AWAY, strlen(STORE_BOOK_AWAY)) == 0) {
                e = re;
                err_prefix(&e, "the risk section");
                goto out;
            }
            risk = json_pack("{s:s}", "error", re.msg);
        } else {
            risk = risk_cli_snapshot_json(snap);
            for (size_t i = 0; i < snap->n_pos; i++) {
                const risk_position *p = &snap->pos[i];
                total_add(&positions, p->chain_id, p->chain, p->asset, risk_pos_kind_str(p->kind),
                          p->decimals, &p->amount, p->usd);
            }
        }
    }
    json_object_set_new(root, "positions", totals_json(&positions, true));
    json_object_set_new(root, "risk", risk ? risk : json_null());
    json_object_set_new(root, "escrows", esc_rows);
    json_object_set_new(root, "transactions", tx_rows);
    json_object_set_new(root, "cases", case_rows);
    json_object_set_new(root, "undated_escrows", undated);
    json_t *tot = json_pack("{s:I, s:I, s:o, s:o, s:I, s:O, s:I, s:I}", "escrows_opened",
                            (json_int_t)n_opened, "escrows_settled", (json_int_t)n_settled,
                            "opened_by_asset", totals_json(&opened, false), "settled_by_asset",
                            totals_json(&settled, false), "transactions", (json_int_t)n_tx,
                            "transactions_by_state", tx_states, "cases_opened",
                            (json_int_t)n_case_opened, "cases_closed", (json_int_t)n_case_closed);
    json_object_set_new(root, "totals", tot);
    esc_rows = tx_rows = case_rows = undated = NULL;
    /* files: refused as a whole when one exists (without --force) */
    static const char *const suffixes[] = {".json", "-summary.csv", "-positions.csv",
                                           "-escrows.csv", "-transactions.csv", "-cases.csv"};
    if (!force)
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            char path[4300];
            struct stat st;
            snprintf(path, sizeof path, "%s/fusion-daily-%s%s", dir, date, suffixes[i]);
            if (lstat(path, &st) == 0) {
                err_set(&e, ERR_EXISTS, "%s exists: add --force to replace the day's report",
                        path);
                goto out;
            }
        }
    json_t *summary = json_array();
    json_array_append_new(summary, json_pack("{s:s, s:s}", "metric", "date", "value", date));
    json_array_append_new(summary, json_pack("{s:s, s:I}", "metric", "audit_head_seq", "value",
                                             (json_int_t)ar.head_seq));
    json_array_append_new(summary, json_pack("{s:s, s:s}", "metric", "audit_head_hash", "value",
                                             ar.head_hash));
    json_array_append_new(summary, json_pack("{s:s, s:b}", "metric", "audit_verified", "value",
                                             ar.ok));
    const char *k;
    json_t *v;
    json_object_foreach(tot, k, v) {
        if (json_is_integer(v))
            json_array_append_new(summary, json_pack("{s:s, s:O}", "metric", k, "value", v));
    }
    json_object_foreach(tx_states, k, v) {
        char name[64];
        snprintf(name, sizeof name, "transactions.%s", k);
        json_array_append_new(summary, json_pack("{s:s, s:O}", "metric", name, "value", v));
    }
    for (size_t pass = 0; pass < 2; pass++) {
        json_t *by = json_object_get(tot, pass ? "settled_by_asset" : "opened_by_asset");
        size_t i;
        json_array_foreach(by, i, v) {
            char name[160];
            snprintf(name, sizeof name, "escrows_%s.%s.%s", pass ? "settled" : "opened",
                     json_string_value(json_object_get(v, "chain")),
                     json_string_value(json_object_get(v, "asset")));
            json_array_append_new(summary, json_pack("{s:s, s:O}", "metric", name, "value",
                                                     json_object_get(v, "amount")));
        }
    }
    if (risk)
        risk_rows(summary, risk);
    json_t *written = json_array();
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    buf jb = {.data = (uint8_t *)text, .len = text ? strlen(text) : 0};
    int wrc = text ? write_file(dir, date, ".json", &jb, force, written, &e)
                   : err_set(&e, ERR_NOMEM, "out of memory");
    free(text);
    json_t *esc_all = json_object_get(root, "escrows");
    if (wrc == 0)
        wrc = csv_file(dir, date, "-summary.csv", summary, force, written, &e);
    if (wrc == 0)
        wrc = csv_file(dir, date, "-positions.csv", json_object_get(root, "positions"), force,
                       written, &e);
    if (wrc == 0)
        wrc = csv_file(dir, date, "-escrows.csv", esc_all, force, written, &e);
    if (wrc == 0)
        wrc = csv_file(dir, date, "-transactions.csv", json_object_get(root, "transactions"),
                       force, written, &e);
    if (wrc == 0)
        wrc = csv_file(dir, date, "-cases.csv", json_object_get(root, "cases"), force, written,
                       &e);
    json_decref(summary);
    if (wrc < 0) {
        json_decref(written);
        goto out;
    }
    json_t *d = json_pack("{s:s, s:I, s:s}", "date", date, "audit_head_seq",
                          (json_int_t)ar.head_seq, "dir", dir);
    if (audit_append(ctx->home, ctx->operator_name, "report.daily", d, &e) < 0)
        cli_errorf("fusion: the report was written but its audit row was not: %s", e.msg);
    json_decref(d);
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:O, s:O}", "date", date, "files", written, "totals", tot);
        cli_json_print(o, JSON_COMPACT);
        json_decref(o);
    } else {
        printf("daily report for %s (audit head %llu): %zu escrows opened, %zu settled, "
               "%zu transactions, %zu cases opened, %zu closed\n",
               date, (unsigned long long)ar.head_seq, n_opened, n_settled, n_tx, n_case_opened,
               n_case_closed);
        size_t i;
        json_array_foreach(written, i, v) printf("  %s\n", json_string_value(v));
        if (json_array_size(json_object_get(root, "undated_escrows")))
            printf("  note: %zu escrows have no block time (node unreachable): see "
                   "undated_escrows in the JSON file\n",
                   json_array_size(json_object_get(root, "undated_escrows")));
    }
    json_decref(written);
    rc = 0;
out:
    risk_snapshot_free(&snap);
    json_decref(esc_rows);
    json_decref(tx_rows);
    json_decref(case_rows);
    json_decref(undated);
    json_decref(tx_states);
    json_decref(root);
    free(opened.v);
    free(settled.v);
    free(positions.v);
    free(ts.v);
    rpc_client_free(&ts.rpc);
    free(chains);
    store_close(&rdb);
    store_close(&db);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(report_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "daily") == 0)
        return report_daily(ctx, argc - 1, argv + 1);
    return cli_usage("report", "unknown report '%s' (daily)", argv[1]);
}
