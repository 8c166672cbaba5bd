/* archive.c: the backup archive format, pure (memory in, memory out; no files, no SQLite).
 *
 *   header (68 bytes): "FUSIONBK" | version u16 | alg u16 (1) | opslimit u64 | memlimit u64
 *                      | salt[16] | secretstream header[24]          (integers big-endian)
 *   frames: clen u32 | ciphertext[clen]   (each a secretstream message of at most
 *           BACKUP_CHUNK plaintext bytes, the whole header as additional data; the last
 *           one carries TAG_FINAL and ends the file)
 *
 * The plaintext stream is a list of records: kind u8 ('M' manifest, 'F' file, 'D'
 * directory, 'E' end) | name_len u16 | name | mode u32 | len u64 | data[len]. The key is
 * Argon2id (crypto_pwhash, ALG_ARGON2ID13) over the passphrase and the salt, as the key
 * store derives its keys, within the same limits. */
#include "backup/backup.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ALG_ARGON2ID_SECRETSTREAM 1
#define OPS_MIN crypto_pwhash_OPSLIMIT_MIN
#define OPS_MAX 32ULL
#define MEM_MIN crypto_pwhash_MEMLIMIT_MIN
#define MEM_MAX (4ULL << 30)
#define FRAME_MAX (BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

void backup_set_init(backup_set *s)
{
    memset(s, 0, sizeof *s);
}

void backup_set_clear(backup_set *s)
{
    if (s->manifest) {
        sodium_memzero(s->manifest, strlen(s->manifest));
        free(s->manifest);
    }
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        if (s->v[i].data) {
            sodium_memzero(s->v[i].data, s->v[i].len);
            free(s->v[i].data);
        }
    }
    free(s->v);
    backup_set_init(s);
}

bool backup_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > BACKUP_NAME_MAX || name[0] == '/')
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            unsigned char c = (unsigned char)name[i];
            if (c < 0x21 || c > 0x7e || c == '\\')
                return false;
            if (c != '/')
                continue;
        }
        size_t cl = i - start;
        if (cl == 0 || (cl == 1 && name[start] == '.') ||
            (cl == 2 && name[start] == '.' && name[start + 1] == '.'))
            return false;
        start = i + 1;
    }
    return true;
}

int backup_set_add(backup_set *s, const char *name, uint32_t mode, bool dir, const void *data,
                   size_t len, err *e)
{
    size_t nl = strlen(name);
    if (!backup_name_ok(name, nl))
        return err_set(e, ERR_INVALID, "backup entry name is not allowed");
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return err_set(e, ERR_INVALID, "backup entry %s appears twice", name);
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        backup_entry *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return err_set(e, ERR_NOMEM, "out of memory");
        s->v = nv;
        s->cap = nc;
    }
    backup_entry *x = &s->v[s->n];
    memset(x, 0, sizeof *x);
    x->name = strdup(name);
    if (!x->name)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (!dir) {
        x->data = malloc(len ? len : 1);
        if (!x->data) {
            free(x->name);
            return err_set(e, ERR_NOMEM, "out of memory");
        }
        if (len)
            memcpy(x->data, data, len);
        x->len = len;
    }
    x->mode = mode & 07777;
    x->dir = dir;
    s->n++;
    return 0;
}

int backup_header_parse(backup_header *out, const uint8_t *d, size_t len, err *e)
{
    memset(out, 0, sizeof *out);
    if (len < 8 || memcmp(d, BACKUP_MAGIC, 8) != 0)
        return err_set(e, ERR_INVALID, "not a fusion backup archive (bad magic)");
    if (len < BACKUP_HEADER_LEN)
        return err_set(e, ERR_INVALID, "backup archive truncated inside its header");
    out->version = (uint16_t)get_be(d + 8, 2);
    if (out->version != BACKUP_VERSION)
        return err_set(e, ERR_INVALID, "backup archive version %u is not supported (this fusion "
                       "reads version %u)", (unsigned)out->version, BACKUP_VERSION);
    if (get_be(d + 10, 2) != ALG_ARGON2ID_SECRETSTREAM)
        return err_set(e, ERR_INVALID, "backup archive header names an unknown algorithm");
    out->opslimit = get_be(d + 12, 8);
    out->memlimit = get_be(d + 20, 8);
    if (out->opslimit < OPS_MIN || out->opslimit > OPS_MAX || out->memlimit < MEM_MIN ||
        out->memlimit > MEM_MAX)
        return err_set(e, ERR_INVALID, "backup archive header has key derivation limits out of "
                       "range (opslimit %llu, memlimit %llu)",
                       (unsigned long long)out->opslimit, (unsigned long long)out->memlimit);
    memcpy(out->salt, d + 28, 16);
    memcpy(out->stream_header, d + 44, 24);
    return 0;
}

