/* text.h: outside text (a node's answers, files, other operators' notes, argv) made safe
 * to show, once, where it comes in: valid UTF-8 is kept; control characters (C0, DEL,
 * C1), bidi controls and line separators, and bytes that are not UTF-8 become visible
 * escapes (\x1b, \xff, \u202e), so nothing can move the cursor, retitle or recolour a
 * terminal, or reorder what a reader sees, on the terminal, in exports or in the log.
 * Backslashes are kept as they are, so the result is a fixed point: made safe twice it
 * is the same text. */
#ifndef FUSION_BASE_TEXT_H
#define FUSION_BASE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Excerpt buffers for one-line messages: 60 bytes of text and "...". */
#define TEXT_EXCERPT_MAX 64

/* The length (1..4) of the well-formed UTF-8 character at p (no overlongs, surrogates
 * or values above U+10FFFF) and its code point in *cp, or 0 when p[0] does not start one. */
size_t text_utf8_next(const char *p, size_t n, uint32_t *cp);

/* Whether a code point may be shown as itself: not a control character (C0, DEL, C1),
 * not a bidi control (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069), not a line or
 * paragraph separator (U+2028/9). */
bool text_cp_safe(uint32_t cp);

/* A safe copy of s[0..len) in out (cap bytes, at least 8), always NUL-terminated. When
 * it does not fit it is cut at a character or escape boundary and ends in "...".
 * Returns out, so it can be used as a printf argument. */
const char *text_safe(char *out, size_t cap, const char *s, size_t len);

/* text_safe of a NUL-terminated string. */
const char *text_safe_str(char *out, size_t cap, const char *s);

/* The whole safe copy, malloc'ed (never cut); NULL when out of memory. */
char *text_safe_dup(const char *s, size_t len);

/* The byte offset of the first character text_safe would escape, or len when none: for
 * inputs that refuse such text rather than store it. */
size_t text_unsafe_at(const char *s, size_t len);

#endif
