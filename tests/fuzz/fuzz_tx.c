/* fuzz_tx.c: libFuzzer target for tx_decode_raw. Accepted bytes must re-encode to
 * themselves (the decoder takes only canonical encodings) and have a hash; sender
 * recovery may fail but must not crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eth/tx.h"
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
    eth_tx tx;
    err e;
    if (tx_decode_raw(&tx, data, size, &e) < 0) {
        check_msg(&e);
        if (tx.data.len != 0 || tx.is_signed)
            abort(); /* a failed decode leaves the transaction empty */
        return 0;
    }
    buf out;
    buf_init(&out);
    uint8_t h[32];
    addr from;
    if (tx_encode_raw(&out, &tx, NULL) < 0 || out.len != size || memcmp(out.data, data, size))
        abort();
    if (tx_hash(h, &tx, NULL) < 0)
        abort();
    (void)tx_recover_sender(&from, &tx, NULL);
    buf_free(&out);
    tx_free(&tx);
    return 0;
}
