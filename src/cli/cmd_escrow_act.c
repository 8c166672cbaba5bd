/* cmd_escrow_act.c: `fusion escrow create|fund|approve|release|refund|dispute|resolve|
 * sweep|transfer-arbiter`,
 * the escrow actions of the desk (src/desk). The operator (--operator) acts with the key
 * mapped to it; the pre-sign summary is printed from the signed bytes and nothing is sent
 * unless the operator answers y on the terminal (or passes --yes). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/fsperm.h"
#include "base/log.h"
#include "cli/opts.h"
#include "desk/desk.h"
#include "desk/escrow_input.h"
#include "pgstore/pg_desk.h"
#include "store/store_book.h"

static void say_stdout(void *ctx, const char *line)
{
    FILE *f = ctx;
    fprintf(f, "%s\n", line);
    fflush(f);
}

/* One line from the terminal, echo off unless `echo`. */
static int tty_line(char *out, size_t cap, const char *prompt, bool echo, err *e)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(e, ERR_USAGE,
                       "no terminal to ask on (%s): use --passphrase-file FILE "
                       "and --yes",
                       strerror(errno));
    struct termios old, quiet;
    bool restore = false;
    if (!echo && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* cosmetic */
    }
    size_t len = 0;
    int rc = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == '\n' || c == '\r')
            break;
        if (len + 1 >= cap) {
            rc = err_set(e, ERR_INVALID, "input too long");
            break;
        }
        out[len++] = c;
    }
    out[len] = '\0';
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &old);
        if (write(fd, "\n", 1) < 0) {
            /* cosmetic */
        }
    }
    close(fd);
    return rc;
}

static int get_passphrase(void *vctx, char *out, size_t cap, err *e)
{
    const cli_ctx *ctx = vctx;
    if (!ctx->passphrase_file)
        return tty_line(out, cap, "Passphrase: ", false, e);
    if (fsperm_check_private(ctx->passphrase_file, "passphrase file", e) < 0)
        return -1;
    FILE *f = fopen(ctx->passphrase_file, "r");
    if (!f)
        return err_set(e, ERR_IO, "cannot read the passphrase file %s: %s", ctx->passphrase_file,
                       strerror(errno));
    int rc = 0;
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (!out[0])
        rc = err_set(e, ERR_INVALID, "the passphrase file %s is empty", ctx->passphrase_file);
    return rc;
}

int cli_passphrase(const cli_ctx *ctx, char *out, size_t cap, err *e)
{
    return get_passphrase((void *)(uintptr_t)ctx, out, cap, e);
}

static bool confirm_send(void *vctx, const char *text, const json_t *summary)
{
    const cli_ctx *ctx = vctx;
    FILE *out = ctx->json ? stderr : stdout;
    fprintf(out, "---- about to send (decoded from the signed bytes) ----\n%s", text);
    fprintf(out, "-------------------------------------------------------\n");
    fflush(out);
    if (ctx->yes) {
        fprintf(out, "confirmed by --yes\n");
        return true;
    }
    char ans[16];
    err e;
    if (tty_line(ans, sizeof ans, "Sign and send? [y/N] ", true, &e) < 0) {
        cli_fail(&e);
        return false;
    }
    return ans[0] == 'y' || ans[0] == 'Y';
}

int cli_book_attach(const cli_ctx *ctx, struct store *db, err *e)
{
    return pg_desk_book_attach(db, ctx->home, PG_DESK_SIGNS, NULL, e);
}

/* Opens the desk as the selected operator, wired to this terminal. */
int cli_operator_desk_open(cli_ctx *ctx, desk **d, unsigned wait_s, err *e)
{
    if (cli_home_existing(ctx, e) < 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, e) < 0 || desk_open(d, ctx->home, ctx->operator_name, e) < 0)
        return -1;
    /* the desk's book on a server: its transactions are recorded there (pg_outbound.c) */
    if (cli_book_attach(ctx, desk_store(*d), e) < 0) {
        desk_free(d);
        return -1;
    }
    cli_desk_wire(ctx, *d);
    desk_set_wait(*d, wait_s);
    return 0;
}

void cli_desk_wire(void *vctx, struct desk *d)
{
    cli_ctx *ctx = vctx;
    /* a desk opened by a service (a swap's, a bridge's party): on a desk whose book is on a
     * server its transactions are recorded there too (the command checked book.conf) */
    err be;
    if (!store_has_book(desk_store(d)) && cli_book_attach(ctx, desk_store(d), &be) < 0)
        LOG_E("cli", "this desk's transactions stay in desk.db only: %s", be.msg);
    desk_set_passphrase(d, get_passphrase, ctx);
    desk_set_confirm(d, confirm_send, ctx);
    desk_set_output(d, say_stdout, ctx->json ? stderr : stdout);
}

