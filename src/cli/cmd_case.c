/* cmd_case.c: `fusion case ...`: screening of synced escrows into cases, the officers'
 * queues (new, mine, escalated, overdue), the lifecycle actions, the SAR-style export and
 * the gate decision the desk's escrow actions consult. */
#include "cli/compliance_cli.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/text.h"
#include "base/fsperm.h"
#include "audit/audit.h"
#include "base/bytes.h"
#include "base/csv.h"
#include "cli/opts.h"
#include "keystore/keystore.h"
#include "pgstore/pg_desk.h"
#include "store/store_book.h"

static int parse_id(const char *s, int64_t *id)
{
    if (s && s[0] == '#')
        s++;
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return -1;
    *id = (int64_t)strtoll(s, NULL, 10);
    return *id > 0 ? 0 : -1;
}

/* ---- screen ---- */

static volatile sig_atomic_t stop_follow;

static void on_stop(int sig)
{
    (void)sig;
    stop_follow = 1;
}

/* --follow: screens again whenever another connection (the syncer) commits, until
 * SIGINT/SIGTERM. PRAGMA data_version ignores this connection's own writes. */
static int follow(store *db, compliance_screener *scr, err *e)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint64_t seen = 0, v = 0;
    if (store_data_version(db, &seen, e) < 0)
        return -1;
    void *conn = NULL;
    const store_book_reader *rd = store_reader(db, &conn);
    unsigned ticks = 0;
    while (!stop_follow) {
        usleep(250 * 1000);
        /* a book on a server: its commits are announced there, and a lost connection
         * (which hears nothing until a read makes it again) is read every 30 s */
        bool changed = rd && ++ticks % 120 == 0;
        bool heard = false;
        if (rd && rd->changed(conn, &heard, e) < 0)
            return -1;
        changed = changed || heard;
        if (store_data_version(db, &v, e) < 0)
            return -1;
        if (v == seen && !changed)
            continue;
        seen = v;
        compliance_screen_stats st;
        if (compliance_screener_run(scr, db, (int64_t)time(NULL), &st, e) < 0)
            return -1;
        if (st.screened)
            printf("screened %zu new escrows: %zu hits, %zu cases opened\n", st.screened, st.hits,
                   st.cases_opened);
        fflush(stdout);
    }
    return 0;
}

