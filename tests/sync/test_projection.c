/* test_projection.c: the escrow state as a pure function of its events, without a
 * database or a chain. Each scenario states the contract's life cycle in events
 * (built here word by word) and the state the contract itself would be in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync/events.h"
#include "sync/projection.h"

#define MAXEV 48

static store_event evs[MAXEV];
static uint8_t datas[MAXEV][512];
static size_t n_evs;

static addr A(int i)
{
    addr a;
    memset(a.b, 0x10 + i, 20);
    return a;
}

static const int FACTORY = 0, ESCROW = 1, PAYER = 2, PAYEE = 3, ARBITER = 4, AP1 = 5, AP2 = 6,
                 AP3 = 7, STRANGER = 8;

static void word_addr(uint8_t w[32], addr a)
{
    memset(w, 0, 12);
    memcpy(w + 12, a.b, 20);
}

static void word_u64(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
}

static store_event *next(sync_event_kind k, int emitter, uint64_t block)
{
    store_event *ev = &evs[n_evs];
    memset(ev, 0, sizeof *ev);
    ev->chain_id = 1;
    ev->block_number = block;
    ev->log_index = (uint32_t)n_evs;
    memset(ev->tx_hash, (int)n_evs + 1, 32);
    ev->address = A(emitter);
    memcpy(ev->topics[0], sync_event_topic(k), 32);
    ev->n_topics = 1;
    ev->data = datas[n_evs];
    n_evs++;
    return ev;
}

static void topic_addr(store_event *ev, addr a)
{
    word_addr(ev->topics[ev->n_topics++], a);
}

static void data_word(store_event *ev, const uint8_t w[32])
{
    memcpy((uint8_t *)datas[ev - evs] + ev->data_len, w, 32);
    ev->data_len += 32;
}

static void data_u64(store_event *ev, uint64_t v)
{
    uint8_t w[32];
    word_u64(w, v);
    data_word(ev, w);
}

static void data_addr(store_event *ev, addr a)
{
    uint8_t w[32];
    word_addr(w, a);
    data_word(ev, w);
}

static void created(uint64_t block, uint64_t amount, unsigned threshold)
{
    store_event *ev = next(EV_ESCROW_CREATED, FACTORY, block);
    topic_addr(ev, A(ESCROW));
    topic_addr(ev, A(PAYER));
    topic_addr(ev, A(PAYEE));
    data_addr(ev, A(0x30)); /* token */
    data_u64(ev, amount);
    data_u64(ev, 6 * 32); /* offset of approvers */
    data_u64(ev, threshold);
    data_addr(ev, A(ARBITER));
    data_u64(ev, 1900000000);
    data_u64(ev, 3);
    data_addr(ev, A(AP1));
    data_addr(ev, A(AP2));
    data_addr(ev, A(AP3));
}

/* Version 2's EscrowCreated: eight head words (termsHash is word 7, not the last). */
static void created_v2(uint64_t block, uint64_t amount, unsigned threshold, uint64_t window)
{
    store_event *ev = next(EV_ESCROW_CREATED_V2, FACTORY, block);
    topic_addr(ev, A(ESCROW));
    topic_addr(ev, A(PAYER));
    topic_addr(ev, A(PAYEE));
    data_addr(ev, A(0x30)); /* token */
    data_u64(ev, amount);
    data_u64(ev, 8 * 32); /* offset of approvers */
    data_u64(ev, threshold);
    data_addr(ev, A(ARBITER));
    data_u64(ev, 1900000000);
    data_u64(ev, window);
    uint8_t h[32];
    memset(h, 0xab, 32);
    data_word(ev, h);
    data_u64(ev, 3);
    data_addr(ev, A(AP1));
    data_addr(ev, A(AP2));
    data_addr(ev, A(AP3));
}

static void two_addr(sync_event_kind k, uint64_t block, int a, int b)
{
    store_event *ev = next(k, ESCROW, block);
    topic_addr(ev, A(a));
    topic_addr(ev, A(b));
}

static void swept(uint64_t block, uint64_t amount)
{
    store_event *ev = next(EV_SWEPT, ESCROW, block);
    topic_addr(ev, A(0x30));
    topic_addr(ev, A(PAYER));
    data_u64(ev, amount);
}