/* An address, an operator's name (its key address) or an entity's name (desk_party_parse). */
static int party(desk *d, const char *s, addr *out, const char *what, err *e)
{
    if (desk_party_parse(desk_store(d), s, out, e) < 0)
        return err_prefix(e, "%s", what);
    return 0;
}

static int report(const cli_ctx *ctx, const char *action, const desk_result *r)
{
    char hash[67], esc[ADDR_STR_MAX];
    hex_encode(hash, sizeof hash, r->hash, 32, true);
    if (r->has_escrow) {
        if (ctx->json)
            addr_to_lower(esc, &r->escrow);
        else
            addr_to_checksum(esc, &r->escrow);
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s?}", "action", action, "hash",
                              hash, "state", outbound_state_str(r->state), "block",
                              (json_int_t)r->block, "outbound_id", (json_int_t)r->outbound_id,
                              "transactions", (int)r->n_txs, "escrow", r->has_escrow ? esc : NULL);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        printf("%s: %s (tx %s)%s%s\n", action, outbound_state_str(r->state), hash,
               r->has_escrow ? ", escrow " : "", r->has_escrow ? esc : "");
    }
    return EXIT_OK;
}

static int do_create(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL, *payee = NULL, *token = NULL, *amount = NULL, *approvers = NULL,
               *threshold = NULL, *deadline = NULL, *arbiter = NULL, *wait = NULL,
               *window = NULL, *override = NULL;
    const cli_opt opts[] = {
        {"dispute-window", CLI_OPT_STR, &window}, {"override", CLI_OPT_STR, &override},
        {"chain", CLI_OPT_STR, &chain},         {"payee", CLI_OPT_STR, &payee},
        {"token", CLI_OPT_STR, &token},         {"amount", CLI_OPT_STR, &amount},
        {"approvers", CLI_OPT_STR, &approvers}, {"threshold", CLI_OPT_STR, &threshold},
        {"deadline", CLI_OPT_STR, &deadline},   {"arbiter", CLI_OPT_STR, &arbiter},
        {"wait", CLI_OPT_STR, &wait},           {"json", CLI_OPT_FLAG, &ctx->json},
    };
    int u = cli_opts_n("escrow create", argc, argv, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    if (!payee || !token || !amount || !approvers || !threshold || !deadline)
        return cli_usage("escrow create",
                         "needs --payee ADDR --token SYMBOL|ADDR --amount N "
                         "--approvers A,B,... --threshold M --deadline 7d [--chain C] "
                         "[--arbiter ADDR] [--dispute-window 7d]");
    desk_create_req r;
    memset(&r, 0, sizeof r);
    r.token = token;
    r.amount = amount;
    char *endp;
    unsigned long thr = strtoul(threshold, &endp, 10);
    if (*endp || thr == 0 || thr > STORE_MAX_APPROVERS)
        return cli_usage("escrow create", "--threshold must be a number from 1 to %d",
                         STORE_MAX_APPROVERS);
    r.threshold = (unsigned)thr;
    err de;
    err_clear(&de);
    if (desk_deadline_read(deadline, (uint64_t)time(NULL), &r.deadline, &de) < 0)
        return cli_usage("escrow create", "--deadline: %s", de.msg);
    if (window && (desk_deadline_read(window, 0, &r.dispute_window, &de) < 0 ||
                   r.dispute_window < 86400 || r.dispute_window > 90 * 86400))
        return cli_usage("escrow create",
                         "--dispute-window must be 1d to 90d (or seconds in that range)");
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage("escrow create", "--wait takes seconds");
    if (override && (!*override || strlen(override) > 200))
        return cli_usage("escrow create", "--override needs a reason of 1 to 200 characters");
    err e;
    err_clear(&e);
    desk *d = NULL;
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    if (rc == 0)
        rc = desk_use_chain(d, chain, NULL, &e);
    if (rc == 0)
        desk_set_risk_override(d, override);
    if (rc == 0)
        rc = party(d, payee, &r.payee, "--payee", &e);
    if (rc == 0 && arbiter) {
        rc = party(d, arbiter, &r.arbiter, "--arbiter", &e);
        r.has_arbiter = true;
    }
    char list[2048];
    snprintf(list, sizeof list, "%s", approvers);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); rc == 0 && t;
         t = strtok_r(NULL, ",", &save)) {
        if (r.n_approvers == STORE_MAX_APPROVERS) {
            rc = err_set(&e, ERR_INVALID, "at most %d approvers", STORE_MAX_APPROVERS);
            break;
        }
        rc = party(d, t, &r.approvers[r.n_approvers++], "--approvers", &e);
    }
    desk_result res;
    memset(&res, 0, sizeof res);
    if (rc == 0)
        rc = desk_escrow_create(d, &r, &res, &e);
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    return report(ctx, "create", &res);
}

