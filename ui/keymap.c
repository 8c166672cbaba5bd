/* keymap.c: the tables generated from UI_ACTIONS / UI_SCREENS / UI_PRECONDITIONS and the
 * lookups over them (keys, `:` commands and their completion, display names). */
#include "keymap.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

/* keymap.h spells the curses codes out so that it stays curses-free; keep them honest. */
_Static_assert(UI_ACT_GO_CREDIT - UI_ACT_GO_DASHBOARD == UI_SCR_CREDIT &&
                   UI_SCREEN_COUNT == UI_SCR_CREDIT + 1,
               "the GO_* actions follow UI_SCREENS' order");
_Static_assert(UI_K_DOWN == UI_FN(KEY_DOWN), "KEY_DOWN");
_Static_assert(UI_K_UP == UI_FN(KEY_UP), "KEY_UP");
_Static_assert(UI_K_LEFT == UI_FN(KEY_LEFT), "KEY_LEFT");
_Static_assert(UI_K_RIGHT == UI_FN(KEY_RIGHT), "KEY_RIGHT");
_Static_assert(UI_K_HOME == UI_FN(KEY_HOME), "KEY_HOME");
_Static_assert(UI_K_BACKSPACE == UI_FN(KEY_BACKSPACE), "KEY_BACKSPACE");
_Static_assert(UI_K_F1 == UI_FN(KEY_F(1)), "KEY_F1");
_Static_assert(UI_K_DC == UI_FN(KEY_DC), "KEY_DC");
_Static_assert(UI_K_NPAGE == UI_FN(KEY_NPAGE), "KEY_NPAGE");
_Static_assert(UI_K_PPAGE == UI_FN(KEY_PPAGE), "KEY_PPAGE");
_Static_assert(UI_K_ENTER == UI_FN(KEY_ENTER), "KEY_ENTER");
_Static_assert(UI_K_BTAB == UI_FN(KEY_BTAB), "KEY_BTAB");
_Static_assert(UI_K_END == UI_FN(KEY_END), "KEY_END");

const ui_action_info ui_actions[UI_ACT_COUNT] = {[UI_ACT_NONE] = {NULL, {0}, NULL, 0, 0},
#define UI_ACT_ROW_(id, command, keys, help, pre, screens)                                         \
    [UI_ACT_##id] = {command, keys, help, pre, screens},
                                                 UI_ACTIONS(UI_ACT_ROW_)
#undef UI_ACT_ROW_
};

static const char *const screen_titles[UI_SCREEN_COUNT] = {
#define UI_SCR_TITLE_(id, title, short_title, tiny) title,
    UI_SCREENS(UI_SCR_TITLE_)
#undef UI_SCR_TITLE_
};

static const char *const screen_short_titles[UI_SCREEN_COUNT] = {
#define UI_SCR_SHORT_(id, title, short_title, tiny) short_title,
    UI_SCREENS(UI_SCR_SHORT_)
#undef UI_SCR_SHORT_
};

static const char *const screen_tiny_titles[UI_SCREEN_COUNT] = {
#define UI_SCR_TINY_(id, title, short_title, tiny) tiny,
    UI_SCREENS(UI_SCR_TINY_)
#undef UI_SCR_TINY_
};

static const char *const pre_messages[UI_PRE_COUNT] = {
#define UI_PRE_MSG_(id, msg) msg,
    UI_PRECONDITIONS(UI_PRE_MSG_)
#undef UI_PRE_MSG_
};

const char *ui_screen_title(ui_screen_id id)
{
    return id < UI_SCREEN_COUNT ? screen_titles[id] : "?";
}

const char *ui_screen_short_title(ui_screen_id id)
{
    return id < UI_SCREEN_COUNT ? screen_short_titles[id] : "?";
}

const char *ui_screen_tiny_title(ui_screen_id id)
{
    return id < UI_SCREEN_COUNT ? screen_tiny_titles[id] : "?";
}

const char *ui_screen_key(ui_screen_id id)
{
    static char names[UI_SCREEN_COUNT][2];
    if (id >= UI_SCREEN_COUNT)
        return "?";
    ui_key k = ui_actions[UI_ACT_GO_DASHBOARD + id].keys[0];
    names[id][0] = k > 32 && k < 127 ? (char)k : '?';
    return names[id];
}

ui_action ui_keymap_lookup(ui_screen_id id, ui_key key)
{
    if (key == 0 || id >= UI_SCREEN_COUNT)
        return UI_ACT_NONE;
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        if (!(ui_actions[a].screens & (1u << id)))
            continue;
        for (int k = 0; k < UI_MAX_KEYS && ui_actions[a].keys[k]; k++) {
            if (ui_actions[a].keys[k] == key)
                return (ui_action)a;
        }
    }
    return UI_ACT_NONE;
}

