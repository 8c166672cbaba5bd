/* fuzz_keyfile.c: libFuzzer target for the key file parser (bytes read from disk).
 * Whatever parses must re-render to exactly the input; files with cheap Argon2id
 * limits are also derived and opened with a fixed passphrase. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/keyfile.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Messages are one printable line whatever the input. */
static void check_message(const err *e)
{
    if (!fuzz_msg_safe(e->msg)) /* one safe line, whatever the input */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    keyfile kf;
    err e;
    err_clear(&e);
    if (keyfile_parse(&kf, (const char *)data, size, &e) < 0) {
        check_message(&e);
        return 0;
    }
    buf again;
    buf_init(&again);
    if (keyfile_render(&again, &kf, NULL) < 0 || again.len != size ||
        memcmp(again.data, data, size) != 0)
        abort(); /* the parser accepted something that is not canonical */
    buf_free(&again);
    if (kf.opslimit <= 2 && kf.memlimit <= 65536) {
        uint8_t key[KEYFILE_KEY_LEN], sk[32];
        if (keyfile_derive(key, &kf, "fuzz", NULL) == 0 && keyfile_open(sk, &kf, key, &e) < 0)
            check_message(&e);
    }
    return 0;
}
