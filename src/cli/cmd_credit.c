/* cmd_credit.c: `fusion credit facility add|edit|show|list`, `credit draw|repay|fee` and
 * `credit ledger|statement`: the unified credit line as a book (src/credit). Every change is a signed
 * desk decision; the ledger is replayed with its interest on every read. */
#include "cli/cli.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "base/text.h"
#include "cli/opts.h"
#include "credit/service.h"
#include "crypto/keccak.h"
#include "desk/desk.h"
#include "desk/escrow_input.h"
#include "risk/service.h"

static credit_actor actor(const cli_ctx *ctx)
{
    return (credit_actor){.home = ctx->home,
                          .operator_name = ctx->operator_name,
                          .today = (int32_t)((int64_t)time(NULL) / 86400)};
}

static int fac_change(cli_ctx *ctx, int argc, char **argv, bool adding)
{
    const char *cmd = adding ? "credit facility add" : "credit facility edit";
    credit_facility_opts o;
    memset(&o, 0, sizeof o);
    const cli_opt opts[] = {
        {"entity", CLI_OPT_STR, &o.entity},
        {"currency", CLI_OPT_STR, &o.currency},
        {"decimals", CLI_OPT_STR, &o.decimals},
        {"limit", CLI_OPT_STR, &o.limit},
        {"rate", CLI_OPT_STR, &o.rate},
        {"base", CLI_OPT_STR, &o.base},
        {"spread", CLI_OPT_STR, &o.spread},
        {"effective", CLI_OPT_STR, &o.effective},
        {"day-count", CLI_OPT_STR, &o.day_count},
        {"billing-day", CLI_OPT_STR, &o.billing_day},
        {"initial-hf", CLI_OPT_STR, &o.initial_hf},
        {"margin-call-hf", CLI_OPT_STR, &o.margin_call_hf},
        {"liquidation-hf", CLI_OPT_STR, &o.liquidation_hf},
        {"collateral", CLI_OPT_STR, &o.collateral},
        {"terms", CLI_OPT_STR, &o.terms},
        {"rename", CLI_OPT_STR, &o.rename},
        {"vault", CLI_OPT_STR, &o.vaults},
        {"repay-to", CLI_OPT_STR, &o.repay_to},
    };
    int u =
        cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 1, "needs exactly one facility NAME");
    if (u != EXIT_OK)
        return u;
    if (adding && o.rename)
        return cli_usage(cmd, "--rename is for `credit facility edit`");
    err e;
    err_clear(&e);
    store *db = NULL;
    credit_actor a = actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 ||
        (adding ? credit_facility_add(db, &a, argv[1], &o, &e)
                : credit_facility_edit(db, &a, argv[1], &o, &e)) < 0) {
        rc = e.code == ERR_USAGE ? cli_usage(cmd, "%s", e.msg) : cli_fail(&e);
    } else if (!ctx->json) {
        printf("facility %s %s\n", o.rename ? o.rename : argv[1], adding ? "added" : "changed");
    }
    store_close(&db);
    return rc;
}

static json_t *fac_json(store *db, const store_credit_facility *f, int32_t today, err *e)
{
    char lim[AMOUNT_STR_MAX], ini[16], mc[16], liq[16];
    amount_format(lim, &f->limit, f->decimals);
    credit_hf_format(f->initial_e4, ini);
    credit_hf_format(f->margin_call_e4, mc);
    credit_hf_format(f->liquidation_e4, liq);
    store_entity x;
    bool found = false;
    if (store_entity_get(db, f->entity_id, &x, &found, e) < 0)
        return NULL;
    credit_book b;
    if (credit_book_load(db, f, today, &b, e) < 0)
        return NULL;
    char drawn[AMOUNT_STR_MAX], acc[AMOUNT_STR_MAX];
    amount_format(drawn, &b.drawn, f->decimals);
    amount_format(acc, &b.accrued, f->decimals);
    json_error_t je;
    json_t *coll = json_loads(f->collateral, 0, &je);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:o, s:s, s:s}", "name", f->name,
        "entity", found ? x.name : "?", "currency", f->currency, "decimals", (int)f->decimals,
        "limit", lim, "day_count", f->day_count == 360 ? "ACT/360" : "ACT/365", "billing_day",
        (int)f->billing_day, "day_count_basis", (int)f->day_count, "initial_hf", ini,
        "margin_call_hf", mc, "liquidation_hf", liq, "collateral", coll ? coll : json_array(),
        "drawn", drawn, "accrued_interest", acc);
    credit_book_free(&b);
    if (j)
        json_object_set_new(j, "repay_to", f->repay_to[0] ? json_string(f->repay_to) : json_null());
    return j;
}

/* A stored string of a facility (its name, its entity's name, the currency, a collateral
 * asset or price source) as text shows it: a row an older binary or a synced chain left
 * may hold controls, shown as escapes; cut at 64 bytes of text. */
#define FAC_SHOWN_MAX (6 * 64 + 4)
static const char *fac_shown(char out[FAC_SHOWN_MAX], const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return text_safe_str(out, FAC_SHOWN_MAX, v ? v : "-");
}