static void who_amount(sync_event_kind k, uint64_t block, int who, uint64_t amount)
{
    store_event *ev = next(k, ESCROW, block);
    topic_addr(ev, A(who));
    data_u64(ev, amount);
}

static void refunded(uint64_t block, int to, uint64_t amount, int by)
{
    store_event *ev = next(EV_REFUNDED, ESCROW, block);
    topic_addr(ev, A(to));
    data_u64(ev, amount);
    topic_addr(ev, A(by));
}

static void disputed(uint64_t block, int by)
{
    store_event *ev = next(EV_DISPUTED, ESCROW, block);
    topic_addr(ev, A(by));
    data_u64(ev, 32);
    data_u64(ev, 0);
}

static void resolved(uint64_t block, bool to_payee, uint64_t amount)
{
    store_event *ev = next(EV_RESOLVED, ESCROW, block);
    data_u64(ev, to_payee);
    topic_addr(ev, A(to_payee ? PAYEE : PAYER));
    data_u64(ev, amount);
}

static store_escrow project(uint64_t final, bool *created_out)
{
    store_escrow x;
    addr esc = A(ESCROW);
    bool c;
    escrow_project(evs, n_evs, 1, &esc, final, &x, &c);
    if (created_out)
        *created_out = c;
    return x;
}

static uint64_t u(const u256 *v)
{
    uint64_t r = 0;
    assert_true(u256_to_u64(v, &r));
    return r;
}

static int reset(void **state)
{
    n_evs = 0;
    return 0;
}

static void test_release_path(void **state)
{
    created(10, 500, 2);
    store_escrow x = project(100, NULL);
    assert_int_equal(x.state, ESCROW_CREATED);
    assert_int_equal(u(&x.amount), 500);
    assert_int_equal(x.n_approvers, 3);
    assert_memory_equal(x.approvers[1].b, A(AP2).b, 20);
    assert_int_equal(x.threshold, 2);
    assert_memory_equal(x.payer.b, A(PAYER).b, 20);
    assert_memory_equal(x.arbiter.b, A(ARBITER).b, 20);
    assert_memory_equal(x.factory.b, A(FACTORY).b, 20);
    assert_memory_equal(x.token.b, A(0x30).b, 20);
    assert_int_equal(x.deadline, 1900000000);
    assert_int_equal(x.created_block, 10);

    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    x = project(100, NULL);
    assert_int_equal(x.state, ESCROW_FUNDED);
    assert_int_equal(u(&x.funded), 500);
    assert_int_equal(x.n_approvals, 1);
    who_amount(EV_APPROVED, 13, AP3, 2);
    who_amount(EV_RELEASED, 14, PAYEE, 500);
    bool c;
    x = project(100, &c);
    assert_true(c);
    assert_int_equal(x.state, ESCROW_RELEASED);
    assert_int_equal(u(&x.released), 500);
    assert_int_equal(u(&x.refunded), 0);
    assert_int_equal(x.n_approvals, 2);
    assert_memory_equal(x.approvals[1].approver.b, A(AP3).b, 20);
    assert_int_equal(x.approvals[1].block_number, 13);
    assert_int_equal(x.n_events, 5);
    assert_int_equal(x.last_event_block, 14);
    assert_false(x.pending);
    assert_string_equal(x.anomaly, "");
}

static void test_pending(void **state)
{
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    store_escrow x = project(11, NULL);
    assert_true(x.pending);
    assert_true(x.approvals[0].pending);
    x = project(12, NULL);
    assert_false(x.pending);
    assert_false(x.approvals[0].pending);
}

static void test_refund_and_dispute(void **state)
{
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    refunded(12, PAYER, 500, ARBITER);
    store_escrow x = project(100, NULL);
    assert_int_equal(x.state, ESCROW_REFUNDED);
    assert_int_equal(u(&x.refunded), 500);
    assert_string_equal(x.anomaly, "");

    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    disputed(12, PAYEE);
    x = project(100, NULL);
    assert_int_equal(x.state, ESCROW_DISPUTED);
    resolved(13, false, 500);
    x = project(100, NULL);
    assert_int_equal(x.state, ESCROW_RESOLVED);
    assert_false(x.resolved_to_payee);
    assert_int_equal(u(&x.refunded), 500);
    assert_int_equal(u(&x.released), 0);
    assert_string_equal(x.anomaly, "");

    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    disputed(12, PAYER);
    resolved(13, true, 500);
    x = project(100, NULL);
    assert_true(x.resolved_to_payee);
    assert_int_equal(u(&x.released), 500);
}

