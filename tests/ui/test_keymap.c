/* test_keymap.c: the action table (ui/keymap.h) is consistent: unique commands, no key
 * bound twice on a screen, help that fits an 80-column help screen, lookups, `:`
 * completion, key names, and the generated docs tables. */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

#include "desk/desk.h"
#include "keymap.h"
#include "text.h"

static void test_table_sane(void **state)
{
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        const ui_action_info *in = &ui_actions[a];
        assert_non_null(in->command);
        assert_true(strlen(in->command) > 0);
        for (const char *c = in->command; *c; c++)
            assert_true(islower((unsigned char)*c));
        assert_non_null(in->help);
        assert_true(in->screens != 0);
        assert_true((in->screens & ~UI_ALL) == 0);
        assert_true(in->keys[0] != 0);
        for (int b = a + 1; b < UI_ACT_COUNT; b++)
            assert_string_not_equal(in->command, ui_actions[b].command);
    }
}

static void test_keys_unique_per_screen(void **state)
{
    for (int s = 0; s < UI_SCREEN_COUNT; s++) {
        for (int a = 1; a < UI_ACT_COUNT; a++) {
            if (!(ui_actions[a].screens & (1u << s)))
                continue;
            for (int k = 0; k < UI_MAX_KEYS && ui_actions[a].keys[k]; k++) {
                ui_key key = ui_actions[a].keys[k];
                for (int b = a + 1; b < UI_ACT_COUNT; b++) {
                    if (!(ui_actions[b].screens & (1u << s)))
                        continue;
                    for (int j = 0; j < UI_MAX_KEYS; j++) {
                        if (ui_actions[b].keys[j] == key)
                            fail_msg("key %d bound to :%s and :%s on screen %d", key,
                                     ui_actions[a].command, ui_actions[b].command, s);
                    }
                }
            }
        }
    }
}

/* The help screen at 80 columns has 78 for its table: keys, command and help with one
 * space between them must fit without an ellipsis. */
static void test_help_fits_80_columns(void **state)
{
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        char keys[64];
        int kw = ui_text_width(ui_action_keys((ui_action)a, keys, sizeof keys));
        int cw = 1 + (int)strlen(ui_actions[a].command);
        int hw = ui_text_width(ui_actions[a].help);
        if (kw > 10 || cw > 12 || hw > 54)
            fail_msg(":%s does not fit the help screen (%d+%d+%d)", ui_actions[a].command, kw, cw,
                     hw);
    }
}

