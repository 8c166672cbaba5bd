/* secret.h: the passphrase entry core (pure, no curses). Bytes typed at the passphrase
 * prompt are read straight from the terminal into sodium_malloc memory (guarded, never
 * swapped) and go nowhere else: no echo, no curses input queue, no history. */
#ifndef FUSION_UI_SECRET_H
#define FUSION_UI_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define UI_SECRET_MAX 1024

typedef struct ui_secret {
    unsigned char *buf; /* sodium_malloc'd, UI_SECRET_MAX + 1 bytes, NUL-terminated */
    size_t len;
    bool overflow; /* more was typed than fits: the entry must be refused */
} ui_secret;

typedef enum { UI_SECRET_MORE, UI_SECRET_ACCEPT, UI_SECRET_CANCEL } ui_secret_state;

/* Allocates an empty secret in sodium_malloc memory. */
int ui_secret_new(ui_secret **out, err *e) __attribute__((warn_unused_result));
/* Wipes and frees the secret; sets *p to NULL. */
void ui_secret_free(ui_secret **p);
/* Wipes the content, keeps the allocation. */
void ui_secret_clear(ui_secret *s);
/* Feeds raw terminal bytes: printable bytes (UTF-8 included) append, Backspace/DEL
 * removes the last character, C-u erases everything, CR/LF accepts, Esc/C-c/C-g cancel
 * (the rest of the input is then ignored). *used says how many bytes were consumed. */
ui_secret_state ui_secret_feed(ui_secret *s, const unsigned char *in, size_t n, size_t *used);

#endif