static int case_screen(cli_ctx *ctx, int argc, char **argv)
{
    compliance_sources src = {0};
    bool follow_on = false;
    const cli_opt opts[] = {
        {"lists", CLI_OPT_STR, &src.lists},   {"desk-list", CLI_OPT_STR, &src.desk_list},
        {"fatf", CLI_OPT_STR, &src.fatf},     {"follow", CLI_OPT_FLAG, &follow_on},
        {"prices", CLI_OPT_STR, &src.prices}, {"config", CLI_OPT_STR, &src.config},
    };
    size_t n_pos;
    int u = cli_opts("case screen", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("case screen", "unexpected argument '%s'", argv[1]);
    err e;
    err_clear(&e);
    compliance_screener *scr = NULL;
    store *db = NULL;
    compliance_screen_stats st;
    int rc = EXIT_OK;
    /* the escrows from where the desk keeps its book (book.conf: the server's), the
     * screening's records and cases from desk.db */
    if (compliance_screener_new(&scr, ctx->home, &src, &e) < 0 || cli_desk_open(ctx, &db, &e) < 0 ||
        pg_desk_book_attach(db, ctx->home, PG_DESK_READS, NULL, &e) < 0 ||
        compliance_screener_run(scr, db, (int64_t)time(NULL), &st, &e) < 0) {
        rc = cli_fail(&e);
    } else {
        screen_list_info info;
        screen_sanctions_info(screen_ctx_sanctions(compliance_screener_ctx(scr)), &info);
        printf("screened %zu new escrows against sanctions list %s: %zu hits, %zu cases opened\n",
               st.screened, info.version, st.hits, st.cases_opened);
        fflush(stdout);
        if (follow_on && follow(db, scr, &e) < 0)
            rc = cli_fail(&e);
    }
    store_close(&db);
    compliance_screener_free(&scr);
    return rc;
}

/* `case rules --sanctions off|on`: the officer's decision, signed with their key. */
static int rules_decide(cli_ctx *ctx, const char *state, const char *reason)
{
    bool off = strcmp(state, "off") == 0;
    if (!off && strcmp(state, "on") != 0)
        return cli_usage("case rules", "--sanctions wants off or on, not '%s'", state);
    if (off && (!reason || !reason[0]))
        return cli_usage("case rules", "--sanctions off needs --reason TEXT (why the desk stops "
                                       "screening against the sanctions lists)");
    err e;
    err_clear(&e);
    store *db = NULL;
    keystore *ks = NULL;
    ks_key *key = NULL;
    compliance_actor a = ccli_actor(ctx);
    store_operator op;
    bool found = false;
    char pass[1024];
    uint8_t sig[65], salt[32] = {0}, digest[32];
    bool signed_desk = false;
    statement st;
    int rc = EXIT_FAIL;
    if (cli_desk_open(ctx, &db, &e) < 0 || compliance_require_officer(db, &a, &e) < 0 ||
        store_operator_get(db, a.operator_name, &op, &found, &e) < 0 ||
        audit_desk_id(ctx->home, salt, &signed_desk, &e) < 0)
        goto out;
    if (!signed_desk)
        memset(salt, 0, sizeof salt); /* no desk id before the genesis */
    /* checked before the passphrase is asked for and anything is signed */
    if (compliance_sanctions_reason_check(off, reason, &e) < 0)
        goto out;
    if (compliance_sanctions_statement(&st, a.operator_name, &op.address, off, reason, a.now,
                                       &e) < 0)
        goto out;
    statement_digest(digest, salt, &st);
    /* The decision is signed by the officer's own key: their passphrase, not a flag (the
     * key main unlocked for this decision, or unlocked here on a desk without a genesis). */
    ks_key *signing = cli_signer_key(a.operator_name);
    int pr = 0;
    if (!signing) {
        pr = keystore_open(&ks, ctx->home, a.operator_name, &e);
        if (pr == 0)
            pr = cli_passphrase(ctx, pass, sizeof pass, &e);
        if (pr == 0)
            pr = keystore_unlock(ks, &op.address, pass, &key, &e);
        sodium_memzero(pass, sizeof pass);
        signing = key;
    }
    if (pr < 0 || keystore_sign_typed(signing, sig, digest, &e) < 0 ||
        compliance_sanctions_decide(db, &a, off, reason, salt, sig, &e) < 0)
        goto out;
    char who[ADDR_STR_MAX];
    addr_to_checksum(who, &op.address);
    if (off)
        printf("recorded: sanctions screening may be switched off on this desk (decision of %s, "
               "signed by %s, audited); `sanctions.enabled = no` in compliance.conf now takes "
               "effect when sync, the UI or `case screen` next load the rules\n",
               a.operator_name, who);
    else
        printf("recorded: sanctions screening is required on this desk again (decision of %s, "
               "signed by %s, audited); a `sanctions.enabled = no` line is refused from now on\n",
               a.operator_name, who);
    rc = EXIT_OK;
out:
    keystore_lock(&key);
    keystore_free(&ks);
    store_close(&db);
    return rc == EXIT_OK ? rc : cli_fail(&e);
}

/* The sanctions decision, prominently: the first lines of `case rules`. */
static void print_decision(const compliance_sanctions_decision *d, bool sanctions_on)
{
    if (!d->recorded || !d->off)
        return;
    char when[32] = "?";
    time_t t = (time_t)d->at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* the reason is stored as typed: its controls are shown as escapes */
    char *reason = text_safe_dup(d->reason, strlen(d->reason));
    if (!sanctions_on)
        printf("# !!! SANCTIONS SCREENING IS OFF on this desk: decision of %s (%s) at %s: %s\n",
               d->operator_name, d->address, when, reason ? reason : "?");
    else
        printf("# sanctions screening is on; a decision of %s (%s) at %s allows switching it "
               "off: %s\n",
               d->operator_name, d->address, when, reason ? reason : "?");
    free(reason);
}

/* `case rules`: the effective rule configuration and the list versions in use. */
static int case_rules(cli_ctx *ctx, int argc, char **argv)
{
    compliance_sources src = {0};
    const char *sanctions = NULL, *reason = NULL;
    const cli_opt opts[] = {{"config", CLI_OPT_STR, &src.config},
                            {"sanctions", CLI_OPT_STR, &sanctions},
                            {"reason", CLI_OPT_STR, &reason}};
    size_t n_pos;
    int u = cli_opts("case rules", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("case rules", "unexpected argument '%s'", argv[1]);
    if (sanctions)
        return rules_decide(ctx, sanctions, reason);
    if (reason)
        return cli_usage("case rules", "--reason goes with --sanctions off|on");
    err e;
    err_clear(&e);
    compliance_screener *scr = NULL;
    if (compliance_screener_new(&scr, ctx->home, &src, &e) < 0)
        return cli_fail(&e);
    char *text = compliance_config_text(compliance_screener_config(scr));
    if (!text) {
        compliance_screener_free(&scr);
        err_set(&e, ERR_NOMEM, "out of memory formatting the rules");
        return cli_fail(&e);
    }
    char conf[PATH_MAX + 32];
    snprintf(conf, sizeof conf, "%s/compliance.conf", ctx->home);
    /* the lists the desk imported (fusion lists import) replace or join the shipped ones */
    store *ldb = NULL;
    err le;
    err_clear(&le);
    if (cli_desk_open(ctx, &ldb, &le) == 0 && compliance_screener_refresh_lists(scr, ldb, &le) < 0) {
        store_close(&ldb);
        free(text);
        compliance_screener_free(&scr);
        return cli_fail(&le);
    }
    store_close(&ldb);
    const screen_ctx *sc = compliance_screener_ctx(scr);
    screen_list_info si, fi;
    screen_sanctions_info(screen_ctx_sanctions(sc), &si);
    bool has_fatf = screen_ctx_fatf(sc) != NULL;
    if (has_fatf)
        screen_fatf_info(screen_ctx_fatf(sc), &fi);
    print_decision(compliance_screener_decision(scr),
                   compliance_screener_config(scr)->rules.sanctions.on);
    printf("# rule configuration: defaults%s%s\n", src.config || access(conf, R_OK) == 0 ? " + " : "",
           src.config ? src.config : access(conf, R_OK) == 0 ? conf : "");
    fputs(text, stdout);
    printf("# sanctions list %s: %zu addresses from %zu files\n", si.version, si.n_addresses,
           si.n_sources);
    if (has_fatf)
        printf("# FATF jurisdictions %s: %zu jurisdictions\n", fi.version, fi.n_addresses);
    const char *psrc = compliance_screener_prices_source(scr);
    store *db = NULL;
    compliance_prices op = {0};
    if (strcmp(psrc, "oracle") != 0)
        printf("# USD prices (an estimate): file %s\n", psrc);
    else if (cli_desk_open(ctx, &db, &e) == 0 && compliance_prices_from_oracle(db, &op, &e) == 0)
        printf("# USD prices (an estimate): the desk's oracle feeds, %zu (chain, token) prices "
               "now%s\n",
               op.n, op.n ? "" : ": the amount rules skip until a feed is observed");
    else {
        char shown[6 * ERR_MSG_MAX];
        printf("# USD prices: none (%s)\n", text_safe_str(shown, sizeof shown, e.msg));
    }
    compliance_prices_free(&op);
    store_close(&db);
    free(text);
    compliance_screener_free(&scr);
    return EXIT_OK;
}

/* ---- list / show ---- */

static json_t *case_json(const store_case *c, int64_t now)
{
    char esc[ADDR_STR_MAX];
    addr_to_lower(esc, &c->escrow);
    return json_pack("{s:I,s:s,s:I,s:s,s:s,s:s?,s:s,s:i,s:I,s:I,s:b,s:s?,s:s?,s:s?,s:s?}", "id",
                     (json_int_t)c->id, "subject", c->subject, "chain_id", (json_int_t)c->chain_id,
                     "escrow", esc, "state", c->state, "outcome", c->outcome[0] ? c->outcome : NULL,
                     "priority", compliance_priority_name(c->priority), "score", c->score,
                     "opened_at", (json_int_t)c->opened_at, "due_at", (json_int_t)c->due_at,
                     "overdue", strcmp(c->state, "closed") != 0 && c->due_at < now, "assignee",
                     c->assignee[0] ? c->assignee : NULL, "snoozed_until",
                     c->snoozed_until[0] ? c->snoozed_until : NULL, "proposed_outcome",
                     c->proposed_outcome[0] ? c->proposed_outcome : NULL, "proposed_by",
                     c->proposed_by[0] ? c->proposed_by : NULL);
}

static int case_list(cli_ctx *ctx, int argc, char **argv)
{
    const char *queue = NULL;
    bool json = ctx->json, all = false, csv = false;
    const cli_opt opts[] = {
        {"queue", CLI_OPT_STR, &queue},
        {"json", CLI_OPT_FLAG, &json},
        {"all", CLI_OPT_FLAG, &all},
        {"csv", CLI_OPT_FLAG, &csv},
    };
    size_t n_pos;
    int u = cli_opts("case list", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK)
        u = cli_json_or_csv("case list", &json, csv);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("case list", "unexpected argument '%s'", argv[1]);
    compliance_actor a = ccli_actor(ctx);
    store_case_filter f = {.open_only = !all};
    if (!queue) {
    } else if (strcmp(queue, "new") == 0) {
        f.state = "new";
    } else if (strcmp(queue, "mine") == 0) {
        f.assignee = a.operator_name;
    } else if (strcmp(queue, "escalated") == 0) {
        f.state = "escalated";
    } else if (strcmp(queue, "overdue") == 0) {
        f.due_before = a.now;
    } else {
        return cli_usage("case list", "unknown queue '%s' (new, mine, escalated, overdue)", queue);
    }
    err e;
    err_clear(&e);
    store *db = NULL;
    store_case *cs = NULL;
    size_t n = 0;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_case_list(db, &f, &cs, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *arr = json_array();
    if (!json && n)
        printf("%-6s %-6s %-9s %-14s %-10s %-44s %s\n", "CASE", "PRIO", "STATE", "DUE", "ASSIGNEE",
               "SUBJECT", "ABOUT");
    else if (!json)
        printf("no cases in this queue\n");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            json_t *row = cli_case_json(db, &cs[i], a.now, &e);
            if (!row) {
                json_decref(arr);
                free(cs);
                store_close(&db);
                return cli_fail(&e);
            }
            json_array_append_new(arr, row);
            continue;
        }
        compliance_case_about about;
        if (compliance_case_about_of(db, &cs[i], &about, &e) < 0) {
            json_decref(arr);
            free(cs);
            store_close(&db);
            return cli_fail(&e);
        }
        long long left = (long long)(cs[i].due_at - a.now);
        char due[32];
        if (strcmp(cs[i].state, "closed") == 0)
            snprintf(due, sizeof due, "%s", cs[i].outcome);
        else if (left < 0)
            snprintf(due, sizeof due, "OVERDUE %lldh", -left / 3600);
        else
            snprintf(due, sizeof due, "due in %lldh%02lldm", left / 3600, left / 60 % 60);
        printf("#%-5lld %-6s %-9s %-14s %-10s %-44s %s\n", (long long)cs[i].id,
               compliance_priority_name(cs[i].priority), cs[i].state, due,
               cs[i].assignee[0] ? cs[i].assignee : "-", cs[i].subject, about.text);
    }
    if (csv) {
        u = cli_csv_print(arr);
    } else if (json) {
        cli_json_print(arr, JSON_INDENT(2));
    }
    json_decref(arr);
    free(cs);
    store_close(&db);
    return u;
}

static int case_export_range(cli_ctx *ctx, const char *from_s, const char *to_s,
                             const char *out, bool json);

/* show and export: the report, as text or JSON, to stdout or --out FILE (+ FILE.json). */
static int case_report_cmd(cli_ctx *ctx, int argc, char **argv, const char *cmd)
{
    bool json = ctx->json;
    const char *out = NULL, *from = NULL, *to = NULL;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"out", CLI_OPT_STR, &out},
        {"from", CLI_OPT_STR, &from},
        {"to", CLI_OPT_STR, &to},
    };
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if ((from || to) && strcmp(cmd, "case export") != 0)
        return cli_usage(cmd, "--from/--to belong to `fusion case export`");
    if (from || to) {
        if (n_pos)
            return cli_usage(cmd, "give a case ID or --from/--to, not both");
        return case_export_range(ctx, from, to, out, json);
    }
    int64_t id;
    if (n_pos != 1 || parse_id(argv[1], &id) < 0)
        return cli_usage(cmd, "needs one case ID");
    err e;
    err_clear(&e);
    store *db = NULL;
    json_t *r = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0 || compliance_case_report(db, id, &r, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_close(&db);
    char *text = compliance_report_text(r);
    int rc = EXIT_OK;
    if (!text) {
        err_set(&e, ERR_NOMEM, "out of memory formatting the report");
        rc = cli_fail(&e);
    } else if (out) {
        char jpath[PATH_MAX];
        snprintf(jpath, sizeof jpath, "%s.json", out);
        /* A report names people: each file is written whole or not at all, mode 0600. */
        char *jtext = json_dumps(r, JSON_INDENT(2));
        bool ok = jtext && fsperm_write_atomic(out, text, strlen(text), true, &e) == 0 &&
                  fsperm_write_atomic(jpath, jtext, strlen(jtext), true, &e) == 0;
        free(jtext);
        if (!ok) {
            if (!e.msg[0])
                err_set(&e, ERR_NOMEM, "out of memory formatting the report");
            rc = cli_fail(&e);
        } else {
            printf("case #%lld report written to %s and %s\n", (long long)id, out, jpath);
        }
    } else if (json) {
        cli_json_print(r, JSON_INDENT(2));
    } else {
        fputs(text, stdout);
    }
    free(text);
    json_decref(r);
    return rc;
}

