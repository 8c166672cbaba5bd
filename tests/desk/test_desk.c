/* test_desk.c: the pure parts of the desk: roles, the policy table (first-match order,
 * velocity before single-transaction rules, amount bands, require N, default deny, parse
 * errors), the pre-sign summary decoded from signed bytes (sender recovered, arguments,
 * maximum cost computed by hand), revert data in words; and the desk's store rows
 * (operators, local nonces, velocity sums) on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/amount.h"
#include "base/bytes.h"
#include "desk/desk.h"
#include "eth/tx.h"
#include "store/store.h"
#include "risk/feeds.h"

/* ---- roles ---- */

static void test_roles(void **state)
{
    unsigned r = 0;
    err e;
    assert_int_equal(desk_roles_parse(&r, "approver,trader", &e), 0);
    assert_int_equal(r, DESK_ROLE_trader | DESK_ROLE_approver);
    char s[64];
    desk_roles_format(s, sizeof s, r);
    assert_string_equal(s, "trader,approver");
    assert_int_equal(desk_roles_parse(&r, "trader,boss", &e), -1);
    assert_non_null(strstr(e.msg, "boss"));
    assert_int_equal(desk_roles_parse(&r, "", &e), -1);
}

/* ---- policy ---- */

static policy *parse_ok(const char *text)
{
    policy *p = NULL;
    err e;
    int rc = policy_parse(&p, text, strlen(text), &e);
    if (rc != 0)
        fail_msg("policy_parse: %s", e.msg);
    return p;
}

static policy_request req(const char *op, unsigned roles, const char *action, const char *amount,
                          unsigned decimals)
{
    policy_request r;
    memset(&r, 0, sizeof r);
    r.operator_name = op;
    r.roles = roles;
    r.action = action;
    r.chain = "local";
    r.asset_symbol = "TUSD";
    memset(r.asset.b, 0x11, ADDR_LEN);
    r.decimals = decimals;
    err e;
    assert_int_equal(amount_parse(&r.amount, amount, decimals, &e), 0);
    r.threshold = 2;
    return r;
}

static policy_decision decide(const policy *p, const policy_request *r)
{
    policy_decision d;
    err e;
    assert_int_equal(policy_evaluate(p, r, &d, &e), 0);
    return d;
}

static void test_policy_first_match(void **state)
{
    policy *p = parse_ok("# comment\n"
                         "rule who=role:trader action=create -> block\n"        /* line 2 */
                         "rule who=role:trader|role:admin action=create -> allow\n"
                         "rule who=* action=* -> allow\n");
    policy_request r = req("alice", DESK_ROLE_trader, "create", "10", 6);
    policy_decision d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_BLOCK);
    assert_int_equal(d.line, 2);
    r.roles = DESK_ROLE_admin;
    d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_ALLOW);
    assert_int_equal(d.line, 3);
    r.action = "fund";
    r.roles = DESK_ROLE_trader;
    d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_ALLOW);
    assert_int_equal(d.line, 4);
    policy_free(&p);
    assert_null(p);
}

static void test_policy_default_deny(void **state)
{
    policy *p = parse_ok("rule who=op:bob action=approve -> allow\n");
    policy_request r = req("alice", DESK_ROLE_approver, "approve", "1", 6);
    policy_decision d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_BLOCK);
    assert_int_equal(d.line, 0);
    assert_non_null(strstr(d.reason, "no policy rule allows approve by alice"));
    r.operator_name = "bob";
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    policy_free(&p);
}

