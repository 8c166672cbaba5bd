/* lineedit.h: the one-line editor behind the `/` filter and `:` command prompts (pure:
 * a buffer of code points and a cursor; the prompt widget draws it). Emacs-style keys:
 * C-a/Home, C-e/End, Left/Right, Backspace, Del, C-u, C-k, C-w. */
#ifndef FUSION_UI_LINEEDIT_H
#define FUSION_UI_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "keymap.h"

#define UI_LINE_MAX 256

typedef struct ui_lineedit {
    uint32_t buf[UI_LINE_MAX];
    size_t len;
    size_t cur;
} ui_lineedit;

typedef enum {
    UI_LE_IGNORED, /* the key means nothing to the editor */
    UI_LE_MOVED,   /* cursor moved, text unchanged */
    UI_LE_CHANGED, /* text changed */
    UI_LE_ACCEPT,  /* Enter */
    UI_LE_CANCEL,  /* Esc, or C-g */
    UI_LE_COMPLETE /* Tab */
} ui_le_result;

void ui_lineedit_clear(ui_lineedit *le);
/* Replaces the text with s (UTF-8), cursor at the end. */
void ui_lineedit_set(ui_lineedit *le, const char *s);
/* Applies one key. */
ui_le_result ui_lineedit_key(ui_lineedit *le, ui_key key);
/* The text as UTF-8 (NUL-terminated, cut at a character boundary if cap is short). */
size_t ui_lineedit_text(const ui_lineedit *le, char *out, size_t cap);
/* Display columns of the text before the cursor. */
int ui_lineedit_cursor_col(const ui_lineedit *le);
/* The part of the text a field `width` columns wide shows, scrolled so that the cursor
 * is visible, as UTF-8 into out; returns the cursor's column in that field. */
int ui_lineedit_window(const ui_lineedit *le, int width, char *out, size_t cap);

#endif