static int fac_show(cli_ctx *ctx, int argc, char **argv, bool list)
{
    const char *cmd = list ? "credit facility list" : "credit facility show";
    bool json = ctx->json;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    int u = cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), list ? 0 : 1,
                       list ? "takes no arguments" : "needs exactly one facility NAME");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_credit_facility *fs = NULL, one;
    size_t n = 0;
    int rc = EXIT_OK;
    json_t *arr = json_array();
    credit_actor a = actor(ctx);
    if (cli_desk_open(ctx, &db, &e) < 0)
        goto fail;
    if (list) {
        if (store_credit_facility_list(db, &fs, &n, &e) < 0)
            goto fail;
    } else {
        if (credit_facility_get(db, argv[1], &one, &e) < 0)
            goto fail;
        fs = &one;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j = fac_json(db, &fs[i], a.today, &e);
        if (!j)
            goto fail;
        json_array_append_new(arr, j);
    }
    if (json) {
        cli_json_print(list ? arr : json_array_get(arr, 0), JSON_INDENT(2));
    } else if (list) {
        printf("%-20s %-20s %-8s %18s %18s\n", "FACILITY", "ENTITY", "CCY", "LIMIT", "DRAWN");
        size_t i;
        json_t *j;
        json_array_foreach(arr, i, j)
        {
            char nm[FAC_SHOWN_MAX], ent[FAC_SHOWN_MAX], ccy[FAC_SHOWN_MAX];
            printf("%-20s %-20s %-8s %18s %18s\n", fac_shown(nm, j, "name"),
                   fac_shown(ent, j, "entity"), fac_shown(ccy, j, "currency"),
                   json_string_value(json_object_get(j, "limit")),
                   json_string_value(json_object_get(j, "drawn")));
        }
    } else {
        json_t *j = json_array_get(arr, 0);
        const char *keys[] = {"name", "entity", "currency", "limit", "day_count", "initial_hf",
                              "margin_call_hf", "liquidation_hf", "drawn", "accrued_interest"};
        char v[FAC_SHOWN_MAX], w[FAC_SHOWN_MAX];
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            printf("%-16s %s\n", keys[k], fac_shown(v, j, keys[k]));
        printf("%-16s %d\n", "billing_day", (int)json_integer_value(json_object_get(j, "billing_day")));
        const char *rt = json_string_value(json_object_get(j, "repay_to"));
        printf("%-16s %s\n", "repay_to",
               rt ? fac_shown(v, j, "repay_to") : "none (repayments are recorded by hand)");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "collateral"), i, c)
        {
            printf("collateral       %-6s haircut %s%% LT %s%%  (%s)\n", fac_shown(v, c, "asset"),
                   json_string_value(json_object_get(c, "haircut_pct")),
                   json_string_value(json_object_get(c, "liq_threshold_pct")),
                   fac_shown(w, c, "source"));
        }
    }
    goto out;
fail:
    rc = cli_fail(&e);
out:
    json_decref(arr);
    if (fs != &one)
        free(fs);
    store_close(&db);
    return rc;
}

/* The held draws whose payment has an outcome are posted (or let go) first: a draw whose
 * process stopped between the payment and its posting is completed by the next command. */
static void settle_draws(const cli_ctx *ctx)
{
    err e;
    err_clear(&e);
    store *db = NULL;
    size_t posted = 0, unpaid = 0;
    if (cli_desk_open(ctx, &db, &e) < 0) /* the command itself says why */
        return;
    if (credit_draw_settle(db, ctx->home, &posted, &unpaid, &e) < 0)
        cli_errorf("the draws waiting for their payment were not settled: %s", e.msg);
    else if (posted + unpaid > 0)
        fprintf(stderr,
                "fusion: %zu draw(s) posted after their payment was mined, %zu let go "
                "(payment failed or dropped)\n",
                posted, unpaid);
    store_close(&db);
}

/* What a draw's payment holds beside its outbound row (in the same transaction). */
typedef struct draw_hold_ctx {
    const char *home;
    store_credit_draw *draw;
    uint64_t chain_id;
} draw_hold_ctx;

static int hold_draw(void *ctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                     const uint8_t hash[32], err *e)
{
    (void)raw;
    (void)len;
    draw_hold_ctx *h = ctx;
    return credit_draw_hold(db, h->home, h->draw, outbound_id, h->chain_id, hash, e);
}

/* `credit draw FACILITY AMOUNT --chain C [--to ADDR|NAME]`: the pre-trade check, then the
 * desk pays the amount in the facility's currency token to the counterparty's linked
 * address through the desk pipeline (policy, compliance gate, summary, confirmation); the
 * ledger row is posted once the payment is mined (credit_draw_settle). */
