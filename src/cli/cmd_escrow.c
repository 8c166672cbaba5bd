/* cmd_escrow.c: `fusion escrow list|show`, the escrow projection as sync built it
 * from chain events: state, amounts in the token's units, approvals, and the full
 * event timeline. Read-only; the escrow-workflow issue adds the actions. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/bytes.h"
#include "base/log.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/address.h"
#include "desk/names.h"
#include "keystore/keystore.h"
#include "pgstore/pg_desk.h"
#include "store/store.h"
#include "sync/event_json.h"

static void hexs(char *out, size_t cap, const uint8_t *b, size_t n)
{
    if (hex_encode(out, cap, b, n, true) == 0 && cap)
        out[0] = '\0';
}

/* Base units with `decimals`, exact (base/amount.h). */
static void format_units(char *out, size_t cap, const u256 *v, unsigned decimals)
{
    char s[AMOUNT_STR_MAX];
    amount_format(s, v, decimals);
    snprintf(out, cap, "%s", s);
}

/* EIP-55 form for people; JSON keeps the lowercase form the database uses. */
static void eip55(char *out, size_t cap, const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, a);
    snprintf(out, cap, "%s", s);
}

typedef struct asset {
    char symbol[STORE_SYMBOL_MAX + 8];
    unsigned decimals;
    bool known;
} asset;

/* A chain's name or a token's symbol as a line shows it (64 bytes of text, escaped). */
#define ESCROW_SHOWN_MAX (6 * 64 + 4)

static void asset_of(store *db, const store_chain *ch, const addr *token, asset *a)
{
    memset(a, 0, sizeof *a);
    if (ch && addr_is_zero(token)) {
        snprintf(a->symbol, sizeof a->symbol, "%s", ch->native_symbol);
        a->decimals = ch->native_decimals;
        a->known = true;
        return;
    }
    store_token *ts = NULL;
    size_t n = 0;
    err e;
    if (ch && store_token_list(db, ch->chain_id, &ts, &n, &e) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (memcmp(ts[i].address.b, token->b, ADDR_LEN) == 0) {
                snprintf(a->symbol, sizeof a->symbol, "%s", ts[i].symbol);
                a->decimals = ts[i].decimals;
                a->known = true;
            }
        }
    }
    free(ts);
    if (!a->known)
        snprintf(a->symbol, sizeof a->symbol, "units");
}

static int parse_address(addr *out, const char *s, err *e)
{
    return addr_parse(out, s ? s : "", e);
}

static json_t *jaddr(const addr *a)
{
    char s[ADDR_STR_MAX];
    hexs(s, sizeof s, a->b, ADDR_LEN);
    return json_string(s);
}

static json_t *jhash(const uint8_t h[32])
{
    char s[67];
    hexs(s, sizeof s, h, 32);
    return json_string(s);
}

static json_t *jdec(const u256 *v)
{
    char s[U256_DEC_MAX];
    u256_to_dec(s, v);
    return json_string(s);
}

/* The desk's address book (entities, operators, the key store's labels) for the text
 * output; NULL (addresses alone) when it cannot be read. */
static desk_names *book_open(cli_ctx *ctx, store *db)
{
    keystore *ks = NULL;
    desk_names *names = NULL;
    err e;
    err_clear(&e);
    if (keystore_open(&ks, ctx->home, ctx->operator_name, &e) < 0)
        ks = NULL;
    if (desk_names_load(&names, db, ks, &e) < 0) {
        LOG_W("cli", "address book: %s", e.msg);
        names = NULL;
    }
    keystore_free(&ks);
    return names;
}

/* "Name 0xAbC...": the book's name (made safe to print) and the EIP-55 address. */
static const char *label(char *out, size_t cap, const desk_names *names, uint64_t chain_id,
                         const addr *a)
{
    char hex[ADDR_STR_MAX], safe[STORE_ENTITY_NAME_MAX * 4 + 8];
    addr_to_checksum(hex, a);
    const char *who = desk_names_of(names, chain_id, a);
    if (who)
        snprintf(out, cap, "%s %s", text_safe_str(safe, sizeof safe, who), hex);
    else
        snprintf(out, cap, "%s", hex);
    return out;
}

