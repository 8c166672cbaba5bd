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
        /* Number key n goes to screen n (0 to the tenth), whose command is its title in
         * lower case. */
        ui_action go = ui_keymap_lookup((ui_screen_id)s, '0' + (s + 1) % 10);
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
    assert_true(ui_actions[UI_ACT_ESCROW_APPROVE].pre & UI_PRE_ROLE_APPROVER);
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
        cmocka_unit_test(test_docs_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
