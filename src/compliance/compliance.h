/* compliance.h: the compliance services over the desk database (issue 8): the entity
 * registry (KYC/KYB), screening of synced escrows into stored hits and cases, the case
 * lifecycle (queues, SLAs, take-next, four-eyes closing) and the gate the desk consults
 * before fund/approve/release. The rules themselves stay pure in screen.h; this is the
 * service layer that wires them to src/store and the audit log. */
#ifndef FUSION_COMPLIANCE_COMPLIANCE_H
#define FUSION_COMPLIANCE_COMPLIANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/statement.h"
#include "base/attr.h"
#include "base/err.h"
#include "compliance/screen.h"
#include "crypto/address.h"
#include "store/store.h"
#include "store/store_book.h"

#define COMPLIANCE_WUR FUSION_WUR /* base/attr.h */

/* Who acts and when: every change is audited under operator_name in <home>/audit.log.
 * now is Unix seconds (the CLI passes time(NULL); tests pass fixed times). */
typedef struct compliance_actor {
    const char *home;
    const char *operator_name;
    int64_t now;
} compliance_actor;

/* 0 when a->operator_name is a desk operator (operators table) holding the compliance
 * role; ERR_DENIED naming the operator and the missing role otherwise. */
int compliance_require_officer(store *s, const compliance_actor *a, err *e) COMPLIANCE_WUR;

/* ---- entities (registry.c) ---- */

/* True for an officially assigned ISO 3166-1 alpha-2 code (upper case). */
bool compliance_country_valid(const char *cc);
/* Checks every field of x (name UTF-8 without control characters, type, jurisdiction,
 * kyc, dates, tier 1..5, risk); the message names the field. */
int compliance_entity_check(const store_entity *x, err *e) COMPLIANCE_WUR;
/* Validates, inserts (x->id set) and audits "entity.add". */
int compliance_entity_add(store *s, const compliance_actor *a, store_entity *x,
                          err *e) COMPLIANCE_WUR;
/* Validates and writes x over the stored entity x->id; audits the changed fields. */
int compliance_entity_edit(store *s, const compliance_actor *a, const store_entity *x,
                           err *e) COMPLIANCE_WUR;
int compliance_entity_link(store *s, const compliance_actor *a, int64_t entity_id,
                           uint64_t chain_id, const addr *address, err *e) COMPLIANCE_WUR;
/* Records a document by type and the SHA-256 of the file at path (the file is not kept). */
int compliance_entity_add_doc(store *s, const compliance_actor *a, int64_t entity_id,
                              const char *doc_type, const char *path, err *e) COMPLIANCE_WUR;
int compliance_entity_add_party(store *s, const compliance_actor *a, int64_t entity_id,
                                int64_t party_id, const char *role, err *e) COMPLIANCE_WUR;

typedef struct compliance_line_error {
    size_t line; /* 1-based line of the CSV file */
    char msg[ERR_MSG_MAX];
} compliance_line_error;

typedef struct compliance_import_report {
    size_t n_rows;     /* data rows read */
    size_t n_imported; /* 0 unless every row was good */
    compliance_line_error *errors; /* the first COMPLIANCE_IMPORT_ERRORS_MAX bad lines */
    size_t n_errors;
    size_t n_more; /* bad lines beyond those, counted only */
} compliance_import_report;

#define COMPLIANCE_IMPORT_ERRORS_MAX 100
#define COMPLIANCE_IMPORT_ROWS_MAX 50000
#define COMPLIANCE_IMPORT_FILE_MAX (32u << 20)

/* Imports a CSV (header: name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,
 * chain_id,address; RFC 4180 quoting). All or nothing: every row is checked, the bad
 * lines are reported (the first COMPLIANCE_IMPORT_ERRORS_MAX by line, the rest counted),
 * and the rows are written in one transaction only when none is bad. At most
 * COMPLIANCE_IMPORT_ROWS_MAX rows and COMPLIANCE_IMPORT_FILE_MAX bytes.
 * Returns -1 with ERR_INVALID when some line is bad (details in report). */
int compliance_entity_import(store *s, const compliance_actor *a, const char *path,
                             compliance_import_report *report, err *e) COMPLIANCE_WUR;
void compliance_import_report_free(compliance_import_report *r);
/* The parsing and checking half of compliance_entity_import over CSV text in memory (no
 * store, no registry clashes): 0 when every row is good. For the fuzz target. */
