/* fuzz_v3.c: libFuzzer target for the keystore v3 importer (untrusted files). Parsing
 * must refuse expensive parameters; cheap ones are also decrypted with a fixed password. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "keystore/v3.h"
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
    v3_file f;
    err e;
    err_clear(&e);
    if (v3_parse(&f, (const char *)data, size, &e) < 0) {
        check_message(&e);
        return 0;
    }
    if (f.kdf == V3_SCRYPT && (128 * f.n * f.r > V3_SCRYPT_MEM_MAX ||
                               f.n * f.r * f.p > V3_SCRYPT_WORK_MAX))
        abort(); /* the bounds let an absurd parameter set through */
    bool cheap = f.kdf == V3_SCRYPT ? f.n * f.r * f.p <= 4096 : f.c <= 1000;
    if (cheap) {
        uint8_t sk[32];
        if (v3_decrypt(sk, &f, "fuzz", &e) < 0)
            check_message(&e);
    }
    return 0;
}
