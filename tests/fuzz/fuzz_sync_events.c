/* fuzz_sync_events.c: libFuzzer target for the sync event decoder (src/sync/events.c),
 * which decodes log topics and data from the chain. Byte 0 picks the emitter kind, byte 1
 * the topic count (and whether topic 0 is one of ours), then 32 bytes per topic, then the
 * data in an exactly sized heap copy. Decoded events must serialise to valid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    store_contract_kind kind = (store_contract_kind)(data[0] % 5);
    unsigned n_topics = data[1] % 5;
    bool ours = data[1] & 0x80;
    size_t need = 2 + 32 * (size_t)n_topics;
    if (size < need)
        return 0;
    uint8_t topics[4][32];
    memcpy(topics, data + 2, 32 * (size_t)n_topics);
    if (ours && n_topics) {
        /* Aim topic 0 at one of the kind's events, chosen by its first byte. */
        const uint8_t(*t)[32];
        size_t n = sync_event_topics_for(kind, &t);
        if (n)
            memcpy(topics[0], t[topics[0][0] % n], 32);
    }
    size_t len = size - need;
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        abort();
    memcpy(d, data + need, len);
    sync_decoded dec;
    err e;
    if (sync_event_decode(kind, (const uint8_t(*)[32])topics, n_topics, d, len, &dec, &e) == 0 &&
        dec.kind != EV_NONE) {
        char *js = sync_event_json(&dec);
        json_error_t jerr;
        json_t *j = js ? json_loads(js, 0, &jerr) : NULL;
        if (!j)
            abort();
        json_decref(j);
        free(js);
    }
    free(d);
    return 0;
}
