/* test_devnet.c: the pure and storage parts of src/devnet and its store aggregates:
 * anvil's dev keys against the addresses Foundry publishes, the close-price reader's
 * exact 8-decimal conversion (truncation, not rounding) and its refusals, the anvil
 * look-up order, and the xswaps table on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/address.h"
#include "devnet/devnet.h"
#include "store/store.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fusion-devnet-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    unsetenv("FUSION_DATA");
    unsetenv("FUSION_ANVIL");
    return 0;
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* Foundry's documentation lists these accounts for the mnemonic "test ... junk". */
static void test_dev_keys_match_published_accounts(void **state)
{
    (void)state;
    static const char *const want[] = {
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
        "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
        "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
        "0xBcd4042DE499D14e55001CcbB24a551F3b954096",
    };
    for (size_t i = 0; i < DEVNET_DEV_KEYS; i++) {
        uint8_t sk[32];
        addr a;
        char s[ADDR_STR_MAX];
        assert_int_equal(devnet_dev_key(i, sk), 0);
        assert_int_equal(addr_from_seckey(&a, sk), 0);
        addr_to_checksum(s, &a);
        assert_string_equal(s, want[i]);
    }
    uint8_t sk[32];
    assert_int_equal(devnet_dev_key(DEVNET_DEV_KEYS, sk), -1);
}

static void test_chain_ids_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
        for (size_t k = i + 1; k < DEVNET_N_CHAINS; k++) {
            assert_true(devnet_chain(i)->chain_id != devnet_chain(k)->chain_id);
            assert_string_not_equal(devnet_chain(i)->name, devnet_chain(k)->name);
        }
    assert_null(devnet_chain(DEVNET_N_CHAINS));
}

static void test_closes_exact_truncation(void **state)
{
    (void)state;
    write_file("prices/yf_TST-USD_1d.csv",
               "Date,Close,High,Low,Open,Volume\n"
               "2020-01-01,320.8840026855469,1,1,1,1\n"
               "2020-01-02,0.999999999,1,1,1,1\n"
               "2020-01-03,7,1,1,1,1\n",
               0644);
    setenv("FUSION_DATA", tmpdir, 1);
    devnet_closes c;
    err e;
    assert_int_equal(devnet_closes_load(&c, "TST", &e), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.date[0], "2020-01-01");
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, &c.answer[0]);
    assert_string_equal(dec, "32088400268");   /* 320.88400268|55469: cut, not rounded */
    u256_to_dec(dec, &c.answer[1]);
    assert_string_equal(dec, "99999999");      /* 0.99999999|9 would round up to 1 */
    u256_to_dec(dec, &c.answer[2]);
    assert_string_equal(dec, "700000000");
    assert_string_equal(c.date[2], "2020-01-03");
    devnet_closes_free(&c);
}

static void test_closes_refusals(void **state)
{
    (void)state;
    setenv("FUSION_DATA", tmpdir, 1);
    write_file("prices/yf_ZER-USD_1d.csv", "Date,Close\n2020-01-01,0\n", 0644);
    write_file("prices/yf_NEG-USD_1d.csv", "Date,Close\n2020-01-01,-5\n", 0644);
    write_file("prices/yf_HDR-USD_1d.csv", "When,Price\n2020-01-01,5\n", 0644);
    write_file("prices/yf_NON-USD_1d.csv", "Date,Close\n", 0644);
    static const char *const bad[] = {"ZER", "NEG", "HDR", "NON", "MISSING"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        devnet_closes c;
        err e;
        err_clear(&e);
        assert_int_equal(devnet_closes_load(&c, bad[i], &e), -1);
        assert_true(e.msg[0] != '\0');
        assert_int_equal(c.n, 0);
    }
}

static void test_find_anvil_order(void **state)
{
    (void)state;
    char path[600], out[1024];
    err e;
    snprintf(path, sizeof path, "%s/bin/anvil", tmpdir);
    write_file("bin/anvil", "#!/bin/sh\nexit 0\n", 0644);
    setenv("FUSION_ANVIL", path, 1);
    assert_int_equal(devnet_find_anvil(out, sizeof out, &e), -1); /* not executable */
    assert_non_null(strstr(e.msg, "FUSION_ANVIL"));
    assert_int_equal(chmod(path, 0755), 0);
    assert_int_equal(devnet_find_anvil(out, sizeof out, &e), 0);
    assert_string_equal(out, path);
}