static void test_anomalies(void **state)
{
    /* Approval by a stranger, counted twice, and release without funding: applied as the
     * chain says, and explained. */
    created(10, 500, 2);
    who_amount(EV_APPROVED, 11, STRANGER, 1);
    store_escrow x = project(100, NULL);
    assert_non_null(strstr(x.anomaly, "block 11"));
    assert_int_equal(x.n_approvals, 1);

    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    who_amount(EV_APPROVED, 13, AP1, 2);
    x = project(100, NULL);
    assert_int_equal(x.n_approvals, 1);
    assert_non_null(strstr(x.anomaly, "second approval"));

    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 499);
    x = project(100, NULL);
    assert_non_null(strstr(x.anomaly, "amount"));

    /* No creation event: nothing to show. */
    n_evs = 0;
    who_amount(EV_FUNDED, 11, PAYER, 500);
    bool c = true;
    x = project(100, &c);
    assert_false(c);

    /* Another escrow's creation (same factory) is not this escrow's. */
    n_evs = 0;
    created(10, 500, 2);
    evs[0].topics[1][31] ^= 1;
    x = project(100, &c);
    assert_false(c);
    assert_int_equal(x.n_events, 0);

    /* A log the decoder does not know, from the escrow itself. */
    n_evs = 0;
    created(10, 500, 2);
    store_event *ev = next(EV_FUNDED, ESCROW, 11);
    memset(ev->topics[0], 0x99, 32);
    x = project(100, &c);
    assert_true(c);
    assert_non_null(strstr(x.anomaly, "not an escrow event"));
}

static void test_v2(void **state)
{
    /* Terms, dispute window and hash from version 2's EscrowCreated; a hand-over moves the
     * current arbiter, not the one of the terms; a sweep moves no state. */
    created_v2(10, 500, 2, 7 * 86400);
    swept(10, 3);
    two_addr(EV_ARBITER_CHANGED, 11, ARBITER, STRANGER);
    who_amount(EV_FUNDED, 12, PAYER, 500);
    disputed(13, PAYEE);
    refunded(20, PAYER, 500, PAYER); /* the payer, after the dispute window */
    swept(21, 7);
    store_escrow x = project(100, NULL);
    assert_string_equal(x.anomaly, "");
    assert_false(x.inconsistent);
    assert_int_equal(x.version, 2);
    assert_int_equal(x.dispute_window, 7 * 86400);
    uint8_t h[32];
    memset(h, 0xab, 32);
    assert_memory_equal(x.terms_hash, h, 32);
    assert_int_equal(x.n_approvers, 3);
    assert_memory_equal(x.approvers[2].b, A(AP3).b, 20);
    assert_int_equal(x.deadline, 1900000000);
    assert_memory_equal(x.arbiter.b, A(STRANGER).b, 20);
    assert_memory_equal(x.created_arbiter.b, A(ARBITER).b, 20);
    assert_int_equal(x.state, ESCROW_REFUNDED);
    assert_int_equal(u(&x.refunded), 500);

    /* A version-1 escrow has no way from Disputed to Refunded. */
    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    disputed(12, PAYEE);
    refunded(20, PAYER, 500, PAYER);
    x = project(100, NULL);
    assert_int_equal(x.version, 1);
    assert_true(x.inconsistent);
    assert_int_equal(x.state, ESCROW_DISPUTED);
    assert_non_null(strstr(x.anomaly, "inconsistent: Refunded while disputed"));

    /* Version 2: after the threshold only release ends it; the payer no longer disputes
     * (the payee still may). */
    n_evs = 0;
    created_v2(10, 500, 1, 86400);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    refunded(13, PAYER, 500, ARBITER);
    x = project(100, NULL);
    assert_true(x.inconsistent);
    assert_int_equal(x.state, ESCROW_FUNDED);
    assert_int_equal(u(&x.refunded), 0);
    n_evs = 0;
    created_v2(10, 500, 1, 86400);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    disputed(13, PAYER);
    x = project(100, NULL);
    assert_true(x.inconsistent);
    assert_int_equal(x.state, ESCROW_FUNDED);
    n_evs = 0;
    created_v2(10, 500, 1, 86400);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    disputed(13, PAYEE);
    x = project(100, NULL);
    assert_false(x.inconsistent);
    assert_int_equal(x.state, ESCROW_DISPUTED);
    /* ...and version 1 still lets the arbiter refund after the threshold. */
    n_evs = 0;
    created(10, 500, 1);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    refunded(13, PAYER, 500, ARBITER);
    x = project(100, NULL);
    assert_false(x.inconsistent);
    assert_int_equal(x.state, ESCROW_REFUNDED);

    /* Sweeping while funds are committed does not happen on chain. */
    n_evs = 0;
    created_v2(10, 500, 2, 86400);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    swept(12, 500);
    x = project(100, NULL);
    assert_true(x.inconsistent);
    assert_int_equal(x.state, ESCROW_FUNDED);
}