static void test_lookup(void **state)
{
    for (int s = 0; s < UI_SCREEN_COUNT; s++) {
        assert_int_equal(ui_keymap_lookup((ui_screen_id)s, 'j'), UI_ACT_DOWN);
        assert_int_equal(ui_keymap_lookup((ui_screen_id)s, UI_K_DOWN), UI_ACT_DOWN);
        assert_int_equal(ui_keymap_lookup((ui_screen_id)s, 'q'), UI_ACT_QUIT);
        assert_int_equal(ui_keymap_lookup((ui_screen_id)s, UI_CTRL('d')), UI_ACT_HALF_DOWN);
        assert_int_equal(ui_keymap_lookup((ui_screen_id)s, UI_K_NPAGE), UI_ACT_PAGE_DOWN);
        /* Number key n goes to screen n (0 to the tenth, then B and C), whose command is
         * its title in lower case; the tab bar names that key. */
        ui_key k = s < 10 ? '0' + (s + 1) % 10 : "BC"[s - 10];
        ui_action go = ui_keymap_lookup((ui_screen_id)s, k);
        char kn[2] = {(char)k, '\0'};
        assert_string_equal(ui_screen_key((ui_screen_id)s), kn);
        char want[32];
        snprintf(want, sizeof want, "%s", ui_screen_title((ui_screen_id)s));
        for (char *p = want; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        assert_string_equal(ui_actions[go].command, want);
    }
    assert_int_equal(ui_keymap_lookup(UI_SCR_ESCROWS, 'a'), UI_ACT_ESCROW_APPROVE);
    assert_int_equal(ui_keymap_lookup(UI_SCR_DASHBOARD, 'a'), UI_ACT_ALERT_ACK);
    assert_int_equal(ui_keymap_lookup(UI_SCR_KEYS, 'a'), UI_ACT_NONE);
    assert_int_equal(ui_keymap_lookup(UI_SCR_APPROVALS, '\n'), UI_ACT_SIGN);
    assert_int_equal(ui_keymap_lookup(UI_SCR_ESCROWS, '\n'), UI_ACT_OPEN);
    assert_int_equal(ui_keymap_lookup(UI_SCR_ESCROWS, 0), UI_ACT_NONE);
    assert_int_equal(ui_keymap_lookup(UI_SCREEN_COUNT, 'j'), UI_ACT_NONE);
}

static void test_commands(void **state)
{
    assert_int_equal(ui_command_find("quit"), UI_ACT_QUIT);
    assert_int_equal(ui_command_find("qu"), UI_ACT_QUIT);  /* unique prefix */
    assert_int_equal(ui_command_find("esc"), UI_ACT_NONE); /* escrows, escalate */
    assert_int_equal(ui_command_find("escr"), UI_ACT_GO_ESCROWS);
    assert_int_equal(ui_command_find("nosuch"), UI_ACT_NONE);
    assert_int_equal(ui_command_find(""), UI_ACT_NONE);
    char out[64], cands[256];
    assert_int_equal(ui_command_complete("es", out, sizeof out), 2);
    assert_string_equal(out, "esc");
    ui_command_candidates("esc", cands, sizeof cands);
    assert_string_equal(cands, "escrows escalate");
    assert_int_equal(ui_command_complete("dash", out, sizeof out), 1);
    assert_string_equal(out, "dashboard");
    assert_int_equal(ui_command_complete("zz", out, sizeof out), 0);
    assert_string_equal(out, "zz");
    /* The empty prefix matches every command. */
    assert_int_equal(ui_command_complete("", out, sizeof out), UI_ACT_COUNT - 1);
}

static void test_key_names(void **state)
{
    char b[32];
    assert_string_equal(ui_key_name(UI_CTRL('d'), b, sizeof b), "C-d");
    assert_string_equal(ui_key_name(UI_K_NPAGE, b, sizeof b), "PgDn");
    assert_string_equal(ui_key_name('\n', b, sizeof b), "Enter");
    assert_string_equal(ui_key_name(UI_K_F1, b, sizeof b), "F1");
    assert_string_equal(ui_key_name('G', b, sizeof b), "G");
    assert_string_equal(ui_key_name(0x00e9, b, sizeof b), "\xc3\xa9");
    assert_string_equal(ui_action_keys(UI_ACT_OPEN, b, sizeof b), "Enter");
    assert_string_equal(ui_action_keys(UI_ACT_PAGE_DOWN, b, sizeof b), "PgDn C-f");
    assert_string_equal(ui_action_where(UI_ACT_QUIT, b, sizeof b), "all screens");
    assert_string_equal(ui_action_where(UI_ACT_SORT, b, sizeof b), "Escrows, Entities");
}

static void test_preconditions(void **state)
{
    /* Roles are the policy's (test_role_checks_follow_policy), not a precondition flag. */
    assert_int_equal(ui_action_desk(UI_ACT_ESCROW_APPROVE), DESK_ACT_APPROVE);
    /* Signing asks for the passphrase itself: no action needs a key unlocked beforehand. */
    assert_false(ui_actions[UI_ACT_ESCROW_FUND].pre & UI_PRE_UNLOCKED_KEY);
    assert_true(ui_actions[UI_ACT_ESCROW_APPROVE].pre & UI_PRE_ROW);
    assert_int_equal(ui_actions[UI_ACT_QUIT].pre, 0);
    assert_non_null(strstr(ui_precondition_message(UI_PRE_UNLOCKED_KEY | UI_PRE_ROW), "row"));
    assert_non_null(strstr(ui_precondition_message(UI_PRE_UNLOCKED_KEY), "unlock"));
    assert_string_equal(ui_precondition_message(0), "");
}

/* Every action appears in the generated docs tables, once per section it is in. */
static void test_docs_tables(void **state)
{
    for (int man = 0; man <= 1; man++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        ui_keymap_print(f, man);
        fclose(f);
        for (int a = 1; a < UI_ACT_COUNT; a++) {
            char needle[64];
            snprintf(needle, sizeof needle, man ? "(\\fI:%s\\fR)" : "| `:%s` |",
                     ui_actions[a].command);
            int sections = 0, found = 0;
            for (int s = UI_SECTION_ALL; s < UI_SCREEN_COUNT; s++)
                sections += ui_action_in_section((ui_action)a, s);
            for (const char *p = text; (p = strstr(p, needle)); p++)
                found++;
            if (strchr(ui_actions[a].command, '-') == NULL)
                assert_int_equal(found, sections);
        }
        free(text);
    }
}

static policy *load_policy_text(const char *text)
{
    policy *p = NULL;
    err e;
    err_clear(&e);
    if (policy_parse(&p, text, strlen(text), &e) < 0)
        fail_msg("policy: %s", e.msg);
    return p;
}

static policy *load_default_policy(void)
{
    const char *root = getenv("FUSION_ROOT");
    assert_non_null(root);
    char path[4096];
    snprintf(path, sizeof path, "%s/data/policy/default.policy", root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return load_policy_text(text);
}

/* What the desk decides when it signs: policy_evaluate on a plain request (1 ETH on
 * chain "local", an escrow needing 3 approvals). */
static bool desk_allows(const policy *p, const char *action, const char *op, unsigned roles)
{
    policy_request r;
    memset(&r, 0, sizeof r);
    r.operator_name = op;
    r.roles = roles;
    r.action = action;
    r.chain = "local";
    r.asset_symbol = "ETH";
    r.decimals = 18;
    r.amount = u256_from_u64(1000000000000000000ull);
    r.threshold = 3;
    policy_decision d;
    err e;
    err_clear(&e);
    assert_int_equal(policy_evaluate(p, &r, &d, &e), 0);
    return d.outcome != POLICY_BLOCK;
}

static const unsigned role_sets[] = {0,
                                     DESK_ROLE_trader,
                                     DESK_ROLE_approver,
                                     DESK_ROLE_compliance,
                                     DESK_ROLE_admin,
                                     DESK_ROLE_trader | DESK_ROLE_approver,
                                     DESK_ROLE_approver | DESK_ROLE_compliance};

static void check_agreement(const policy *p)
{
    char why[300];
    /* every desk action, every role: the one role check agrees with the signing decision */
    for (int a = 1; a < DESK_ACT_COUNT; a++) {
        const desk_action_info *in = desk_action_get((desk_action)a);
        assert_non_null(in);
        assert_int_equal(desk_action_find(in->name), a);
        for (size_t r = 0; r < sizeof role_sets / sizeof *role_sets; r++) {
            bool by_desk = desk_allows(p, in->name, "op1", role_sets[r]);
            bool check = desk_action_role_check(p, (desk_action)a, "op1", role_sets[r], why,
                                                sizeof why) == 0;
            if (by_desk != check)
                fail_msg("%s with roles %#x: policy %d, role check %d", in->name, role_sets[r],
                         by_desk, check);
        }
    }
    /* every UI action that signs: no role flag of its own, and the same decision */
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        desk_action da = ui_action_desk((ui_action)a);
        if (da == DESK_ACT_NONE)
            continue;
        assert_int_equal(ui_actions[a].pre & UI_PRE_ROLE_COMPLIANCE, 0);
        for (size_t r = 0; r < sizeof role_sets / sizeof *role_sets; r++) {
            bool by_desk = desk_allows(p, desk_actions[da].name, "op1", role_sets[r]);
            bool ui = ui_action_role_check((ui_action)a, p, "op1", role_sets[r], why,
                                           sizeof why) == 0;
            if (by_desk != ui)
                fail_msg(":%s with roles %#x: policy %d, UI %d (%s)", ui_actions[a].command,
                         role_sets[r], by_desk, ui, why);
        }
    }
}

static void test_role_checks_follow_policy(void **state)
{
    policy *p = load_default_policy();
    check_agreement(p);
    char why[300];
    /* the shipped policy: anyone on the desk may release, only approvers approve */
    assert_int_equal(ui_action_role_check(UI_ACT_ESCROW_RELEASE, p, "alice", DESK_ROLE_trader,
                                          why, sizeof why), 0);
    assert_int_equal(ui_action_role_check(UI_ACT_ESCROW_APPROVE, p, "alice", DESK_ROLE_trader,
                                          why, sizeof why), 1);
    assert_non_null(strstr(why, "alice"));
    assert_non_null(strstr(why, "approve"));
    assert_int_equal(ui_action_role_check(UI_ACT_ESCROW_REFUND, p, "bob", DESK_ROLE_approver,
                                          why, sizeof why), 1);
    assert_int_equal(ui_action_role_check(UI_ACT_QUIT, p, "bob", 0, why, sizeof why), 0);
    /* no name: the reason still says who */
    assert_int_equal(desk_action_role_check(p, DESK_ACT_FUND, "", 0, why, sizeof why), 1);
    assert_non_null(strstr(why, "this operator (no role) fund"));
    policy_free(&p);
    /* a block that depends on the chain leaves the action possible elsewhere; a named
     * operator's unconditional block stops them only */
    p = load_policy_text("rule who=role:trader action=release chain=main -> block\n"
                         "rule who=op:mallory action=release -> block\n"
                         "rule who=* action=release -> allow\n"
                         "rule who=role:approver action=approve -> allow\n");
    check_agreement(p);
    assert_int_equal(desk_action_role_check(p, DESK_ACT_RELEASE, "alice", DESK_ROLE_trader, why,
                                            sizeof why), 0);
    assert_int_equal(desk_action_role_check(p, DESK_ACT_RELEASE, "mallory", DESK_ROLE_trader,
                                            why, sizeof why), 1);
    assert_non_null(strstr(why, "line 2"));
    policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sane),
        cmocka_unit_test(test_keys_unique_per_screen),
        cmocka_unit_test(test_help_fits_80_columns),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_preconditions),
        cmocka_unit_test(test_role_checks_follow_policy),
        cmocka_unit_test(test_docs_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