static int draw_paid(cli_ctx *ctx, const char *facility, const char *amount, const char *chain,
                     const char *to, const char *memo, const char *override, const char *wait)
{
    const char *cmd = "credit draw";
    char *endp;
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage(cmd, "--wait takes seconds");
    err e;
    err_clear(&e);
    desk *d = NULL;
    store_credit_facility f;
    store_chain ch;
    bool found = false;
    credit_actor a = actor(ctx);
    store_credit_draw held;
    memset(&held, 0, sizeof held);
    store_entity_link *links = NULL;
    size_t nl = 0;
    desk_pay_req r;
    memset(&r, 0, sizeof r);
    memset(&f, 0, sizeof f);
    memset(&ch, 0, sizeof ch);
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    store *db = rc == 0 ? desk_store(d) : NULL;
    if (rc == 0)
        rc = credit_facility_get(db, facility, &f, &e);
    if (rc == 0)
        rc = store_chain_find_name(db, chain, &ch, &found, &e);
    if (rc == 0 && !found)
        rc = err_set(&e, ERR_NOT_FOUND, "no chain named \"%.40s\" (fusion chain list)", chain);
    if (rc == 0)
        rc = desk_use_chain(d, chain, NULL, &e);
    if (rc == 0)
        rc = store_entity_links(db, f.entity_id, &links, &nl, &e);
    /* the payee: the counterparty's address linked on this chain (--to picks one) */
    size_t n_here = 0;
    for (size_t i = 0; rc == 0 && i < nl; i++)
        if (links[i].chain_id == 0 || links[i].chain_id == ch.chain_id) {
            if (n_here++ == 0 && !to)
                r.payee = links[i].address;
        }
    if (rc == 0 && to) {
        rc = desk_party_parse(db, to, &r.payee, &e);
        if (rc < 0)
            err_prefix(&e, "--to");
    }
    if (rc == 0 && n_here == 0)
        rc = err_set(&e, ERR_STATE,
                     "facility %s's counterparty has no address linked on %s (fusion entity "
                     "link): nothing signed",
                     f.name, ch.name);
    if (rc == 0 && !to && n_here > 1)
        rc = err_set(&e, ERR_USAGE,
                     "facility %s's counterparty has %zu addresses on %s: say which with --to",
                     f.name, n_here, ch.name);
    bool linked = false;
    for (size_t i = 0; rc == 0 && i < nl; i++)
        linked = linked || ((links[i].chain_id == 0 || links[i].chain_id == ch.chain_id) &&
                            addr_equal(&links[i].address, &r.payee));
    if (rc == 0 && !linked) {
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &r.payee);
        rc = err_set(&e, ERR_DENIED,
                     "%s is not an address of facility %s's counterparty on %s (fusion entity "
                     "link): a draw is paid to the borrower only; nothing signed",
                     s, f.name, ch.name);
    }
    /* the pre-trade check (limit, health with the override): nothing signed on a refusal */
    if (rc == 0)
        rc = credit_draw_prepare(db, &a, facility, amount, memo, override, &held, &e);
    desk_result res;
    memset(&res, 0, sizeof res);
    char amt[AMOUNT_STR_MAX] = "";
    draw_hold_ctx hctx = {ctx->home, &held, ch.chain_id};
    if (rc == 0) {
        amount_format(amt, &held.amount, f.decimals);
        r.token = f.currency;
        r.amount = amt;
        r.hold = hold_draw;
        r.hold_ctx = &hctx;
        rc = desk_pay(d, &r, &res, &e);
    }
    free(links);
    char hash[67];
    hex_encode(hash, sizeof hash, res.hash, 32, true);
    size_t posted = 0;
    if (res.outbound_id != 0) {
        /* the payment is recorded: post the draw now if it is mined (a failure to settle
         * here is completed by `tx check` or the next credit command) */
        err se;
        err_clear(&se);
        if (credit_draw_settle(desk_store(d), ctx->home, &posted, NULL, &se) < 0)
            cli_errorf("the draw was paid but not posted yet (%s): `fusion tx check` or the next "
                       "credit command posts it",
                       se.msg);
    }
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    if (ctx->json) {
        char units[U256_DEC_MAX];
        u256_to_dec(units, &held.amount);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "facility", f.name, "currency",
                              f.currency, "amount_units", units, "hash", hash, "state",
                              outbound_state_str(res.state), "outbound_id",
                              (json_int_t)res.outbound_id, "posted", posted > 0);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else if (posted > 0) {
        printf("draw of %s %s on facility %s paid (tx %s) and posted\n", amt, f.currency, f.name,
               hash);
    } else {
        printf("draw of %s %s on facility %s sent (tx %s, %s): it is posted once the payment is "
               "mined (`fusion tx check` or the next credit command)\n",
               amt, f.currency, f.name, hash, outbound_state_str(res.state));
    }
    return EXIT_OK;
}

static int credit_row(cli_ctx *ctx, int argc, char **argv, credit_kind kind)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "credit %s", credit_kind_str(kind));
    const char *date = NULL, *memo = NULL, *override = NULL, *chain = NULL, *to = NULL,
               *wait = NULL;
    bool by_hand = false;
    const cli_opt opts[] = {{"date", CLI_OPT_STR, &date},
                            {"memo", CLI_OPT_STR, &memo},
                            {"override", CLI_OPT_STR, &override},
                            {"chain", CLI_OPT_STR, &chain},
                            {"to", CLI_OPT_STR, &to},
                            {"wait", CLI_OPT_STR, &wait},
                            {"by-hand", CLI_OPT_FLAG, &by_hand}};
    int u = cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 2,
                       "needs a facility NAME and an AMOUNT (in its currency)");
    if (u != EXIT_OK)
        return u;
    if (override && kind != CREDIT_DRAW)
        return cli_usage(cmd, "--override is for `credit draw`");
    if (kind != CREDIT_DRAW && (chain || to || wait || by_hand))
        return cli_usage(cmd, "--chain, --to, --wait and --by-hand are for `credit draw`");
    if (kind == CREDIT_DRAW && !chain && !by_hand)
        return cli_usage(cmd, "needs --chain CHAIN [--to ADDR|NAME] (the desk pays the draw) or "
                              "--by-hand (records a draw paid outside the desk)");
    if (kind == CREDIT_DRAW && chain && by_hand)
        return cli_usage(cmd,
                         "--chain pays the draw, --by-hand records one paid outside: not both");
    if (kind == CREDIT_DRAW && (to || wait) && !chain)
        return cli_usage(cmd, "--to and --wait go with --chain");
    if (kind == CREDIT_DRAW && chain && date)
        return cli_usage(cmd, "a paid draw is dated today: --date is for --by-hand");
    if (override && (!*override || strlen(override) > 200))
        return cli_usage(cmd, "--override needs a reason of 1 to 200 characters");
    if (kind == CREDIT_DRAW && chain && memo && strlen(memo) >= 80)
        return cli_usage(cmd, "--memo of a paid draw is at most 79 characters");
    err e;
    err_clear(&e);
    /* refused before the desk is opened or anything is signed */
    if (credit_text_check("--override", override, &e) < 0 ||
        credit_text_check("--memo", memo, &e) < 0)
        return cli_fail(&e);
    if (kind == CREDIT_DRAW && chain)
        return draw_paid(ctx, argv[1], argv[2], chain, to, memo, override, wait);
    store *db = NULL;
    credit_actor a = actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 ||
        credit_ledger_add(db, &a, argv[1], kind, argv[2], date, memo, override, &e) < 0)
        rc = cli_fail(&e);
    else if (!ctx->json)
        printf("%s of %s recorded on facility %s\n", credit_kind_str(kind), argv[2], argv[1]);
    store_close(&db);
    return rc;
}

/* One ledger row of `credit ledger` and `credit statement` in text: the memo is typed text
 * (--memo, --override), shown with its controls as escapes. */