int compliance_entity_csv_check(const char *data, size_t len, const char *name,
                                compliance_import_report *report, err *e) COMPLIANCE_WUR;

/* ---- screening service (service.c) ---- */

/* A screening context from the list files (desk_list and fatf may be NULL) and the
 * default rule configuration. */
int compliance_screen_load(screen_ctx **out, const char *manifest, const char *desk_list,
                           const char *fatf, err *e) COMPLIANCE_WUR;

/* USD prices for the amount rules (large amount, structuring band, velocity value): an
 * ESTIMATE, floating point by design. One price per (chain, token); the zero token is the
 * chain's native coin. */
typedef struct compliance_price {
    uint64_t chain_id;
    addr token;
    double usd_per_unit; /* per whole token (after decimals) */
} compliance_price;

typedef struct compliance_prices {
    compliance_price *items;
    size_t n;
} compliance_prices;

/* Reads "chain_id,token,usd_per_unit" lines (token: an address or "native"; '#' comments;
 * usd_per_unit a plain decimal number); errors name the line, a line over 510 bytes is one. */
int compliance_prices_load(compliance_prices *out, const char *path, err *e) COMPLIANCE_WUR;
/* The same from an open stream (path names it in errors); for tests and the fuzz target. */
int compliance_prices_read(compliance_prices *out, const char *path, FILE *f,
                           err *e) COMPLIANCE_WUR;
void compliance_prices_free(compliance_prices *p);
/* <home>/prices.csv as the desk may use it: on a signed desk its content must be the one a
 * compliance officer last signed (`fusion config sign prices`), a signed file deleted is
 * refused too. *found false (and 0) when there is no file. */
int compliance_prices_load_home(compliance_prices *out, const char *home, bool *found,
                                err *e) COMPLIANCE_WUR;

/* The USD prices the desk's oracle feeds hold (store: feeds and their latest observed
 * round), per chain: the native coin and every token whose symbol (or unwrapped symbol,
 * WETH -> ETH) a feed prices. An ESTIMATE; chains without feeds get no price. */
int compliance_prices_from_oracle(store *s, compliance_prices *out, err *e) COMPLIANCE_WUR;

/* ---- rule configuration (config.c): <home>/compliance.conf ---- */

typedef struct compliance_config {
    screen_config rules;
    int64_t sla_s[3]; /* SLA seconds by priority (high, medium, low) */
    size_t sanctions_line; /* line of the file that set sanctions.enabled (0: not set) */
    bool own_exempt;       /* the desk's own accounts skip velocity/structuring (own.exempt) */
    int list_max_age_days; /* an imported list older than this raises an alert (0: never) */
    int kyc_lead_days;     /* KYC expiry/review this close raises an alert and a case */
    bool travel_on;              /* travel_rule.enabled */
    double travel_threshold_usd; /* travel_rule.threshold_usd */
} compliance_config;

/* The documented defaults (screen_config_default, SLA 4 / 24 / 72 h). */
void compliance_config_default(compliance_config *c);
/* Applies "key = value" lines ('#' comments) over c; all or nothing; errors name
 * FILE:LINE and the key. The keys: docs/compliance.md, or `fusion case rules`. */
int compliance_config_load(compliance_config *c, const char *path, err *e) COMPLIANCE_WUR;
/* The same over an open stream; path only names it in messages. */
int compliance_config_read(compliance_config *c, const char *path, FILE *f, err *e) COMPLIANCE_WUR;
/* The effective configuration as "key = value" lines (malloc'ed; NULL: out of memory). */
char *compliance_config_text(const compliance_config *c);
/* SLA seconds of a priority under c (NULL: the default). */
int64_t compliance_config_sla(const compliance_config *c, int priority);

/* ---- the decision to switch sanctions screening off (decision.c) ---- */

#define COMPLIANCE_REASON_MAX 200
#define COMPLIANCE_DECISION_MSG_MAX (COMPLIANCE_REASON_MAX + 256)

typedef struct compliance_sanctions_decision {
    bool recorded;           /* a decision is on record (either way) */
    bool off;                /* it switches sanctions screening off */
    char operator_name[64];  /* the compliance officer who signed it */
    char address[ADDR_STR_MAX]; /* their key */
    int64_t at;              /* unix seconds */
    char reason[COMPLIANCE_REASON_MAX + 1];
} compliance_sanctions_decision;

