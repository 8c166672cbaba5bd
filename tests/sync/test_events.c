/* test_events.c: the sync event decoder on golden vectors encoded by Foundry's cast
 * (tests/vectors/sync_events.json, made by tests/sync/gen_event_vectors.py), then on
 * malformed variants of them: every padding, offset and length check must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/bytes.h"
#include "sync/event_json.h"
#include "sync/events.h"

typedef struct vec {
    store_contract_kind emitter;
    const char *name;
    uint8_t topics[4][32];
    unsigned n_topics;
    uint8_t data[4096];
    size_t len;
    json_t *want;
} vec;

static vec vecs[64];
static size_t n_vecs;
static json_t *root;

static store_contract_kind kind_of(const char *s)
{
    store_contract_kind k;
    err e;
    assert_int_equal(store_contract_kind_parse(&k, s, &e), 0);
    return k;
}

static int load(void **state)
{
    char path[4096];
    const char *r = getenv("FUSION_ROOT");
    snprintf(path, sizeof path, "%s/tests/vectors/sync_events.json", r ? r : ".");
    json_error_t jerr;
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "cannot read %s: %s\n", path, jerr.text);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        vec *x = &vecs[n_vecs++];
        x->emitter = kind_of(json_string_value(json_object_get(v, "emitter")));
        x->name = json_string_value(json_object_get(v, "name"));
        json_t *ts = json_object_get(v, "topics");
        err e;
        for (size_t k = 0; k < json_array_size(ts); k++)
            if (hex_decode_exact(x->topics[k], 32, json_string_value(json_array_get(ts, k)),
                                 HEX_REQUIRE_PREFIX, &e) < 0)
                return -1;
        x->n_topics = (unsigned)json_array_size(ts);
        const char *d = json_string_value(json_object_get(v, "data"));
        if (hex_decode(x->data, sizeof x->data, &x->len, d, strlen(d), HEX_REQUIRE_PREFIX, &e) < 0)
            return -1;
        x->want = json_object_get(v, "json");
    }
    return n_vecs >= 17 ? 0 : -1;
}

static int unload(void **state)
{
    json_decref(root);
    return 0;
}

static void test_golden(void **state)
{
    for (size_t i = 0; i < n_vecs; i++) {
        vec *x = &vecs[i];
        sync_decoded d;
        err e;
        err_clear(&e);
        if (sync_event_decode(x->emitter, (const uint8_t(*)[32])x->topics, x->n_topics, x->data,
                              x->len, &d, &e) < 0)
            fail_msg("vector %zu (%s): %s", i, x->name, e.msg);
        assert_int_not_equal(d.kind, EV_NONE);
        assert_string_equal(d.name, x->name);
        assert_memory_equal(sync_event_topic(d.kind), x->topics[0], 32);
        char *s = sync_event_json(&d);
        assert_non_null(s);
        json_error_t jerr;
        json_t *got = json_loads(s, 0, &jerr);
        if (!got || !json_equal(got, x->want)) {
            char *w = json_dumps(x->want, JSON_COMPACT);
            fail_msg("vector %zu (%s):\n got  %s\n want %s", i, x->name, s, w);
        }
        json_decref(got);
        free(s);
    }
}

/* A stored event of vector x: what the sync writes (its name, topics and data). */
static void stored_of(const vec *x, store_event *ev)
{
    memset(ev, 0, sizeof *ev);
    snprintf(ev->name, sizeof ev->name, "%s", x->name);
    memcpy(ev->topics, x->topics, sizeof ev->topics);
    ev->n_topics = x->n_topics;
    ev->data = x->data;
    ev->data_len = x->len;
}

