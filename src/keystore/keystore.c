/* keystore.c: the key store of a desk: key files in <home>/keys/, unlocked-key handles
 * with idle locking, the core-dump guard, and the audit rows of key operations. The
 * file format lives in keyfile.c, keystore v3 in v3.c, file handling in fsio.c. */
#include "keystore/keystore.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/log.h"
#include "crypto/secp.h"
#include "base/fsperm.h"
#include "keystore/fsio.h"
#include "keystore/keyfile.h"
#include "keystore/keystore_priv.h"
#include "keystore/v3.h"

ks_params keystore_params_level(ks_level level)
{
    ks_params p;
    switch (level) {
    case KS_LEVEL_INTERACTIVE:
        p.opslimit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
        p.memlimit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
        p.scrypt_log_n = 14;
        break;
    case KS_LEVEL_SENSITIVE:
        p.opslimit = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
        p.memlimit = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
        p.scrypt_log_n = 18;
        break;
    case KS_LEVEL_MODERATE:
    default:
        p.opslimit = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        p.memlimit = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
        p.scrypt_log_n = 18;
        break;
    }
    return p;
}

int keystore_level_parse(ks_level *out, const char *s, err *e)
{
    if (strcmp(s, "interactive") == 0)
        *out = KS_LEVEL_INTERACTIVE;
    else if (strcmp(s, "moderate") == 0)
        *out = KS_LEVEL_MODERATE;
    else if (strcmp(s, "sensitive") == 0)
        *out = KS_LEVEL_SENSITIVE;
    else
        return err_set(e, ERR_USAGE, "unknown KDF level '%s' (use interactive, moderate or "
                       "sensitive)", s);
    return 0;
}

/* ---- core-dump guard: process-wide, counted over every unlocked key ---- */

static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned guard_count;
static struct rlimit guard_saved_rl;
static int guard_saved_dumpable;

static int guard_acquire(err *e)
{
    int rc = 0;
    pthread_mutex_lock(&guard_mu);
    if (guard_count == 0) {
        struct rlimit zero;
        if (getrlimit(RLIMIT_CORE, &guard_saved_rl) < 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot read the core dump limit: %s",
                         strerror(errno));
            goto out;
        }
        zero.rlim_cur = 0;
        zero.rlim_max = guard_saved_rl.rlim_max;
        guard_saved_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        if (setrlimit(RLIMIT_CORE, &zero) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot disable core dumps (%s): refusing to unlock",
                         strerror(errno));
            (void)setrlimit(RLIMIT_CORE, &guard_saved_rl);
            goto out;
        }
    }
    guard_count++;
out:
    pthread_mutex_unlock(&guard_mu);
    return rc;
}

static void guard_release(void)
{
    pthread_mutex_lock(&guard_mu);
    if (guard_count > 0 && --guard_count == 0) {
        (void)setrlimit(RLIMIT_CORE, &guard_saved_rl);
        if (guard_saved_dumpable > 0)
            (void)prctl(PR_SET_DUMPABLE, guard_saved_dumpable, 0, 0, 0);
    }
    pthread_mutex_unlock(&guard_mu);
}

/* ---- the store ---- */

