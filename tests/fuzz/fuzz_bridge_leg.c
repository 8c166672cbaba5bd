/* fuzz_bridge_leg.c: libFuzzer target for sync_bridge_of_leg, the transfer a book server's
 * sent leg makes when desk.db holds none of its burn (another workstation's): the leg's
 * message is the server's bytes, outside input, and then sync_bridge_legs_apply with a
 * received leg of the same bytes.
 * Byte 0: bit 0 the leg received, bit 1 which of two chains it is on, bits 2..3 the
 * received leg's source domain; the rest is the message (cut to STORE_BRIDGE_MSG_MAX).
 * A transfer made must go from the leg's chain to the other chain of the table, keep the
 * leg's message and burn transaction, and be in state sent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_book.h"
#include "store/store_bridge.h"
#include "sync/bridge_legs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    store_bridge_cctp cctp[2];
    memset(cctp, 0, sizeof cctp);
    cctp[0].chain_id = 31337;
    cctp[0].domain = 0;
    cctp[1].chain_id = 31338;
    cctp[1].domain = 1;
    memset(cctp[1].usdc.b, 0x11, sizeof cctp[1].usdc.b);
    store_bridge_leg *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->received = data[0] & 1;
    l->chain_id = data[0] & 2 ? 31338 : 31337;
    l->block_number = 7;
    memset(l->tx_hash, 0xab, 32);
    size_t n = size - 1 < sizeof l->message ? size - 1 : sizeof l->message;
    memcpy(l->message, data + 1, n);
    l->message_len = n;
    store_bridge b;
    if (sync_bridge_of_leg(l, cctp, 2, &b)) {
        if (b.src_chain != l->chain_id || b.dst_chain == b.src_chain ||
            (b.dst_chain != 31337 && b.dst_chain != 31338) || !b.has_burn_tx ||
            memcmp(b.burn_tx, l->tx_hash, 32) != 0 || strcmp(b.state, "sent") != 0)
            abort();
        /* the same bytes as a received leg on the destination */
        store_bridge_leg *r = calloc(1, sizeof *r);
        if (!r)
            abort();
        *r = *l;
        r->received = true;
        r->chain_id = b.dst_chain;
        r->src_domain = (data[0] >> 2) & 3;
        r->block_number = 9;
        (void)sync_bridge_legs_apply(&b, r, 1);
        free(r);
    }
    free(l);
    return 0;
}
