/* fuzz_sanctions.c: libFuzzer target for the screening list loaders, which read files a
 * desk drops in (OFAC exports, the desk list, the FATF CSV). The first byte picks the
 * parser; the rest is the file. Any input must give a clean result or a one-line error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/screen.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const err *e)
{
    /* one printable line, never empty, whatever the input */
    if (e->msg[0] == '\0' || (e->code != ERR_INVALID && e->code != ERR_NOMEM))
        abort();
    if (!fuzz_msg_safe(e->msg)) /* one safe line, whatever the input */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    err e;
    err_clear(&e);
    if (which == 3) {
        screen_fatf *f = NULL;
        if (screen_fatf_parse(&f, "fuzz.csv", text, len, &e) < 0) {
            check_error(&e);
            if (f)
                abort();
            return 0;
        }
        screen_list_info info;
        screen_fatf_info(f, &info);
        if (info.n_addresses == 0 || info.n_addresses > 26 * 26)
            abort();
        (void)screen_fatf_risk(f, "IR");
        screen_fatf_free(&f);
        return 0;
    }
    screen_sanctions *s = NULL;
    if (screen_sanctions_new(&s, "2024-09-27", &e) < 0)
        abort();
    static const screen_list_format fmts[] = {SCREEN_LIST_TEXT, SCREEN_LIST_JSON, SCREEN_LIST_DESK};
    if (screen_sanctions_add(s, "fuzz.txt", text, len, fmts[which], &e) < 0) {
        check_error(&e);
    } else {
        screen_list_info info;
        screen_sanctions_info(s, &info);
        /* every address needs at least 42 bytes of input */
        if ((info.n_addresses + info.n_duplicates) * 42 > len)
            abort();
    }
    addr a;
    memset(&a, 0, sizeof a);
    (void)screen_sanctions_contains(s, &a);
    screen_sanctions_free(&s);
    return 0;
}
