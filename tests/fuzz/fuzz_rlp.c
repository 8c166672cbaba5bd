/* fuzz_rlp.c: libFuzzer target for the strict RLP decoder: any input is decoded,
 * and every item of an accepted tree is walked and read as an integer. Must never
 * crash or read out of bounds; accepted input must re-encode to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eth/rlp.h"
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

static void walk(const rlp_item *it, buf *out, unsigned depth)
{
    uint64_t v64;
    u256 v256;
    if (it->kind == RLP_BYTES) {
        (void)rlp_item_u64(&v64, it, NULL);
        (void)rlp_item_u256(&v256, it, NULL);
        if (rlp_put_bytes(out, it->payload, it->len, NULL) < 0)
            abort();
        return;
    }
    if (depth > RLP_MAX_DEPTH)
        abort(); /* the decoder promised a depth limit */
    rlp_iter iter;
    rlp_item child;
    size_t mark;
    int r;
    if (rlp_iter_init(&iter, it, NULL) < 0)
        abort();
    rlp_list_begin(out, &mark);
    while ((r = rlp_iter_next(&iter, &child, NULL)) > 0)
        walk(&child, out, depth + 1);
    if (r < 0 || rlp_list_end(out, mark, NULL) < 0)
        abort(); /* inside a validated tree every item reads */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rlp_item it;
    size_t used;
    if (rlp_decode_prefix(&it, &used, data, size, NULL) == 0 && used > size)
        abort();
    err e;
    if (rlp_decode(&it, data, size, &e) < 0) {
        check_msg(&e);
        return 0;
    }
    buf out;
    buf_init(&out);
    walk(&it, &out, 0);
    /* strict decoding accepts only canonical encodings: re-encoding is the input */
    if (out.len != size || memcmp(out.data, data, size))
        abort();
    buf_free(&out);
    return 0;
}