static void test_policy_bands(void **state)
{
    /* [lo, hi): 100 belongs to the second band, 99.999999 to the first. */
    policy *p = parse_ok("rule amount=..100 -> allow\n"
                         "rule amount=100..1000 -> require 3\n"
                         "rule amount=1000.. -> block\n");
    policy_request r = req("alice", DESK_ROLE_trader, "create", "99.999999", 6);
    assert_int_equal(decide(p, &r).line, 1);
    r = req("alice", DESK_ROLE_trader, "create", "100", 6);
    policy_decision d = decide(p, &r);
    assert_int_equal(d.line, 2);
    assert_int_equal(d.outcome, POLICY_BLOCK); /* threshold 2 < 3 */
    assert_non_null(strstr(d.reason, "requires at least 3"));
    r.threshold = 3;
    d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_REQUIRE);
    assert_int_equal(d.require_n, 3);
    r = req("alice", DESK_ROLE_trader, "create", "1000", 6);
    assert_int_equal(decide(p, &r).line, 3);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    /* The same band in an 18-decimal asset: bounds follow the asset's decimals. */
    r = req("alice", DESK_ROLE_trader, "create", "99.5", 18);
    assert_int_equal(decide(p, &r).line, 1);
    policy_free(&p);
}

static void test_policy_velocity_first(void **state)
{
    /* An allow rule matches, but the velocity line is checked before any rule. */
    policy *p = parse_ok("rule -> allow\n"
                         "velocity who=role:trader asset=TUSD limit=1000\n"
                         "limit who=op:alice asset=native max=5\n");
    policy_request r = req("alice", DESK_ROLE_trader, "create", "400", 6);
    err e;
    assert_int_equal(amount_parse(&r.spent_24h, "600", 6, &e), 0);
    policy_decision d = decide(p, &r); /* 600 + 400 = 1000: at the limit, allowed */
    assert_int_equal(d.outcome, POLICY_ALLOW);
    assert_int_equal(amount_parse(&r.amount, "400.000001", 6, &e), 0);
    d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_BLOCK);
    assert_int_equal(d.line, 2);
    assert_non_null(strstr(d.reason, "velocity"));
    /* Velocity defaults to create: a fund of the same size is not counted. */
    r.action = "fund";
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    /* Single-transaction limit on the native coin (asset=native) for alice only. */
    r = req("alice", DESK_ROLE_trader, "fund", "6", 18);
    memset(r.asset.b, 0, ADDR_LEN);
    r.asset_symbol = "ETH";
    d = decide(p, &r);
    assert_int_equal(d.outcome, POLICY_BLOCK);
    assert_int_equal(d.line, 3);
    r.operator_name = "bob";
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    policy_free(&p);
}

static void test_policy_counterparty_asset(void **state)
{
    policy *p = parse_ok("rule counterparty=0x2222222222222222222222222222222222222222 -> block\n"
                         "rule asset=0x1111111111111111111111111111111111111111 -> allow\n");
    policy_request r = req("alice", DESK_ROLE_trader, "create", "1", 6);
    r.has_counterparty = true;
    memset(r.counterparty.b, 0x22, ADDR_LEN);
    assert_int_equal(decide(p, &r).line, 1);
    memset(r.counterparty.b, 0x33, ADDR_LEN);
    policy_decision d = decide(p, &r);
    assert_int_equal(d.line, 2);
    assert_int_equal(d.outcome, POLICY_ALLOW);
    memset(r.asset.b, 0x44, ADDR_LEN);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    policy_free(&p);
}

/* Per route and per asset: a `limit` with to= applies to bridges to that chain only (a
 * request that is no bridge never matches it); policy_limit_max gives the smallest max. */
