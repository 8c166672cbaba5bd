/* lineedit.c: editing operations on a code point buffer (see lineedit.h). */
#include "lineedit.h"

#include <string.h>

#include "text.h"

void ui_lineedit_clear(ui_lineedit *le)
{
    memset(le, 0, sizeof *le);
}

void ui_lineedit_set(ui_lineedit *le, const char *s)
{
    ui_lineedit_clear(le);
    size_t n = strlen(s);
    for (size_t i = 0; i < n && le->len < UI_LINE_MAX;) {
        uint32_t cp;
        i += ui_utf8_next(s + i, n - i, &cp);
        le->buf[le->len++] = cp;
    }
    le->cur = le->len;
}

static void delete_range(ui_lineedit *le, size_t from, size_t to)
{
    memmove(le->buf + from, le->buf + to, (le->len - to) * sizeof le->buf[0]);
    le->len -= to - from;
    le->cur = from;
}

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t';
}

ui_le_result ui_lineedit_key(ui_lineedit *le, ui_key key)
{
    switch (key) {
    case '\n':
    case '\r':
    case UI_K_ENTER:
        return UI_LE_ACCEPT;
    case UI_ESC:
    case UI_CTRL('g'):
        return UI_LE_CANCEL;
    case '\t':
        return UI_LE_COMPLETE;
    case UI_K_LEFT:
    case UI_CTRL('b'):
        if (le->cur == 0)
            return UI_LE_IGNORED;
        le->cur--;
        return UI_LE_MOVED;
    case UI_K_RIGHT:
    case UI_CTRL('f'):
        if (le->cur == le->len)
            return UI_LE_IGNORED;
        le->cur++;
        return UI_LE_MOVED;
    case UI_K_HOME:
    case UI_CTRL('a'):
        le->cur = 0;
        return UI_LE_MOVED;
    case UI_K_END:
    case UI_CTRL('e'):
        le->cur = le->len;
        return UI_LE_MOVED;
    case UI_K_BACKSPACE:
    case 127:
    case UI_CTRL('h'):
        if (le->cur == 0)
            return UI_LE_IGNORED;
        delete_range(le, le->cur - 1, le->cur);
        return UI_LE_CHANGED;
    case UI_K_DC:
    case UI_CTRL('d'):
        if (le->cur == le->len)
            return UI_LE_IGNORED;
        delete_range(le, le->cur, le->cur + 1);
        return UI_LE_CHANGED;
    case UI_CTRL('u'):
        if (le->cur == 0)
            return UI_LE_IGNORED;
        delete_range(le, 0, le->cur);
        return UI_LE_CHANGED;
    case UI_CTRL('k'):
        if (le->cur == le->len)
            return UI_LE_IGNORED;
        le->len = le->cur;
        return UI_LE_CHANGED;
    case UI_CTRL('w'): {
        size_t from = le->cur;
        while (from > 0 && is_space(le->buf[from - 1]))
            from--;
        while (from > 0 && !is_space(le->buf[from - 1]))
            from--;
        if (from == le->cur)
            return UI_LE_IGNORED;
        delete_range(le, from, le->cur);
        return UI_LE_CHANGED;
    }
    default:
        break;
    }
    /* Printable characters insert; other control and function keys are not ours. */
    if (key < 0x20 || key == 0x7f || (key >= 0x80 && key < 0xa0) || key > 0x10ffff)
        return UI_LE_IGNORED;
    if (le->len == UI_LINE_MAX)
        return UI_LE_IGNORED;
    memmove(le->buf + le->cur + 1, le->buf + le->cur, (le->len - le->cur) * sizeof le->buf[0]);
    le->buf[le->cur++] = (uint32_t)key;
    le->len++;
    return UI_LE_CHANGED;
}

size_t ui_lineedit_text(const ui_lineedit *le, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < le->len; i++) {
        char u[4];
        size_t k = ui_utf8_put(le->buf[i], u);
        if (n + k + 1 > cap)
            break;
        memcpy(out + n, u, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

int ui_lineedit_cursor_col(const ui_lineedit *le)
{
    int w = 0;
    for (size_t i = 0; i < le->cur; i++)
        w += ui_cp_width(le->buf[i]);
    return w;
}

int ui_lineedit_window(const ui_lineedit *le, int width, char *out, size_t cap)
{
    int curcol = ui_lineedit_cursor_col(le);
    int offset = curcol > width - 1 ? curcol - (width - 1) : 0;
    size_t i = 0, o = 0;
    int skipped = 0;
    while (i < le->len && skipped < offset)
        skipped += ui_cp_width(le->buf[i++]);
    for (; i < le->len; i++) {
        char u[4];
        size_t k = ui_utf8_put(le->buf[i], u);
        if (o + k + 1 > cap)
            break;
        memcpy(out + o, u, k);
        o += k;
    }
    if (cap)
        out[o] = '\0';
    return curcol - skipped;
}
