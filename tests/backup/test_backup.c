/* test_backup.c: the backup archive core (src/backup/archive.c) and backup.conf parsing.
 * Archives here are sealed with libsodium's MIN Argon2id limits (they are in the header, so
 * that is a legitimate archive) to stay fast enough to try every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"

static const char pass[] = "backup passphrase";
#define OPS crypto_pwhash_OPSLIMIT_MIN
#define MEM crypto_pwhash_MEMLIMIT_MIN

static void make_set(backup_set *s, size_t big)
{
    backup_set_init(s);
    s->manifest = strdup("{\"format\":\"fusion-backup\",\"version\":1}");
    assert_non_null(s->manifest);
    uint8_t *data = malloc(big ? big : 1);
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(backup_set_add(s, "desk.db", 0600, false, data, big, NULL), 0);
    assert_int_equal(backup_set_add(s, "keys", 0700, true, NULL, 0, NULL), 0);
    assert_int_equal(backup_set_add(s, "keys/0xab.json", 0600, false, "{\"k\":1}", 7, NULL), 0);
    assert_int_equal(backup_set_add(s, "policy.conf", 0600, false, "", 0, NULL), 0);
    free(data);
}

static void assert_same(const backup_set *a, const backup_set *b)
{
    assert_string_equal(a->manifest, b->manifest);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].name, b->v[i].name);
        assert_int_equal(a->v[i].mode, b->v[i].mode);
        assert_int_equal(a->v[i].dir, b->v[i].dir);
        assert_int_equal(a->v[i].len, b->v[i].len);
        if (a->v[i].len)
            assert_memory_equal(a->v[i].data, b->v[i].data, a->v[i].len);
    }
}

static void test_round_trip(void **state)
{
    /* 0: one frame; 200000: several frames of BACKUP_CHUNK; exactly one chunk's worth */
    const size_t sizes[] = {0, 100, 200000, BACKUP_CHUNK * 2};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        backup_set in, out;
        make_set(&in, sizes[k]);
        buf arc;
        buf_init(&arc);
        err e;
        assert_int_equal(backup_seal(&arc, &in, pass, OPS, MEM, &e), 0);
        assert_memory_equal(arc.data, BACKUP_MAGIC, 8);
        assert_int_equal(backup_open(&out, arc.data, arc.len, pass, &e), 0);
        assert_same(&in, &out);
        backup_header h;
        assert_int_equal(backup_header_parse(&h, arc.data, arc.len, &e), 0);
        assert_int_equal(h.opslimit, OPS);
        assert_int_equal(h.memlimit, MEM);
        backup_set_clear(&out);
        backup_set_clear(&in);
        buf_free(&arc);
    }
}

static void test_wrong_passphrase(void **state)
{
    backup_set in, out;
    make_set(&in, 1000);
    buf arc;
    buf_init(&arc);
    err e;
    assert_int_equal(backup_seal(&arc, &in, pass, OPS, MEM, &e), 0);
    assert_int_equal(backup_open(&out, arc.data, arc.len, "backup passphrasf", &e), -1);
    assert_int_equal(e.code, ERR_AUTH);
    assert_non_null(strstr(e.msg, "wrong passphrase"));
    assert_int_equal(out.n, 0);
    assert_null(out.manifest);
    assert_int_equal(backup_open(&out, arc.data, arc.len, "", &e), -1);
    backup_set_clear(&in);
    buf_free(&arc);
}

/* Every bit of every byte position: header (additional data), frame lengths, ciphertext,
 * tags. Nothing opens. */
static void test_every_byte(void **state)
{
    backup_set in, out;
    make_set(&in, 300);
    buf arc;
    buf_init(&arc);
    err e;
    assert_int_equal(backup_seal(&arc, &in, pass, OPS, MEM, &e), 0);
    for (size_t i = 0; i < arc.len; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        arc.data[i] ^= bit;
        int rc = backup_open(&out, arc.data, arc.len, pass, &e);
        arc.data[i] ^= bit;
        if (rc == 0)
            fail_msg("byte %zu flipped still opens", i);
        assert_int_equal(out.n, 0);
        assert_non_null(strchr(e.msg, ' ')); /* a message says what failed */
    }
    backup_set_clear(&in);
    buf_free(&arc);
}