/* The text officers signed for the decision before EIP-712 statements (EIP-191
 * personal_sign): records signed so still verify. -1 when it does not fit. */
int compliance_sanctions_message(char *out, size_t cap, const char *operator_name, bool off,
                                 const char *reason, int64_t at) COMPLIANCE_WUR;
/* The decision as the desk's EIP-712 Decision statement (audit/statement.h): kind
 * "compliance.sanctions_off" / "_on", subject "desk", payloadHash over {off, operator, at,
 * reason}, at, the officer's key, seq 0 (a desk setting). Its digest is
 * statement_digest(salt, st) with salt the desk id (zeros on a desk without a genesis). */
int compliance_sanctions_statement(statement *st, const char *operator_name, const addr *key,
                                   bool off, const char *reason, int64_t at,
                                   err *e) COMPLIANCE_WUR;
/* The decision's reason: one line of printable text (shown on the Dashboard and in `case
 * rules`): at most COMPLIANCE_REASON_MAX bytes, no control character, bidi control or byte
 * that is not UTF-8 (base/text.h text_unsafe_at); printable non-ASCII is kept as typed.
 * Off needs one; on may have none (NULL or ""). */
int compliance_sanctions_reason_check(bool off, const char *reason, err *e) COMPLIANCE_WUR;
/* Records the decision of a->operator_name (compliance role) taken at a->now: sig65 must be
 * their key's signature of the statement's digest under salt. Off needs a reason (one line
 * of text). Stored in the desk settings and audited "compliance.sanctions_off" / "_on", in
 * one transaction. The only place a decision is written. */
int compliance_sanctions_decide(store *s, const compliance_actor *a, bool off, const char *reason,
                                const uint8_t salt[32], const uint8_t sig65[65],
                                err *e) COMPLIANCE_WUR;
/* The decision on record (d->recorded false when there is none), its signature checked
 * again: a stored decision that does not verify is an error (ERR_DENIED). */
int compliance_sanctions_decision_get(store *s, compliance_sanctions_decision *d,
                                      err *e) COMPLIANCE_WUR;
/* Whether the rules in cfg may be used on this desk: on a desk with a signed genesis, the
 * file at conf_path (NULL: none) must be the compliance.conf an officer last signed
 * (`fusion config sign compliance`, audit_config_check); sanctions screening switched off
 * (sanctions.enabled = no) needs a recorded, verified decision to switch it off; without
 * one, an error naming conf_path:line and the command that records the decision. desk_db:
 * the desk database path (may not exist: then there is no decision). */
int compliance_config_allowed(const compliance_config *cfg, const char *conf_path,
                              const char *desk_db, compliance_sanctions_decision *d,
                              err *e) COMPLIANCE_WUR;

typedef struct compliance_screen_stats {
    size_t screened; /* escrows screened for the first time */
    size_t hits;     /* new hits stored */
    size_t cases_opened;
} compliance_screen_stats;

/* Screens every escrow of the projection that was not screened yet (as ESCROW_CREATED at
 * its creation block's time; USD from prices, NULL: no price, so the amount rules skip),
 * stores the hits (deduplicated per subject, escrow and rule)
 * and opens cases (one per subject and escrow). Already screened escrows are replayed
 * first, in creation order, so the structuring/velocity windows see the history. Call it
 * after a sync commit (or from `fusion case screen`); safe to call repeatedly. */
int compliance_screen_pending(store *s, const compliance_actor *a, screen_ctx *ctx,
                              const compliance_prices *prices, compliance_screen_stats *stats,
                              err *e) COMPLIANCE_WUR;

/* ---- imported screening lists (listimport.c) ---- */

/* Imports the list file at path as a new version of list `name` (NULL: "ofac-sdn" for
 * sdn-csv and ofac-xml, "fatf" for fatf; a plain list must be named). format: sdn-csv,
 * ofac-xml, fatf or plain. published (YYYY-MM-DD) is required when the file does not say
 * it (SDN.CSV, plain). The caller needs the compliance role. The version, its entries
 * and a signed "compliance.list_import" audit row go in one transaction; a malformed file
 * is refused with "FILE:LINE: reason" and nothing is stored. out: the version made. */
int compliance_list_import(store *s, const compliance_actor *a, const char *path,
                           const char *format, const char *name, const char *published,
                           store_list_version *out, err *e) COMPLIANCE_WUR;