static void test_decode_on_read(void **state)
{
    /* The store keeps no JSON: a reader decodes a stored event from its name, topics and
     * data without knowing who emitted it, and must get the exact text the sync made with
     * the emitter's kind (the text the old decoded column held). */
    for (size_t i = 0; i < n_vecs; i++) {
        const vec *x = &vecs[i];
        sync_decoded d;
        err e;
        assert_int_equal(sync_event_decode(x->emitter, (const uint8_t(*)[32])x->topics,
                                           x->n_topics, x->data, x->len, &d, &e),
                         0);
        char *want = sync_event_json(&d);
        store_event ev;
        stored_of(x, &ev);
        char *got = sync_event_json_of(&ev);
        assert_non_null(want);
        if (!got || strcmp(got, want) != 0)
            fail_msg("vector %zu (%s):\n got  %s\n want %s", i, x->name, got ? got : "NULL",
                     want);
        free(got);
        free(want);
        /* what was stored without fields reads back without them */
        ev.name[0] = '\0'; /* not decoded when stored (not ours, or malformed) */
        assert_null(sync_event_json_of(&ev));
        snprintf(ev.name, sizeof ev.name, "MessageSent"); /* a name, not this event's */
        assert_null(sync_event_json_of(&ev));
        stored_of(x, &ev);
        ev.topics[0][5] ^= 1; /* a topic0 none of ours (a bridge leg's) */
        assert_null(sync_event_json_of(&ev));
        stored_of(x, &ev);
        ev.n_topics = 0;
        assert_null(sync_event_json_of(&ev));
        if (x->len >= 32) { /* malformed data */
            stored_of(x, &ev);
            ev.data_len = x->len - 1;
            assert_null(sync_event_json_of(&ev));
        }
    }
}

static void test_field_access(void **state)
{
    vec *x = &vecs[0]; /* EscrowCreated, 3 approvers */
    sync_decoded d;
    err e;
    assert_int_equal(sync_event_decode(x->emitter, (const uint8_t(*)[32])x->topics, x->n_topics,
                                       x->data, x->len, &d, &e),
                     0);
    assert_int_equal(d.kind, EV_ESCROW_CREATED);
    const abi_field *ap = sync_field(&d, "approvers");
    assert_non_null(ap);
    assert_int_equal(ap->len, 3);
    addr a;
    sync_field_array_addr(ap, 2, &a);
    assert_int_equal(a.b[0], 0x06);
    assert_int_equal(a.b[19], 0x06);
    assert_null(sync_field(&d, "nope"));
    uint64_t dl;
    assert_true(u256_to_u64(&sync_field(&d, "deadline")->u, &dl));
    assert_true(dl == UINT64_MAX);
}

/* Decodes x with one change applied; expects a refusal. */
static void expect_reject(const vec *x, const uint8_t (*topics)[32], unsigned n_topics,
                          const uint8_t *data, size_t len, const char *why)
{
    sync_decoded d;
    err e;
    err_clear(&e);
    if (sync_event_decode(x->emitter, topics, n_topics, data, len, &d, &e) != -1)
        fail_msg("%s: accepted", why);
    assert_true(e.msg[0] != '\0');
    assert_null(strchr(e.msg, '\n'));
}

static void test_malformed(void **state)
{
    const vec *c = &vecs[0]; /* EscrowCreated */
    uint8_t data[4096];
    uint8_t topics[4][32];

    memcpy(topics, c->topics, sizeof topics);
    expect_reject(c, (const uint8_t(*)[32])topics, 3, c->data, c->len, "missing topic");
    topics[1][0] = 1; /* dirty address padding in an indexed topic */
    expect_reject(c, (const uint8_t(*)[32])topics, 4, c->data, c->len, "topic padding");

    const uint8_t(*t)[32] = (const uint8_t(*)[32])c->topics;
    expect_reject(c, t, 4, c->data, c->len - 32, "truncated array");
    expect_reject(c, t, 4, c->data, 5 * 32, "short head");
    expect_reject(c, t, 4, c->data, c->len - 1, "not whole words");

    memcpy(data, c->data, c->len);
    data[0] = 1; /* token address padding */
    expect_reject(c, t, 4, data, c->len, "address padding");

    memcpy(data, c->data, c->len);
    data[5 * 32 + 23] = 1; /* deadline beyond uint64 */
    expect_reject(c, t, 4, data, c->len, "uint64 overflow");

    memcpy(data, c->data, c->len);
    data[2 * 32 + 31] = 0xff; /* approvers offset far out */
    expect_reject(c, t, 4, data, c->len, "offset out of range");
    memcpy(data, c->data, c->len);
    data[2 * 32 + 31] = 0xc1; /* offset not aligned */
    expect_reject(c, t, 4, data, c->len, "unaligned offset");
    memcpy(data, c->data, c->len);
    data[2 * 32 + 3] = 1; /* offset beyond 64 bits */
    expect_reject(c, t, 4, data, c->len, "huge offset");

    memcpy(data, c->data, c->len);
    data[6 * 32 + 31] = 4; /* 4 approvers claimed, 3 present */
    expect_reject(c, t, 4, data, c->len, "array length past data");
    memcpy(data, c->data, c->len);
    data[6 * 32 + 2] = 1; /* absurd length */
    expect_reject(c, t, 4, data, c->len, "array length huge");
    memcpy(data, c->data, c->len);
    data[7 * 32] = 1; /* approver[0] padding */
    expect_reject(c, t, 4, data, c->len, "array element padding");

    /* Resolved: the bool must be 0 or 1. */
    const vec *r = &vecs[8];
    assert_string_equal(r->name, "Resolved");
    memcpy(data, r->data, r->len);
    data[31] = 2;
    expect_reject(r, (const uint8_t(*)[32])r->topics, r->n_topics, data, r->len, "bool 2");

    /* Disputed: string length past the data, and dirty padding after the string. */
    const vec *ds = &vecs[6];
    assert_string_equal(ds->name, "Disputed");
    memcpy(data, ds->data, ds->len);
    data[32 + 31] = 0xff;
    expect_reject(ds, (const uint8_t(*)[32])ds->topics, ds->n_topics, data, ds->len,
                  "string past data");
    memcpy(data, ds->data, ds->len);
    data[ds->len - 1] = 1;
    expect_reject(ds, (const uint8_t(*)[32])ds->topics, ds->n_topics, data, ds->len,
                  "string padding");
}