/* Every truncation, and anything appended after the final frame. */
static void test_truncated(void **state)
{
    backup_set in, out;
    make_set(&in, BACKUP_CHUNK + 10); /* two frames: a cut at the frame boundary too */
    buf arc;
    buf_init(&arc);
    err e;
    assert_int_equal(backup_seal(&arc, &in, pass, OPS, MEM, &e), 0);
    size_t first_frame_end = BACKUP_HEADER_LEN + 4 + BACKUP_CHUNK +
                             crypto_secretstream_xchacha20poly1305_ABYTES;
    assert_true(first_frame_end < arc.len);
    for (size_t cut = 0; cut < arc.len; cut += (cut < 200 || arc.len - cut < 200) ? 1 : 997) {
        if (backup_open(&out, arc.data, cut, pass, &e) == 0)
            fail_msg("cut to %zu bytes still opens", cut);
    }
    assert_int_equal(backup_open(&out, arc.data, first_frame_end, pass, &e), -1);
    assert_non_null(strstr(e.msg, "truncated"));
    buf more;
    buf_init(&more);
    assert_int_equal(buf_append(&more, arc.data, arc.len, &e), 0);
    assert_int_equal(buf_append(&more, "\0\0\0\0", 4, &e), 0);
    assert_int_equal(backup_open(&out, more.data, more.len, pass, &e), -1);
    assert_non_null(strstr(e.msg, "after its final frame"));
    buf_free(&more);
    backup_set_clear(&in);
    buf_free(&arc);
}

static void test_header(void **state)
{
    uint8_t h[BACKUP_HEADER_LEN];
    memset(h, 0, sizeof h);
    memcpy(h, BACKUP_MAGIC, 8);
    h[9] = 1;                 /* version 1 */
    h[11] = 1;                /* algorithm 1 */
    h[19] = 2;                /* opslimit 2 */
    h[25] = 1;                /* memlimit 65536 */
    backup_header out;
    err e;
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), 0);
    assert_int_equal(out.opslimit, 2);
    assert_int_equal(out.memlimit, 65536);
    assert_int_equal(backup_header_parse(&out, h, sizeof h - 1, &e), -1);
    assert_non_null(strstr(e.msg, "truncated"));
    h[0] = 'X';
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), -1);
    assert_non_null(strstr(e.msg, "magic"));
    h[0] = 'F';
    h[9] = 2;
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), -1);
    assert_non_null(strstr(e.msg, "version 2"));
    h[9] = 1;
    h[11] = 2;
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), -1);
    h[11] = 1;
    h[19] = 33; /* above the key store's bound */
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), -1);
    assert_non_null(strstr(e.msg, "out of range"));
    h[19] = 2;
    h[20] = 1; /* memlimit 2^56 */
    assert_int_equal(backup_header_parse(&out, h, sizeof h, &e), -1);
}

