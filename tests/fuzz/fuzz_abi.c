/* fuzz_abi.c: libFuzzer target for ABI type parsing and strict decoding. The first
 * byte gives the length of a type string that follows; the rest is the data. An
 * accepted value must re-encode, decode again and re-encode to the same bytes, and
 * print. The data is also parsed as value text for the type. Must never crash or
 * read out of bounds; error messages stay one printable line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eth/abi.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Error messages are one printable line, whatever the input was. */
static void check_msg(const err *e)
{
    if (e->msg[0] == '\0')
        abort();
    if (!fuzz_msg_safe(e->msg)) /* one safe line, whatever the input */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t tl = data[0] % 64;
    if (tl > size - 1)
        tl = size - 1;
    char ts[65];
    memcpy(ts, data + 1, tl);
    ts[tl] = '\0';
    const uint8_t *d = data + 1 + tl;
    size_t dl = size - 1 - tl;

    abi_type *t = NULL;
    err e;
    if (abi_type_parse(&t, ts, &e) < 0) {
        check_msg(&e);
        return 0;
    }
    char *canon = abi_type_str(t);
    free(canon);
    abi_value *v = NULL, *v2 = NULL;
    int r = abi_decode(&v, t, d, dl, &e);
    if (r < 0)
        check_msg(&e);
    if (r == 0) {
        buf a, b, s;
        buf_init(&a);
        buf_init(&b);
        buf_init(&s);
        if (abi_encode(&a, t, v, NULL) < 0)
            abort(); /* whatever decodes must encode */
        if (abi_decode(&v2, t, a.data, a.len, NULL) < 0)
            abort();
        if (abi_encode(&b, t, v2, NULL) < 0 || a.len != b.len || memcmp(a.data, b.data, a.len))
            abort();
        if (abi_value_format(&s, v, NULL) < 0)
            abort();
        json_t *j = abi_value_to_json(v);
        if (!j)
            abort();
        json_decref(j);
        buf_free(&a);
        buf_free(&b);
        buf_free(&s);
    }
    abi_value_free(&v);
    abi_value_free(&v2);

    /* the data as the text of a value */
    char *text = malloc(dl + 1);
    if (!text)
        abort();
    memcpy(text, d, dl);
    text[dl] = '\0';
    if (abi_value_parse(&v, t, text, &e) == 0) {
        buf a;
        buf_init(&a);
        if (abi_encode(&a, t, v, NULL) < 0) /* a parsed value fits its type */
            abort();
        buf_free(&a);
        abi_value_free(&v);
    } else {
        check_msg(&e);
    }
    free(text);
    abi_type_free(&t);
    return 0;
}