/* Parses list text in memory only (the fuzz target). */
int compliance_list_check(const char *format, const char *name, const char *data, size_t len,
                          size_t *n_entries, err *e) COMPLIANCE_WUR;
/* Raises/clears "list:<name>:stale" alerts for the current versions older than the
 * configured age. */
int compliance_lists_stale_alerts(store *s, const compliance_config *cfg, int64_t now,
                                  err *e) COMPLIANCE_WUR;

/* ---- the KYC lifecycle (kyc.c) ---- */

/* For every entity whose KYC expiry or review date is at most cfg->kyc_lead_days away
 * (or past): an alert "kyc:<id>:expiry" / "kyc:<id>:review" (critical once past) and a
 * case on the entity for that date (rule kyc, kind "kyc review"); the alerts of dates no
 * longer due clear. Run by every screening pass. */
int compliance_kyc_lifecycle(store *s, const compliance_actor *a, const compliance_config *cfg,
                             compliance_screen_stats *st, err *e) COMPLIANCE_WUR;

/* ---- Travel Rule data (travel.c) ---- */

/* Sets an entity's IVMS101 fields the registry does not hold (compliance role; audited
 * "entity.travel_data"); empty fields clear. */
int compliance_entity_travel_set(store *s, const compliance_actor *a, int64_t entity_id,
                                 const store_entity_travel *t, err *e) COMPLIANCE_WUR;
/* The IVMS101 JSON of escrow x's funding ({"ivms101": {originator, beneficiary},
 * "transfer": {...}}); missing: the required fields that are not there ("" when none). */
int compliance_travel_data(store *s, const store_escrow *x, double usd, json_t **out,
                           char *missing, size_t cap, err *e) COMPLIANCE_WUR;
/* Before the desk signs action on x: a fund or pay at or above travel_rule.threshold_usd
 * (USD from <home>/prices.csv or the oracle feeds) is refused (ERR_DENIED, one line naming
 * the missing fields) unless the data is complete, and is then recorded; without a price
 * it is refused (the check cannot tell the amount is under the threshold). */
int compliance_travel_gate(store *s, const compliance_actor *a, const compliance_config *cfg,
                           const char *action, const store_escrow *x, err *e) COMPLIANCE_WUR;

/* ---- the desk's automatic screener (screener.c) ---- */

/* Where the screener's inputs come from; NULL fields take the desk defaults: the shipped
 * OFAC manifest and FATF list, <home>/desk-sanctions.txt, <home>/prices.csv (else the
 * oracle tables), <home>/compliance.conf (each optional file only when it exists). */
typedef struct compliance_sources {
    const char *lists, *desk_list, *fatf, *prices, *config;
} compliance_sources;

typedef struct compliance_screener compliance_screener;

/* Loads lists, prices and rule configuration once. src may be NULL. */
int compliance_screener_new(compliance_screener **out, const char *home,
                            const compliance_sources *src, err *e) COMPLIANCE_WUR;
void compliance_screener_free(compliance_screener **p);
/* One pass on conn: screens the new escrows, drops the hits of escrows a reorg removed
 * (noting it on their cases), and raises/clears the SLA breach alerts ("case:<id>:sla").
 * Thread-safe: concurrent callers are serialized. stats may be NULL. */
int compliance_screener_run(compliance_screener *scr, store *conn, int64_t now,
                            compliance_screen_stats *stats, err *e) COMPLIANCE_WUR;
/* Starts the screening thread (its own connection to <home>/desk.db): from then on the
 * hook only wakes it, so chain threads never wait for a pass (the engine's first hook
 * call at thread start screens what earlier runs left). Start it before sync_start; stop
 * it when sync_start fails, and it can be started again later. */
int compliance_screener_start(compliance_screener *scr, err *e) COMPLIANCE_WUR;
/* Before compliance_screener_start: the thread's connection reads the escrows from the
 * book on a server through r at url (store_set_reader; the marks, hits and cases stay in
 * desk.db), for a sync whose book is there. url is copied. */
int compliance_screener_set_book(compliance_screener *scr, const store_book_reader *r,
                                 const char *url, err *e) COMPLIANCE_WUR;
/* Stops the thread after it has screened what the hook announced (a final pass when one
 * is due); compliance_screener_free does it too. No-op without a thread. */
void compliance_screener_stop(compliance_screener *scr);
/* The sync engine's after-commit hook (sync_options.after_commit, ctx = the screener).
 * With the thread started: wakes it (bursts of commits coalesce into one pass). Without:
 * runs a pass on conn unless one is running, in which case that one runs again (chain
 * threads never wait for each other). Errors go to the log. */
