/* test_store.c: the key store on real files in temp dirs: create, list, unlock, sign and
 * recover; every bad input of issue 4 (wrong passphrase, any changed or cut byte,
 * permissions, existing key, empty passphrase) fails with the files' bytes unchanged;
 * passwd, rm, v3 export/import, idle locking, the core-dump guard and guarded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "crypto/address.h"
#include "crypto/eip191.h"
#include "keystore/keystore.h"
#include "keystore/keystore_priv.h"

static const char pass[] = "s3cret passphrase";

typedef struct fixture {
    char home[256];
    char dir[300];
    keystore *ks;
} fixture;

static ks_params fast_params(void)
{
    ks_params p = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN, 10};
    return p;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->home, sizeof f->home, "%s/fusion-ks-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!f->home[0] || !mkdtemp(f->home))
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/keys", f->home);
    if (keystore_open(&f->ks, f->home, "tester", NULL) < 0)
        return -1;
    ks_params p = fast_params();
    keystore_set_params(f->ks, &p);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    chmod(path, 0700);
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    keystore_free(&f->ks);
    chmod(f->dir, 0700);
    nftw(f->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *data = malloc(1 << 20);
    assert_non_null(data);
    *len = fread(data, 1, 1 << 20, fp);
    fclose(fp);
    return data;
}

static void spit(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void key_file(char *out, size_t cap, const fixture *f, const addr *a)
{
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    snprintf(out, cap, "%s/%s.json", f->dir, lower);
}

static void audit_file(char *out, size_t cap, const fixture *f)
{
    snprintf(out, cap, "%s/audit.log", f->home);
}

/* Remembers a file's bytes and mode; same() says whether both are unchanged. */
typedef struct snapshot {
    char path[512];
    char *data;
    size_t len;
    mode_t mode;
    bool exists;
} snapshot;

static void snap(snapshot *s, const char *path)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    struct stat st;
    s->exists = lstat(path, &st) == 0;
    if (s->exists) {
        s->mode = st.st_mode;
        s->data = slurp(path, &s->len);
    }
}

static void assert_same(snapshot *s)
{
    snapshot now;
    snap(&now, s->path);
    assert_int_equal(now.exists, s->exists);
    if (s->exists) {
        assert_int_equal(now.mode, s->mode);
        assert_int_equal(now.len, s->len);
        assert_memory_equal(now.data, s->data, s->len);
    }
    free(now.data);
    free(s->data);
    s->data = NULL;
}

