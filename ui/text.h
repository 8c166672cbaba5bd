/* text.h: display-width arithmetic for UTF-8 text (pure: no curses). Terminals lay text
 * out in columns, not bytes: CJK and most emoji take two, combining marks none. Every
 * string the UI prints from data goes through ui_text_fit, so tables align and control
 * bytes (escape sequences in a counterparty name) never reach the terminal. */
#ifndef FUSION_UI_TEXT_H
#define FUSION_UI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence from s (n > 0 bytes available) into *cp and returns its
 * length; an invalid or truncated sequence yields U+FFFD and length 1. */
size_t ui_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Encodes cp as UTF-8 into out (4 bytes room); returns the length (0 if cp is invalid). */
size_t ui_utf8_put(uint32_t cp, char out[4]);

/* Display columns of one code point as ui_text_fit prints it: 0 for combining marks,
 * 2 for wide characters, 1 otherwise (anything unprintable is shown as '?'). */
int ui_cp_width(uint32_t cp);
/* Display columns of a NUL-terminated UTF-8 string, as ui_text_fit would print it. */
int ui_text_width(const char *s);

typedef enum { UI_ALIGN_LEFT, UI_ALIGN_RIGHT } ui_align;

/* Writes s into out so that it takes exactly `width` display columns: padded with
 * spaces (on the right for UI_ALIGN_LEFT, on the left for UI_ALIGN_RIGHT), or cut at a
 * character boundary and ended with `ellipsis` when too wide. A wide character that
 * would straddle the limit is replaced by padding. Unprintable characters become '?'.
 * out is always NUL-terminated; returns the bytes written (without the NUL). */
size_t ui_text_fit(char *out, size_t cap, const char *s, int width, ui_align align,
                   const char *ellipsis);

/* Where to break s for a line of `width` columns: the bytes of the longest prefix that
 * fits, ending at a space when the prefix has one in its second half (the space itself
 * is left for the next line to skip); strlen(s) when it all fits; at least one character
 * when width < 1 or the first character is wider. */
size_t ui_text_break(const char *s, int width);

/* A plain decimal ("1234567.891", as amount_format writes it) grouped by thousands
 * ("1,234,567.891") with at most max_frac fractional digits: the rest is cut, never
 * rounded (a balance is never shown larger than it is), and *cut says whether anything
 * was. Anything but digits and one '.' is copied as it is. */
void ui_fmt_decimal(char *out, size_t cap, const char *plain, int max_frac, int *cut);
/* The fractional digits a table shows of an amount (the exact figure is in its detail). */
#define UI_DISPLAY_DECIMALS 4
/* An amount as a table shows it: ui_fmt_decimal at UI_DISPLAY_DECIMALS, with `ellipsis`
 * (the terminal's, ui_glyph()) after it when digits were cut ("2.5…" for
 * 2.500000000000000001). */
void ui_fmt_amount(char *out, size_t cap, const char *plain, const char *ellipsis);
/* A USD figure with thousands separators and `frac` decimals ("126,138,595"); "-" for
 * NaN or infinity. */
void ui_fmt_usd(char *out, size_t cap, double v, int frac);
/* A sparkline of n values in up to `width` cells, one of the 8 glyphs per value (the
 * lowest value the first glyph, the highest the last; all equal: the middle one); the
 * last `width` values when there are more; non-finite values are skipped. "" for none. */
void ui_sparkline(char *out, size_t cap, const double *v, size_t n, int width,
                  const char *const glyphs[8]);

enum {
    UI_COL_RIGHT = 1u << 0, /* right-aligned (numbers, amounts) */
    UI_COL_GROW = 1u << 1,  /* takes the spare width */
};

/* One column of a table: the header, width bounds in display columns (max 0 = none). */
typedef struct ui_column {
    const char *title;
    int min;
    int max;
    unsigned flags;
} ui_column;

/* Chooses column widths for a table `avail` columns wide with `gap` columns between
 * neighbours. natural[i] is the widest content seen (header included). Columns get their
 * natural width clamped to [min, max]; spare width goes to UI_COL_GROW columns; when too
 * wide, the widest columns shrink first down to their minimum, then columns are dropped
 * from the right (width 0). */
void ui_columns_layout(const ui_column *cols, const int *natural, size_t n, int avail, int gap,
                       int *out);

#endif
