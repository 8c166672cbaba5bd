/* secret.c: passphrase bytes in guarded memory (see secret.h). */
#include "secret.h"

#include <sodium.h>

int ui_secret_new(ui_secret **out, err *e)
{
    *out = NULL;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise; reinstall libsodium");
    ui_secret *s = sodium_malloc(sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "cannot allocate protected memory for the passphrase");
    s->buf = sodium_malloc(UI_SECRET_MAX + 1);
    if (!s->buf) {
        sodium_free(s);
        return err_set(e, ERR_NOMEM, "cannot allocate protected memory for the passphrase");
    }
    s->len = 0;
    s->overflow = false;
    sodium_memzero(s->buf, UI_SECRET_MAX + 1);
    *out = s;
    return 0;
}

void ui_secret_clear(ui_secret *s)
{
    sodium_memzero(s->buf, UI_SECRET_MAX + 1);
    s->len = 0;
    s->overflow = false;
}

void ui_secret_free(ui_secret **p)
{
    if (!p || !*p)
        return;
    ui_secret *s = *p;
    sodium_memzero(s->buf, UI_SECRET_MAX + 1);
    sodium_free(s->buf);
    sodium_memzero(s, sizeof *s);
    sodium_free(s);
    *p = NULL;
}

ui_secret_state ui_secret_feed(ui_secret *s, const unsigned char *in, size_t n, size_t *used)
{
    size_t i = 0;
    ui_secret_state st = UI_SECRET_MORE;
    for (; i < n && st == UI_SECRET_MORE; i++) {
        unsigned char c = in[i];
        switch (c) {
        case '\r':
        case '\n':
            st = UI_SECRET_ACCEPT;
            break;
        case 0x1b: /* Esc (or the start of a function key): cancel */
        case 0x03: /* C-c */
        case 0x07: /* C-g */
            st = UI_SECRET_CANCEL;
            break;
        case 0x7f:
        case 0x08:
            /* Remove one UTF-8 character: continuation bytes, then the lead byte. */
            while (s->len > 0 && (s->buf[s->len - 1] & 0xc0) == 0x80)
                s->buf[--s->len] = 0;
            if (s->len > 0)
                s->buf[--s->len] = 0;
            break;
        case 0x15: /* C-u */
            sodium_memzero(s->buf, UI_SECRET_MAX + 1);
            s->len = 0;
            s->overflow = false;
            break;
        default:
            if (c < 0x20)
                break; /* other control bytes mean nothing here */
            if (s->len == UI_SECRET_MAX) {
                s->overflow = true;
                break;
            }
            s->buf[s->len++] = c;
        }
    }
    if (used)
        *used = i;
    return st;
}
