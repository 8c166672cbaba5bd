/* cli.h: the headless interface. Every subcommand is one row of CLI_COMMANDS;
 * main.c parses the global options, resolves the desk home and dispatches.
 * Exit codes: 0 ok, 1 operation failed, 2 usage error. */
#ifndef FUSION_CLI_H
#define FUSION_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct cli_ctx {
    char home[4096];             /* desk home, resolved (not necessarily created yet) */
    const char *operator_name;   /* --operator, else $USER */
    const char *passphrase_file; /* --passphrase-file */
    bool json;                   /* --json */
    bool yes;                    /* --yes: no interactive confirmation */
    bool needs_genesis;          /* a decision on a desk without a signed genesis: opening
                                    the desk refuses it (after the usage is checked) */
    const char *quit_note;       /* quitting the UI also stops this (the demo's devnet):
                                    the UI asks first, showing it; NULL: nothing */
} cli_ctx;

/* X(name, summary): the subcommand table; `fusion help` and dispatch read it.
 * Each row needs `int cmd_<name>(cli_ctx *, int argc, char **argv)` where argv[0]
 * is the subcommand's name. */
#define CLI_COMMANDS(X)                                                                            \
    X(help, "list the subcommands")                                                                \
    X(version, "print the version")                                                                \
    X(ui, "open the terminal workstation (the default with no subcommand)")                        \
    X(chain, "configure chains: add, add-factory, list, remove")                                   \
    X(sync, "follow the chains into the desk database (--once: catch up and exit)")                \
    X(escrow, "escrows: the synced view, and the actions that sign (policy, summary, y/N)")        \
    X(pay, "a plain payment from the operator's address (policy, compliance, summary, y/N)")      \
    X(reindex, "rebuild escrow state from the stored events")                                      \
    X(key, "manage the encrypted key store: new, import, export, list, passwd, rm")                \
    X(audit, "the hash-chained audit log: list, verify, export, adopt")                            \
    X(risk, "risk report (live desk), calc (files), set-drawn: VaR/ES, credit line, stress")       \
    X(alerts, "risk alerts: list (--all; also plain `fusion alerts`), ack ID")                     \
    X(asset, "tokens and price feeds the risk service values: add-token, add-feed, list")          \
    X(operator, "desk operators and their roles: genesis, add, roles, remove, list")               \
    X(config, "the desk's configuration files as signed decisions: sign, status")                 \
    X(tx, "outbound transactions: list, show, check (resend what is in flight), speedup, cancel")  \
    X(devnet, "local four-chain devnet (anvil): up, down, status")                                \
    X(demo, "devnet, seeded demo desk, market driver and the UI (the README's first command)")     \
    X(xswap, "cross-chain settlement by HTLC: new, respond, resume, list")                         \
    X(credit, "credit lines: facility, draw, repay, fee, ledger, health, calls, seize, withdrawal") \
    X(bridge, "move the desk's tokens between chains (CCTP, CCIP-style): quote, send, resume, list, show") \
    X(entity, "KYC/KYB registry: add, edit, show, list, link, import")                             \
    X(case, "compliance cases: screen, list, show, take, next, note, snooze, escalate, clear, "    \
            "block, report, export, gate")                                                         \
    X(lists, "screening lists: import (OFAC SDN.CSV, advanced XML, FATF, plain), list")          \
    X(backup, "encrypted backup of the desk while it runs: --out FILE")                            \
    X(restore, "restore a backup into an empty home: FILE --home DIR, then check the chains")      \
    X(report, "the day's book as CSV and JSON files: daily [--date YYYY-MM-DD]")                   \
    X(serve, "the HTTP API for the systems around the desk (unix socket; TCP with TLS)")         \
    X(api, "API clients: client add, client list, client revoke")                                 \
    X(proposal, "what API clients proposed: list, show, accept, reject")                          \
    X(db, "the desk's database: migrate --to postgresql://... (copy to a server, verified)")      \
    X(completion, "shell completion generated from the command table: bash")

/* usage.c: one row per subcommand action (action "": a command without actions) with its
 * usage text; `fusion help`, `--help`, and the bash completion read it. */
typedef struct cli_action {
    const char *cmd;
    const char *action;
    const char *usage;
} cli_action;
const cli_action *cli_actions(size_t *n);
/* Prints the usage of cmd (or of one action of it) on stdout: EXIT_OK; a usage error for a
 * command or action that does not exist. */
int cli_help_for(const char *cmd, const char *action);
/* Prints a bash completion script generated from the same table. */
int cli_completion_bash(void);

#define CLI_DECL_(name, summary) int cmd_##name(cli_ctx *ctx, int argc, char **argv);
CLI_COMMANDS(CLI_DECL_)
#undef CLI_DECL_

/* cmd_escrow_act.c: escrow create|fund|approve|release|refund|dispute|resolve, and the
 * desk as the selected operator wired to this terminal (passphrase, y/N, output). */
int cmd_escrow_act(cli_ctx *ctx, int argc, char **argv);
struct desk;
int cli_operator_desk_open(cli_ctx *ctx, struct desk **d, unsigned wait_s, err *e)
    __attribute__((warn_unused_result));
/* On a desk whose signed book.conf names a server: the desk's book attached to db for a
 * store that signs (pg_desk_book_attach: its escrow reads and its outbound transactions,
 * recorded and listed there); nothing without book.conf. */
