/* keymap.h: every action of the workstation in one table (UI_ACTIONS). The action enum,
 * the key bindings, the `?` help screen, the `:` command names with their completion and
 * the key tables in docs/ are all generated from it; preconditions are flags in the
 * table, checked once by the main loop instead of in every handler. */
#ifndef FUSION_UI_KEYMAP_H
#define FUSION_UI_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "desk/actions.h"

typedef struct policy policy; /* desk/desk.h */

/* A key: a Unicode code point, or a curses KEY_* code moved out of the code point range. */
typedef int32_t ui_key;
/* clang-format off */
#define UI_FN(k) (0x200000 + (k))
#define UI_CTRL(c) ((c) & 0x1f)
#define UI_ESC 27
#define UI_KEYS(...) {__VA_ARGS__}
#define UI_MAX_KEYS 3
/* clang-format on */

/* The curses key codes the table uses (values from <curses.h>, which this pure header
 * does not include; keymap.c checks them against curses at compile time). */
#define UI_K_DOWN UI_FN(0402)
#define UI_K_UP UI_FN(0403)
#define UI_K_HOME UI_FN(0406)
#define UI_K_BACKSPACE UI_FN(0407)
#define UI_K_F1 UI_FN(0411)
#define UI_K_DC UI_FN(0512)
#define UI_K_NPAGE UI_FN(0522)
#define UI_K_PPAGE UI_FN(0523)
#define UI_K_ENTER UI_FN(0527)
#define UI_K_BTAB UI_FN(0541)
#define UI_K_END UI_FN(0550)
#define UI_K_LEFT UI_FN(0404)
#define UI_K_RIGHT UI_FN(0405)

/* X(id, title, short title, tiny title): the screens, in key order (1-9, 0, then B and C:
 * the GO_* actions below, in the same order). The tiny titles are for 80 columns, where
 * twelve short tabs do not fit. */
#define UI_SCREENS(X)                                                                              \
    X(DASHBOARD, "Dashboard", "Dash", "Dash")                                                      \
    X(ESCROWS, "Escrows", "Escr", "Esc")                                                           \
    X(APPROVALS, "Approvals", "Apprv", "Apr")                                                      \
    X(COMPLIANCE, "Compliance", "Compl", "Cmp")                                                    \
    X(ENTITIES, "Entities", "Ents", "Ent")                                                         \
    X(KEYS, "Keys", "Keys", "Key")                                                                 \
    X(CHAINS, "Chains", "Chain", "Chn")                                                            \
    X(AUDIT, "Audit", "Audit", "Aud")                                                              \
    X(SWAPS, "Swaps", "Swaps", "Swaps")                                                            \
    X(TXS, "Outbound", "Out", "Out")                                                               \
    X(BRIDGES, "Bridges", "Brdg", "Brg")                                                           \
    X(CREDIT, "Credit", "Cred", "Crd")

typedef enum {
#define UI_SCR_ENUM_(id, title, short_title, tiny) UI_SCR_##id,
    UI_SCREENS(UI_SCR_ENUM_)
#undef UI_SCR_ENUM_
        UI_SCREEN_COUNT
} ui_screen_id;

#define UI_ON(id) (1u << UI_SCR_##id)
#define UI_ALL ((1u << UI_SCREEN_COUNT) - 1)

/* X(id, message): what an action may need; the message says what to do when it is
 * missing. ROW is supplied by the screen (a row is selected); the others by the desk. */
#define UI_PRECONDITIONS(X)                                                                        \
    X(ROW, "select a row first (this screen has none)")                                            \
    X(UNLOCKED_KEY, "unlock a signing key first (6 Keys, then u)")                                 \
    X(ROLE_COMPLIANCE, "needs the compliance role, which this operator does not have")             \
    X(CHAIN, "no chain is configured on this desk: see `fusion chain add`")

enum {
#define UI_PRE_BIT_(id, msg) UI_PRE_BIT_##id,
    UI_PRECONDITIONS(UI_PRE_BIT_)
#undef UI_PRE_BIT_
        UI_PRE_COUNT
};
enum {
#define UI_PRE_FLAG_(id, msg) UI_PRE_##id = 1u << UI_PRE_BIT_##id,
    UI_PRECONDITIONS(UI_PRE_FLAG_)
#undef UI_PRE_FLAG_
};

/* X(id, command, keys, help, preconditions, screens). Keys are unique per screen (a
 * unit test checks it); an action on every screen is global. */