static uint64_t monotonic_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Replaces e's message with "<prefix> <message>" (a space, no colon). */
static int err_lead(err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int err_lead(err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char lead[ERR_MSG_MAX], joined[2 * ERR_MSG_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lead, sizeof lead, fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof joined, "%s %s", lead, e->msg);
    memcpy(e->msg, joined, sizeof e->msg - 1);
    e->msg[sizeof e->msg - 1] = '\0';
    return -1;
}

static void ks_recover(keystore *ks);

int keystore_open(keystore **out, const char *home, const char *operator_name, err *e)
{
    *out = NULL;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    keystore *ks = calloc(1, sizeof *ks);
    if (!ks)
        return err_set(e, ERR_NOMEM, "out of memory");
    int n1 = snprintf(ks->home, sizeof ks->home, "%s", home);
    int n2 = snprintf(ks->dir, sizeof ks->dir, "%s/%s", home, KS_DIR);
    ks->operator_name = strdup(operator_name && *operator_name ? operator_name : "unknown");
    if (n1 < 0 || (size_t)n1 >= sizeof ks->home || n2 < 0 || (size_t)n2 >= sizeof ks->dir ||
        !ks->operator_name) {
        free(ks->operator_name);
        free(ks);
        return err_set(e, ERR_INVALID, "desk home path is too long");
    }
    ks->params = keystore_params_level(KS_LEVEL_MODERATE);
    ks->idle_s = KS_IDLE_DEFAULT;
    ks->now_ms = monotonic_ms;
    pthread_mutex_init(&ks->mu, NULL);
    ks_recover(ks);
    *out = ks;
    return 0;
}

static void key_wipe(ks_key *k)
{
    if (!k->sk)
        return;
    sodium_mprotect_readwrite(k->sk);
    sodium_memzero(k->sk, 32);
    sodium_free(k->sk);
    k->sk = NULL;
    guard_release();
}

void keystore_free(keystore **pks)
{
    keystore *ks = *pks;
    if (!ks)
        return;
    pthread_mutex_lock(&ks->mu);
    while (ks->keys) {
        ks_key *k = ks->keys;
        ks->keys = k->next;
        key_wipe(k);
        free(k);
    }
    pthread_mutex_unlock(&ks->mu);
    pthread_mutex_destroy(&ks->mu);
    free(ks->operator_name);
    free(ks);
    *pks = NULL;
}

void keystore_set_params(keystore *ks, const ks_params *params)
{
    ks->params = *params;
}

void keystore_set_idle_timeout(keystore *ks, unsigned seconds)
{
    pthread_mutex_lock(&ks->mu);
    ks->idle_s = seconds;
    pthread_mutex_unlock(&ks->mu);
}

void keystore_set_clock(keystore *ks, uint64_t (*now_ms)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&ks->mu);
    ks->now_ms = now_ms ? now_ms : monotonic_ms;
    ks->clock_ctx = ctx;
    pthread_mutex_unlock(&ks->mu);
}

static void key_path(char *out, size_t cap, const keystore *ks, const addr *a)
{
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    snprintf(out, cap, "%s/%s.json", ks->dir, lower);
}

int ks_audit(keystore *ks, const char *action, json_t *details, err *e)
{
    int rc = audit_append(ks->home, ks->operator_name, action, details, e);
    json_decref(details);
    return rc;
}

int ks_audit_key(ks_key *k, const char *action, json_t *details, err *e)
{
    if (!k->operator_name[0])
        return ks_audit(k->ks, action, details, e);
    int rc = audit_append(k->ks->home, k->operator_name, action, details, e);
    json_decref(details);
    return rc;
}

json_t *ks_addr_json(const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, a);
    return json_string(s);
}

/* Reads and parses one key file. */
static int load_path(const char *path, keyfile *kf, err *e)
{
    char *text = NULL;
    size_t len = 0;
    if (ksfs_read_private(path, KEYFILE_MAX, &text, &len, e) < 0)
        return -1;
    int rc = keyfile_parse(kf, text, len, e);
    free(text);
    if (rc < 0)
        return err_lead(e, "key file %s", path);
    return 0;
}

static int load_key(keystore *ks, const addr *a, keyfile *kf, char *path, size_t cap, err *e)
{
    char shown[ADDR_STR_MAX];
    addr_to_checksum(shown, a);
    key_path(path, cap, ks, a);
    int d = ksfs_dir_check(ks->dir, e);
    if (d < 0)
        return -1;
    err le;
    err_clear(&le);
    if (d == 0 || load_path(path, kf, &le) < 0) {
        if (d == 0 || le.code == ERR_NOT_FOUND)
            return err_set(e, ERR_NOT_FOUND, "no key %s in the key store %s (see `fusion key "
                           "list`)", shown, ks->dir);
        if (e)
            *e = le;
        return -1;
    }
    if (!addr_equal(&kf->address, a))
        return err_set(e, ERR_INVALID, "key file %s holds another address than its name says: "
                       "refused (it was renamed or replaced)", path);
    return 0;
}