void compliance_screener_after_commit(void *scr, store *conn, uint64_t chain_id);
/* Swaps in the lists of the desk's current imported versions (what a pass does first). */
int compliance_screener_refresh_lists(compliance_screener *scr, store *conn,
                                      err *e) COMPLIANCE_WUR;
/* Totals of every pass so far. */
void compliance_screener_totals(compliance_screener *scr, compliance_screen_stats *out);
/* The rule configuration and the lists in use (valid while scr lives). */
const compliance_config *compliance_screener_config(const compliance_screener *scr);
/* The sanctions decision on record when the screener was made (recorded false: none). */
const compliance_sanctions_decision *compliance_screener_decision(const compliance_screener *scr);
const screen_ctx *compliance_screener_ctx(const compliance_screener *scr);
/* Which price source is used: "FILE" (prices file), "oracle" or "none". */
const char *compliance_screener_prices_source(const compliance_screener *scr);

/* ---- screening before an outgoing desk action (screener.c) ---- */

typedef struct compliance_action {
    const char *action;        /* create, fund, approve, release, resolve */
    uint64_t chain_id;
    const addr *escrow;        /* NULL for a create (the escrow does not exist yet) */
    const addr *payer, *payee; /* a create's parties; escrow actions read the stored escrow */
    const addr *token;         /* may be NULL */
    const u256 *amount;        /* may be NULL */
    bool proposal; /* screened when proposed (API): the Travel Rule waits for the signing */
} compliance_action;

/* Screens the parties of a desk action with the pure rules (sanctions including the desk
 * list, prior confirmed hits, unknown counterparty, KYC) before it is signed, records the
 * hits (cases open as for synced escrows), and refuses with ERR_DENIED on a sanctions hit
 * (naming the rule and list version and the case; unless officers closed that case as
 * cleared) or a blocked entity. Fails closed: when the lists cannot be loaded, refuses. */
int compliance_screen_action(store *s, const compliance_actor *a, const compliance_action *r,
                             err *e) COMPLIANCE_WUR;

/* A screener for desk actions kept by a long-running process (the API server): the
 * lists, rules and configuration loaded once. compliance_screen_action_with re-reads the
 * lists when a new version was imported (the newest id in list_versions moved); when
 * compliance_screener_files_changed says compliance.conf or desk-sanctions.txt changed
 * (or appeared, or went), the caller makes a new one. */
int compliance_action_screener_new(compliance_screener **out, const char *home,
                                   err *e) COMPLIANCE_WUR;
bool compliance_screener_files_changed(compliance_screener *scr);
/* compliance_screen_action with scr (from compliance_action_screener_new). Thread-safe. */
int compliance_screen_action_with(compliance_screener *scr, store *s, const compliance_actor *a,
                                  const compliance_action *r, err *e) COMPLIANCE_WUR;

/* Raises an alert "case:<id>:sla" for each open case past its due time and clears the
 * others' (its own transaction). */
int compliance_sla_alerts(store *s, int64_t now, size_t *raised, size_t *cleared,
                          err *e) COMPLIANCE_WUR;

/* ---- cases (cases.c) ---- */

/* Priority from a score: >= 80 high (1), >= 50 medium (2), else low (3). */
int compliance_priority_of(int score);
const char *compliance_priority_name(int priority);
/* SLA of a priority in seconds: high 4 h, medium 24 h, low 72 h. */
int64_t compliance_sla_seconds(int priority);

/* Assigns the oldest highest-priority new case to the actor atomically; *id 0: queue
 * empty. */
int compliance_case_next(store *s, const compliance_actor *a, int64_t *id, err *e) COMPLIANCE_WUR;
/* Assigns a given new (or someone's snoozed) case to the actor; refused when another
 * officer holds it. */
int compliance_case_take(store *s, const compliance_actor *a, int64_t id, err *e) COMPLIANCE_WUR;
int compliance_case_note(store *s, const compliance_actor *a, int64_t id, const char *text,
                         err *e) COMPLIANCE_WUR;
/* Hides the case from take-next until day (YYYY-MM-DD); the SLA clock keeps running. */
int compliance_case_snooze(store *s, const compliance_actor *a, int64_t id, const char *day,
                           err *e) COMPLIANCE_WUR;
