/* fuzz_v3.c: libFuzzer target for the keystore v3 importer (untrusted files). Parsing
 * must refuse expensive parameters; cheap ones are also decrypted with a fixed password. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "keystore/v3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    v3_file f;
    if (v3_parse(&f, (const char *)data, size, NULL) < 0)
        return 0;
    if (f.kdf == V3_SCRYPT && (128 * f.n * f.r > V3_SCRYPT_MEM_MAX ||
                               f.n * f.r * f.p > V3_SCRYPT_WORK_MAX))
        abort(); /* the bounds let an absurd parameter set through */
    bool cheap = f.kdf == V3_SCRYPT ? f.n * f.r * f.p <= 4096 : f.c <= 1000;
    if (cheap) {
        uint8_t sk[32];
        (void)!v3_decrypt(sk, &f, "fuzz", NULL);
    }
    return 0;
}