/* Derives the sealing key into key (guarded) and opens the secret into sk (guarded). */
static int open_key(keystore *ks, const addr *a, const char *passphrase, keyfile *kf,
                    uint8_t *sk, err *e)
{
    char path[4400];
    if (load_key(ks, a, kf, path, sizeof path, e) < 0)
        return -1;
    uint8_t *key = sodium_malloc(KEYFILE_KEY_LEN);
    if (!key)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    int rc = keyfile_derive(key, kf, passphrase, e);
    if (rc == 0 && (rc = keyfile_open(sk, kf, key, e)) < 0) {
        char shown[ADDR_STR_MAX];
        addr_to_checksum(shown, a);
        if (e && e->code == ERR_AUTH)
            err_set(e, ERR_AUTH, "wrong passphrase for key %s", shown);
        else
            err_lead(e, "key file %s:", path);
    }
    sodium_free(key);
    return rc;
}

typedef struct verify_ctx {
    const uint8_t *key;
    const uint8_t *sk;
} verify_ctx;

/* What was written must parse and open to the same secret with the same key. */
static int verify_written(void *vctx, const char *data, size_t len, err *e)
{
    verify_ctx *vc = vctx;
    keyfile kf;
    if (keyfile_parse(&kf, data, len, e) < 0)
        return -1;
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    int rc = keyfile_open(sk, &kf, vc->key, e);
    if (rc == 0 && sodium_memcmp(sk, vc->sk, 32) != 0)
        rc = err_set(e, ERR_INTERNAL, "the written key file holds another secret");
    sodium_free(sk);
    return rc;
}

/* A key file is written in two steps so that it never takes effect without its audit
 * row: stage_key writes <address>.json.pending (whole, verified, synced), the row is
 * appended naming the staged file's SHA-256, then commit_key renames it into place. A
 * crash in between leaves a .pending file that the next keystore_open finishes (the row
 * was written) or removes (it was not); see ks_recover. */
static void pending_path(char *out, size_t cap, const keystore *ks, const addr *a)
{
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    snprintf(out, cap, "%s/%s.json%s", ks->dir, lower, KS_PENDING);
}

static void sha256_text(char out[65], const void *data, size_t len)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    hex_encode(out, 65, h, sizeof h, false);
}

static int commit_key(keystore *ks, const addr *a, bool replace, err *e)
{
    char from[4400], to[4400], shown[ADDR_STR_MAX];
    pending_path(from, sizeof from, ks, a);
    key_path(to, sizeof to, ks, a);
    err ce;
    err_clear(&ce);
    if (ksfs_commit(from, to, replace, &ce) == 0)
        return 0;
    addr_to_checksum(shown, a);
    if (ce.code == ERR_EXISTS)
        return err_set(e, ERR_EXISTS, "key %s already exists in the key store (%s): refused",
                       shown, to);
    if (e)
        *e = ce;
    return err_lead(e, "key %s is recorded in the audit log but not yet in place (the next "
                    "start of the key store finishes it):", shown);
}

static void unstage_key(keystore *ks, const addr *a)
{
    char path[4400];
    pending_path(path, sizeof path, ks, a);
    if (unlink(path) < 0 && errno != ENOENT)
        LOG_W("keystore", "cannot remove %s: %s", path, strerror(errno));
}

/* ---- what a crashed writer left: temporary files, staged key files ---- */

typedef struct recover_ctx {
    const char *address; /* EIP-55 */
    const char *sha;
    char found_action[16]; /* the row's action when found */
} recover_ctx;

static int recover_row(void *vctx, const audit_row *row, err *e)
{
    recover_ctx *rc = vctx;
    if (strcmp(row->action, "key_new") && strcmp(row->action, "key_import") &&
        strcmp(row->action, "key_passwd"))
        return 0;
    const char *a = json_string_value(json_object_get(row->details, "address"));
    const char *h = json_string_value(json_object_get(row->details, "file_sha256"));
    if (a && h && strcmp(a, rc->address) == 0 && strcmp(h, rc->sha) == 0)
        snprintf(rc->found_action, sizeof rc->found_action, "%s", row->action);
    return 0;
}