static size_t count_audit_rows(const fixture *f, const char *action)
{
    char path[512];
    audit_file(path, sizeof path, f);
    size_t len = 0, n = 0;
    char *data = slurp(path, &len);
    if (!data)
        return 0;
    char needle[64];
    snprintf(needle, sizeof needle, "\"action\":\"%s\"", action);
    data[len] = '\0';
    for (char *p = data; (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(data);
    return n;
}

static void test_create_list_unlock_sign(void **state)
{
    fixture *f = *state;
    addr a, b, *none = &a;
    size_t n_none = 1;
    assert_int_equal(keystore_addresses(f->home, &none, &n_none, NULL), 0); /* no key yet */
    assert_null(none);
    assert_int_equal(n_none, 0);
    assert_int_equal(keystore_create(f->ks, "alpha", pass, &a, NULL), 0);
    assert_int_equal(keystore_create(f->ks, "beta", pass, &b, NULL), 0);
    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char path[512];
    key_file(path, sizeof path, f, &a);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    ks_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(keystore_list(f->ks, &v, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_true(memcmp(v[0].address.b, v[1].address.b, ADDR_LEN) < 0);
    for (size_t i = 0; i < n; i++) {
        bool is_a = addr_equal(&v[i].address, &a);
        assert_string_equal(v[i].label, is_a ? "alpha" : "beta");
        assert_int_equal(strlen(v[i].created), KS_CREATED_LEN);
    }
    free(v);
    /* the addresses alone, as the bridge list and the risk report read the desk's accounts */
    addr *as = NULL;
    assert_int_equal(keystore_addresses(f->home, &as, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_true(memcmp(as[0].b, as[1].b, ADDR_LEN) < 0);
    assert_true(addr_equal(&as[0], &a) ? addr_equal(&as[1], &b)
                                       : addr_equal(&as[0], &b) && addr_equal(&as[1], &a));
    free(as);

    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, NULL), 0);
    assert_true(keystore_key_unlocked(k));
    assert_true(addr_equal(keystore_key_address(k), &a));
    static const char msg[] = "I control this key";
    uint8_t sig[65];
    assert_int_equal(keystore_sign_message(k, sig, msg, strlen(msg), NULL), 0);
    addr signer;
    assert_int_equal(eip191_recover(&signer, sig, msg, strlen(msg)), 0);
    assert_true(addr_equal(&signer, &a));
    assert_false(addr_equal(&signer, &b));
    keystore_lock(&k);
    assert_null(k);

    audit_report r;
    assert_int_equal(audit_verify(f->home, NULL, &r, NULL), 0);
    assert_true(r.ok);
    assert_int_equal(r.rows, 4);
    assert_int_equal(count_audit_rows(f, "key_new"), 2);
    assert_int_equal(count_audit_rows(f, "sign_message"), 1);
}

static void test_wrong_passphrase(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "", pass, &a, NULL), 0);
    char path[512], log[512];
    key_file(path, sizeof path, f, &a);
    audit_file(log, sizeof log, f);
    snapshot s1, s2;
    snap(&s1, path);
    snap(&s2, log);
    ks_key *k = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(keystore_unlock(f->ks, &a, "s3cret passphrasE", &k, &e), -1);
    assert_null(k);
    assert_int_equal(e.code, ERR_AUTH);
    assert_non_null(strstr(e.msg, "wrong passphrase"));
    assert_int_equal(keystore_unlock(f->ks, &a, "", &k, &e), -1);
    assert_same(&s1);
    assert_same(&s2);
}

/* The acceptance test: every byte of a key file on disk, changed in several ways, and
 * every truncation, is refused by unlock; nothing rewrites the file meanwhile. */
static void test_every_byte_on_disk(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "flip me", pass, &a, NULL), 0);
    char path[512], log[512];
    key_file(path, sizeof path, f, &a);
    audit_file(log, sizeof log, f);
    size_t len = 0;
    char *orig = slurp(path, &len);
    assert_non_null(orig);
    assert_true(len > 400);
    snapshot audit_before;
    snap(&audit_before, log);
    char *copy = malloc(len);
    static const uint8_t masks[] = {0x01, 0x20, 0xFF};
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, orig, len);
            copy[i] = (char)(copy[i] ^ masks[m]);
            spit(path, copy, len);
            ks_key *k = NULL;
            err e;
            err_clear(&e);
            if (keystore_unlock(f->ks, &a, pass, &k, &e) == 0)
                fail_msg("byte %zu xor 0x%02x accepted", i, masks[m]);
            assert_null(k);
            assert_true(e.msg[0] != '\0');
            assert_null(strchr(e.msg, '\n'));
            snapshot same;
            snap(&same, path);
            assert_int_equal(same.len, len);
            assert_memory_equal(same.data, copy, len);
            free(same.data);
        }
    }
    for (size_t n = 0; n < len; n++) {
        spit(path, orig, n);
        ks_key *k = NULL;
        if (keystore_unlock(f->ks, &a, pass, &k, NULL) == 0)
            fail_msg("truncation to %zu bytes accepted", n);
    }
    assert_same(&audit_before);
    /* The untouched file still opens: the refusals were about the changes. */
    spit(path, orig, len);
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, NULL), 0);
    keystore_lock(&k);
    free(copy);
    free(orig);
}