static int derive(uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES],
                  const char *passphrase, const uint8_t salt[16], uint64_t ops, uint64_t mem,
                  err *e)
{
    if (!passphrase || !*passphrase)
        return err_set(e, ERR_INVALID, "empty backup passphrase");
    if (crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, passphrase,
                      strlen(passphrase), salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_set(e, ERR_NOMEM, "key derivation ran out of memory (memlimit %llu)",
                       (unsigned long long)mem);
    return 0;
}

static size_t rec(uint8_t *p, size_t at, char kind, const char *name, size_t nl, uint32_t mode,
                  const uint8_t *data, size_t dl)
{
    p[at++] = (uint8_t)kind;
    put_be(p + at, nl, 2);
    at += 2;
    if (nl)
        memcpy(p + at, name, nl);
    at += nl;
    put_be(p + at, mode, 4);
    put_be(p + at + 4, dl, 8);
    at += 12;
    if (dl)
        memcpy(p + at, data, dl);
    return at + dl;
}

/* The payload as one plaintext buffer (sodium_malloc'd: it is the desk in clear). */
static int payload_build(uint8_t **out, size_t *out_len, const backup_set *set, err *e)
{
    size_t total = 0;
    size_t mlen = set->manifest ? strlen(set->manifest) : 0;
    total += 15 + mlen + 15;
    for (size_t i = 0; i < set->n; i++)
        total += 15 + strlen(set->v[i].name) + set->v[i].len;
    uint8_t *p = sodium_malloc(total ? total : 1);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t at = 0;
    at = rec(p, at, 'M', "", 0, 0, (const uint8_t *)set->manifest, mlen);
    for (size_t i = 0; i < set->n; i++) {
        const backup_entry *x = &set->v[i];
        at = rec(p, at, x->dir ? 'D' : 'F', x->name, strlen(x->name), x->mode, x->data, x->len);
    }
    at = rec(p, at, 'E', "", 0, 0, NULL, 0);
    *out = p;
    *out_len = at;
    return 0;
}

int backup_payload_parse(backup_set *out, const uint8_t *p, size_t len, err *e)
{
    backup_set_init(out);
    size_t at = 0;
    bool manifest = false;
    for (;;) {
        if (len - at < 15) {
            backup_set_clear(out);
            return err_set(e, ERR_INVALID, "backup payload cut inside a record header");
        }
        uint8_t kind = p[at];
        size_t nl = (size_t)get_be(p + at + 1, 2);
        at += 3;
        if (len - at < nl + 12) {
            backup_set_clear(out);
            return err_set(e, ERR_INVALID, "backup payload cut inside a record name");
        }
        char name[BACKUP_NAME_MAX + 1];
        if (nl > BACKUP_NAME_MAX) {
            backup_set_clear(out);
            return err_set(e, ERR_INVALID, "backup payload has a name longer than %d bytes",
                           BACKUP_NAME_MAX);
        }
        memcpy(name, p + at, nl);
        name[nl] = '\0';
        at += nl;
        uint32_t mode = (uint32_t)get_be(p + at, 4);
        uint64_t dl = get_be(p + at + 4, 8);
        at += 12;
        if (dl > len - at) {
            backup_set_clear(out);
            return err_set(e, ERR_INVALID, "backup payload cut inside a record's data");
        }
        const uint8_t *data = p + at;
        at += (size_t)dl;
        int rc = 0;
        switch (kind) {
        case 'M':
            if (manifest || out->n || nl || memchr(data, 0, (size_t)dl)) {
                rc = err_set(e, ERR_INVALID, "backup payload has a misplaced or bad manifest");
                break;
            }
            out->manifest = malloc((size_t)dl + 1);
            if (!out->manifest) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(out->manifest, data, (size_t)dl);
            out->manifest[dl] = '\0';
            manifest = true;
            break;
        case 'F':
        case 'D':
            if (!manifest || (kind == 'D' && dl) || (mode & ~07777u) ||
                !backup_name_ok(name, nl)) {
                rc = err_set(e, ERR_INVALID, "backup payload has a bad entry");
                break;
            }
            rc = backup_set_add(out, name, mode, kind == 'D', data, (size_t)dl, e);
            break;
        case 'E':
            if (!manifest || nl || dl || mode)
                rc = err_set(e, ERR_INVALID, "backup payload has a bad end record");
            else if (at != len)
                rc = err_set(e, ERR_INVALID, "backup payload has data after its end record");
            else
                return 0;
            break;
        default:
            rc = err_set(e, ERR_INVALID, "backup payload has an unknown record kind");
        }
        if (rc < 0) {
            backup_set_clear(out);
            return -1;
        }
    }
}

static void header_encode(uint8_t h[BACKUP_HEADER_LEN], uint64_t ops, uint64_t mem,
                          const uint8_t salt[16], const uint8_t sh[24])
{
    memcpy(h, BACKUP_MAGIC, 8);
    put_be(h + 8, BACKUP_VERSION, 2);
    put_be(h + 10, ALG_ARGON2ID_SECRETSTREAM, 2);
    put_be(h + 12, ops, 8);
    put_be(h + 20, mem, 8);
    memcpy(h + 28, salt, 16);
    memcpy(h + 44, sh, 24);
}

int backup_seal(buf *out, const backup_set *set, const char *passphrase, uint64_t ops,
                uint64_t mem, err *e)
{
    if (ops < OPS_MIN || ops > OPS_MAX || mem < MEM_MIN || mem > MEM_MAX)
        return err_set(e, ERR_INVALID, "backup key derivation limits out of range");
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    if (payload_build(&pt, &pt_len, set, e) < 0)
        return -1;
    int rc = -1;
    uint8_t salt[16];
    randombytes_buf(salt, sizeof salt);
    uint8_t *key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t h[BACKUP_HEADER_LEN];
    uint8_t sh[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    if (!key) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (derive(key, passphrase, salt, ops, mem, e) < 0)
        goto out;
    crypto_secretstream_xchacha20poly1305_init_push(&st, sh, key);
    header_encode(h, ops, mem, salt, sh);
    size_t frames = pt_len / BACKUP_CHUNK + 1;
    if (buf_reserve(out, sizeof h + pt_len + frames * (4 + FRAME_MAX - BACKUP_CHUNK), e) < 0 ||
        buf_append(out, h, sizeof h, e) < 0)
        goto out;
    size_t at = 0;
    do {
        size_t n = pt_len - at > BACKUP_CHUNK ? BACKUP_CHUNK : pt_len - at;
        bool last = at + n == pt_len;
        uint8_t frame[4 + FRAME_MAX];
        unsigned long long clen = 0;
        crypto_secretstream_xchacha20poly1305_push(
            &st, frame + 4, &clen, pt + at, n, h, sizeof h,
            last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
        put_be(frame, clen, 4);
        if (buf_append(out, frame, 4 + (size_t)clen, e) < 0)
            goto out;
        at += n;
    } while (at < pt_len);
    rc = 0;
out:
    sodium_memzero(&st, sizeof st);
    sodium_free(key);
    sodium_free(pt);
    return rc;
}

int backup_open(backup_set *out, const uint8_t *data, size_t len, const char *passphrase, err *e)
{
    backup_set_init(out);
    backup_header hd;
    if (backup_header_parse(&hd, data, len, e) < 0)
        return -1;
    if (len > BACKUP_FILE_MAX)
        return err_set(e, ERR_INVALID, "backup archive larger than 16 GiB");
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    /* Plaintext is never longer than the ciphertext. */
    uint8_t *pt = sodium_malloc(len);
    uint8_t *key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    crypto_secretstream_xchacha20poly1305_state st;
    int rc = -1;
    if (!pt || !key) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (derive(key, passphrase, hd.salt, hd.opslimit, hd.memlimit, e) < 0)
        goto out;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, hd.stream_header, key) != 0) {
        err_set(e, ERR_INVALID, "backup archive has a bad stream header");
        goto out;
    }
    size_t at = BACKUP_HEADER_LEN, pt_len = 0;
    bool final = false;
    unsigned frame = 0;
    while (!final) {
        if (at == len) {
            err_set(e, ERR_INVALID, "backup archive is truncated: it ends before its final "
                    "frame (after %u frames)", frame);
            goto out;
        }
        if (len - at < 4) {
            err_set(e, ERR_INVALID, "backup archive is truncated inside frame %u", frame + 1);
            goto out;
        }
        size_t clen = (size_t)get_be(data + at, 4);
        at += 4;
        if (clen < crypto_secretstream_xchacha20poly1305_ABYTES || clen > FRAME_MAX) {
            err_set(e, ERR_INVALID, "backup archive frame %u has a bad length (damaged)",
                    frame + 1);
            goto out;
        }
        if (clen > len - at) {
            err_set(e, ERR_INVALID, "backup archive is truncated inside frame %u", frame + 1);
            goto out;
        }
        unsigned long long mlen = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&st, pt + pt_len, &mlen, &tag, data + at,
                                                       clen, data, BACKUP_HEADER_LEN) != 0) {
            err_set(e, ERR_AUTH, "backup archive frame %u failed authentication: wrong "
                    "passphrase, or the archive was changed", frame + 1);
            goto out;
        }
        frame++;
        at += clen;
        pt_len += (size_t)mlen;
        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
            final = true;
        else if (tag != 0) {
            err_set(e, ERR_INVALID, "backup archive frame %u has an unexpected tag", frame);
            goto out;
        }
    }
    if (at != len) {
        err_set(e, ERR_INVALID, "backup archive has %zu bytes after its final frame", len - at);
        goto out;
    }
    rc = backup_payload_parse(out, pt, pt_len, e);
out:
    sodium_memzero(&st, sizeof st);
    sodium_free(key);
    sodium_free(pt);
    return rc;
}