static void test_refuses_to_invent_a_state(void **state)
{
    /* Version 1 re-entered from inside fund()'s transferFrom logs Disputed before Funded
     * while the chain ends Disputed. The fold must not store "funded" (the old fold did):
     * the escrow is inconsistent, and its state stays the last one the events proved. */
    created(10, 500, 2);
    disputed(11, PAYER);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    store_escrow x = project(100, NULL);
    assert_true(x.inconsistent);
    assert_int_not_equal(x.state, ESCROW_FUNDED);
    assert_int_equal(x.state, ESCROW_CREATED);
    assert_non_null(strstr(x.anomaly, "inconsistent: Disputed while created"));

    /* Funded after Disputed in the same escrow: refused, and later events do not move it. */
    n_evs = 0;
    created(10, 500, 2);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    disputed(12, PAYER);
    who_amount(EV_FUNDED, 13, PAYER, 500);
    resolved(14, true, 500);
    x = project(100, NULL);
    assert_true(x.inconsistent);
    assert_int_equal(x.state, ESCROW_DISPUTED);
    assert_int_equal(u(&x.funded), 500);
    assert_int_equal(u(&x.released), 0);
    assert_non_null(strstr(x.anomaly, "block 13"));

    /* The same fold, continued event by event (the live sync), ends the same. */
    store_escrow y;
    addr esc = A(ESCROW);
    escrow_fold_init(&y, 1, &esc);
    for (size_t i = 0; i < n_evs; i++) {
        sync_decoded d;
        err e;
        assert_int_equal(sync_event_decode(i == 0 ? STORE_CONTRACT_FACTORY : STORE_CONTRACT_ESCROW,
                                           (const uint8_t(*)[32])evs[i].topics, evs[i].n_topics, evs[i].data,
                                           evs[i].data_len, &d, &e),
                         0);
        escrow_fold(&y, &evs[i], &d, 100);
    }
    assert_true(y.inconsistent);
    assert_int_equal(y.state, x.state);
    assert_string_equal(y.anomaly, x.anomaly);

    /* A consistent life cycle is not marked. */
    n_evs = 0;
    created(10, 500, 1);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP1, 1);
    who_amount(EV_RELEASED, 13, PAYEE, 500);
    x = project(100, NULL);
    assert_false(x.inconsistent);
    assert_int_equal(x.state, ESCROW_RELEASED);
}

static void test_fold_order_matters(void **state)
{
    /* The fold is deterministic: the same events give the same state, every time. */
    created(10, 500, 3);
    who_amount(EV_FUNDED, 11, PAYER, 500);
    who_amount(EV_APPROVED, 12, AP2, 1);
    who_amount(EV_APPROVED, 12, AP1, 2);
    store_escrow a = project(100, NULL), b = project(100, NULL);
    assert_int_equal(a.state, b.state);
    assert_int_equal(a.n_approvals, b.n_approvals);
    assert_int_equal(a.n_events, b.n_events);
    assert_memory_equal(a.approvals, b.approvals, sizeof a.approvals[0] * a.n_approvals);
    assert_memory_equal(a.approvals[0].approver.b, A(AP2).b, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_release_path, reset),
        cmocka_unit_test_setup(test_pending, reset),
        cmocka_unit_test_setup(test_refund_and_dispute, reset),
        cmocka_unit_test_setup(test_anomalies, reset),
        cmocka_unit_test_setup(test_fold_order_matters, reset),
        cmocka_unit_test_setup(test_v2, reset),
        cmocka_unit_test_setup(test_refuses_to_invent_a_state, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