struct store;
int cli_book_attach(const cli_ctx *ctx, struct store *db, err *e)
    __attribute__((warn_unused_result));

/* A bridge service env wired to this terminal as the selected operator (cmd_bridge.c):
 * what `fusion bridge send` and `fusion proposal accept` of a bridge proposal use. */
struct bridge_env;
int cli_bridge_env(cli_ctx *ctx, struct bridge_env *env, bool no_wait, err *e)
    __attribute__((warn_unused_result));

/* Wires a desk to this terminal: passphrase (--passphrase-file or asked), the pre-sign
 * summary with y/N (or --yes), progress lines on stdout. ctx: the cli_ctx. */
void cli_desk_wire(void *ctx, struct desk *d);

/* The operator's passphrase: the first line of --passphrase-file, else asked on the
 * terminal with echo off (cmd_escrow_act.c). */
int cli_passphrase(const cli_ctx *ctx, char *out, size_t cap, err *e)
    __attribute__((warn_unused_result));

/* Every line the CLI writes to stderr goes through these three: the message is made
 * safe (base/text.h) there, so echoed argv, file and node text cannot act on the
 * terminal. */
/* Prints one line on stderr (a newline is added). */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "fusion: <msg>" on stderr (one line) and returns EXIT_FAIL. */
int cli_fail(const err *e);
/* Prints "fusion <cmd>: <msg>" and a usage hint on stderr, returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For the commands that may create a desk: creates the desk home (mode 0700) when it
 * does not exist (the desk itself is made by what the command writes first). Either way the home and the desk's files in it must
 * be ours (else refused) and are closed to group/others (fixed, and said on stderr). */
int cli_home_ensure(const cli_ctx *ctx, err *e) __attribute__((warn_unused_result));
/* For every other command: the home must already hold a desk (desk.db or audit.log), else a
 * one-line refusal naming the commands that create one; then checked as above. */
int cli_home_existing(const cli_ctx *ctx, err *e) __attribute__((warn_unused_result));

/* --csv on a listing (csv_out.c): the rows it builds for --json, as one CSV table on
 * stdout. cli_json_or_csv refuses both flags at once (EXIT_USAGE) and sets *json when csv
 * is given, so the listing builds its rows; then it prints them with cli_csv_print. */
struct json_t;
int cli_csv_print(const struct json_t *rows);
/* The same without printing a failure: -1 with e set. */
int cli_csv_write(const struct json_t *rows, err *e) __attribute__((warn_unused_result));
int cli_json_or_csv(const char *cmd, bool *json, bool csv);

/* json_out.c: every JSON document the CLI prints goes through these two. They add
 * JSON_ENSURE_ASCII to flags (jansson's: JSON_INDENT(2), JSON_COMPACT, ...): non-ASCII
 * text is written as \uXXXX, so outside text (names, notes, a node's messages) cannot put
 * raw bidi or C1 controls on the terminal, and any JSON reader decodes the same string.
 * cli_json_print writes j and a newline on stdout: 0, or -1 when it could not (NULL j).
 * cli_json_text returns the text, malloc'ed (NULL for NULL j or out of memory). */
int cli_json_print(const struct json_t *j, size_t flags);
char *cli_json_text(const struct json_t *j, size_t flags) __attribute__((warn_unused_result));

struct store;
struct store_chain;
struct store_escrow;
struct store_outbound;
struct store_case;
/* The rows of the listings (`escrow list`, `tx list`, `case list` --json), shared with the
 * daily report so both say the same. */
struct json_t *cli_escrow_json(struct store *db, const struct store_chain *ch,
                               const struct store_escrow *x);
struct json_t *cli_tx_json(struct store *db, const struct store_outbound *o);
struct json_t *cli_case_json(struct store *s, const struct store_case *c, int64_t now,
                             err *e);

/* Opens <home>/fusion.log as the log and <home>/desk.db as the desk database (migrated
 * to the current schema) of an existing desk (cli_home_existing). */
int cli_desk_open(const cli_ctx *ctx, struct store **db, err *e)
    __attribute__((warn_unused_result));
/* The same for a command that may create the desk (cli_home_ensure). */
int cli_desk_create(const cli_ctx *ctx, struct store **db, err *e)
    __attribute__((warn_unused_result));

/* signer.c: unlocks --operator's key (their passphrase) as the signer of the decisions a
 * command records, when argv (from the subcommand's name) records decisions on a desk
 * whose genesis is signed; 0 and nothing unlocked otherwise. On a desk without a signed
 * genesis it sets ctx->needs_genesis: cli_desk_open/create then refuse the command
 * (AUDIT_NO_GENESIS) before anything is written, after its usage errors. */
int cli_signer_begin(cli_ctx *ctx, int argc, char **argv, err *e)
    __attribute__((warn_unused_result));
/* Unlocks operator name's key (from desk.db's operators) as the signer. */
int cli_signer_unlock(const cli_ctx *ctx, const char *name, err *e)
    __attribute__((warn_unused_result));
struct ks_key;
/* The key unlocked for operator name by the above (NULL: none, or locked). */
struct ks_key *cli_signer_key(const char *name);
struct addr;
/* The same for a key given by address (the genesis, before the operator exists). */
int cli_signer_unlock_key(const cli_ctx *ctx, const char *name, const struct addr *key, err *e)
    __attribute__((warn_unused_result));

#endif