static void print_ledger_row(const json_t *r)
{
    const char *memo = json_string_value(json_object_get(r, "memo"));
    char *safe = memo ? text_safe_dup(memo, strlen(memo)) : NULL;
    printf("%-10s  %-8s %20s %20s  %s\n", json_string_value(json_object_get(r, "date")),
           json_string_value(json_object_get(r, "kind")),
           json_string_value(json_object_get(r, "amount")),
           json_string_value(json_object_get(r, "balance")), safe ? safe : "");
    free(safe);
}

static int ledger(cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "credit ledger", *asof = NULL;
    bool json = ctx->json;
    const cli_opt opts[] = {{"asof", CLI_OPT_STR, &asof}, {"json", CLI_OPT_FLAG, &json}};
    int u =
        cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 1, "needs exactly one facility NAME");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    credit_actor a = actor(ctx);
    int32_t through = a.today;
    if (asof && credit_date_parse(asof, &through, &e) < 0)
        return cli_usage(cmd, "--asof: %s", e.msg);
    store *db = NULL;
    store_credit_facility f;
    credit_book b = {0};
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || credit_facility_get(db, argv[1], &f, &e) < 0 ||
        credit_book_load(db, &f, through, &b, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    char d[11], amt[AMOUNT_STR_MAX], bal[AMOUNT_STR_MAX], u1[U256_DEC_MAX], u2[U256_DEC_MAX];
    json_t *rows = json_array();
    for (size_t i = 0; i < b.n; i++) {
        credit_date_format(b.entries[i].day, d);
        u256_to_dec(u1, &b.entries[i].amount);
        u256_to_dec(u2, &b.balance[i]);
        amount_format(amt, &b.entries[i].amount, f.decimals);
        amount_format(bal, &b.balance[i], f.decimals);
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "date", d,
                                              "kind", credit_kind_str(b.entries[i].kind),
                                              "amount", amt, "amount_units", u1, "balance", bal,
                                              "balance_units", u2, "memo", b.entries[i].memo));
    }
    credit_date_format(b.through, d);
    u256_to_dec(u1, &b.drawn);
    u256_to_dec(u2, &b.accrued);
    char posted[U256_DEC_MAX];
    u256_to_dec(posted, &b.interest_posted);
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "facility", f.name,
                              "currency", f.currency, "through", d, "drawn_units", u1,
                              "accrued_units", u2, "interest_posted_units", posted, "rows", rows);
        cli_json_print(j, JSON_INDENT(2));
        json_decref(j);
    } else {
        printf("%-10s  %-8s %20s %20s  %s\n", "DATE", "KIND", "AMOUNT", "BALANCE", "MEMO");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            print_ledger_row(r);
        amount_format(amt, &b.drawn, f.decimals);
        amount_format(bal, &b.accrued, f.decimals);
        printf("through %s: drawn %s %s, interest accrued not yet posted %s %s\n", d, amt,
               f.currency, bal, f.currency);
        json_decref(rows);
    }
out:
    credit_book_free(&b);
    store_close(&db);
    return rc;
}

/* One row of a statement: date, kind, amount and balance (exact units beside the decimal
 * amounts), memo. NULL amount or balance: an empty cell. */
static json_t *statement_row(int32_t day, const char *kind, const u256 *amount, const u256 *balance,
                             unsigned decimals, const char *memo)
{
    char d[11], amt[AMOUNT_STR_MAX] = "", bal[AMOUNT_STR_MAX] = "", u1[U256_DEC_MAX] = "",
                u2[U256_DEC_MAX] = "";
    credit_date_format(day, d);
    if (amount) {
        amount_format(amt, amount, decimals);
        u256_to_dec(u1, amount);
    }
    if (balance) {
        amount_format(bal, balance, decimals);
        u256_to_dec(u2, balance);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "date", d, "kind", kind, "amount", amt,
                     "amount_units", u1, "balance", bal, "balance_units", u2, "memo", memo);
}

static void put_units(json_t *j, const char *key, const u256 *v, unsigned decimals)
{
    char u[U256_DEC_MAX], a[AMOUNT_STR_MAX], k[64];
    u256_to_dec(u, v);
    amount_format(a, v, decimals);
    snprintf(k, sizeof k, "%s_units", key);
    json_object_set_new(j, k, json_string(u));
    json_object_set_new(j, key, json_string(a));
}