static void test_permissions(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "perm", pass, &a, NULL), 0);
    char path[512], want[700];
    key_file(path, sizeof path, f, &a);
    static const mode_t file_modes[] = {0644, 0640, 0604, 0620, 0602, 0601};
    for (size_t i = 0; i < sizeof file_modes / sizeof file_modes[0]; i++) {
        assert_int_equal(chmod(path, file_modes[i]), 0);
        snapshot s;
        snap(&s, path);
        ks_key *k = NULL;
        err e;
        err_clear(&e);
        assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, &e), -1);
        assert_int_equal(e.code, ERR_DENIED);
        snprintf(want, sizeof want, "chmod 600 %s", path);
        assert_non_null(strstr(e.msg, want));
        ks_entry *v = NULL;
        size_t n = 0;
        assert_int_equal(keystore_list(f->ks, &v, &n, NULL), -1);
        assert_same(&s);
    }
    assert_int_equal(chmod(path, 0600), 0);
    static const mode_t dir_modes[] = {0755, 0750, 0705, 0710, 0701, 0770};
    for (size_t i = 0; i < sizeof dir_modes / sizeof dir_modes[0]; i++) {
        assert_int_equal(chmod(f->dir, dir_modes[i]), 0);
        snapshot s;
        snap(&s, path);
        err e;
        err_clear(&e);
        ks_key *k = NULL;
        assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, &e), -1);
        assert_int_equal(e.code, ERR_DENIED);
        snprintf(want, sizeof want, "chmod 700 %s", f->dir);
        assert_non_null(strstr(e.msg, want));
        ks_entry *v = NULL;
        size_t n = 0;
        err_clear(&e);
        assert_int_equal(keystore_list(f->ks, &v, &n, &e), -1);
        assert_non_null(strstr(e.msg, want));
        err_clear(&e);
        assert_int_equal(keystore_create(f->ks, "new", pass, NULL, &e), -1);
        assert_non_null(strstr(e.msg, want));
        assert_same(&s);
        struct stat st;
        assert_int_equal(stat(f->dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, dir_modes[i]);
    }
    assert_int_equal(chmod(f->dir, 0700), 0);
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, NULL), 0);
    keystore_lock(&k);
}

static void test_import_existing_and_bad_keys(void **state)
{
    fixture *f = *state;
    uint8_t sk[32];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(0x11 * (i % 15 + 1));
    addr a, expect;
    assert_int_equal(addr_from_seckey(&expect, sk), 0);
    assert_int_equal(keystore_import_raw(f->ks, sk, "first", pass, &a, NULL), 0);
    assert_true(addr_equal(&a, &expect));
    char path[512], log[512];
    key_file(path, sizeof path, f, &a);
    audit_file(log, sizeof log, f);
    snapshot s1, s2;
    snap(&s1, path);
    snap(&s2, log);
    err e;
    err_clear(&e);
    assert_int_equal(keystore_import_raw(f->ks, sk, "second", "other pass", NULL, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    assert_non_null(strstr(e.msg, "already exists"));
    assert_same(&s1);
    assert_same(&s2);

    /* Not secp256k1 secrets: zero, the group order n, and all ones. */
    static const uint8_t n_order[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36,
        0x41, 0x41};
    uint8_t zero[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof ones);
    const uint8_t *bad[] = {zero, n_order, ones};
    for (size_t i = 0; i < 3; i++) {
        err_clear(&e);
        assert_int_equal(keystore_import_raw(f->ks, bad[i], "", pass, NULL, &e), -1);
        assert_int_equal(e.code, ERR_INVALID);
    }
    ks_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(keystore_list(f->ks, &v, &n, NULL), 0);
    assert_int_equal(n, 1);
    free(v);
}

static void test_empty_passphrase(void **state)
{
    fixture *f = *state;
    err e;
    err_clear(&e);
    assert_int_equal(keystore_create(f->ks, "x", "", NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "empty passphrase"));
    uint8_t sk[32];
    memset(sk, 7, sizeof sk);
    assert_int_equal(keystore_import_raw(f->ks, sk, "x", "", NULL, NULL), -1);
    struct stat st;
    assert_int_equal(stat(f->dir, &st), -1); /* nothing was even created */
    char log[512];
    audit_file(log, sizeof log, f);
    assert_int_equal(stat(log, &st), -1);

    addr a;
    assert_int_equal(keystore_create(f->ks, "x", pass, &a, NULL), 0);
    char path[512];
    key_file(path, sizeof path, f, &a);
    snapshot s;
    snap(&s, path);
    err_clear(&e);
    assert_int_equal(keystore_passwd(f->ks, &a, pass, "", &e), -1);
    assert_non_null(strstr(e.msg, "empty passphrase"));
    assert_same(&s);
}

static void test_passwd(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "rotating", pass, &a, NULL), 0);
    ks_entry before, after;
    assert_int_equal(keystore_get(f->ks, &a, &before, NULL), 0);
    ks_params raised = fast_params();
    raised.opslimit = 2;
    raised.memlimit = 2 * crypto_pwhash_MEMLIMIT_MIN;
    keystore_set_params(f->ks, &raised);
    err e;
    err_clear(&e);
    assert_int_equal(keystore_passwd(f->ks, &a, "not it", "new pass", &e), -1);
    assert_int_equal(e.code, ERR_AUTH);
    assert_int_equal(keystore_passwd(f->ks, &a, pass, "new pass", NULL), 0);
    assert_int_equal(keystore_get(f->ks, &a, &after, NULL), 0);
    assert_string_equal(after.label, before.label);
    assert_string_equal(after.created, before.created);
    assert_int_equal(after.opslimit, 2);
    assert_int_equal(after.memlimit, 2 * crypto_pwhash_MEMLIMIT_MIN);
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, &e), -1);
    assert_int_equal(keystore_unlock(f->ks, &a, "new pass", &k, NULL), 0);
    keystore_lock(&k);
    /* No temp files are left behind. */
    ks_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(keystore_list(f->ks, &v, &n, NULL), 0);
    assert_int_equal(n, 1);
    free(v);
}