static const store_chain *chain_of(const store_chain *chains, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (chains[i].chain_id == id)
            return &chains[i];
    return NULL;
}

static json_t *escrow_json(store *db, const store_chain *ch, const store_escrow *x)
{
    asset a;
    asset_of(db, ch, &x->token, &a);
    char amt[128];
    format_units(amt, sizeof amt, &x->amount, a.decimals);
    json_t *approvers = json_array(), *approved = json_array();
    for (unsigned i = 0; i < x->n_approvers; i++)
        json_array_append_new(approvers, jaddr(&x->approvers[i]));
    for (unsigned i = 0; i < x->n_approvals; i++)
        json_array_append_new(approved, json_pack("{s:o, s:I, s:o, s:b}", "approver",
                                                  jaddr(&x->approvals[i].approver), "block",
                                                  (json_int_t)x->approvals[i].block_number, "tx",
                                                  jhash(x->approvals[i].tx_hash), "pending",
                                                  x->approvals[i].pending));
    json_t *o = json_pack(
        "{s:s?, s:I, s:o, s:o, s:o, s:o, s:o, s:s?, s:o, s:s?, s:o, s:i, s:o, s:I, s:s, s:s?,"
        " s:i, s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:i, s:b, s:s?}",
        "chain", ch ? ch->name : NULL, "chain_id", (json_int_t)x->chain_id, "address",
        jaddr(&x->address), "factory", jaddr(&x->factory), "payer", jaddr(&x->payer), "payee",
        jaddr(&x->payee), "token", jaddr(&x->token), "token_symbol", a.known ? a.symbol : NULL,
        "amount", jdec(&x->amount), "amount_display", a.known ? amt : NULL, "approvers", approvers,
        "threshold", (int)x->threshold, "arbiter", jaddr(&x->arbiter), "deadline",
        (json_int_t)x->deadline, "state", escrow_state_str(x->state), "resolved_to",
        x->state == ESCROW_RESOLVED ? (x->resolved_to_payee ? "payee" : "payer") : NULL,
        "approvals", (int)x->n_approvals, "approved_by", approved, "funded", jdec(&x->funded),
        "released", jdec(&x->released), "refunded", jdec(&x->refunded), "created_block",
        (json_int_t)x->created_block, "created_tx", jhash(x->created_tx), "last_event_block",
        (json_int_t)x->last_event_block, "events", (int)x->n_events, "pending", x->pending,
        "anomaly", x->anomaly[0] ? x->anomaly : NULL);
    if (o) {
        json_object_set_new(o, "version", json_integer((json_int_t)x->version));
        json_object_set_new(o, "inconsistent", json_boolean(x->inconsistent));
        json_object_set_new(o, "created_arbiter", jaddr(&x->created_arbiter));
        if (x->version == 2) {
            json_object_set_new(o, "dispute_window", json_integer((json_int_t)x->dispute_window));
            json_object_set_new(o, "terms_hash", jhash(x->terms_hash));
        }
    }
    return o;
}

/* The escrows (and their events and checkpoints) from where the desk keeps its book
 * (book.conf): the desk's book attached to db (pg_desk_book_attach; closed with db). A
 * server away fails the read in one line. */
static int book_reads(const cli_ctx *ctx, store *db, err *e)
{
    return pg_desk_book_attach(db, ctx->home, PG_DESK_READS, NULL, e);
}