static int statement(cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "credit statement", *from_s = NULL, *to_s = NULL;
    bool json = ctx->json, csv = false;
    const cli_opt opts[] = {{"from", CLI_OPT_STR, &from_s},
                            {"to", CLI_OPT_STR, &to_s},
                            {"json", CLI_OPT_FLAG, &json},
                            {"csv", CLI_OPT_FLAG, &csv}};
    int u =
        cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 1, "needs exactly one facility NAME");
    if (u != EXIT_OK)
        return u;
    if (!from_s || !to_s)
        return cli_usage(cmd, "needs --from YYYY-MM-DD and --to YYYY-MM-DD");
    if ((u = cli_json_or_csv(cmd, &json, csv)) != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    int32_t from, to;
    if (credit_date_parse(from_s, &from, &e) < 0)
        return cli_usage(cmd, "--from: %s", e.msg);
    if (credit_date_parse(to_s, &to, &e) < 0)
        return cli_usage(cmd, "--to: %s", e.msg);
    if (to < from)
        return cli_usage(cmd, "--to %s is before --from %s", to_s, from_s);
    store *db = NULL;
    store_credit_facility f;
    credit_statement st = {0};
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || credit_facility_get(db, argv[1], &f, &e) < 0 ||
        credit_statement_load(db, &f, from, to, &st, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    unsigned dec = f.decimals;
    json_t *rows = json_array();
    for (size_t i = st.first; i < st.book.n; i++)
        json_array_append_new(rows, statement_row(st.book.entries[i].day,
                                                  credit_kind_str(st.book.entries[i].kind),
                                                  &st.book.entries[i].amount, &st.book.balance[i],
                                                  dec, st.book.entries[i].memo));
    if (csv) {
        /* one table: the opening balance, the period's rows, the interest accrued and not
         * yet posted at the end, the closing balance */
        json_t *t = json_array();
        json_array_append_new(t, statement_row(from, "opening", NULL, &st.opening_balance, dec,
                                               "balance at the start of the period"));
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) json_array_append(t, r);
        json_array_append_new(t, statement_row(to, "accrued", &st.closing_accrued, NULL, dec,
                                               "interest accrued, not yet posted"));
        json_array_append_new(t, statement_row(to, "closing", NULL, &st.closing_balance, dec,
                                               "balance at the end of the period"));
        rc = cli_csv_print(t);
        json_decref(t);
        json_decref(rows);
    } else if (json) {
        char d1[11], d2[11];
        credit_date_format(from, d1);
        credit_date_format(to, d2);
        json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s}", "facility", f.name, "currency",
                              f.currency, "decimals", (int)dec, "from", d1, "to", d2);
        put_units(j, "opening_balance", &st.opening_balance, dec);
        put_units(j, "opening_accrued", &st.opening_accrued, dec);
        json_object_set_new(j, "rows", rows);
        put_units(j, "draws", &st.draws, dec);
        put_units(j, "repayments", &st.repayments, dec);
        put_units(j, "fees", &st.fees, dec);
        put_units(j, "interest_posted", &st.interest_posted, dec);
        put_units(j, "interest_accrued", &st.interest_accrued, dec);
        put_units(j, "closing_balance", &st.closing_balance, dec);
        put_units(j, "closing_accrued", &st.closing_accrued, dec);
        cli_json_print(j, JSON_INDENT(2));
        json_decref(j);
    } else {
        char a[AMOUNT_STR_MAX], b[AMOUNT_STR_MAX];
        amount_format(a, &st.opening_balance, dec);
        amount_format(b, &st.opening_accrued, dec);
        char nm[FAC_SHOWN_MAX], ccy[FAC_SHOWN_MAX];
        printf("facility %s, %s to %s (%s)\n", text_safe_str(nm, sizeof nm, f.name), from_s, to_s,
               text_safe_str(ccy, sizeof ccy, f.currency));
        printf("opening balance %s, interest accrued not yet posted %s\n", a, b);
        printf("%-10s  %-8s %20s %20s  %s\n", "DATE", "KIND", "AMOUNT", "BALANCE", "MEMO");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            print_ledger_row(r);
        json_decref(rows);
        amount_format(a, &st.interest_accrued, dec);
        printf("interest accrued in the period %s\n", a);
        amount_format(a, &st.closing_balance, dec);
        amount_format(b, &st.closing_accrued, dec);
        printf("closing balance %s, interest accrued not yet posted %s\n", a, b);
    }
out:
    credit_statement_free(&st);
    store_close(&db);
    return rc;
}

