/* test_keccak.c: Keccak-256 (crypto/keccak.h) against the Keccak team's known answers
 * and Ethereum constants (tests/vectors/keccak256.txt), one-shot and streamed in
 * every split, so block-boundary bookkeeping in the sponge is exercised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "vectors.h"

typedef struct kat {
    uint8_t *msg;
    size_t len;
    uint8_t md[32];
    unsigned line;
} kat;

static kat *kats;
static size_t n_kats;

static int load(void **state)
{
    vectors v;
    vectors_open(&v, "keccak256.txt");
    while (vectors_next(&v) > 0) {
        assert_int_equal(v.nfields, 3);
        kats = realloc(kats, (n_kats + 1) * sizeof *kats);
        kat *k = &kats[n_kats++];
        k->len = strtoull(v.field[0], NULL, 10);
        k->msg = malloc(k->len ? k->len : 1);
        k->line = v.lineno;
        if (v.field[1][0] == '*') {
            uint8_t byte;
            vectors_hex(&byte, 1, v.field[1] + 1);
            memset(k->msg, byte, k->len);
        } else if (strcmp(v.field[1], "-") == 0) {
            assert_int_equal(k->len, 0);
        } else {
            assert_int_equal(vectors_hex(k->msg, k->len, v.field[1]), k->len);
        }
        assert_int_equal(vectors_hex(k->md, 32, v.field[2]), 32);
    }
    vectors_close(&v);
    return 0;
}

static int unload(void **state)
{
    for (size_t i = 0; i < n_kats; i++)
        free(kats[i].msg);
    free(kats);
    return 0;
}

static void assert_digest(const uint8_t got[32], const kat *k, const char *how)
{
    if (memcmp(got, k->md, 32) != 0) {
        char g[65], w[65];
        for (int i = 0; i < 32; i++) {
            snprintf(g + 2 * i, 3, "%02x", got[i]);
            snprintf(w + 2 * i, 3, "%02x", k->md[i]);
        }
        fail_msg("%s, %zu-byte message (golden line %u): got %s want %s", how, k->len, k->line, g,
                 w);
    }
}

static void test_known_answers(void **state)
{
    /* Includes 0, 1, 33, 134, 135, 136 (exactly one block), 137, 200, 319 bytes and 1e6. */
    assert_true(n_kats >= 15);
    bool saw136 = false, saw_long = false;
    for (size_t i = 0; i < n_kats; i++) {
        uint8_t out[32];
        keccak256(out, kats[i].msg, kats[i].len);
        assert_digest(out, &kats[i], "one-shot");
        saw136 |= kats[i].len == 136;
        saw_long |= kats[i].len > 136;
    }
    assert_true(saw136 && saw_long);
}

static void test_streamed_every_split(void **state)
{
    /* Every two-part split, and byte-at-a-time, of every message up to 400 bytes. */
    for (size_t i = 0; i < n_kats; i++) {
        const kat *k = &kats[i];
        if (k->len > 400)
            continue;
        uint8_t out[32];
        for (size_t cut = 0; cut <= k->len; cut++) {
            keccak256_ctx c;
            keccak256_init(&c);
            keccak256_update(&c, k->msg, cut);
            keccak256_update(&c, k->msg + cut, k->len - cut);
            keccak256_final(&c, out);
            assert_digest(out, k, "two-part");
        }
        keccak256_ctx c;
        keccak256_init(&c);
        for (size_t j = 0; j < k->len; j++)
            keccak256_update(&c, k->msg + j, 1);
        keccak256_final(&c, out);
        assert_digest(out, k, "byte-at-a-time");
    }
}

static void test_streamed_uneven_chunks(void **state)
{
    /* The million-byte message in chunks of prime sizes that straddle the 136-byte rate. */
    static const size_t chunks[] = {1, 7, 135, 136, 137, 271, 4099};
    for (size_t i = 0; i < n_kats; i++) {
        const kat *k = &kats[i];
        if (k->len < 1000)
            continue;
        for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
            keccak256_ctx ctx;
            keccak256_init(&ctx);
            for (size_t off = 0; off < k->len; off += chunks[c]) {
                size_t n = k->len - off < chunks[c] ? k->len - off : chunks[c];
                keccak256_update(&ctx, k->msg + off, n);
            }
            uint8_t out[32];
            keccak256_final(&ctx, out);
            assert_digest(out, k, "chunked");
        }
    }
}

static void test_final_wipes_and_null_empty(void **state)
{
    keccak256_ctx c;
    keccak256_init(&c);
    keccak256_update(&c, "secret material", 15);
    uint8_t out[32];
    keccak256_final(&c, out);
    static const keccak256_ctx zero;
    assert_memory_equal(&c, &zero, sizeof c);
    /* An empty update with a NULL pointer is the empty message. */
    const kat *empty = NULL;
    for (size_t i = 0; i < n_kats; i++)
        if (kats[i].len == 0)
            empty = &kats[i];
    assert_non_null(empty);
    keccak256(out, NULL, 0);
    assert_digest(out, empty, "NULL, 0");
    keccak256_init(&c);
    keccak256_update(&c, NULL, 0);
    keccak256_final(&c, out);
    assert_digest(out, empty, "update(NULL, 0)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_streamed_every_split),
        cmocka_unit_test(test_streamed_uneven_chunks),
        cmocka_unit_test(test_final_wipes_and_null_empty),
    };
    return cmocka_run_group_tests_name("keccak", tests, load, unload);
}