static int escrow_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json, csv = false;
    const char *chain_name = NULL, *state_s = NULL;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"csv", CLI_OPT_FLAG, &csv},
        {"chain", CLI_OPT_STR, &chain_name},
        {"state", CLI_OPT_STR, &state_s},
    };
    size_t n_pos;
    int u = cli_opts("escrow list", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK)
        u = cli_json_or_csv("escrow list", &json, csv);
    if (u != EXIT_OK)
        return u;
    if (n_pos > 0)
        return cli_usage("escrow list", "unexpected argument '%s'", argv[1]);
    err e;
    err_clear(&e);
    escrow_state want = ESCROW_CREATED;
    if (state_s && escrow_state_parse(&want, state_s, &e) < 0)
        return cli_usage("escrow list",
                         "%s (created, funded, released, refunded, disputed, "
                         "resolved)",
                         e.msg);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    if (book_reads(ctx, db, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_chain *chains = NULL;
    size_t nc = 0;
    store_escrow *xs = NULL;
    size_t nx = 0;
    uint64_t only = 0;
    int rc = store_chain_list(db, &chains, &nc, &e);
    if (rc == 0 && chain_name) {
        rc = -1;
        err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)", chain_name);
        for (size_t i = 0; i < nc; i++)
            if (strcmp(chains[i].name, chain_name) == 0) {
                only = chains[i].chain_id;
                rc = 0;
            }
    }
    if (rc == 0)
        rc = store_escrow_list(db, only, &xs, &nx, &e);
    if (rc < 0) {
        free(chains);
        store_close(&db);
            return cli_fail(&e);
    }
    json_t *arr = json_array();
    if (!json)
        printf("%-10s %-42s %-9s %28s %-8s %-9s %-42s %-20s %s\n", "CHAIN", "ADDRESS", "STATE",
               "AMOUNT", "ASSET", "APPROVALS", "PAYEE", "FLAGS", "PAYEE NAME");
    desk_names *names = json ? NULL : book_open(ctx, db);
    size_t shown = 0;
    for (size_t i = 0; i < nx; i++) {
        const store_escrow *x = &xs[i];
        if (state_s && x->state != want)
            continue;
        shown++;
        const store_chain *ch = chain_of(chains, nc, x->chain_id);
        if (json) {
            json_array_append_new(arr, escrow_json(db, ch, x));
            continue;
        }
        asset a;
        asset_of(db, ch, &x->token, &a);
        char amt[128], address[ADDR_STR_MAX], payee[ADDR_STR_MAX], appr[24];
        format_units(amt, sizeof amt, &x->amount, a.decimals);
        eip55(address, sizeof address, &x->address);
        eip55(payee, sizeof payee, &x->payee);
        snprintf(appr, sizeof appr, "%u/%u", x->n_approvals, x->threshold);
        char flags[32];
        snprintf(flags, sizeof flags, "%s%s", x->pending ? "pending " : "",
                 x->inconsistent ? "inconsistent" : x->anomaly[0] ? "anomaly" : "");
        const char *who = desk_names_of(names, x->chain_id, &x->payee);
        char safe[STORE_ENTITY_NAME_MAX * 4 + 8];
        char chs[ESCROW_SHOWN_MAX], sym[ESCROW_SHOWN_MAX];
        printf("%-10.10s %-42s %-9s %28s %-8.8s %-9s %-42s %-20s %s\n",
               text_safe_str(chs, sizeof chs, ch ? ch->name : "?"), address,
               escrow_state_str(x->state), amt, text_safe_str(sym, sizeof sym, a.symbol), appr,
               payee, flags, who ? text_safe_str(safe, sizeof safe, who) : "");
    }
    if (csv) {
        u = cli_csv_print(arr);
    } else if (json) {
        cli_json_print(arr, JSON_INDENT(2));
    } else if (shown == 0) {
        printf("(no escrows%s)\n", nx ? " match" : " yet: run `fusion sync`");
    }
    json_decref(arr);
    desk_names_free(&names);
    free(xs);
    free(chains);
    store_close(&db);
    return u;
}

