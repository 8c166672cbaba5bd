/* fuzz_backup.c: libFuzzer target for the backup archive reader (bytes read from disk):
 * the header parser, the decrypted payload parser on raw bytes, and, for archives whose
 * header names libsodium's minimum Argon2id limits, the whole open with the passphrase
 * "fuzz" (the seed corpus holds such archives, so mutations reach the frames). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Messages are one printable line whatever the input. */
static void check_message(const err *e)
{
    for (const char *p = e->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
}

static void check_set(const backup_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!backup_name_ok(s->v[i].name, strlen(s->v[i].name)) || (s->v[i].mode & ~07777u) ||
            (s->v[i].dir && s->v[i].len))
            abort(); /* a name a restore could not place safely got through */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    err e;
    err_clear(&e);
    backup_set s;
    if (backup_payload_parse(&s, data, size, &e) == 0) {
        check_set(&s);
        backup_set_clear(&s);
    } else {
        check_message(&e);
    }
    backup_header h;
    if (backup_header_parse(&h, data, size, &e) < 0) {
        check_message(&e);
        return 0;
    }
    if (h.opslimit == crypto_pwhash_OPSLIMIT_MIN && h.memlimit == crypto_pwhash_MEMLIMIT_MIN) {
        if (backup_open(&s, data, size, "fuzz", &e) == 0) {
            check_set(&s);
            backup_set_clear(&s);
        } else {
            check_message(&e);
        }
    }
    return 0;
}