/* ---- actions ---- */

static int case_action(cli_ctx *ctx, int argc, char **argv)
{
    const char *sub = argv[0];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "case %s", sub);
    const char *note = NULL;
    const cli_opt opts[] = {{"note", CLI_OPT_STR, &note}};
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    bool next = strcmp(sub, "next") == 0;
    bool needs_arg = !strcmp(sub, "note") || !strcmp(sub, "snooze");
    size_t want = next ? 0 : needs_arg ? 2 : 1;
    int64_t id = 0;
    if (n_pos != want || (!next && parse_id(argv[1], &id) < 0))
        return cli_usage(cmd,
                         next        ? "takes no arguments"
                         : needs_arg ? "needs a case ID and %s"
                                     : "needs one case ID%s",
                         !strcmp(sub, "note")     ? "the note text"
                         : !strcmp(sub, "snooze") ? "a date YYYY-MM-DD"
                                                  : "");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    compliance_actor a = ccli_actor(ctx);
    int rc = 0;
    bool closed = false;
    if (next) {
        rc = compliance_case_next(db, &a, &id, &e);
        if (rc == 0 && id == 0)
            printf("queue empty: no new case to take\n");
        else if (rc == 0)
            printf("case #%lld assigned to %s\n", (long long)id, a.operator_name);
    } else if (!strcmp(sub, "take")) {
        rc = compliance_case_take(db, &a, id, &e);
        if (rc == 0)
            printf("case #%lld assigned to %s\n", (long long)id, a.operator_name);
    } else if (!strcmp(sub, "note")) {
        rc = compliance_case_note(db, &a, id, argv[2], &e);
        if (rc == 0)
            printf("note added to case #%lld\n", (long long)id);
    } else if (!strcmp(sub, "snooze")) {
        rc = compliance_case_snooze(db, &a, id, argv[2], &e);
        if (rc == 0)
            printf("case #%lld snoozed until %s\n", (long long)id, argv[2]);
    } else if (!strcmp(sub, "escalate")) {
        rc = compliance_case_escalate(db, &a, id, note, &e);
        if (rc == 0)
            printf("case #%lld escalated\n", (long long)id);
    } else {
        const char *outcome = !strcmp(sub, "clear")   ? "cleared"
                              : !strcmp(sub, "block") ? "blocked"
                                                      : "reported";
        rc = compliance_case_decide(db, &a, id, outcome, note, &closed, &e);
        if (rc == 0 && closed)
            printf("case #%lld closed as %s by %s\n", (long long)id, outcome, a.operator_name);
        else if (rc == 0)
            printf("case #%lld: %s proposed by %s; high priority needs a second, different "
                   "compliance officer to confirm (four-eyes)\n",
                   (long long)id, outcome, a.operator_name);
    }
    store_close(&db);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