static int escrow_show(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json;
    const char *chain_name = NULL;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"chain", CLI_OPT_STR, &chain_name},
    };
    int u = cli_opts_n("escrow show", argc, argv, opts, CLI_NOPTS(opts), 1,
                       "needs exactly one escrow ADDRESS");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    addr want;
    if (parse_address(&want, argv[1], &e) < 0)
        return cli_usage("escrow show", "%s", e.msg);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    if (book_reads(ctx, db, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_chain *chains = NULL;
    size_t nc = 0;
    store_escrow *xs = NULL;
    size_t nx = 0;
    if (store_chain_list(db, &chains, &nc, &e) < 0 || store_escrow_list(db, 0, &xs, &nx, &e) < 0)
        goto fail;
    const store_escrow *x = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < nx; i++) {
        if (memcmp(xs[i].address.b, want.b, ADDR_LEN) != 0)
            continue;
        const store_chain *ch = chain_of(chains, nc, xs[i].chain_id);
        if (chain_name && (!ch || strcmp(ch->name, chain_name) != 0))
            continue;
        matches++;
        x = &xs[i];
    }
    if (matches == 0) {
        err_set(&e, ERR_NOT_FOUND,
                "no escrow %s%s%s is known: check the address, or run "
                "`fusion sync`",
                argv[1], chain_name ? " on chain " : "", chain_name ? chain_name : "");
        goto fail;
    }
    if (matches > 1) {
        err_set(&e, ERR_USAGE, "escrow %s exists on several chains: pick one with --chain NAME",
                argv[1]);
        goto fail;
    }
    const store_chain *ch = chain_of(chains, nc, x->chain_id);
    store_checkpoint cp;
    store_event_list evs;
    if (store_checkpoint_get(db, x->chain_id, &cp, &e) < 0 ||
        store_event_list_escrow(db, x->chain_id, &x->address, &evs, &e) < 0)
        goto fail;
    if (json) {
        json_t *o = escrow_json(db, ch, x);
        json_t *tl = json_array();
        for (size_t i = 0; i < evs.n; i++) {
            const store_event *ev = &evs.items[i];
            json_error_t jerr;
            char *text = sync_event_json_of(ev);
            json_t *fields = text ? json_loads(text, 0, &jerr) : NULL;
            free(text);
            json_array_append_new(
                tl, json_pack("{s:I, s:o, s:o, s:i, s:o, s:s?, s:o, s:b}", "block",
                              (json_int_t)ev->block_number, "block_hash", jhash(ev->block_hash),
                              "tx", jhash(ev->tx_hash), "log_index", (int)ev->log_index, "emitter",
                              jaddr(&ev->address), "name", ev->name[0] ? ev->name : NULL, "fields",
                              fields ? fields : json_null(), "pending",
                              ev->block_number > cp.final_block));
        }
        json_object_set_new(o, "timeline", tl);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        asset a;
        asset_of(db, ch, &x->token, &a);
        char s[STORE_ENTITY_NAME_MAX * 4 + 64], lab[STORE_ENTITY_NAME_MAX * 4 + 64], amt[128];
        desk_names *names = book_open(ctx, db);
        eip55(s, sizeof s, &x->address);
        /* the chain's name, the token's symbol and the anomaly are stored text: shown with
         * their controls escaped */
        char chs[ESCROW_SHOWN_MAX], sym[ESCROW_SHOWN_MAX];
        text_safe_str(sym, sizeof sym, a.symbol);
        printf("escrow     %s on %s (chain %llu)\n", s,
               text_safe_str(chs, sizeof chs, ch ? ch->name : "?"),
               (unsigned long long)x->chain_id);
        printf("state      %s%s%s%s\n", escrow_state_str(x->state),
               x->state == ESCROW_RESOLVED
                   ? (x->resolved_to_payee ? " to the payee" : " to the payer")
                   : "",
               x->pending ? " (pending: not final yet)" : "",
               x->inconsistent ? " (inconsistent: a later event did not fit; see anomaly)" : "");
        printf("version    %u\n", x->version);
        format_units(amt, sizeof amt, &x->amount, a.decimals);
        eip55(s, sizeof s, &x->token);
        printf("amount     %s %s (token %s)\n", amt, sym, s);
        printf("payer      %s\n", label(lab, sizeof lab, names, x->chain_id, &x->payer));
        printf("payee      %s\n", label(lab, sizeof lab, names, x->chain_id, &x->payee));
        printf("arbiter    %s\n", label(lab, sizeof lab, names, x->chain_id, &x->arbiter));
        if (!addr_equal(&x->arbiter, &x->created_arbiter)) {
            eip55(s, sizeof s, &x->created_arbiter);
            printf("           (handed over; named at creation: %s)\n", s);
        }
        printf("deadline   %llu (unix time)\n", (unsigned long long)x->deadline);
        if (x->version == 2) {
            printf("dispute    window %llu s: the arbiter decides a dispute until %llu, then the "
                   "payer may refund\n",
                   (unsigned long long)x->dispute_window,
                   (unsigned long long)(x->deadline + x->dispute_window));
            hexs(s, sizeof s, x->terms_hash, 32);
            printf("terms hash %s\n", s);
        }
        printf("approvals  %u of %u needed, %u approvers\n", x->n_approvals, x->threshold,
               x->n_approvers);
        for (unsigned i = 0; i < x->n_approvers; i++) {
            snprintf(s, sizeof s, "%s", label(lab, sizeof lab, names, x->chain_id, &x->approvers[i]));
            const char *mark = "";
            for (unsigned k = 0; k < x->n_approvals; k++)
                if (memcmp(x->approvals[k].approver.b, x->approvers[i].b, ADDR_LEN) == 0)
                    mark = x->approvals[k].pending ? "approved (pending)" : "approved";
            printf("           %s %s\n", s, mark);
        }
        format_units(amt, sizeof amt, &x->funded, a.decimals);
        printf("funded     %s %s\n", amt, sym);
        format_units(amt, sizeof amt, &x->released, a.decimals);
        printf("released   %s %s\n", amt, sym);
        format_units(amt, sizeof amt, &x->refunded, a.decimals);
        printf("refunded   %s %s\n", amt, sym);
        if (x->anomaly[0]) {
            char *an = text_safe_dup(x->anomaly, strlen(x->anomaly));
            printf("anomaly    %s\n", an ? an : "?");
            free(an);
        }
        printf("\ntimeline (%zu events)\n", evs.n);
        for (size_t i = 0; i < evs.n; i++) {
            const store_event *ev = &evs.items[i];
            hexs(s, sizeof s, ev->tx_hash, 32);
            /* the fields hold outside text (a dispute's reason): JSON escapes C0 only, so
             * bidi and C1 controls are made visible before they reach the terminal */
            char *raw = sync_event_json_of(ev);
            char *dec = raw ? text_safe_dup(raw, strlen(raw)) : NULL;
            free(raw);
            printf("  block %-10llu %-14s %s%s\n", (unsigned long long)ev->block_number,
                   ev->name[0] ? ev->name : "(unknown)", dec ? dec : "",
                   ev->block_number > cp.final_block ? "  [pending]" : "");
            free(dec);
            printf("  %-16s tx %s log %u\n", "", s, ev->log_index);
        }
        desk_names_free(&names);
    }
    store_event_list_free(&evs);
    free(xs);
    free(chains);
    store_close(&db);
    return EXIT_OK;
fail:
    free(xs);
    free(chains);
    store_close(&db);
    return cli_fail(&e);
}

int cmd_escrow(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("escrow", "needs a subcommand: list or show");
    if (strcmp(argv[1], "list") == 0)
        return escrow_list(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return escrow_show(ctx, argc - 1, argv + 1);
    return cmd_escrow_act(ctx, argc, argv); /* create, fund, approve, ... */
}

json_t *cli_escrow_json(store *db, const store_chain *ch, const store_escrow *x)
{
    return escrow_json(db, ch, x);
}