static void test_remove(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "doomed", pass, &a, NULL), 0);
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, NULL), 0);
    assert_int_equal(keystore_remove(f->ks, &a, NULL), 0);
    assert_false(keystore_key_unlocked(k));
    uint8_t sig[65];
    err e;
    err_clear(&e);
    assert_int_equal(keystore_sign_message(k, sig, "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    keystore_lock(&k);
    char path[512];
    key_file(path, sizeof path, f, &a);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    ks_entry ent;
    err_clear(&e);
    assert_int_equal(keystore_get(f->ks, &a, &ent, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(keystore_remove(f->ks, &a, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(count_audit_rows(f, "key_rm"), 1);
}

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
    return *(uint64_t *)ctx;
}

static void test_idle_lock(void **state)
{
    fixture *f = *state;
    fake_now = 1000000;
    keystore_set_clock(f->ks, fake_clock, &fake_now);
    keystore_set_idle_timeout(f->ks, 10);
    addr a;
    assert_int_equal(keystore_create(f->ks, "idle", pass, &a, NULL), 0);
    ks_key *k1 = NULL, *k2 = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k1, NULL), 0);
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k2, NULL), 0);
    uint8_t sig[65];
    fake_now += 9000;
    assert_int_equal(keystore_sign_message(k1, sig, "a", 1, NULL), 0); /* use resets idle */
    fake_now += 9000;
    keystore_tick(f->ks);
    assert_true(keystore_key_unlocked(k1));
    assert_false(keystore_key_unlocked(k2)); /* 18 s idle: locked by tick */
    err e;
    err_clear(&e);
    assert_int_equal(keystore_sign_message(k2, sig, "a", 1, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    assert_non_null(strstr(e.msg, "unlock it again"));
    /* Checked on use as well, without a tick. */
    fake_now += 10001;
    err_clear(&e);
    assert_int_equal(keystore_sign_message(k1, sig, "a", 1, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    keystore_lock(&k1);
    keystore_lock(&k2);
    keystore_set_clock(f->ks, NULL, NULL);
}

static void test_core_dump_guard(void **state)
{
    fixture *f = *state;
    struct rlimit before, now;
    assert_int_equal(getrlimit(RLIMIT_CORE, &before), 0);
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    addr a;
    assert_int_equal(keystore_create(f->ks, "core", pass, &a, NULL), 0);
    ks_key *k1 = NULL, *k2 = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k1, NULL), 0);
    assert_int_equal(getrlimit(RLIMIT_CORE, &now), 0);
    assert_int_equal(now.rlim_cur, 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k2, NULL), 0);
    keystore_lock(&k1);
    assert_int_equal(getrlimit(RLIMIT_CORE, &now), 0);
    assert_int_equal(now.rlim_cur, 0); /* k2 is still unlocked */
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    keystore_lock(&k2);
    assert_int_equal(getrlimit(RLIMIT_CORE, &now), 0);
    assert_int_equal(now.rlim_cur, before.rlim_cur);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), dumpable);
}