/* ---- gate ---- */

static int case_gate(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL, *escrow = NULL, *action = NULL;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &chain},
        {"escrow", CLI_OPT_STR, &escrow},
        {"action", CLI_OPT_STR, &action},
    };
    size_t n_pos;
    int u = cli_opts("case gate", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos || !chain || !escrow || !action)
        return cli_usage("case gate", "usage: fusion case gate --chain C --escrow ADDR "
                                      "--action fund|approve|release|resolve|refund");
    err e;
    err_clear(&e);
    addr x;
    if (addr_parse(&x, escrow, &e) < 0)
        return cli_usage("case gate", "%s", e.msg);
    store *db = NULL;
    uint64_t chain_id = 0;
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || ccli_chain(db, chain, &chain_id, &e) < 0 ||
        compliance_gate_check(db, chain_id, &x, action, &e) < 0)
        rc = cli_fail(&e);
    else
        printf("allowed: %s of escrow %s passes the compliance gate\n", action, escrow);
    store_close(&db);
    return rc;
}

int cmd_case(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("case", "needs a subcommand: screen, list, show, take, next, note, "
                                 "snooze, escalate, clear, block, report, export, gate or rules");
    const char *sub = argv[1];
    if (!strcmp(sub, "screen"))
        return case_screen(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "list"))
        return case_list(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "show"))
        return case_report_cmd(ctx, argc - 1, argv + 1, "case show");
    if (!strcmp(sub, "export"))
        return case_report_cmd(ctx, argc - 1, argv + 1, "case export");
    if (!strcmp(sub, "gate"))
        return case_gate(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "travel-rule"))
        return ccli_case_travel_rule(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "rules"))
        return case_rules(ctx, argc - 1, argv + 1);
    static const char *const actions[] = {"take",     "next",  "note",  "snooze",
                                          "escalate", "clear", "block", "report"};
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        if (!strcmp(sub, actions[i]))
            return case_action(ctx, argc - 1, argv + 1);
    return cli_usage("case", "unknown subcommand '%s'", sub);
}