static int health(cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "credit health";
    bool json = ctx->json;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    int u =
        cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 1, "needs exactly one facility NAME");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_credit_facility f;
    credit_book b = {0};
    credit_health h;
    credit_position *pos = NULL;
    size_t np = 0;
    credit_actor a = actor(ctx);
    int rc = EXIT_OK;
    u256 owed;
    if (cli_desk_open(ctx, &db, &e) < 0 || credit_facility_get(db, argv[1], &f, &e) < 0 ||
        credit_book_load(db, &f, a.today, &b, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (u256_add(&owed, &b.drawn, &b.accrued) < 0) {
        err_set(&e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits");
        rc = cli_fail(&e);
        goto out;
    }
    risk_limits lim;
    if (risk_limits_of(ctx->home, NULL, &lim, &e) < 0 ||
        credit_health_load(db, &f, &owed, lim.price_max_age, &h, &pos, &np, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    char ow[AMOUNT_STR_MAX], ini[16], mc[16], liq[16];
    amount_format(ow, &owed, f.decimals);
    credit_hf_format(f.initial_e4, ini);
    credit_hf_format(f.margin_call_e4, mc);
    credit_hf_format(f.liquidation_e4, liq);
    const char *status = h.health_factor < (double)f.liquidation_e4 / CREDIT_HF_ONE ? "liquidation"
                         : h.health_factor < (double)f.margin_call_e4 / CREDIT_HF_ONE
                             ? "margin call"
                             : "ok";
    if (json) {
        json_t *ps = json_array();
        for (size_t i = 0; i < np; i++) {
            char un[U256_DEC_MAX];
            u256_to_dec(un, &pos[i].units);
            json_t *pj = json_pack("{s:I, s:s, s:s, s:f, s:f}", "chain_id",
                                   (json_int_t)pos[i].chain_id, "asset", pos[i].asset, "units", un,
                                   "price_usd", pos[i].price_usd, "value_usd", pos[i].value_usd);
            /* the synced block the units are read at; null: the chain's head (not synced) */
            json_object_set_new(pj, "synced_block",
                                pos[i].block ? json_integer((json_int_t)pos[i].block)
                                             : json_null());
            json_array_append_new(ps, pj);
        }
        json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:s, s:s, s:s, s:o}", "facility",
                              f.name, "owed", ow, "owed_usd", h.owed_usd, "collateral_usd",
                              h.collateral_usd, "borrowing_base_usd", h.borrowing_base_usd,
                              "lt_value_usd", h.lt_value_usd, "initial_hf", ini,
                              "margin_call_hf", mc, "liquidation_hf", liq, "status", status,
                              "positions", ps);
        json_object_set_new(j, "health_factor",
                            isinf(h.health_factor) ? json_null() : json_real(h.health_factor));
        cli_json_print(j, JSON_INDENT(2));
        json_decref(j);
    } else {
        for (size_t i = 0; i < np; i++) {
            char am[AMOUNT_STR_MAX];
            amount_format(am, &pos[i].units, pos[i].decimals);
            char at[40] = "at the head";
            if (pos[i].block)
                snprintf(at, sizeof at, "at block %llu", (unsigned long long)pos[i].block);
            printf("chain %-8llu %-6s %24s  %16.2f USD  %s\n",
                   (unsigned long long)pos[i].chain_id, pos[i].asset, am, pos[i].value_usd, at);
        }
        printf("collateral %.2f USD, borrowing base %.2f USD, owed %s %s (%.2f USD)\n",
               h.collateral_usd, h.borrowing_base_usd, ow, f.currency, h.owed_usd);
        printf("health factor %.4f (initial %s, margin call %s, liquidation %s): %s\n",
               h.health_factor, ini, mc, liq, status);
    }
out:
    free(pos);
    credit_book_free(&b);
    store_close(&db);
    return rc;
}

static int calls(cli_ctx *ctx, int argc, char **argv, bool check)
{
    const char *cmd = check ? "credit check" : "credit calls";
    bool json = ctx->json, all = false;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}, {"all", CLI_OPT_FLAG, &all}};
    int u = cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 0, "takes no arguments");
    if (u != EXIT_OK)
        return u;
    if (check && all)
        return cli_usage(cmd, "--all is for `credit calls`");
    err e;
    err_clear(&e);
    store *db = NULL;
    store_credit_call *cs = NULL;
    store_credit_facility *fs = NULL;
    size_t nc = 0, nf = 0, opened = 0, closed = 0;
    risk_limits lim;
    credit_actor a = actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 ||
        (check && (risk_limits_of(ctx->home, NULL, &lim, &e) < 0 ||
                   credit_check(db, (int64_t)time(NULL), lim.price_max_age, a.today, &opened,
                                &closed, &e) < 0)) ||
        store_credit_facility_list(db, &fs, &nf, &e) < 0 ||
        store_credit_calls(db, 0, all, &cs, &nc, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < nc; i++) {
        const char *fname = "?";
        for (size_t k = 0; k < nf; k++)
            if (fs[k].id == cs[i].facility_id)
                fname = fs[k].name;
        json_error_t je;
        json_t *plan = cs[i].plan[0] ? json_loads(cs[i].plan, 0, &je) : NULL;
        json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:o}", "id", (json_int_t)cs[i].id,
                              "facility", fname, "kind", cs[i].kind, "health_factor",
                              cs[i].health_factor, "opened_at", (json_int_t)cs[i].opened_at,
                              "cure_by", (json_int_t)cs[i].cure_by, "plan",
                              plan ? plan : json_null());
        if (cs[i].closed_at)
            json_object_set_new(j, "closed", json_string(cs[i].closed_why));
        json_array_append_new(arr, j);
    }
    if (json) {
        json_t *o = json_pack("{s:I, s:I, s:o}", "opened", (json_int_t)opened, "closed",
                              (json_int_t)closed, "calls", arr);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        if (check)
            printf("%zu opened, %zu closed\n", opened, closed);
        size_t i;
        json_t *j;
        json_array_foreach(arr, i, j)
        {
            char *plan = json_dumps(json_object_get(j, "plan"), JSON_COMPACT | JSON_ENCODE_ANY);
            printf("#%lld %-20s %-12s HF %-8s %s%s\n",
                   (long long)json_integer_value(json_object_get(j, "id")),
                   json_string_value(json_object_get(j, "facility")),
                   json_string_value(json_object_get(j, "kind")),
                   json_string_value(json_object_get(j, "health_factor")),
                   json_object_get(j, "closed") ? "closed " : "", plan ? plan : "");
            free(plan);
        }
        json_decref(arr);
    }
out:
    free(cs);
    free(fs);
    store_close(&db);
    return rc;
}

/* selector + 32-byte words */
static size_t calldata(uint8_t *out, const char *sig, uint8_t words[][32], size_t n)
{
    uint8_t h[32];
    keccak256(h, sig, strlen(sig));
    memcpy(out, h, 4);
    for (size_t i = 0; i < n; i++)
        memcpy(out + 4 + 32 * i, words[i], 32);
    return 4 + 32 * n;
}

static void word_addr(uint8_t w[32], const addr *a)
{
    memset(w, 0, 32);
    memcpy(w + 12, a->b, ADDR_LEN);
}

/* `credit seize CALL --propose --to ADDR | --approve | --execute`: the liquidation
 * proposal's seizure on the CollateralVault, each step signed and sent through the desk
 * pipeline as the operator (policy, summary, y/N, outbound record, receipt). */