static store *open_desk(void)
{
    store *s = NULL;
    err e;
    char path[600];
    snprintf(path, sizeof path, "%s/desk.db", tmpdir);
    if (store_open(&s, path, &e) < 0)
        fail_msg("store_open: %s", e.msg);
    store_chain c;
    memset(&c, 0, sizeof c);
    c.chain_id = 1337;
    snprintf(c.name, sizeof c.name, "devnet-pol");
    snprintf(c.native_symbol, sizeof c.native_symbol, "POL");
    c.native_decimals = 18;
    assert_int_equal(store_chain_add(s, &c, &e), 0);
    return s;
}

static void test_store_xswap_roundtrip(void **state)
{
    (void)state;
    store *s = open_desk();
    err e;
    store_xswap x;
    memset(&x, 0, sizeof x);
    snprintf(x.state, sizeof x.state, "new");
    x.chain_x = 31337;
    x.chain_y = 1337;
    x.amount_x = u256_from_u64(2500000000ULL);
    x.amount_y = u256_from_u64(15);
    memset(x.hashlock, 0xab, 32);
    memset(x.sealed_secret, 0x11, 73);
    x.sealed_secret_len = 73;
    x.t1 = 1000;
    x.margin = 100;
    x.y_from_block = 42;
    int64_t id = 0;
    assert_int_equal(store_xswap_add(s, &x, &id, &e), 0);
    assert_true(id > 0);
    x.id = id;
    snprintf(x.state, sizeof x.state, "x_locked");
    x.has_lock_x = true;
    memset(x.lock_x, 0x22, 32);
    x.lock_x_block = 7;
    snprintf(x.pending_action, sizeof x.pending_action, "lock_y");
    x.pending_chain = 1337;
    memset(x.pending_hash, 0x33, 32);
    memset(x.pending_raw, 0x44, 120);
    x.pending_raw_len = 120;
    x.t2 = 800;
    assert_int_equal(store_xswap_put(s, &x, &e), 0);
    store_xswap got;
    bool found = false;
    assert_int_equal(store_xswap_get(s, id, &got, &found, &e), 0);
    assert_true(found);
    assert_string_equal(got.state, "x_locked");
    assert_true(got.has_lock_x && !got.has_lock_y);
    assert_int_equal(got.sealed_secret_len, 73);
    assert_memory_equal(got.sealed_secret, x.sealed_secret, 73);
    assert_memory_equal(got.lock_x, x.lock_x, 32);
    assert_memory_equal(got.hashlock, x.hashlock, 32);
    assert_string_equal(got.pending_action, "lock_y");
    assert_int_equal(got.pending_raw_len, 120);
    assert_memory_equal(got.pending_raw, x.pending_raw, 120);
    assert_int_equal(got.t2, 800);
    assert_int_equal(got.y_from_block, 42);
    assert_int_equal(u256_cmp(&got.amount_x, &x.amount_x), 0);
    /* the transaction landed: nothing in flight any more */
    got.pending_action[0] = '\0';
    assert_int_equal(store_xswap_put(s, &got, &e), 0);
    assert_int_equal(store_xswap_get(s, id, &got, &found, &e), 0);
    assert_string_equal(got.pending_action, "");
    assert_int_equal(got.pending_raw_len, 0);
    got.id = id + 1;
    assert_int_equal(store_xswap_put(s, &got, &e), -1); /* no such swap */
    assert_int_equal(store_xswap_get(s, id + 1, &got, &found, &e), 0);
    assert_false(found);
    store_xswap *list = NULL;
    size_t n = 0;
    assert_int_equal(store_xswap_list(s, &list, &n, &e), 0);
    assert_int_equal(n, 1);
    free(list);
    /* a hashlock belongs to one swap: the lookup finds another holder, never the swap itself */
    int64_t other = -1;
    assert_int_equal(store_xswap_hashlock_other(s, x.hashlock, id, &other, &e), 0);
    assert_int_equal(other, 0);
    assert_int_equal(store_xswap_hashlock_other(s, x.hashlock, 0, &other, &e), 0);
    assert_int_equal(other, id);
    int64_t id2 = 0;
    assert_int_equal(store_xswap_add(s, &x, &id2, &e), 0);
    assert_int_equal(store_xswap_hashlock_other(s, x.hashlock, id2, &other, &e), 0);
    assert_int_equal(other, id);
    assert_int_equal(store_xswap_hashlock_other(s, x.hashlock, id, &other, &e), 0);
    assert_int_equal(other, id2);
    uint8_t h2[32];
    memset(h2, 0xcd, 32);
    assert_int_equal(store_xswap_hashlock_other(s, h2, 0, &other, &e), 0);
    assert_int_equal(other, 0);
    store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_keys_match_published_accounts),
        cmocka_unit_test(test_chain_ids_distinct),
        cmocka_unit_test_setup_teardown(test_closes_exact_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closes_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_anvil_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_xswap_roundtrip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