static void test_names(void **state)
{
    const char *ok[] = {"desk.db", "keys/0xab.json", "a/b/c", "..x", "x.."};
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a", "keys/.",
                         "a\\b", "a b", "a\nb", "\x7f", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(backup_name_ok(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (backup_name_ok(bad[i], strlen(bad[i])))
            fail_msg("name \"%s\" accepted", bad[i]);
    backup_set s;
    backup_set_init(&s);
    err e;
    assert_int_equal(backup_set_add(&s, "../evil", 0600, false, "x", 1, &e), -1);
    assert_int_equal(backup_set_add(&s, "a", 0600, false, "x", 1, &e), 0);
    assert_int_equal(backup_set_add(&s, "a", 0600, false, "x", 1, &e), -1);
    backup_set_clear(&s);
}

/* A payload record, appended. */
static void rec(buf *b, char kind, const char *name, uint32_t mode, const char *data, size_t dl)
{
    uint8_t h[15];
    size_t nl = strlen(name);
    h[0] = (uint8_t)kind;
    h[1] = (uint8_t)(nl >> 8);
    h[2] = (uint8_t)nl;
    assert_int_equal(buf_append(b, h, 3, NULL), 0);
    assert_int_equal(buf_append(b, name, nl, NULL), 0);
    for (int i = 0; i < 4; i++)
        h[i] = (uint8_t)(mode >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        h[4 + i] = (uint8_t)((uint64_t)dl >> (56 - 8 * i));
    assert_int_equal(buf_append(b, h, 12, NULL), 0);
    assert_int_equal(buf_append(b, data, dl, NULL), 0);
}

static void test_payload(void **state)
{
    backup_set s;
    err e;
    buf b;
    buf_init(&b);
    rec(&b, 'M', "", 0, "{}", 2);
    rec(&b, 'F', "desk.db", 0600, "abc", 3);
    rec(&b, 'E', "", 0, "", 0);
    assert_int_equal(backup_payload_parse(&s, b.data, b.len, &e), 0);
    assert_int_equal(s.n, 1);
    backup_set_clear(&s);
    /* data after the end record; no end record; cut anywhere */
    assert_int_equal(buf_push(&b, 0, NULL), 0);
    assert_int_equal(backup_payload_parse(&s, b.data, b.len, &e), -1);
    for (size_t cut = 0; cut < b.len - 1; cut++)
        assert_int_equal(backup_payload_parse(&s, b.data, cut, &e), -1);
    buf_reset(&b);
    struct {
        char kind;
        const char *name;
        uint32_t mode;
    } bad[] = {{'F', "../x", 0600}, {'F', "/x", 0600}, {'F', "x", 0100000},
               {'X', "x", 0600},    {'M', "", 0},       {'D', "d/", 0700}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_reset(&b);
        rec(&b, 'M', "", 0, "{}", 2);
        rec(&b, bad[i].kind, bad[i].name, bad[i].mode, "", 0);
        rec(&b, 'E', "", 0, "", 0);
        if (backup_payload_parse(&s, b.data, b.len, &e) == 0)
            fail_msg("bad record %zu accepted", i);
    }
    /* a file before the manifest */
    buf_reset(&b);
    rec(&b, 'F', "x", 0600, "", 0);
    rec(&b, 'M', "", 0, "{}", 2);
    rec(&b, 'E', "", 0, "", 0);
    assert_int_equal(backup_payload_parse(&s, b.data, b.len, &e), -1);
    buf_free(&b);
}

static void test_conf(void **state)
{
    backup_conf c;
    err e;
    const char *t = "# schedule\ninterval = 6h\nkeep = 3\npassphrase_file = /x/pw\n";
    assert_int_equal(backup_conf_parse(&c, t, strlen(t), "/home/d", &e), 0);
    assert_int_equal(c.interval_s, 6 * 3600);
    assert_int_equal(c.keep, 3);
    assert_int_equal(c.alert_after_s, 12 * 3600); /* twice the interval by default */
    assert_string_equal(c.dir, "/home/d/backups");
    assert_string_equal(c.passphrase_file, "/x/pw");
    t = "interval = 120\nalert_after = 1d\ndir = /srv/b\npassphrase_file = p\nkdf = interactive";
    assert_int_equal(backup_conf_parse(&c, t, strlen(t), "/h", &e), 0);
    assert_int_equal(c.alert_after_s, 86400);
    assert_string_equal(c.dir, "/srv/b");
    assert_string_equal(c.kdf, "interactive");
    const char *bad[] = {"interval = 6h\n", /* no passphrase_file */
                         "passphrase_file = p\ninterval = 10\n",
                         "passphrase_file = p\ninterval = -5\n",
                         "passphrase_file = p\ninterval = 5x\n",
                         "passphrase_file = p\nkeep = 0\n",
                         "passphrase_file = p\ndir = relative\n",
                         "passphrase_file = p\nkdf = weak\n",
                         "passphrase_file = p\nintervall = 60\n",
                         "passphrase_file = p\njust words\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (backup_conf_parse(&c, bad[i], strlen(bad[i]), "/h", &e) == 0)
            fail_msg("bad conf %zu accepted", i);
        assert_non_null(strstr(e.msg, "backup.conf"));
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_wrong_passphrase),
        cmocka_unit_test(test_every_byte), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header),     cmocka_unit_test(test_names),
        cmocka_unit_test(test_payload),    cmocka_unit_test(test_conf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