#define UI_ACTIONS(X)                                                                              \
    X(HELP, "help", UI_KEYS('?', UI_K_F1), "show this help: every key and command", 0, UI_ALL)     \
    X(COMMAND, "command", UI_KEYS(':'), "open the command line (Tab completes, Enter runs)", 0,    \
      UI_ALL)                                                                                      \
    X(FILTER, "filter", UI_KEYS('/'), "filter the rows (Enter keeps, Esc undoes)", 0, UI_ALL)      \
    X(UNFILTER, "unfilter", UI_KEYS(UI_ESC), "clear the filter, close help", 0, UI_ALL)            \
    X(QUIT, "quit", UI_KEYS('q'), "quit (asks first when operations are pending)", 0, UI_ALL)      \
    X(OPERATOR, "operator", UI_KEYS('O'), "sign in as NAME (:operator NAME, then the passphrase)", \
      0, UI_ALL)                                                                                   \
    X(REDRAW, "redraw", UI_KEYS(UI_CTRL('l')), "repaint the whole terminal", 0, UI_ALL)            \
    X(NEXT_SCREEN, "next", UI_KEYS('\t'), "go to the next screen", 0, UI_ALL)                      \
    X(PREV_SCREEN, "prev", UI_KEYS(UI_K_BTAB), "go to the previous screen", 0, UI_ALL)             \
    X(GO_DASHBOARD, "dashboard", UI_KEYS('1'), "screen 1: portfolio, risk, credit line, alerts",   \
      0, UI_ALL)                                                                                   \
    X(GO_ESCROWS, "escrows", UI_KEYS('2'), "screen 2: escrows and their actions", 0, UI_ALL)       \
    X(GO_APPROVALS, "approvals", UI_KEYS('3'), "screen 3: what waits for your signature", 0,       \
      UI_ALL)                                                                                      \
    X(GO_COMPLIANCE, "compliance", UI_KEYS('4'), "screen 4: compliance case queues", 0, UI_ALL)    \
    X(GO_ENTITIES, "entities", UI_KEYS('5'), "screen 5: KYC/KYB entities and addresses", 0,        \
      UI_ALL)                                                                                      \
    X(GO_KEYS, "keys", UI_KEYS('6'), "screen 6: signing keys, lock state, balances", 0, UI_ALL)    \
    X(GO_CHAINS, "chains", UI_KEYS('7'), "screen 7: chains, sync progress, endpoints", 0, UI_ALL)  \
    X(GO_AUDIT, "audit", UI_KEYS('8'), "screen 8: the audit log and its verification", 0, UI_ALL)  \
    X(GO_SWAPS, "swaps", UI_KEYS('9'), "screen 9: cross-chain swaps, timelocks", 0, UI_ALL)        \
    X(GO_TXS, "outbound", UI_KEYS('0'), "screen 0: outbound transactions, speed up, cancel", 0,    \
      UI_ALL)                                                                                      \
    X(GO_BRIDGES, "bridges", UI_KEYS('B'), "screen B: bridge transfers, their legs and state", 0, \
      UI_ALL)                                                                                      \
    X(GO_CREDIT, "credit", UI_KEYS('C'), "screen C: credit facilities, health, ledger, calls", 0,  \
      UI_ALL)                                                                                      \
    X(MESSAGES, "messages", UI_KEYS('M'), "show the message line's history", 0, UI_ALL)            \
    X(DOWN, "down", UI_KEYS('j', UI_K_DOWN), "move down one row", 0, UI_ALL)                       \
    X(UP, "up", UI_KEYS('k', UI_K_UP), "move up one row", 0, UI_ALL)                               \
    X(PAGE_DOWN, "pagedown", UI_KEYS(UI_K_NPAGE, UI_CTRL('f')), "move down one page", 0, UI_ALL)   \
    X(PAGE_UP, "pageup", UI_KEYS(UI_K_PPAGE, UI_CTRL('b')), "move up one page", 0, UI_ALL)         \
    X(HALF_DOWN, "halfdown", UI_KEYS(UI_CTRL('d')), "move down half a page", 0, UI_ALL)            \
    X(HALF_UP, "halfup", UI_KEYS(UI_CTRL('u')), "move up half a page", 0, UI_ALL)                  \
    X(TOP, "top", UI_KEYS('g', UI_K_HOME), "go to the first row", 0, UI_ALL)                       \
    X(BOTTOM, "bottom", UI_KEYS('G', UI_K_END), "go to the last row", 0, UI_ALL)                   \
    X(OPEN, "open", UI_KEYS('\n', UI_K_ENTER), "open the selected row's detail", UI_PRE_ROW,       \
      UI_ON(ESCROWS) | UI_ON(COMPLIANCE) | UI_ON(ENTITIES) | UI_ON(KEYS) | UI_ON(CHAINS) |         \
          UI_ON(AUDIT) | UI_ON(TXS) | UI_ON(DASHBOARD) | UI_ON(BRIDGES) | UI_ON(CREDIT))                                            \
    X(FOCUS, "focus", UI_KEYS('w'), "move the focus between the portfolio and the alerts", 0,      \
      UI_ON(DASHBOARD))                                                                            \
    X(ALERT_ACK, "ack", UI_KEYS('a'), "acknowledge the selected alert", UI_PRE_ROW,                \
      UI_ON(DASHBOARD))                                                                            \
    X(SORT, "sort", UI_KEYS('s'), "sort by the next column", 0, UI_ON(ESCROWS) | UI_ON(ENTITIES))  \
    X(FULL, "full", UI_KEYS('H'), "full addresses instead of 0x1234...abcd (again: short)", 0,    \
      UI_ON(ESCROWS))                                                                              \
    X(SORT_REVERSE, "reverse", UI_KEYS('S'), "reverse the sort order (the header shows it)", 0,     \
      UI_ON(ESCROWS) | UI_ON(ENTITIES))                                                                              \
    X(COPY, "copy", UI_KEYS('y'),                                                                  \
      "copy the escrow's address (OSC 52, works over SSH)",                                        \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                                  \
    X(ESCROW_NEW, "new", UI_KEYS('n'), "create an escrow (a form)", UI_PRE_CHAIN, UI_ON(ESCROWS))  \
    X(ESCROW_FUND, "fund", UI_KEYS('f'), "fund the selected escrow",                               \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                                 \
    X(ESCROW_APPROVE, "approve", UI_KEYS('a'), "approve the selected escrow",                      \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                        \
    X(ESCROW_RELEASE, "release", UI_KEYS('r'), "release the selected escrow to its payee",         \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                        \
    X(ESCROW_REFUND, "refund", UI_KEYS('R'), "refund the selected escrow to its payer",            \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                        \
    X(ESCROW_DISPUTE, "dispute", UI_KEYS('D'), "open a dispute on the selected escrow",            \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                                 \
    X(ESCROW_RESOLVE, "resolve", UI_KEYS('v'), "resolve a dispute as its arbiter (payee or payer)", \
      UI_PRE_ROW, UI_ON(ESCROWS))                                                                  \
    X(SIGN, "sign", UI_KEYS('\n', UI_K_ENTER), "review, confirm and sign the selected request",    \
      UI_PRE_ROW, UI_ON(APPROVALS))                                          \
    X(PROPOSAL_ACCEPT, "accept", UI_KEYS('A'),                                                     \
      "accept the selected API proposal (escrow/pay/bridge)", UI_PRE_ROW,                          \
      UI_ON(APPROVALS))                                                                            \
    X(QUEUE_NEXT, "nextqueue", UI_KEYS(']'),                                                       \
      "next queue (... open, confirm: four eyes, closed)", 0, UI_ON(COMPLIANCE))                   \
    X(QUEUE_PREV, "prevqueue", UI_KEYS('['), "show the previous queue", 0, UI_ON(COMPLIANCE))      \
    X(CASE_TAKE, "take", UI_KEYS('t'), "take the next case of the queue", UI_PRE_ROLE_COMPLIANCE,  \
      UI_ON(COMPLIANCE))                                                                           \
    X(CASE_TAKE_ROW, "takethis", UI_KEYS('T'), "take the selected case (new, or snoozed)",         \
      UI_PRE_ROW | UI_PRE_ROLE_COMPLIANCE, UI_ON(COMPLIANCE))                                      \
    X(CASE_NOTE, "note", UI_KEYS('n'), "add a note to the selected case", UI_PRE_ROW,              \
      UI_ON(COMPLIANCE))                                                                           \
    X(CASE_SNOOZE, "snooze", UI_KEYS('z'), "snooze the selected case", UI_PRE_ROW,                 \
      UI_ON(COMPLIANCE))                                                                           \
    X(CASE_ESCALATE, "escalate", UI_KEYS('e'), "escalate the selected case", UI_PRE_ROW,           \
      UI_ON(COMPLIANCE))                                                                           \
    X(CASE_CLEAR, "clear", UI_KEYS('c'), "clear the selected case (four eyes)",                    \
      UI_PRE_ROW | UI_PRE_ROLE_COMPLIANCE, UI_ON(COMPLIANCE))                                      \
    X(CASE_BLOCK, "block", UI_KEYS('b'), "block the selected case's party",                        \
      UI_PRE_ROW | UI_PRE_ROLE_COMPLIANCE, UI_ON(COMPLIANCE))                                      \
    X(KEY_UNLOCK, "unlock", UI_KEYS('u'), "unlock the selected key (asks for its passphrase)",     \
      UI_PRE_ROW, UI_ON(KEYS))                                                                     \
    X(KEY_LOCK, "lock", UI_KEYS('l'), "lock the selected key and wipe it from memory", UI_PRE_ROW, \
      UI_ON(KEYS))                                                                                 \
    X(AUDIT_VERIFY, "verify", UI_KEYS('v'), "verify the audit log's hash chain", 0, UI_ON(AUDIT))  \
    X(TX_CHECK, "check", UI_KEYS('c'),                                                             \
      "check what is in flight (mined, re-sent, replaced)", UI_PRE_CHAIN, UI_ON(TXS))    \
    X(TX_SPEEDUP, "speedup", UI_KEYS('S'), "speed up the selected transaction (higher fees)",      \
      UI_PRE_ROW, UI_ON(TXS))                                                                      \
    X(TX_CANCEL, "cancel", UI_KEYS('X'), "cancel the selected transaction (0 to yourself)",        \
      UI_PRE_ROW, UI_ON(TXS))                                                      \
    X(BRIDGE_RESUME, "resume", UI_KEYS('R'), "resume the selected transfer (attest, then mint)",   \
      UI_PRE_ROW, UI_ON(BRIDGES))

typedef enum {
    UI_ACT_NONE,
#define UI_ACT_ENUM_(id, command, keys, help, pre, screens) UI_ACT_##id,
    UI_ACTIONS(UI_ACT_ENUM_)
#undef UI_ACT_ENUM_
        UI_ACT_COUNT
} ui_action;

typedef struct ui_action_info {
    const char *command; /* the `:` name */
    ui_key keys[UI_MAX_KEYS];
    const char *help;
    unsigned pre;     /* UI_PRE_* needed */
    unsigned screens; /* UI_ON(...) bits where the action exists */
} ui_action_info;

/* Indexed by ui_action; row UI_ACT_NONE is empty. */
extern const ui_action_info ui_actions[UI_ACT_COUNT];

/* Screen titles ("Escrows"), short titles ("Escr", "Apprv") and tiny titles ("Esc", "Apr")
 * by ui_screen_id. */
const char *ui_screen_title(ui_screen_id id);
const char *ui_screen_short_title(ui_screen_id id);
const char *ui_screen_tiny_title(ui_screen_id id);
/* The key that goes to screen id, as the tab bar and the status line name it ("1", "0",
 * "B"): the first key of its GO_* action. */
const char *ui_screen_key(ui_screen_id id);

/* The action bound to key on screen id, or UI_ACT_NONE. */
ui_action ui_keymap_lookup(ui_screen_id id, ui_key key);
/* The action named by a `:` command: exact name, else a unique prefix; UI_ACT_NONE if
 * unknown or ambiguous. */
ui_action ui_command_find(const char *name);
/* Completes a command prefix: writes the longest common extension of the matching names
 * into out (at least the prefix itself) and returns how many names match. */
size_t ui_command_complete(const char *prefix, char *out, size_t cap);
/* Writes the matching command names, space separated, into out. */
void ui_command_candidates(const char *prefix, char *out, size_t cap);

/* A key's display name: "j", "Down", "C-d", "PgDn", "Enter", "Esc", "Tab", "S-Tab", "F1". */
const char *ui_key_name(ui_key key, char *buf, size_t cap);
/* All the keys of an action joined by spaces ("j Down"). */
const char *ui_action_keys(ui_action a, char *buf, size_t cap);
/* Where the action exists: "all screens" or the titles joined by ", ". */
const char *ui_action_where(ui_action a, char *buf, size_t cap);
/* Help sections: UI_SECTION_ALL (the global actions) then each screen's own actions. */
#define UI_SECTION_ALL (-1)
bool ui_action_in_section(ui_action a, int section);
const char *ui_section_title(int section);
/* Prints the key tables, grouped by section, as Markdown or as man(7) source: the key
 * tables of docs/user-guide.md and docs/fusion.1 (`fusion ui --keys[=man]`). */
void ui_keymap_print(FILE *f, bool man);

/* The desk action an action signs (desk/actions.h), or DESK_ACT_NONE: its role check is
 * the policy's (desk_action_role_check), asked before any passphrase. */
desk_action ui_action_desk(ui_action a);
/* The role check of action a for this operator under policy p: 0 when a signs nothing or
 * the policy permits it, else 1 with the reason in why. */
int ui_action_role_check(ui_action a, const policy *p, const char *operator_name,
                         unsigned roles, char *why, size_t cap);

/* The message of the first precondition in `missing` (UI_PRE_* bits). */
const char *ui_precondition_message(unsigned missing);

#endif