int cmd_pay(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL, *to = NULL, *token = NULL, *amount = NULL, *wait = NULL;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &chain},   {"to", CLI_OPT_STR, &to},
        {"token", CLI_OPT_STR, &token},   {"amount", CLI_OPT_STR, &amount},
        {"wait", CLI_OPT_STR, &wait},     {"json", CLI_OPT_FLAG, &ctx->json},
    };
    int u = cli_opts_n("pay", argc, argv, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    if (!to || !token || !amount)
        return cli_usage("pay", "needs --to ADDR|NAME --token SYMBOL|ADDR --amount N "
                                "[--chain C]");
    char *endp;
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage("pay", "--wait takes seconds");
    desk_pay_req r;
    memset(&r, 0, sizeof r);
    r.token = token;
    r.amount = amount;
    err e;
    err_clear(&e);
    desk *d = NULL;
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    if (rc == 0)
        rc = desk_use_chain(d, chain, NULL, &e);
    if (rc == 0)
        rc = party(d, to, &r.payee, "--to", &e);
    desk_result res;
    memset(&res, 0, sizeof res);
    if (rc == 0)
        rc = desk_pay(d, &r, &res, &e);
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    return report(ctx, "pay", &res);
}

static int do_act(cli_ctx *ctx, const char *action, int argc, char **argv)
{
    const char *chain = NULL, *to = NULL, *reason = NULL, *wait = NULL, *token = NULL,
               *override = NULL;
    const cli_opt opts[] = {
        {"override", CLI_OPT_STR, &override},
        {"chain", CLI_OPT_STR, &chain},     {"to", CLI_OPT_STR, &to},
        {"reason", CLI_OPT_STR, &reason},   {"wait", CLI_OPT_STR, &wait},
        {"token", CLI_OPT_STR, &token},     {"json", CLI_OPT_FLAG, &ctx->json},
    };
    bool hand_over = strcmp(action, "transferArbiter") == 0;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "escrow %s", hand_over ? "transfer-arbiter" : action);
    int u =
        cli_opts_n(cmd, argc, argv, opts, CLI_NOPTS(opts), 1, "needs exactly one escrow ADDRESS");
    if (u != EXIT_OK)
        return u;
    if (strcmp(action, "resolve") == 0 && (!to || (strcmp(to, "payee") && strcmp(to, "payer"))))
        return cli_usage(cmd, "needs --to payee or --to payer");
    if (hand_over && !to)
        return cli_usage(cmd, "needs --to ADDRESS (the next arbiter)");
    if (to && strcmp(action, "resolve") != 0 && !hand_over)
        return cli_usage(cmd, "--to is for resolve and transfer-arbiter only");
    if (token && strcmp(action, "sweep") != 0)
        return cli_usage(cmd, "--token is for sweep only");
    if (reason && strcmp(action, "dispute") != 0)
        return cli_usage(cmd, "--reason is for dispute only");
    if (override && strcmp(action, "fund") != 0 && strcmp(action, "release") != 0)
        return cli_usage(cmd, "--override is for fund and release only (and create)");
    if (override && (!*override || strlen(override) > 200))
        return cli_usage(cmd, "--override needs a reason of 1 to 200 characters");
    char *endp;
    unsigned long wait_s = wait ? strtoul(wait, &endp, 10) : 120;
    if (wait && *endp)
        return cli_usage(cmd, "--wait takes seconds");
    err e;
    err_clear(&e);
    addr escrow;
    if (addr_parse(&escrow, argv[1], &e) < 0)
        return cli_usage(cmd, "%s", e.msg);
    desk *d = NULL;
    desk_result res;
    memset(&res, 0, sizeof res);
    int rc = cli_operator_desk_open(ctx, &d, (unsigned)wait_s, &e);
    if (rc == 0)
        rc = desk_use_chain(d, chain, &escrow, &e);
    if (rc == 0)
        desk_set_risk_override(d, override);
    if (rc == 0)
        rc = desk_escrow_act(d, action, &escrow,
                             strcmp(action, "resolve") == 0 || hand_over ? to
                             : strcmp(action, "sweep") == 0             ? token
                                                                         : reason,
                             &res, &e);
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    res.has_escrow = true;
    res.escrow = escrow;
    return report(ctx, action, &res);
}

int cmd_escrow_act(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return do_create(ctx, argc - 1, argv + 1);
    /* The escrow verbs are the desk's action names (desk/actions.h); transferArbiter is
     * spelt transfer-arbiter on the command line. */
    const desk_action_info *act = argc >= 2 ? desk_action_get(desk_action_find(argv[1])) : NULL;
    if (act && act->target == DESK_ON_ESCROW && act->id != DESK_ACT_TRANSFER_ARBITER)
        return do_act(ctx, act->name, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "transfer-arbiter") == 0)
        return do_act(ctx, "transferArbiter", argc - 1, argv + 1);
    return cli_usage("escrow",
                     "unknown subcommand '%s' (list, show, create, fund, approve, "
                     "release, refund, dispute, resolve, sweep, transfer-arbiter)",
                     argc >= 2 ? argv[1] : "");
}
