/* test_eip712.c: typed-data hashing and signing (crypto/eip712.h) against the EIP-712
 * specification's Mail example (tests/vectors/eip712.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/eip712.h"
#include "vectors.h"

typedef struct mail_vec {
    uint8_t typehash[32], domain[32], hashstruct[32], digest[32], key[32], sig[65];
    addr signer;
} mail_vec;

static void load(mail_vec *m)
{
    vectors v;
    vectors_open(&v, "eip712.txt");
    int seen = 0;
    while (vectors_next(&v) > 0) {
        const char *k = v.field[0];
        if (!strcmp(k, "typehash_mail"))
            vectors_hex(m->typehash, 32, v.field[1]);
        else if (!strcmp(k, "domain"))
            vectors_hex(m->domain, 32, v.field[1]);
        else if (!strcmp(k, "hashstruct"))
            vectors_hex(m->hashstruct, 32, v.field[1]);
        else if (!strcmp(k, "digest"))
            vectors_hex(m->digest, 32, v.field[1]);
        else if (!strcmp(k, "key"))
            vectors_hex(m->key, 32, v.field[1]);
        else if (!strcmp(k, "signature"))
            vectors_hex(m->sig, 65, v.field[1]);
        else if (!strcmp(k, "signer"))
            assert_int_equal(addr_parse(&m->signer, v.field[1], NULL), 0);
        else
            continue;
        seen++;
    }
    vectors_close(&v);
    assert_int_equal(seen, 7);
}

static const char mail_type[] =
    "Mail(Person from,Person to,string contents)Person(string name,address wallet)";

static void person(uint8_t out[32], const char *name, const char *wallet)
{
    addr a;
    assert_int_equal(addr_parse(&a, wallet, NULL), 0);
    eip712_struct s;
    eip712_struct_init(&s, "Person(string name,address wallet)");
    eip712_put_string(&s, name);
    eip712_put_address(&s, &a);
    eip712_struct_final(&s, out);
}

static void mail_hash(uint8_t out[32], const char *contents)
{
    uint8_t from[32], to[32];
    person(from, "Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
    person(to, "Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB");
    eip712_struct s;
    eip712_struct_init(&s, mail_type);
    eip712_put_word(&s, from);
    eip712_put_word(&s, to);
    eip712_put_string(&s, contents);
    eip712_struct_final(&s, out);
}

static void domain_hash(uint8_t out[32], uint64_t chain_id)
{
    addr vc;
    assert_int_equal(addr_parse(&vc, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC", NULL), 0);
    eip712_struct s;
    eip712_struct_init(&s, "EIP712Domain(string name,string version,uint256 chainId,address "
                           "verifyingContract)");
    eip712_put_string(&s, "Ether Mail");
    eip712_put_string(&s, "1");
    eip712_put_uint(&s, chain_id);
    eip712_put_address(&s, &vc);
    eip712_struct_final(&s, out);
}

static void test_mail_hashes(void **state)
{
    (void)state;
    mail_vec m;
    load(&m);
    uint8_t th[32], dom[32], hs[32], dg[32];
    keccak256(th, mail_type, strlen(mail_type));
    assert_memory_equal(th, m.typehash, 32);
    domain_hash(dom, 1);
    assert_memory_equal(dom, m.domain, 32);
    mail_hash(hs, "Hello, Bob!");
    assert_memory_equal(hs, m.hashstruct, 32);
    eip712_digest(dg, dom, hs);
    assert_memory_equal(dg, m.digest, 32);
    /* Any member changed changes the digest (another chain, another text). */
    domain_hash(dom, 2);
    eip712_digest(dg, dom, hs);
    assert_memory_not_equal(dg, m.digest, 32);
    mail_hash(hs, "Hello, Bob");
    assert_memory_not_equal(hs, m.hashstruct, 32);
}

static void test_mail_sign_recover(void **state)
{
    (void)state;
    mail_vec m;
    load(&m);
    uint8_t sig[65];
    assert_int_equal(eip712_sign(sig, m.digest, m.key), 0);
    assert_memory_equal(sig, m.sig, 65);
    addr who;
    assert_int_equal(eip712_recover(&who, sig, m.digest), 0);
    assert_true(addr_equal(&who, &m.signer));
    sig[64] -= 27; /* v as 0/1 */
    assert_int_equal(eip712_recover(&who, sig, m.digest), 0);
    assert_true(addr_equal(&who, &m.signer));
    sig[64] = 29;
    assert_int_equal(eip712_recover(&who, sig, m.digest), -1);
    /* Another digest recovers someone else. */
    uint8_t other[32];
    memcpy(other, m.digest, 32);
    other[0] ^= 1;
    assert_int_equal(eip712_recover(&who, m.sig, other), 0);
    assert_false(addr_equal(&who, &m.signer));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_hashes),
        cmocka_unit_test(test_mail_sign_recover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