int compliance_case_escalate(store *s, const compliance_actor *a, int64_t id, const char *note,
                             err *e) COMPLIANCE_WUR;
/* Closes as "cleared", "blocked" or "reported". A high-priority case needs two different
 * officers: the first call records a proposal (*closed false), a second officer's call
 * with the same outcome closes it; the proposer confirming is refused (ERR_DENIED).
 * Blocking sets the entity's blocked flag. */
int compliance_case_decide(store *s, const compliance_actor *a, int64_t id, const char *outcome,
                           const char *note, bool *closed, err *e) COMPLIANCE_WUR;
/* The open cases of entity_id other than except_id (0: none excepted), by priority then
 * age; *ids malloc'ed (NULL when none). */
int compliance_party_open_cases(store *s, int64_t entity_id, int64_t except_id, int64_t **ids,
                                size_t *n, err *e) COMPLIANCE_WUR;
/* The party is blocked: closes its other open cases (all but except_id) as "blocked" in
 * one transaction, each with a "block" event carrying the note, under one signed decision
 * ("case.block_party", naming every case). Refused (ERR_STATE) unless the entity is
 * already blocked, which a blocking decision (four eyes for a high case) has made; *closed
 * counts the cases closed. */
int compliance_party_close(store *s, const compliance_actor *a, int64_t entity_id,
                           int64_t except_id, const char *note, size_t *closed,
                           err *e) COMPLIANCE_WUR;
/* What a case is about: an escrow, an entity's KYC date, a credit facility of the entity,
 * or an inflow transfer into a desk account (about.c). text is one line for people. */
typedef enum {
    COMPLIANCE_ABOUT_ESCROW,
    COMPLIANCE_ABOUT_KYC,
    COMPLIANCE_ABOUT_FACILITY,
    COMPLIANCE_ABOUT_INFLOW,
} compliance_about_kind;

typedef struct compliance_case_about {
    compliance_about_kind kind;
    char which[8];                /* kyc: expiry or review */
    char date[SCREEN_DATE_MAX];   /* kyc: the date */
    int64_t facility_id;          /* facility */
    char facility[64];            /* facility: its name ("" when gone) */
    char tx[67];                  /* inflow: the transfer's hash */
    char account[ADDR_STR_MAX];   /* inflow: the desk account it went to */
    char text[192];
} compliance_case_about;

/* Reads c's key back into what it is about; s NULL skips what needs the store (a facility's
 * name, an inflow's transfer: such a case then reads as an escrow case). */
int compliance_case_about_of(store *s, const store_case *c, compliance_case_about *out,
                             err *e) COMPLIANCE_WUR;
/* {"kind": "escrow"|"kyc"|"inflow"|"facility", ...the fields of that kind}. */
json_t *compliance_case_about_json(const compliance_case_about *a);

/* The SAR-style report of a case: subject, entity, hits with evidence, timeline. */
int compliance_case_report(store *s, int64_t id, json_t **out, err *e) COMPLIANCE_WUR;
/* The same report as readable text (malloc'ed). */
char *compliance_report_text(const json_t *report);

/* ---- gate (gate.c) ---- */

/* May the desk do action ("fund", "approve", "release", "refund", "resolve") on the escrow?
 * 0: allowed. -1 with ERR_DENIED: refused, the message names the case or the missing check
 * (open case, block, KYC missing/pending/rejected/expired). "refund" (the arbiter's way
 * back to the payer) is always allowed. Uses the current time for KYC expiry. */
int compliance_gate_check(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                          err *e) COMPLIANCE_WUR;
/* As compliance_gate_check, as of `now` (Unix seconds). */
int compliance_gate_check_at(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                             int64_t now, err *e) COMPLIANCE_WUR;
#define COMPLIANCE_GATE_MAX_REASONS 16
/* Every reason the gate refuses action on the escrow as of now, one line each (*lines
 * malloc'ed, each line too; none: it passes). The message of compliance_gate_check_at
 * is these lines joined, cut to a message's length. */
int compliance_gate_reasons(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                            int64_t now, char ***lines, size_t *n, err *e) COMPLIANCE_WUR;
/* One line on a party's compliance state: its entity and KYC (or that it has none), a
 * block, and its open cases with the rules they were hit by ("sanctions"). */
int compliance_party_line(store *s, uint64_t chain_id, const addr *a, int64_t now, char *out,
                          size_t cap, err *e) COMPLIANCE_WUR;

#endif