ui_action ui_command_find(const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return UI_ACT_NONE;
    ui_action found = UI_ACT_NONE;
    size_t matches = 0;
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        const char *c = ui_actions[a].command;
        if (strcmp(c, name) == 0)
            return (ui_action)a;
        if (strncmp(c, name, n) == 0) {
            found = (ui_action)a;
            matches++;
        }
    }
    return matches == 1 ? found : UI_ACT_NONE;
}

size_t ui_command_complete(const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix), matches = 0, common = 0;
    const char *first = NULL;
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        const char *c = ui_actions[a].command;
        if (strncmp(c, prefix, n) != 0)
            continue;
        if (!first) {
            first = c;
            common = strlen(c);
        } else {
            size_t i = n;
            while (i < common && c[i] == first[i])
                i++;
            common = i;
        }
        matches++;
    }
    if (!first) {
        snprintf(out, cap, "%s", prefix);
        return 0;
    }
    snprintf(out, cap, "%.*s", (int)common, first);
    return matches;
}

void ui_command_candidates(const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix), len = 0;
    if (cap)
        out[0] = '\0';
    for (int a = 1; a < UI_ACT_COUNT; a++) {
        const char *c = ui_actions[a].command;
        if (strncmp(c, prefix, n) != 0)
            continue;
        int w = snprintf(out + len, cap - len, "%s%s", len ? " " : "", c);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
}

const char *ui_key_name(ui_key key, char *buf, size_t cap)
{
    static const struct {
        ui_key key;
        const char *name;
    } names[] = {
        {UI_K_DOWN, "Down"},   {UI_K_UP, "Up"},      {UI_K_LEFT, "Left"},
        {UI_K_RIGHT, "Right"}, {UI_K_HOME, "Home"},  {UI_K_END, "End"},
        {UI_K_NPAGE, "PgDn"},  {UI_K_PPAGE, "PgUp"}, {UI_K_ENTER, "Enter"},
        {UI_K_BTAB, "S-Tab"},  {UI_K_DC, "Del"},     {UI_K_BACKSPACE, "Backspace"},
        {'\n', "Enter"},       {'\t', "Tab"},        {UI_ESC, "Esc"},
        {' ', "Space"},        {127, "Backspace"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].key == key) {
            snprintf(buf, cap, "%s", names[i].name);
            return buf;
        }
    }
    if (key >= UI_FN(KEY_F(1)) && key <= UI_FN(KEY_F(24)))
        snprintf(buf, cap, "F%d", key - UI_FN(KEY_F0));
    else if (key >= UI_FN(0))
        snprintf(buf, cap, "key-%d", key - UI_FN(0));
    else if (key > 0 && key < 32)
        snprintf(buf, cap, "C-%c", 'a' + key - 1);
    else if (key < 128)
        snprintf(buf, cap, "%c", (char)key);
    else {
        /* A non-ASCII character key: its UTF-8 form. */
        unsigned c = (unsigned)key;
        char u[5] = {0};
        if (c < 0x800) {
            u[0] = (char)(0xc0 | (c >> 6)), u[1] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            u[0] = (char)(0xe0 | (c >> 12)), u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[2] = (char)(0x80 | (c & 0x3f));
        } else {
            u[0] = (char)(0xf0 | (c >> 18)), u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
            u[2] = (char)(0x80 | ((c >> 6) & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f));
        }
        snprintf(buf, cap, "%s", u);
    }
    return buf;
}

/* '\n' and KEY_ENTER are both "Enter": list a name once. */
static bool name_seen_before(const ui_action_info *in, int k)
{
    char a[32], b[32];
    ui_key_name(in->keys[k], a, sizeof a);
    for (int j = 0; j < k; j++) {
        if (strcmp(ui_key_name(in->keys[j], b, sizeof b), a) == 0)
            return true;
    }
    return false;
}