static int seize(cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "credit seize", *to = NULL, *wait = NULL;
    bool propose = false, approve = false, execute = false;
    const cli_opt opts[] = {{"propose", CLI_OPT_FLAG, &propose}, {"approve", CLI_OPT_FLAG, &approve},
                            {"execute", CLI_OPT_FLAG, &execute}, {"to", CLI_OPT_STR, &to},
                            {"wait", CLI_OPT_STR, &wait}};
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || propose + approve + execute != 1)
        return cli_usage(cmd, "needs a liquidation proposal ID and one of --propose --to ADDR, "
                              "--approve, --execute");
    if (propose != (to != NULL))
        return cli_usage(cmd, "--to ADDR (where the seized collateral goes) is for --propose");
    char *endp;
    long long call_id = strtoll(argv[1], &endp, 10);
    if (*endp || call_id <= 0)
        return cli_usage(cmd, "ID is a number from fusion credit calls");
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage(cmd, "--wait takes seconds");
    err e;
    err_clear(&e);
    addr dest;
    if (to && addr_parse(&dest, to, &e) < 0)
        return cli_usage(cmd, "--to: %s", e.msg);
    desk *d = NULL;
    store_credit_call *cs = NULL, *c = NULL;
    store_credit_facility *fs = NULL, *f = NULL;
    size_t nc = 0, nf = 0;
    json_t *plan = NULL;
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    store *db = rc == 0 ? desk_store(d) : NULL;
    if (rc == 0)
        rc = store_credit_calls(db, 0, false, &cs, &nc, &e);
    if (rc == 0)
        rc = store_credit_facility_list(db, &fs, &nf, &e);
    for (size_t i = 0; rc == 0 && i < nc; i++)
        if (cs[i].id == call_id && !strcmp(cs[i].kind, "liquidation"))
            c = &cs[i];
    if (rc == 0 && !c)
        rc = err_set(&e, ERR_NOT_FOUND, "no open liquidation proposal #%lld (fusion credit calls)",
                     call_id);
    for (size_t i = 0; rc == 0 && i < nf; i++)
        if (fs[i].id == c->facility_id)
            f = &fs[i];
    json_error_t je;
    if (rc == 0 && (!f || !(plan = json_loads(c->plan, 0, &je)) ||
                    !json_object_get(plan, "asset")))
        rc = err_set(&e, ERR_STATE, "liquidation proposal #%lld has no plan", call_id);
    uint64_t chain_id = 0;
    addr vault, token, owner;
    u256 units = u256_from_u64(0), bal;
    if (rc == 0) {
        chain_id = (uint64_t)json_integer_value(json_object_get(plan, "chain_id"));
        const char *un = json_string_value(json_object_get(plan, "units"));
        rc = u256_from_dec(&units, un ? un : "", &e);
    }
    if (rc == 0)
        rc = credit_seize_target(db, f, chain_id, json_string_value(json_object_get(plan, "asset")),
                                 &vault, &token, &owner, &bal, &e);
    json_t *req = plan ? json_object_get(plan, "request_id") : NULL;
    if (rc == 0 && propose && req)
        rc = err_set(&e, ERR_STATE, "proposal #%lld is already on chain as vault request %lld",
                     call_id, (long long)json_integer_value(req));
    if (rc == 0 && !propose && !req)
        rc = err_set(&e, ERR_STATE, "proposal #%lld is not on chain yet: --propose --to ADDR first",
                     call_id);
    if (rc == 0 && propose) {
        const char *o = json_string_value(json_object_get(plan, "owner"));
        if (o && addr_parse(&owner, o, &e) < 0)
            rc = -1;
        if (u256_cmp(&units, &bal) > 0)
            units = bal; /* at most what that owner holds */
    }
    uint64_t next_id = 0;
    if (rc == 0 && propose)
        rc = credit_vault_request_count(db, chain_id, &vault, &next_id, &e);
    uint8_t words[4][32], data[4 + 4 * 32];
    size_t len = 0;
    desk_step st;
    memset(&st, 0, sizeof st);
    if (rc == 0) {
        if (propose) {
            word_addr(words[0], &owner);
            word_addr(words[1], &token);
            u256_to_be(words[2], &units);
            word_addr(words[3], &dest);
            len = calldata(data, "proposeSeizure(address,address,uint256,address)", words, 4);
            st.action = "credit_seize";
        } else {
            u256 rid = u256_from_u64((uint64_t)json_integer_value(req));
            u256_to_be(words[0], &rid);
            len = calldata(data, approve ? "approve(uint256)" : "execute(uint256)", words, 1);
            st.action = approve ? "credit_seize_approve" : "credit_seize_execute";
        }
        st.chain_id = chain_id;
        st.to = vault;
        st.data = data;
        st.len = len;
        st.token = token;
        st.amount = units;
        st.payer = &owner;
        st.payee = propose ? &dest : NULL;
        st.note = "seizure of a credit facility's collateral (liquidation proposal)";
        desk_result res;
        rc = desk_step_send(d, &st, &res, &e);
    }
    if (rc == 0 && propose) {
        char os[ADDR_STR_MAX], ds[ADDR_STR_MAX], un[U256_DEC_MAX];
        addr_to_checksum(os, &owner);
        addr_to_checksum(ds, &dest);
        u256_to_dec(un, &units);
        json_object_set_new(plan, "request_id", json_integer((json_int_t)next_id));
        json_object_set_new(plan, "owner", json_string(os));
        json_object_set_new(plan, "to", json_string(ds));
        json_object_set_new(plan, "units", json_string(un));
        char *txt = json_dumps(plan, JSON_COMPACT | JSON_SORT_KEYS);
        rc = txt ? store_credit_call_set_plan(db, c->id, txt, &e)
                 : err_set(&e, ERR_NOMEM, "out of memory");
        free(txt);
        if (rc == 0)
            printf("liquidation proposal #%lld is vault request %llu on chain %llu\n", call_id,
                   (unsigned long long)next_id, (unsigned long long)chain_id);
    }
    json_decref(plan);
    free(cs);
    free(fs);
    desk_free(&d);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