/* A staged file whose audit row was written is put in place; any other is removed. */
static void recover_pending(keystore *ks, const char *name)
{
    char hex[41];
    addr a;
    memcpy(hex, name + 2, 40);
    hex[40] = '\0';
    if (hex_decode_exact(a.b, ADDR_LEN, hex, 0, NULL) < 0)
        return;
    char path[4400], shown[ADDR_STR_MAX], sha[65];
    pending_path(path, sizeof path, ks, &a);
    addr_to_checksum(shown, &a);
    char *text = NULL;
    size_t len = 0;
    err e;
    err_clear(&e);
    if (ksfs_read_private(path, KEYFILE_MAX, &text, &len, &e) < 0) {
        LOG_W("keystore", "staged key file left as it is: %s", e.msg);
        return;
    }
    sha256_text(sha, text, len);
    free(text);
    recover_ctx rc = {shown, sha, ""};
    if (audit_list(ks->home, recover_row, &rc, &e) < 0) {
        LOG_W("keystore", "staged key file %s left until the audit log reads: %s", path, e.msg);
        return;
    }
    if (!rc.found_action[0]) {
        if (unlink(path) < 0)
            LOG_W("keystore", "cannot remove %s: %s", path, strerror(errno));
        else
            LOG_W("keystore", "removed %s: a key change cut off before its audit row", path);
        return;
    }
    bool passwd = strcmp(rc.found_action, "key_passwd") == 0;
    if (commit_key(ks, &a, passwd, &e) < 0) {
        LOG_W("keystore", "%s", e.msg);
        if (e.code == ERR_EXISTS && unlink(path) == 0)
            LOG_W("keystore", "removed %s", path);
        return;
    }
    LOG_W("keystore", "finished %s of key %s, cut off after its audit row", rc.found_action,
          shown);
}

/* Runs when the store opens, unless another process is writing the key store. */
static void ks_recover(keystore *ks)
{
    err e;
    err_clear(&e);
    if (ksfs_dir_check(ks->dir, &e) != 1)
        return;
    int lock = ksfs_lock(ks->dir, false, &e);
    if (lock < 0) {
        if (lock == -1)
            LOG_W("keystore", "%s", e.msg);
        return;
    }
    DIR *dir = opendir(ks->dir);
    if (!dir) {
        close(lock);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if (fsperm_is_temp(n)) {
            char path[sizeof ks->dir + 256 + 2];
            snprintf(path, sizeof path, "%s/%s", ks->dir, n);
            if (unlink(path) == 0)
                LOG_W("keystore", "removed %s, left by a write that was cut off", path);
        } else if (len == 47 + strlen(KS_PENDING) && strcmp(n + 47, KS_PENDING) == 0 &&
                   n[0] == '0' && n[1] == 'x' && strncmp(n + 42, ".json", 5) == 0) {
            recover_pending(ks, n);
        }
    }
    closedir(dir);
    close(lock);
}

/* Seals sk under passphrase with the store's parameters and stages its file; sha gets
 * the SHA-256 of the staged bytes. */