static void test_policy_route_limits(void **state)
{
    (void)state;
    policy *p = parse_ok("limit action=bridge_burn asset=TUSD max=1000\n"
                         "limit action=bridge_burn chain=local to=avax asset=TUSD max=100\n"
                         "limit action=bridge_burn to=arb|pol asset=OTHER max=5\n"
                         "rule -> allow\n");
    policy_request r = req("alice", DESK_ROLE_trader, "bridge_burn", "500", 6);
    r.dst_chain = "arb";
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW); /* under the asset's 1000 */
    r.dst_chain = "avax";
    policy_decision d = decide(p, &r); /* over the route's 100 */
    assert_int_equal(d.outcome, POLICY_BLOCK);
    assert_int_equal(d.line, 2);
    u256 max;
    unsigned line = 0;
    bool found = false;
    err e;
    assert_int_equal(policy_limit_max(p, &r, &max, &line, &found, &e), 0);
    assert_true(found);
    assert_int_equal(line, 2);
    uint64_t m = 0;
    assert_true(u256_to_u64(&max, &m));
    assert_int_equal(m, 100000000);
    r.chain = "eth"; /* another source: only the asset's limit */
    assert_int_equal(policy_limit_max(p, &r, &max, &line, &found, &e), 0);
    assert_int_equal(line, 1);
    r.dst_chain = NULL; /* not a bridge: a to= line never matches */
    r.chain = "local";
    assert_int_equal(policy_limit_max(p, &r, &max, &line, &found, &e), 0);
    assert_int_equal(line, 1);
    r.asset_symbol = "OTHER";
    memset(r.asset.b, 0x99, ADDR_LEN);
    assert_int_equal(policy_limit_max(p, &r, &max, &line, &found, &e), 0);
    assert_false(found);
    policy_free(&p);
}

static void test_policy_parse_errors(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"rule who=* -> maybe\n", "line 1"},
        {"\nrule who=*\n", "line 2"},
        {"allow everything\n", "expected rule"},
        {"velocity who=*\n", "limit=AMOUNT"},
        {"rule amount=5 -> allow\n", "LO..HI"},
        {"rule colour=red -> allow\n", "unknown key"},
        {"rule who=a who=b -> allow\n", "twice"},
        {"rule -> require 0\n", "require N"},
        /* a key given twice is refused, never "the last one wins" (fuzz_policy found the
         * first value leaked and the second used) */
        {"velocity who=* limit=5 limit=500000\n", "limit given twice"},
        {"limit who=* max=1 max=2\n", "max given twice"},
        {"rule amount=1..2 amount=..1000000 -> allow\n", "amount given twice"},
        {"rule who=*\0 -> allow\n", "NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        policy *p = NULL;
        err e;
        size_t len = strlen(bad[i].text);
        if (strstr(bad[i].want, "NUL"))
            len += 1 + strlen(bad[i].text + len + 1);
        assert_int_equal(policy_parse(&p, bad[i].text, len, &e), -1);
        assert_null(p);
        if (!strstr(e.msg, bad[i].want))
            fail_msg("%s: got \"%s\"", bad[i].text, e.msg);
    }
}