const char *ui_action_keys(ui_action a, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    if (a <= UI_ACT_NONE || a >= UI_ACT_COUNT)
        return buf;
    for (int k = 0; k < UI_MAX_KEYS && ui_actions[a].keys[k]; k++) {
        char name[32];
        if (name_seen_before(&ui_actions[a], k))
            continue;
        ui_key_name(ui_actions[a].keys[k], name, sizeof name);
        int w = snprintf(buf + len, cap - len, "%s%s", len ? " " : "", name);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

const char *ui_action_where(ui_action a, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    if (a <= UI_ACT_NONE || a >= UI_ACT_COUNT)
        return buf;
    if (ui_actions[a].screens == UI_ALL) {
        snprintf(buf, cap, "all screens");
        return buf;
    }
    for (int s = 0; s < UI_SCREEN_COUNT; s++) {
        if (!(ui_actions[a].screens & (1u << s)))
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", screen_titles[s]);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

const char *ui_precondition_message(unsigned missing)
{
    for (int b = 0; b < UI_PRE_COUNT; b++) {
        if (missing & (1u << b))
            return pre_messages[b];
    }
    return "";
}

bool ui_action_in_section(ui_action a, int section)
{
    if (a <= UI_ACT_NONE || a >= UI_ACT_COUNT)
        return false;
    unsigned on = ui_actions[a].screens;
    if (section == UI_SECTION_ALL)
        return on == UI_ALL;
    return section >= 0 && section < UI_SCREEN_COUNT && on != UI_ALL && (on & (1u << section));
}

const char *ui_section_title(int section)
{
    return section == UI_SECTION_ALL ? "All screens" : ui_screen_title((ui_screen_id)section);
}

/* man(7) text: a leading '.' or '\'' would be a request, '-' must be \- and '\' \e. */
static void man_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", f);
        else if (*s == '\\')
            fputs("\\e", f);
        else
            fputc(*s, f);
    }
}

void ui_keymap_print(FILE *f, bool man)
{
    for (int section = UI_SECTION_ALL; section < UI_SCREEN_COUNT; section++) {
        bool any = false;
        for (int a = 1; a < UI_ACT_COUNT; a++)
            any = any || ui_action_in_section((ui_action)a, section);
        if (!any)
            continue;
        if (man)
            fprintf(f, ".SS %s\n", ui_section_title(section));
        else
            fprintf(f, "%s### %s\n\n| Keys | Command | Action |\n|---|---|---|\n",
                    section == UI_SECTION_ALL ? "" : "\n", ui_section_title(section));
        for (int a = 1; a < UI_ACT_COUNT; a++) {
            if (!ui_action_in_section((ui_action)a, section))
                continue;
            const ui_action_info *in = &ui_actions[a];
            if (man)
                fputs(".TP\n", f);
            else
                fputs("|", f);
            for (int k = 0; k < UI_MAX_KEYS && in->keys[k]; k++) {
                char name[32];
                if (name_seen_before(in, k))
                    continue;
                ui_key_name(in->keys[k], name, sizeof name);
                if (man) {
                    fputs(k ? ", \\fB" : "\\fB", f);
                    man_escape(f, name);
                    fputs("\\fR", f);
                } else {
                    fprintf(f, " `%s`", name);
                }
            }
            if (man) {
                fputs("  (\\fI:", f);
                man_escape(f, in->command);
                fputs("\\fR)\n", f);
                man_escape(f, in->help);
                fputs("\n", f);
            } else {
                fprintf(f, " | `:%s` | %s |\n", in->command, in->help);
            }
        }
    }
}

desk_action ui_action_desk(ui_action a)
{
    switch (a) {
    case UI_ACT_ESCROW_NEW:
        return DESK_ACT_CREATE;
    case UI_ACT_ESCROW_FUND:
        return DESK_ACT_FUND;
    case UI_ACT_ESCROW_APPROVE:
    case UI_ACT_SIGN: /* the Approvals screen signs approvals */
        return DESK_ACT_APPROVE;
    case UI_ACT_ESCROW_RELEASE:
        return DESK_ACT_RELEASE;
    case UI_ACT_ESCROW_REFUND:
        return DESK_ACT_REFUND;
    case UI_ACT_ESCROW_DISPUTE:
        return DESK_ACT_DISPUTE;
    case UI_ACT_ESCROW_RESOLVE:
        return DESK_ACT_RESOLVE;
    default:
        return DESK_ACT_NONE;
    }
}

int ui_action_role_check(ui_action a, const policy *p, const char *operator_name,
                         unsigned roles, char *why, size_t cap)
{
    desk_action da = ui_action_desk(a);
    if (da == DESK_ACT_NONE || !p)
        return 0;
    return desk_action_role_check(p, da, operator_name, roles, why, cap);
}