static void test_not_ours(void **state)
{
    const vec *c = &vecs[0];
    sync_decoded d;
    err e;
    /* The factory's event from an escrow (or anyone else) is not recognised. */
    assert_int_equal(sync_event_decode(STORE_CONTRACT_ESCROW, (const uint8_t(*)[32])c->topics,
                                       c->n_topics, c->data, c->len, &d, &e),
                     0);
    assert_int_equal(d.kind, EV_NONE);
    assert_int_equal(sync_event_decode(STORE_CONTRACT_TOKEN, (const uint8_t(*)[32])c->topics,
                                       c->n_topics, c->data, c->len, &d, &e),
                     0);
    assert_int_equal(d.kind, EV_NONE);
    uint8_t other[1][32];
    memset(other, 0x42, sizeof other);
    assert_int_equal(
        sync_event_decode(STORE_CONTRACT_FACTORY, (const uint8_t(*)[32])other, 1, NULL, 0, &d, &e),
        0);
    assert_int_equal(d.kind, EV_NONE);
    assert_int_equal(
        sync_event_decode(STORE_CONTRACT_FACTORY, (const uint8_t(*)[32])other, 0, NULL, 0, &d, &e),
        0);
    assert_int_equal(d.kind, EV_NONE);
    /* The escrow's Refunded and the HTLC's Refunded are different events. */
    assert_memory_not_equal(sync_event_topic(EV_REFUNDED), sync_event_topic(EV_HTLC_REFUNDED), 32);
    const uint8_t(*topics)[32];
    assert_int_equal(sync_event_topics_for(STORE_CONTRACT_ESCROW, &topics), 8);
    assert_int_equal(sync_event_topics_for(STORE_CONTRACT_FACTORY, &topics), 2);
    assert_memory_equal(topics[0], sync_event_topic(EV_ESCROW_CREATED), 32);
    assert_memory_equal(topics[1], sync_event_topic(EV_ESCROW_CREATED_V2), 32);
}

/* Version 2's topics are the ones docs/contracts.md lists (computed there from the
 * compiled contracts), and differ from version 1's EscrowCreated. */
static void test_v2_topics(void **state)
{
    static const struct {
        sync_event_kind k;
        const char *hex;
    } want[] = {
        {EV_ESCROW_CREATED_V2, "100c08e33c238be5b790d07f801079312d2375f87a2b05f59bfdb0688ee0a66f"},
        {EV_ARBITER_CHANGED, "8baeb8e9be10c233f000f8215f52a1038a77bc736883d06f9022545ef1ab1a74"},
        {EV_SWEPT, "7b09c29f9106defeccc9ac3b823f3aad0b470d120e5df7aed033b5c43a4bf718"},
        {EV_ESCROW_CREATED, "5f9cc291b513e77494e2d8f629e69391d7cff5fed97632c6edbf015bab716299"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint8_t t[32];
        err e;
        assert_int_equal(hex_decode_exact(t, 32, want[i].hex, 0, &e), 0);
        assert_memory_equal(sync_event_topic(want[i].k), t, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_decode_on_read),
        cmocka_unit_test(test_v2_topics),
        cmocka_unit_test(test_field_access),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_not_ours),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