static bool has_role(const char *csv, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, role, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

/* `credit withdrawal FACILITY ID --chain C --approve|--execute`: the desk's approval of a
 * counterparty's withdrawal request on the vault, after the pre-trade check: refused with
 * the numbers when the facility's health factor after it would be below the initial level,
 * unless a risk officer overrides with a signed reason. */
static int withdrawal(cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "credit withdrawal", *chain = NULL, *wait = NULL, *override = NULL;
    bool approve = false, execute = false;
    const cli_opt opts[] = {{"chain", CLI_OPT_STR, &chain},     {"approve", CLI_OPT_FLAG, &approve},
                            {"execute", CLI_OPT_FLAG, &execute}, {"override", CLI_OPT_STR, &override},
                            {"wait", CLI_OPT_STR, &wait}};
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 2 || !chain || approve == execute)
        return cli_usage(cmd, "needs FACILITY REQUEST_ID --chain CHAIN and --approve or --execute");
    if (override && !approve)
        return cli_usage(cmd, "--override is for --approve");
    char *endp;
    unsigned long long rid = strtoull(argv[2], &endp, 10);
    if (*endp || argv[2][0] == '-')
        return cli_usage(cmd, "REQUEST_ID is the vault's request number");
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage(cmd, "--wait takes seconds");
    if (override && (!*override || strlen(override) > 200))
        return cli_usage(cmd, "--override needs a reason of 1 to 200 characters");
    err e;
    err_clear(&e);
    if (credit_text_check("--override", override, &e) < 0)
        return cli_fail(&e);
    desk *d = NULL;
    store_credit_facility f;
    credit_withdrawal w;
    credit_health before, after;
    store_chain ch;
    risk_limits lim;
    bool found = false;
    credit_actor a = actor(ctx);
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    store *db = rc == 0 ? desk_store(d) : NULL;
    if (rc == 0)
        rc = credit_facility_get(db, argv[1], &f, &e);
    if (rc == 0)
        rc = store_chain_find_name(db, chain, &ch, &found, &e);
    if (rc == 0 && !found)
        rc = err_set(&e, ERR_NOT_FOUND, "no chain named \"%.40s\" (fusion chain list)", chain);
    if (rc == 0)
        rc = risk_limits_of(ctx->home, NULL, &lim, &e);
    if (rc == 0)
        rc = credit_withdrawal_check(db, &f, a.today, lim.price_max_age, ch.chain_id, rid, &w,
                                     &before, &after, &e);
    char hf[32], lvl[16];
    credit_hf_format(f.initial_e4, lvl);
    snprintf(hf, sizeof hf, "%.4f", after.health_factor);
    bool below = rc == 0 && approve && after.health_factor < (double)f.initial_e4 / CREDIT_HF_ONE;
    if (below && !override)
        rc = err_set(&e, ERR_DENIED,
                     "the withdrawal would take facility %s's health factor to %s, below its "
                     "initial level %s (collateral %.2f -> %.2f USD, liquidation-threshold value "
                     "%.2f USD, owed %.2f USD): nothing signed; a risk officer may override with "
                     "--override REASON",
                     f.name, hf, lvl, before.collateral_usd, after.collateral_usd,
                     after.lt_value_usd, after.owed_usd);
    if (rc == 0 && below && !has_role(desk_operator(d)->roles, "risk"))
        rc = err_set(&e, ERR_DENIED, "operator \"%.63s\" lacks the risk role: only a risk officer "
                                     "overrides the health check", desk_operator(d)->name);
    if (rc == 0 && below) {
        char am[U256_DEC_MAX];
        u256_to_dec(am, &w.amount);
        json_t *ov = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:f}",
                               "facility", f.name, "action", "withdrawal", "reason", override,
                               "chain_id", (json_int_t)ch.chain_id, "request", (json_int_t)rid,
                               "asset", w.asset, "amount_units", am, "health_factor_after", hf,
                               "initial_hf", lvl, "collateral_usd_after", after.collateral_usd,
                               "lt_value_usd_after", after.lt_value_usd, "owed_usd",
                               after.owed_usd);
        rc = store_audit(db, ctx->home, desk_operator(d)->name, "credit.override", ov, &e);
        json_decref(ov);
    }
    if (rc == 0) {
        uint8_t words[1][32], data[36];
        u256 r = u256_from_u64(rid);
        u256_to_be(words[0], &r);
        size_t len = calldata(data, approve ? "approve(uint256)" : "execute(uint256)", words, 1);
        desk_step st;
        memset(&st, 0, sizeof st);
        st.action = approve ? "credit_withdrawal_approve" : "credit_withdrawal_execute";
        st.chain_id = ch.chain_id;
        st.to = w.vault;
        st.data = data;
        st.len = len;
        st.token = w.token;
        st.amount = w.amount;
        st.payer = &w.owner;
        st.payee = &w.owner;
        st.note = "a counterparty's collateral withdrawal (credit facility)";
        desk_result res;
        rc = desk_step_send(d, &st, &res, &e);
    }
    if (rc == 0 && approve)
        printf("withdrawal %llu approved: facility %s's health factor after it %s (initial %s)%s\n",
               rid, f.name, hf, lvl, below ? ", overridden" : "");
    desk_free(&d);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

int cmd_credit(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("credit", "needs a subcommand: facility, draw, repay, fee, ledger, statement, health, check, calls, seize, "
                         "withdrawal");
    const char *sub = argv[1];
    settle_draws(ctx);
    if (!strcmp(sub, "facility")) {
        if (argc < 3)
            return cli_usage("credit facility", "needs add, edit, show or list");
        const char *v = argv[2];
        if (!strcmp(v, "add") || !strcmp(v, "edit"))
            return fac_change(ctx, argc - 2, argv + 2, !strcmp(v, "add"));
        if (!strcmp(v, "show") || !strcmp(v, "list"))
            return fac_show(ctx, argc - 2, argv + 2, !strcmp(v, "list"));
        return cli_usage("credit facility", "unknown action '%s' (add, edit, show, list)", v);
    }
    if (!strcmp(sub, "draw"))
        return credit_row(ctx, argc - 1, argv + 1, CREDIT_DRAW);
    if (!strcmp(sub, "repay"))
        return credit_row(ctx, argc - 1, argv + 1, CREDIT_REPAY);
    if (!strcmp(sub, "fee"))
        return credit_row(ctx, argc - 1, argv + 1, CREDIT_FEE);
    if (!strcmp(sub, "ledger"))
        return ledger(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "statement"))
        return statement(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "health"))
        return health(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "check") || !strcmp(sub, "calls"))
        return calls(ctx, argc - 1, argv + 1, !strcmp(sub, "check"));
    if (!strcmp(sub, "seize"))
        return seize(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "withdrawal"))
        return withdrawal(ctx, argc - 1, argv + 1);
    return cli_usage("credit",
                     "unknown subcommand '%s' (facility, draw, repay, fee, ledger, statement, health, check, "
                     "calls, seize, withdrawal)",
                     sub);
}