/* While idle the secret's page is PROT_NONE: a read from it kills the reader. */
static void test_secret_inaccessible(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "guarded", pass, &a, NULL), 0);
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, NULL), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Neither cmocka's nor a sanitizer's handler: let the kernel kill the reader. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        volatile uint8_t b = k->sk[0];
        (void)b;
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    keystore_lock(&k);
}

static void test_renamed_and_symlinked(void **state)
{
    fixture *f = *state;
    addr a, b;
    assert_int_equal(keystore_create(f->ks, "A", pass, &a, NULL), 0);
    assert_int_equal(keystore_create(f->ks, "B", pass, &b, NULL), 0);
    char pa[512], pb[512], elsewhere[600];
    key_file(pa, sizeof pa, f, &a);
    key_file(pb, sizeof pb, f, &b);
    size_t len;
    char *da = slurp(pa, &len);
    spit(pb, da, len); /* B's name, A's content */
    ks_key *k = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(keystore_unlock(f->ks, &b, pass, &k, &e), -1);
    assert_non_null(strstr(e.msg, "another address"));
    snprintf(elsewhere, sizeof elsewhere, "%s/outside.json", f->home);
    spit(elsewhere, da, len);
    assert_int_equal(unlink(pa), 0);
    assert_int_equal(symlink(elsewhere, pa), 0);
    err_clear(&e);
    assert_int_equal(keystore_unlock(f->ks, &a, pass, &k, &e), -1);
    assert_non_null(strstr(e.msg, "symbolic link"));
    free(da);
}

static void test_v3_export_import(void **state)
{
    fixture *f = *state;
    addr a, back;
    assert_int_equal(keystore_create(f->ks, "travelling", pass, &a, NULL), 0);
    char out[512];
    snprintf(out, sizeof out, "%s/exported.json", f->home);
    assert_int_equal(keystore_export_v3(f->ks, &a, pass, "export pass", out, NULL), 0);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snapshot s;
    snap(&s, out);
    err e;
    err_clear(&e);
    assert_int_equal(keystore_export_v3(f->ks, &a, pass, "export pass", out, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    assert_same(&s);
    err_clear(&e);
    char out2[600];
    snprintf(out2, sizeof out2, "%s/exported2.json", f->home);
    assert_int_equal(keystore_export_v3(f->ks, &a, "wrong", "export pass", out2, &e), -1);
    assert_int_equal(e.code, ERR_AUTH);
    assert_int_equal(stat(out2, &st), -1);

    /* Into another desk. */
    fixture *g = NULL;
    assert_int_equal(setup((void **)&g), 0);
    size_t len;
    char *json = slurp(out, &len);
    err_clear(&e);
    assert_int_equal(keystore_import_v3(g->ks, json, len, "wrong", "t", "p2", &back, &e), -1);
    assert_int_equal(e.code, ERR_AUTH);
    assert_int_equal(stat(g->dir, &st), -1);
    assert_int_equal(keystore_import_v3(g->ks, json, len, "export pass", "t", "p2", &back, NULL),
                     0);
    assert_true(addr_equal(&back, &a));
    ks_key *k = NULL;
    assert_int_equal(keystore_unlock(g->ks, &a, "p2", &k, NULL), 0);
    keystore_lock(&k);
    free(json);
    teardown((void **)&g);
}

static void test_list_damaged(void **state)
{
    fixture *f = *state;
    addr a;
    assert_int_equal(keystore_create(f->ks, "ok", pass, &a, NULL), 0);
    char path[512];
    key_file(path, sizeof path, f, &a);
    size_t len;
    char *d = slurp(path, &len);
    d[len / 2] ^= 1;
    spit(path, d, len);
    ks_entry *v = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    assert_int_equal(keystore_list(f->ks, &v, &n, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "modified or damaged"));
    free(d);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_list_unlock_sign),
        T(test_wrong_passphrase),
        T(test_every_byte_on_disk),
        T(test_permissions),
        T(test_import_existing_and_bad_keys),
        T(test_empty_passphrase),
        T(test_passwd),
        T(test_remove),
        T(test_idle_lock),
        T(test_core_dump_guard),
        T(test_secret_inaccessible),
        T(test_renamed_and_symlinked),
        T(test_v3_export_import),
        T(test_list_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
