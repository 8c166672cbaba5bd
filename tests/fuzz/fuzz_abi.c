/* fuzz_abi.c: libFuzzer target for ABI type parsing and strict decoding. The first
 * byte gives the length of a type string that follows; the rest is the data. An
 * accepted value must re-encode, decode again and re-encode to the same bytes, and
 * print. Must never crash or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eth/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    if (abi_type_parse(&t, ts, NULL) < 0)
        return 0;
    char *canon = abi_type_str(t);
    free(canon);
    abi_value *v = NULL, *v2 = NULL;
    if (abi_decode(&v, t, d, dl, NULL) == 0) {
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
    abi_type_free(&t);
    return 0;
}