json_t *cli_case_json(store *s, const store_case *c, int64_t now, err *e)
{
    compliance_case_about about;
    if (compliance_case_about_of(s, c, &about, e) < 0)
        return NULL;
    json_t *j = case_json(c, now);
    if (!j) {
        err_set(e, ERR_NOMEM, "out of memory listing cases");
        return NULL;
    }
    json_object_set_new(j, "closed_at", c->closed_at ? json_integer((json_int_t)c->closed_at)
                                                     : json_null());
    if (about.kind != COMPLIANCE_ABOUT_ESCROW)
        json_object_set_new(j, "escrow", json_null()); /* the key holds no escrow */
    json_object_set_new(j, "about", compliance_case_about_json(&about));
    return j;
}

/* ---- case export --from D --to D: every case with activity in the range ---- */

static int range_day(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        m < 1 || m > 12 || d < 1 || d > 31 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != m - 1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

/* A case belongs to [from, to) when it was opened or closed, or its timeline moved, then. */
static bool case_in_range(store *db, const store_case *c, int64_t from, int64_t to)
{
    if ((c->opened_at >= from && c->opened_at < to) ||
        (c->closed_at && c->closed_at >= from && c->closed_at < to))
        return true;
    store_case_event *ev = NULL;
    size_t n = 0;
    err e;
    bool in = false;
    if (store_case_events(db, c->id, &ev, &n, &e) == 0)
        for (size_t i = 0; i < n && !in; i++)
            in = ev[i].at >= from && ev[i].at < to;
    free(ev);
    return in;
}

static int case_export_range(cli_ctx *ctx, const char *from_s, const char *to_s,
                             const char *out, bool json)
{
    const char *cmd = "case export";
    int64_t from = 0, to = 0;
    if (!from_s || !to_s)
        return cli_usage(cmd, "a range needs both --from YYYY-MM-DD and --to YYYY-MM-DD");
    if (range_day(from_s, &from) < 0)
        return cli_usage(cmd, "--from wants a calendar day YYYY-MM-DD, not '%s'", from_s);
    if (range_day(to_s, &to) < 0)
        return cli_usage(cmd, "--to wants a calendar day YYYY-MM-DD, not '%s'", to_s);
    if (to < from)
        return cli_usage(cmd, "--to %s is before --from %s", to_s, from_s);
    to += 86400; /* --to is inclusive */
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    audit_report ar;
    store_case_filter f = {0};
    store_case *cs = NULL;
    size_t n = 0;
    if (audit_verify(ctx->home, NULL, &ar, &e) < 0 || store_case_list(db, &f, &cs, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *root = json_pack("{s:s, s:s, s:I, s:{s:b, s:I, s:s}}", "from", from_s, "to", to_s,
                             "generated_at", (json_int_t)time(NULL), "audit_head", "verified",
                             ar.ok, "seq", (json_int_t)ar.head_seq, "hash", ar.head_hash);
    json_t *reports = json_array(), *index = json_array();
    buf text;
    buf_init(&text);
    int rc = EXIT_OK;
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        if (!case_in_range(db, &cs[i], from, to))
            continue;
        json_t *r = NULL;
        if (compliance_case_report(db, cs[i].id, &r, &e) < 0) {
            rc = cli_fail(&e);
            break;
        }
        char *t = compliance_report_text(r);
        if (!t || buf_append(&text, t, strlen(t), &e) < 0 || buf_append(&text, "\n", 1, &e) < 0) {
            free(t);
            json_decref(r);
            err_set(&e, ERR_NOMEM, "out of memory formatting the reports");
            rc = cli_fail(&e);
            break;
        }
        free(t);
        json_array_append_new(reports, r);
        json_t *row = cli_case_json(db, &cs[i], (int64_t)time(NULL), &e);
        if (!row) {
            rc = cli_fail(&e);
            break;
        }
        json_array_append_new(index, row);
    }
    free(cs);
    store_close(&db);
    json_object_set_new(root, "cases", reports);
    if (rc == EXIT_OK && out) {
        /* A report names people: each file whole or not at all, mode 0600. */
        char jpath[PATH_MAX], cpath[PATH_MAX];
        snprintf(jpath, sizeof jpath, "%s.json", out);
        snprintf(cpath, sizeof cpath, "%s.csv", out);
        char *jtext = json_dumps(root, JSON_INDENT(2));
        buf cb;
        buf_init(&cb);
        bool ok = jtext && csv_from_json(&cb, index, 0, &e) == 0 &&
                  fsperm_write_atomic(out, text.data ? (const char *)text.data : "", text.len,
                                      true, &e) == 0 &&
                  fsperm_write_atomic(jpath, jtext, strlen(jtext), true, &e) == 0 &&
                  fsperm_write_atomic(cpath, cb.data ? (const char *)cb.data : "", cb.len, true,
                                      &e) == 0;
        free(jtext);
        buf_free(&cb);
        if (!ok) {
            if (!e.msg[0])
                err_set(&e, ERR_NOMEM, "out of memory formatting the reports");
            rc = cli_fail(&e);
        } else {
            printf("%zu cases from %s to %s written to %s, %s and %s\n",
                   json_array_size(reports), from_s, to_s, out, jpath, cpath);
        }
    } else if (rc == EXIT_OK && json) {
        cli_json_print(root, JSON_INDENT(2));
    } else if (rc == EXIT_OK) {
        if (text.len)
            fwrite(text.data, 1, text.len, stdout);
        printf("%zu cases from %s to %s\n", json_array_size(reports), from_s, to_s);
    }
    buf_free(&text);
    json_decref(index);
    json_decref(root);
    return rc;
}