/* The shipped default policy parses and says what docs/escrow.md says it does. */
static void test_policy_default_file(void **state)
{
    const char *root = getenv("FUSION_ROOT");
    if (!root)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/data/policy/default.policy", root);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    policy *p = NULL;
    err e;
    assert_int_equal(policy_parse(&p, text, n, &e), 0);
    policy_request r = req("alice", DESK_ROLE_trader, "approve", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    r.roles = DESK_ROLE_approver;
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("alice", DESK_ROLE_trader, "create", "1000000", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    r.threshold = 3;
    assert_int_equal(decide(p, &r).outcome, POLICY_REQUIRE);
    r = req("bob", DESK_ROLE_approver, "resolve", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    /* version 2: the payer sweeps, the arbiter (compliance) hands over; nobody else */
    r = req("alice", DESK_ROLE_trader, "sweep", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("bob", DESK_ROLE_approver, "sweep", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    r = req("dave", DESK_ROLE_compliance, "transferArbiter", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("alice", DESK_ROLE_trader, "transferArbiter", "1", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    /* swaps: traders lock and approve the HTLC; anyone on the desk claims or refunds */
    r = req("alice", DESK_ROLE_trader, "swap_lock", "2500", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("alice", DESK_ROLE_trader, "swap_allowance", "2500", 6);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("bob", DESK_ROLE_approver, "swap_lock", "1", 18);
    assert_int_equal(decide(p, &r).outcome, POLICY_BLOCK);
    r = req("bob", DESK_ROLE_approver, "swap_claim", "1", 18);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    r = req("dave", DESK_ROLE_compliance, "swap_refund", "1", 18);
    assert_int_equal(decide(p, &r).outcome, POLICY_ALLOW);
    policy_free(&p);
}

/* ---- test-only feeds ---- */

static void test_mock_feed_recognised(void **state)
{
    const uint8_t art[] = {0x60, 0x80, 0x00, 0x00, 0x00, 0x01, 0x56};
    uint8_t code[sizeof art];
    memcpy(code, art, sizeof art);
    assert_true(risk_code_matches_artifact(code, sizeof code, art, sizeof art));
    code[3] = 0x12; /* an immutable filled in at deployment */
    assert_true(risk_code_matches_artifact(code, sizeof code, art, sizeof art));
    code[0] = 0x61; /* any other byte: another contract */
    assert_false(risk_code_matches_artifact(code, sizeof code, art, sizeof art));
    assert_false(risk_code_matches_artifact(art, sizeof art - 1, art, sizeof art));
    assert_false(risk_code_matches_artifact(NULL, 0, NULL, 0));
    assert_true(risk_chain_is_devnet(31337));
    assert_true(risk_chain_is_devnet(43112)); /* the Avalanche stand-in */
    assert_false(risk_chain_is_devnet(43114)); /* Avalanche C-Chain mainnet */
    assert_false(risk_chain_is_devnet(1));
    assert_false(risk_chain_is_devnet(4242));
}

/* ---- terms hash ---- */

static addr small_addr(unsigned v)
{
    addr a;
    memset(&a, 0, sizeof a);
    a.b[18] = (uint8_t)(v >> 8);
    a.b[19] = (uint8_t)v;
    return a;
}

/* The worked example of docs/contracts.md "Terms hash" (pinned on the contract side by
 * test_termsHash_documentedVector, and reproducible with cast abi-encode / cast keccak). */
static void test_terms_hash_documented_vector(void **state)
{
    desk_terms t;
    memset(&t, 0, sizeof t);
    t.chain_id = 31337;
    t.escrow = small_addr(0xe5);
    t.payer = small_addr(0xa1);
    t.payee = small_addr(0xb0);
    err e;
    assert_int_equal(u256_from_dec(&t.amount, "10000000000000000000", &e), 0);
    t.approvers[0] = small_addr(1);
    t.approvers[1] = small_addr(2);
    t.approvers[2] = small_addr(3);
    t.n_approvers = 3;
    t.threshold = 2;
    t.deadline = 1700604800;
    t.arbiter = small_addr(0xab);
    t.dispute_window = 604800;
    uint8_t h[32], want[32];
    assert_int_equal(desk_terms_hash(h, &t, &e), 0);
    assert_int_equal(hex_decode_exact(want, 32,
                                      "0xfdd7f6bbbf62303bcdde0632f1ec768da3374727e43ec9657f5439987"
                                      "93066e2",
                                      HEX_REQUIRE_PREFIX, &e),
                     0);
    assert_memory_equal(h, want, 32);
    /* every term is in it: the order of the approvers too */
    t.approvers[0] = small_addr(2);
    t.approvers[1] = small_addr(1);
    assert_int_equal(desk_terms_hash(h, &t, &e), 0);
    assert_memory_not_equal(h, want, 32);
}

/* ---- summary ---- */

/* anvil's first dev key and its address (published with Foundry). */
static const char *const SK0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char *const ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

static abi_json *escrow_abi(void)
{
    const char *root = getenv("FUSION_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/contracts/Escrow.json", root ? root : ".");
    abi_json *j = NULL;
    err e;
    if (abi_json_load(&j, path, &e) < 0)
        fail_msg("%s", e.msg);
    return j;
}

static void test_summary_from_signed_bytes(void **state)
{
    abi_json *abi = escrow_abi();
    const abi_fn *fn = abi_json_function(abi, "dispute");
    assert_non_null(fn);
    abi_value *args = abi_value_new(ABI_TUPLE);
    err e;
    assert_int_equal(abi_value_push(args, abi_value_new_string("goods late"), &e), 0);
    eth_tx tx;
    tx_init(&tx);
    tx.type = TX_EIP1559;
    tx.chain_id = 31337;
    tx.nonce = 7;
    tx.gas_limit = 100000;
    tx.max_fee = u256_from_u64(2000000000);          /* 2 gwei */
    tx.max_priority_fee = u256_from_u64(1000000000); /* 1 gwei */
    tx.has_to = true;
    memset(tx.to.b, 0xab, ADDR_LEN);
    assert_int_equal(amount_parse(&tx.value, "1.5", 18, &e), 0);
    assert_int_equal(abi_calldata(&tx.data, fn, args, &e), 0);
    abi_value_free(&args);
    uint8_t sk[32];
    assert_int_equal(hex_decode_exact(sk, 32, SK0, 0, &e), 0);
    assert_int_equal(tx_sign(&tx, sk, &e), 0);
    buf raw;
    buf_init(&raw);
    assert_int_equal(tx_encode_raw(&raw, &tx, &e), 0);
    const abi_json *abis[] = {abi};
    desk_asset usdc;
    memset(&usdc, 0, sizeof usdc);
    snprintf(usdc.symbol, sizeof usdc.symbol, "TUSD");
    usdc.decimals = 6;
    desk_summary_ctx c = {"local", 31337, "ETH", 18, abis, 1, &usdc, true,
                          u256_from_u64(1250500000), NULL, NULL, "Alice 0xA11CE", "Bob 0xB0B"};
    json_t *j = NULL;
    buf text;
    buf_init(&text);
    assert_int_equal(desk_summary_render(&j, &text, raw.data, raw.len, &c, &e), 0);
    assert_string_equal(json_string_value(json_object_get(j, "from")), ADDR0);
    assert_string_equal(json_string_value(json_object_get(j, "function")), "dispute(string)");
    assert_int_equal(json_integer_value(json_object_get(j, "nonce")), 7);
    /* 100000 gas * 2 gwei = 0.0002 ETH of fees at most, plus the 1.5 ETH value. */
    assert_string_equal(json_string_value(json_object_get(j, "max_total_cost")), "1.5002");
    assert_string_equal(json_string_value(json_object_get(j, "token_amount")), "1250.5");
    assert_true(json_is_null(json_object_get(j, "usd")));
    const char *t = (const char *)text.data;
    assert_non_null(strstr(t, "goods late"));
    assert_non_null(strstr(t, "USD n/a"));
    assert_non_null(strstr(t, "max fee      2 gwei per gas (priority 1 gwei)"));
    /* whose money goes to whom, named */
    assert_non_null(strstr(t, "payer        Alice 0xA11CE\n"));
    assert_non_null(strstr(t, "payee        Bob 0xB0B\n"));
    assert_string_equal(json_string_value(json_object_get(j, "payee")), "Bob 0xB0B");
    json_decref(j);
    /* With a price: 1250.5 TUSD at 0.9999 USD = 1250.37 (cents, truncated). */
    usdc.has_usd = true;
    usdc.usd_price_e8 = u256_from_u64(99990000);
    buf_reset(&text);
    assert_int_equal(desk_summary_render(&j, &text, raw.data, raw.len, &c, &e), 0);
    assert_string_equal(json_string_value(json_object_get(j, "usd")), "1250.37");
    json_decref(j);
    /* The wrong chain is refused; so is a flipped byte (it would recover another sender
     * or not decode at all, never silently show the same summary). */
    c.chain_id = 1;
    assert_int_equal(desk_summary_render(&j, &text, raw.data, raw.len, &c, &e), -1);
    c.chain_id = 31337;
    raw.data[raw.len - 40] ^= 1;
    if (desk_summary_render(&j, &text, raw.data, raw.len, &c, &e) == 0) {
        assert_string_not_equal(json_string_value(json_object_get(j, "from")), ADDR0);
        json_decref(j);
    }
    buf_free(&text);
    buf_free(&raw);
    tx_free(&tx);
    abi_json_free(&abi);
}

/* A swap's claim carries the secret: the summary (printed, kept in the audit log) names
 * the argument but shows none of its bytes, in the text or the JSON. */
static void test_summary_hides_secret(void **state)
{
    const char *root = getenv("FUSION_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/contracts/HashedTimelock.json", root ? root : ".");
    abi_json *abi = NULL;
    err e;
    if (abi_json_load(&abi, path, &e) < 0)
        fail_msg("%s", e.msg);
    const abi_fn *fn = abi_json_function(abi, "claim");
    assert_non_null(fn);
    uint8_t id[32], pre[32];
    memset(id, 0x11, sizeof id);
    for (size_t i = 0; i < sizeof pre; i++)
        pre[i] = (uint8_t)(0xc0 + i);
    abi_value *args = abi_value_new(ABI_TUPLE);
    assert_int_equal(abi_value_push(args, abi_value_new_fixed_bytes(id, 32), &e), 0);
    assert_int_equal(abi_value_push(args, abi_value_new_fixed_bytes(pre, 32), &e), 0);
    eth_tx tx;
    tx_init(&tx);
    tx.type = TX_EIP1559;
    tx.chain_id = 1337;
    tx.gas_limit = 90000;
    tx.max_fee = u256_from_u64(2000000000);
    tx.max_priority_fee = u256_from_u64(1000000000);
    tx.has_to = true;
    memset(tx.to.b, 0xcd, ADDR_LEN);
    assert_int_equal(abi_calldata(&tx.data, fn, args, &e), 0);
    abi_value_free(&args);
    uint8_t sk[32];
    assert_int_equal(hex_decode_exact(sk, 32, SK0, 0, &e), 0);
    assert_int_equal(tx_sign(&tx, sk, &e), 0);
    buf raw;
    buf_init(&raw);
    assert_int_equal(tx_encode_raw(&raw, &tx, &e), 0);
    const abi_json *abis[] = {abi};
    char hex[65], HEX[65];
    for (size_t i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", pre[i]);
        snprintf(HEX + 2 * i, 3, "%02X", pre[i]);
    }
    for (int hide = 0; hide < 2; hide++) {
        desk_summary_ctx c = {"devnet-pol", 1337, "POL", 18, abis, 1, NULL, false,
                              u256_from_u64(0), "swap 1, step claim_y",
                              hide ? "preimage" : NULL, NULL, NULL};
        json_t *j = NULL;
        buf text;
        buf_init(&text);
        assert_int_equal(desk_summary_render(&j, &text, raw.data, raw.len, &c, &e), 0);
        assert_int_equal(buf_push(&text, 0, &e), 0);
        char *js = json_dumps(j, JSON_COMPACT);
        const char *t = (const char *)text.data;
        assert_non_null(strstr(t, "claim(bytes32,bytes32)"));
        /* shown without the hiding, hidden with it: the test can tell them apart */
        bool shown = strstr(t, hex) || strstr(t, HEX) || strstr(js, hex) || strstr(js, HEX);
        assert_int_equal(shown, !hide);
        if (hide) {
            assert_non_null(strstr(t, "(secret, not shown)"));
            assert_non_null(strstr(js, "\"preimage\":\"(secret)\""));
        }
        free(js);
        json_decref(j);
        buf_free(&text);
    }
    buf_free(&raw);
    tx_free(&tx);
    abi_json_free(&abi);
}

static void test_revert_words(void **state)
{
    abi_json *abi = escrow_abi();
    const abi_json *abis[] = {abi};
    /* ThresholdNotReached(uint256 approvals, uint256 threshold) with (1, 2), as anvil sends
     * it; the selector is keccak of the signature, computed by cast independently. */
    const char *msg = "execution reverted: custom error 0xccf7c5f5: "
                      "0x"
                      "ccf7c5f5"
                      "0000000000000000000000000000000000000000000000000000000000000001"
                      "0000000000000000000000000000000000000000000000000000000000000002";
    buf data;
    buf_init(&data);
    assert_true(desk_revert_from_message(&data, msg));
    assert_int_equal(data.len, 68);
    char *words = NULL;
    err e;
    assert_int_equal(desk_revert_words(&words, data.data, data.len, abis, 1, &e), 0);
    assert_non_null(strstr(words, "ThresholdNotReached"));
    assert_non_null(strstr(words, "1"));
    assert_non_null(strstr(words, "2"));
    free(words);
    buf_reset(&data);
    assert_false(desk_revert_from_message(&data, "insufficient funds for gas"));
    buf_free(&data);
    abi_json_free(&abi);
}

/* ---- store rows ---- */

/* A desk kept open for many actions (the UI's session) sees, at desk_refresh, what a new
 * desk_open would: a policy edited into something unreadable is refused, a mended one is
 * read again, the operator's new roles are taken, a removed operator is refused. */
static void test_desk_refresh(void **state)
{
    const char *root = getenv("FUSION_ROOT");
    if (!root)
        skip();
    char data[1024];
    snprintf(data, sizeof data, "%s/data", root);
    setenv("FUSION_DATA", data, 1);
    char dir[] = "/tmp/fusion-desk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], pol[128];
    snprintf(path, sizeof path, "%s/desk.db", dir);
    snprintf(pol, sizeof pol, "%s/policy.conf", dir);
    store *s = NULL;
    err e;
    assert_int_equal(store_open(&s, path, &e), 0);
    store_operator op;
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "alice");
    snprintf(op.roles, sizeof op.roles, "trader");
    memset(op.address.b, 0x0a, ADDR_LEN);
    assert_int_equal(store_operator_add(s, &op, &e), 0);
    desk *d = NULL;
    if (desk_open(&d, dir, "alice", &e) < 0)
        fail_msg("desk_open: %s", e.msg);
    assert_int_equal(desk_refresh(d, &e), 0);
    /* the policy file as an editor may leave it: refused at the next action */
    FILE *f = fopen(pol, "w");
    assert_non_null(f);
    fputs("rule this is not a policy\n", f);
    fclose(f);
    assert_int_equal(desk_refresh(d, &e), -1);
    assert_non_null(strstr(e.msg, "policy.conf"));
    assert_int_equal(desk_refresh(d, &e), -1); /* still, not the text read before */
    f = fopen(pol, "w");
    assert_non_null(f);
    fputs("rule who=role:approver action=approve -> allow\n", f);
    fclose(f);
    if (desk_refresh(d, &e) < 0)
        fail_msg("desk_refresh after the policy was mended: %s", e.msg);
    /* the operator's roles as the desk database holds them now */
    bool found = false;
    assert_int_equal(store_operator_set_roles(s, "alice", "approver", &found, &e), 0);
    assert_true(found);
    assert_int_equal(desk_refresh(d, &e), 0);
    assert_string_equal(desk_operator(d)->roles, "approver");
    desk_reset(d);
    assert_int_equal(store_operator_remove(s, "alice", &found, &e), 0);
    assert_int_equal(desk_refresh(d, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "alice"));
    desk_free(&d);
    store_close(&s);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_store_desk(void **state)
{
    char dir[] = "/tmp/fusion-desk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/desk.db", dir);
    store *s = NULL;
    err e;
    assert_int_equal(store_open(&s, path, &e), 0);
    store_operator op;
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "alice");
    snprintf(op.roles, sizeof op.roles, "trader");
    memset(op.address.b, 0x0a, ADDR_LEN);
    assert_int_equal(store_operator_add(s, &op, &e), 0);
    assert_int_equal(store_operator_add(s, &op, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    store_operator got;
    bool found = false;
    assert_int_equal(store_operator_get(s, "alice", &got, &found, &e), 0);
    assert_true(found);
    assert_memory_equal(got.address.b, op.address.b, ADDR_LEN);
    assert_int_equal(store_operator_get(s, "nobody", &got, &found, &e), 0);
    assert_false(found);

    store_chain ch;
    memset(&ch, 0, sizeof ch);
    ch.chain_id = 31337;
    snprintf(ch.name, sizeof ch.name, "local");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
    ch.native_decimals = 18;
    assert_int_equal(store_chain_add(s, &ch, &e), 0);
    /* Local nonces: only what is in flight counts. */
    uint64_t next = 0;
    bool any = true;
    assert_int_equal(store_outbound_next_nonce(s, 31337, &op.address, &next, &any, &e), 0);
    assert_false(any);
    uint8_t raw[3] = {1, 2, 3};
    int64_t ids[3];
    const outbound_state st[3] = {OUTBOUND_CONFIRMED, OUTBOUND_SENT, OUTBOUND_FAILED};
    for (int i = 0; i < 3; i++) {
        store_outbound o;
        memset(&o, 0, sizeof o);
        o.chain_id = 31337;
        o.from = op.address;
        o.nonce = 4 + (uint64_t)i;
        memset(o.hash, i + 1, 32);
        o.raw = raw;
        o.raw_len = sizeof raw;
        o.state = st[i];
        snprintf(o.action, sizeof o.action, "create");
        assert_int_equal(store_outbound_add(s, &o, &ids[i], &e), 0);
        store_desk_tx dt;
        memset(&dt, 0, sizeof dt);
        dt.outbound_id = ids[i];
        snprintf(dt.operator_name, sizeof dt.operator_name, "alice");
        dt.amount = u256_from_u64(100 + (uint64_t)i);
        assert_int_equal(store_desk_tx_put(s, &dt, &e), 0);
    }
    assert_int_equal(store_outbound_next_nonce(s, 31337, &op.address, &next, &any, &e), 0);
    assert_true(any);
    assert_int_equal(next, 6); /* nonce 5 is sent; 6 failed and does not hold a nonce */
    /* Velocity: the confirmed (100) and the sent (101); not the failed one. */
    u256 sum;
    addr zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(store_desk_spent(s, "alice", 31337, &zero, "create", 0, 0, &sum, &e), 0);
    uint64_t v = 0;
    assert_true(u256_to_u64(&sum, &v));
    assert_int_equal(v, 201);
    /* Re-checking the sent one (nonce 5) leaves it out: it is not counted twice. */
    assert_int_equal(store_desk_spent(s, "alice", 31337, &zero, "create", 0, ids[1], &sum, &e), 0);
    assert_true(u256_to_u64(&sum, &v));
    assert_int_equal(v, 100);
    int64_t *fl = NULL;
    size_t n = 0;
    assert_int_equal(store_outbound_in_flight(s, 0, &fl, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fl[0], ids[1]);
    free(fl);
    uint8_t *rawp = NULL;
    store_outbound o;
    assert_int_equal(store_outbound_get(s, ids[1], &o, &rawp, &found, &e), 0);
    assert_true(found);
    assert_int_equal(o.raw_len, 3);
    assert_memory_equal(rawp, raw, 3);
    free(rawp);
    store_close(&s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_policy_first_match),
        cmocka_unit_test(test_policy_default_deny),
        cmocka_unit_test(test_policy_bands),
        cmocka_unit_test(test_policy_velocity_first),
        cmocka_unit_test(test_policy_counterparty_asset),
        cmocka_unit_test(test_policy_route_limits),
        cmocka_unit_test(test_policy_parse_errors),
        cmocka_unit_test(test_policy_default_file),
        cmocka_unit_test(test_terms_hash_documented_vector),
        cmocka_unit_test(test_mock_feed_recognised),
        cmocka_unit_test(test_summary_from_signed_bytes),
        cmocka_unit_test(test_summary_hides_secret),
        cmocka_unit_test(test_revert_words),
        cmocka_unit_test(test_store_desk),
        cmocka_unit_test(test_desk_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