static int stage_key(keystore *ks, const uint8_t *sk, const addr *a, const char *label,
                     const char *created, const char *passphrase, char sha[65], err *e)
{
    if (!passphrase || !*passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused: a key needs a passphrase");
    if (keyfile_label_check(label, e) < 0)
        return -1;
    if (ksfs_dir_ensure(ks->dir, e) < 0)
        return -1;
    char path[4400];
    pending_path(path, sizeof path, ks, a);
    keyfile kf;
    memset(&kf, 0, sizeof kf);
    kf.address = *a;
    snprintf(kf.label, sizeof kf.label, "%s", label);
    if (created)
        snprintf(kf.created, sizeof kf.created, "%s", created);
    else
        keyfile_now(kf.created);
    kf.opslimit = ks->params.opslimit;
    kf.memlimit = ks->params.memlimit;
    randombytes_buf(kf.salt, sizeof kf.salt);
    uint8_t *key = sodium_malloc(KEYFILE_KEY_LEN);
    if (!key)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    buf text;
    buf_init(&text);
    int rc = -1;
    if (keyfile_derive(key, &kf, passphrase, e) < 0 || keyfile_seal(&kf, sk, key, e) < 0 ||
        keyfile_render(&text, &kf, e) < 0)
        goto out;
    verify_ctx vc = {key, sk};
    if (ksfs_write_atomic(path, text.data, text.len, true, verify_written, &vc, e) < 0)
        goto out;
    sha256_text(sha, text.data, text.len);
    rc = 0;
out:
    buf_free(&text);
    sodium_free(key);
    return rc;
}

static bool path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

static int refuse_existing(keystore *ks, const addr *a, err *e)
{
    char path[4400], shown[ADDR_STR_MAX];
    key_path(path, sizeof path, ks, a);
    addr_to_checksum(shown, a);
    if (path_exists(path))
        return err_set(e, ERR_EXISTS, "key %s already exists in the key store (%s): refused",
                       shown, path);
    return 0;
}

/* The common tail of create and imports: store a new key and record it. */
static int add_key(keystore *ks, const uint8_t *sk, const char *label, const char *passphrase,
                   const char *action, const char *source, addr *out, err *e)
{
    if (!passphrase || !*passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused: a new key needs a passphrase");
    if (!label)
        label = "";
    if (keyfile_label_check(label, e) < 0)
        return -1;
    if (!secp_seckey_valid(sk))
        return err_set(e, ERR_INVALID, "not a valid secp256k1 private key (it must be above "
                       "zero and below the curve order)");
    addr a;
    if (addr_from_seckey(&a, sk) < 0)
        return err_set(e, ERR_INVALID, "not a valid secp256k1 private key");
    if (ksfs_dir_ensure(ks->dir, e) < 0)
        return -1;
    int lock = ksfs_lock(ks->dir, true, e);
    if (lock < 0)
        return -1;
    char sha[65];
    int rc = -1;
    if (refuse_existing(ks, &a, e) < 0 ||
        stage_key(ks, sk, &a, label, NULL, passphrase, sha, e) < 0)
        goto out;
    if (ks_audit(ks, action, json_pack("{s:o, s:s, s:s, s:s}", "address", ks_addr_json(&a),
                                       "label", label, "source", source, "file_sha256", sha),
                 e) < 0) {
        unstage_key(ks, &a);
        char shown[ADDR_STR_MAX];
        addr_to_checksum(shown, &a);
        err_lead(e, "key %s was not stored:", shown);
        goto out;
    }
    if (commit_key(ks, &a, false, e) < 0)
        goto out;
    if (out)
        *out = a;
    rc = 0;
out:
    close(lock);
    return rc;
}

int keystore_create(keystore *ks, const char *label, const char *passphrase, addr *out, err *e)
{
    if (!passphrase || !*passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused: a new key needs a passphrase");
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    do
        randombytes_buf(sk, 32);
    while (!secp_seckey_valid(sk));
    int rc = add_key(ks, sk, label, passphrase, "key_new", "random", out, e);
    sodium_free(sk);
    return rc;
}

int keystore_import_raw(keystore *ks, const uint8_t sk[32], const char *label,
                        const char *passphrase, addr *out, err *e)
{
    return add_key(ks, sk, label, passphrase, "key_import", "raw", out, e);
}

int keystore_import_v3(keystore *ks, const char *json, size_t len, const char *v3_passphrase,
                       const char *label, const char *passphrase, addr *out, err *e)
{
    if (!passphrase || !*passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused: a new key needs a passphrase");
    if (keyfile_label_check(label ? label : "", e) < 0 || ksfs_dir_check(ks->dir, e) < 0)
        return -1;
    v3_file f;
    if (v3_parse(&f, json, len, e) < 0)
        return -1;
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    int rc = v3_decrypt(sk, &f, v3_passphrase, e);
    if (rc == 0)
        rc = add_key(ks, sk, label, passphrase, "key_import", "keystore-v3", out, e);
    sodium_free(sk);
    return rc;
}

typedef struct v3_verify_ctx {
    const uint8_t *sk;
    const char *passphrase;
} v3_verify_ctx;

static int verify_v3(void *vctx, const char *data, size_t len, err *e)
{
    v3_verify_ctx *vc = vctx;
    v3_file f;
    if (v3_parse(&f, data, len, e) < 0)
        return -1;
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    int rc = v3_decrypt(sk, &f, vc->passphrase, e);
    if (rc == 0 && sodium_memcmp(sk, vc->sk, 32) != 0)
        rc = err_set(e, ERR_INTERNAL, "the exported file holds another secret");
    sodium_free(sk);
    return rc;
}

int keystore_export_v3(keystore *ks, const addr *a, const char *passphrase,
                       const char *v3_passphrase, const char *out_path, err *e)
{
    if (!v3_passphrase || !*v3_passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused for the exported file");
    if (path_exists(out_path))
        return err_set(e, ERR_EXISTS, "%s already exists: refused (choose another --out)",
                       out_path);
    keyfile kf;
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    buf text;
    buf_init(&text);
    int rc = -1;
    if (open_key(ks, a, passphrase, &kf, sk, e) < 0 ||
        v3_encrypt(&text, sk, a, v3_passphrase, ks->params.scrypt_log_n, e) < 0)
        goto out;
    v3_verify_ctx vc = {sk, v3_passphrase};
    err we;
    err_clear(&we);
    if (ksfs_write_atomic(out_path, text.data, text.len, false, verify_v3, &vc, &we) < 0) {
        if (we.code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "%s already exists: refused (choose another --out)", out_path);
        else if (e)
            *e = we;
        goto out;
    }
    rc = ks_audit(ks, "key_export",
                  json_pack("{s:o, s:s, s:s}", "address", ks_addr_json(a), "format",
                            "keystore-v3-scrypt", "file", out_path), e);
    if (rc < 0) {
        /* No copy of a key without its audit row. */
        err re;
        if (ksfs_remove(out_path, &re) < 0)
            LOG_E("keystore", "%s", re.msg);
        err_lead(e, "%s was not exported:", out_path);
    }
out:
    buf_free(&text);
    sodium_free(sk);
    return rc;
}

int keystore_passwd(keystore *ks, const addr *a, const char *old_passphrase,
                    const char *new_passphrase, err *e)
{
    if (!new_passphrase || !*new_passphrase)
        return err_set(e, ERR_INVALID, "empty passphrase refused: choose a new passphrase");
    keyfile kf;
    uint8_t *sk = sodium_malloc(32);
    if (!sk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    if (open_key(ks, a, old_passphrase, &kf, sk, e) < 0) {
        sodium_free(sk);
        return -1;
    }
    int lock = ksfs_lock(ks->dir, true, e);
    if (lock < 0) {
        sodium_free(sk);
        return -1;
    }
    /* The new file takes effect only once its audit row is written (see stage_key). */
    char sha[65];
    int rc = stage_key(ks, sk, a, kf.label, kf.created, new_passphrase, sha, e);
    if (rc == 0) {
        rc = ks_audit(ks, "key_passwd",
                      json_pack("{s:o, s:I, s:I, s:s}", "address", ks_addr_json(a), "opslimit",
                                (json_int_t)ks->params.opslimit, "memlimit",
                                (json_int_t)ks->params.memlimit, "file_sha256", sha), e);
        if (rc < 0) {
            unstage_key(ks, a);
            err_lead(e, "passphrase not changed (the old one stays):");
        }
    }
    if (rc == 0)
        rc = commit_key(ks, a, true, e);
    close(lock);
    sodium_free(sk);
    return rc;
}

int keystore_remove(keystore *ks, const addr *a, err *e)
{
    char path[4400], shown[ADDR_STR_MAX];
    addr_to_checksum(shown, a);
    key_path(path, sizeof path, ks, a);
    int d = ksfs_dir_check(ks->dir, e);
    if (d < 0)
        return -1;
    struct stat st;
    if (d == 0 || lstat(path, &st) < 0)
        return err_set(e, ERR_NOT_FOUND, "no key %s in the key store %s (see `fusion key list`)",
                       shown, ks->dir);
    /* The row first: a key never leaves the store unrecorded. */
    int lock = ksfs_lock(ks->dir, true, e);
    if (lock < 0)
        return -1;
    int rc = ks_audit(ks, "key_rm", json_pack("{s:o}", "address", ks_addr_json(a)), e);
    if (rc == 0 && (rc = ksfs_remove(path, e)) < 0)
        err_lead(e, "the removal of key %s is recorded but", shown);
    close(lock);
    if (rc < 0)
        return -1;
    pthread_mutex_lock(&ks->mu);
    for (ks_key *k = ks->keys; k; k = k->next)
        if (addr_equal(&k->address, a))
            key_wipe(k);
    pthread_mutex_unlock(&ks->mu);
    return 0;
}

static void entry_from(ks_entry *out, const keyfile *kf)
{
    memset(out, 0, sizeof *out);
    out->address = kf->address;
    memcpy(out->label, kf->label, sizeof out->label);
    memcpy(out->created, kf->created, sizeof out->created);
    out->opslimit = kf->opslimit;
    out->memlimit = kf->memlimit;
}

int keystore_addresses(const char *home, addr **out, size_t *count, err *e)
{
    *out = NULL;
    *count = 0;
    keystore *ks = NULL;
    ks_entry *v = NULL;
    size_t n = 0;
    if (keystore_open(&ks, home, "accounts", e) < 0)
        return -1;
    int rc = keystore_list(ks, &v, &n, e);
    keystore_free(&ks);
    if (rc < 0 || n == 0)
        return rc;
    addr *a = malloc(n * sizeof *a);
    if (!a) {
        free(v);
        return err_set(e, ERR_NOMEM, "out of memory listing keys");
    }
    for (size_t i = 0; i < n; i++)
        a[i] = v[i].address;
    free(v);
    *out = a;
    *count = n;
    return 0;
}

int keystore_get(keystore *ks, const addr *a, ks_entry *out, err *e)
{
    keyfile kf;
    char path[4400];
    if (load_key(ks, a, &kf, path, sizeof path, e) < 0)
        return -1;
    entry_from(out, &kf);
    return 0;
}

static bool key_file_name(const char *name, addr *a)
{
    if (strlen(name) != 47 || strcmp(name + 42, ".json") != 0 || name[0] != '0' ||
        name[1] != 'x')
        return false;
    char hex[41];
    memcpy(hex, name + 2, 40);
    hex[40] = '\0';
    for (int i = 0; i < 40; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return hex_decode_exact(a->b, ADDR_LEN, hex, 0, NULL) == 0;
}

static int entry_cmp(const void *x, const void *y)
{
    return memcmp(((const ks_entry *)x)->address.b, ((const ks_entry *)y)->address.b, ADDR_LEN);
}

int keystore_list(keystore *ks, ks_entry **out, size_t *count, err *e)
{
    *out = NULL;
    *count = 0;
    int d = ksfs_dir_check(ks->dir, e);
    if (d <= 0)
        return d;
    DIR *dir = opendir(ks->dir);
    if (!dir)
        return err_set(e, ERR_IO, "cannot list %s: %s", ks->dir, strerror(errno));
    ks_entry *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        addr a;
        if (!key_file_name(de->d_name, &a))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            ks_entry *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = err_set(e, ERR_NOMEM, "out of memory listing keys");
                break;
            }
            v = nv;
        }
        keyfile kf;
        char path[4400];
        if (load_key(ks, &a, &kf, path, sizeof path, e) < 0) {
            rc = -1;
            break;
        }
        entry_from(&v[n++], &kf);
    }
    closedir(dir);
    if (rc < 0) {
        free(v);
        return -1;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, entry_cmp);
    *out = v;
    *count = n;
    return 0;
}

/* ---- unlocked keys ---- */

/* Locks k when it was idle too long; caller holds ks->mu. */
static void key_expire(ks_key *k, uint64_t now)
{
    keystore *ks = k->ks;
    if (k->sk && now - k->last_use_ms > (uint64_t)ks->idle_s * 1000u) {
        char shown[ADDR_STR_MAX];
        addr_to_checksum(shown, &k->address);
        key_wipe(k);
        LOG_I("keystore", "key %s locked after %u s idle", shown, ks->idle_s);
    }
}

int keystore_unlock(keystore *ks, const addr *a, const char *passphrase, ks_key **out, err *e)
{
    return keystore_unlock_as(ks, a, passphrase, NULL, out, e);
}

int keystore_unlock_as(keystore *ks, const addr *a, const char *passphrase,
                       const char *operator_name, ks_key **out, err *e)
{
    *out = NULL;
    ks_key *k = calloc(1, sizeof *k);
    if (!k)
        return err_set(e, ERR_NOMEM, "out of memory");
    k->sk = sodium_malloc(32);
    if (!k->sk) {
        free(k);
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    }
    keyfile kf;
    if (guard_acquire(e) < 0) {
        sodium_free(k->sk);
        free(k);
        return -1;
    }
    if (open_key(ks, a, passphrase, &kf, k->sk, e) < 0) {
        key_wipe(k);
        free(k);
        return -1;
    }
    sodium_mprotect_noaccess(k->sk);
    k->ks = ks;
    k->address = *a;
    if (operator_name && strlen(operator_name) < sizeof k->operator_name)
        snprintf(k->operator_name, sizeof k->operator_name, "%s", operator_name);
    pthread_mutex_lock(&ks->mu);
    k->last_use_ms = ks->now_ms(ks->clock_ctx);
    k->next = ks->keys;
    ks->keys = k;
    pthread_mutex_unlock(&ks->mu);
    *out = k;
    json_t *details = json_pack("{s:o}", "address", ks_addr_json(a));
    int arc;
    if (operator_name && *operator_name) {
        arc = audit_append(ks->home, operator_name, "key_unlock", details, e);
        json_decref(details);
    } else {
        arc = ks_audit(ks, "key_unlock", details, e);
    }
    if (arc < 0) {
        keystore_lock(out);
        return -1;
    }
    return 0;
}

void keystore_lock(ks_key **pk)
{
    ks_key *k = *pk;
    if (!k)
        return;
    keystore *ks = k->ks;
    pthread_mutex_lock(&ks->mu);
    for (ks_key **pp = &ks->keys; *pp; pp = &(*pp)->next) {
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    }
    key_wipe(k);
    pthread_mutex_unlock(&ks->mu);
    free(k);
    *pk = NULL;
}

bool keystore_key_unlocked(ks_key *k)
{
    keystore *ks = k->ks;
    pthread_mutex_lock(&ks->mu);
    key_expire(k, ks->now_ms(ks->clock_ctx));
    bool on = k->sk != NULL;
    pthread_mutex_unlock(&ks->mu);
    return on;
}

const addr *keystore_key_address(const ks_key *k)
{
    return &k->address;
}

void keystore_tick(keystore *ks)
{
    pthread_mutex_lock(&ks->mu);
    uint64_t now = ks->now_ms(ks->clock_ctx);
    for (ks_key *k = ks->keys; k; k = k->next)
        key_expire(k, now);
    pthread_mutex_unlock(&ks->mu);
}

int ks_with_secret(ks_key *k, ks_secret_fn fn, void *ctx, err *e)
{
    keystore *ks = k->ks;
    pthread_mutex_lock(&ks->mu);
    uint64_t now = ks->now_ms(ks->clock_ctx);
    key_expire(k, now);
    int rc;
    if (!k->sk) {
        char shown[ADDR_STR_MAX];
        addr_to_checksum(shown, &k->address);
        rc = err_set(e, ERR_STATE, "key %s is locked (idle for more than %u s); unlock it again",
                     shown, ks->idle_s);
    } else {
        sodium_mprotect_readonly(k->sk);
        rc = fn(ctx, k->sk, e);
        sodium_mprotect_noaccess(k->sk);
        k->last_use_ms = now;
    }
    pthread_mutex_unlock(&ks->mu);
    return rc;
}
