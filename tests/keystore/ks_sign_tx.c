/* ks_sign_tx.c: test helper for test_anvil_tx.py. Signs one transaction through the key
 * store (keystore_unlock + keystore_sign_tx, the path the workstation uses) and prints
 * the raw signed bytes as 0x-hex. There is deliberately no such fusion subcommand.
 * usage: ks_sign_tx HOME ADDRESS PASSFILE TYPE(0|2) CHAIN NONCE TO VALUE GAS FEE [TIP] */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "eth/tx.h"
#include "keystore/keystore.h"

static int die(const char *what, const err *e)
{
    fprintf(stderr, "ks_sign_tx: %s: %s\n", what, e ? e->msg : "");
    return 1;
}

static int read_pass(char *out, size_t cap, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(out, (int)cap, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 11 && argc != 12) {
        fprintf(stderr, "usage: ks_sign_tx HOME ADDRESS PASSFILE TYPE CHAIN NONCE TO VALUE GAS "
                        "FEE [TIP]\n");
        return 2;
    }
    err e;
    err_clear(&e);
    addr from;
    if (sodium_init() < 0)
        return die("libsodium", NULL);
    char *pass = sodium_malloc(1024);
    if (!pass || addr_parse(&from, argv[2], &e) < 0 ||
        read_pass(pass, 1024, argv[3]) < 0)
        return die("arguments", &e);
    eth_tx tx;
    tx_init(&tx);
    tx.type = atoi(argv[4]) == 2 ? TX_EIP1559 : TX_LEGACY;
    tx.chain_id = strtoull(argv[5], NULL, 10);
    tx.nonce = strtoull(argv[6], NULL, 10);
    tx.has_to = true;
    tx.gas_limit = strtoull(argv[9], NULL, 10);
    if (addr_parse(&tx.to, argv[7], &e) < 0 || u256_from_dec(&tx.value, argv[8], &e) < 0)
        return die("arguments", &e);
    if (tx.type == TX_EIP1559) {
        if (argc != 12 || u256_from_dec(&tx.max_fee, argv[10], &e) < 0 ||
            u256_from_dec(&tx.max_priority_fee, argv[11], &e) < 0)
            return die("fees", &e);
    } else if (u256_from_dec(&tx.gas_price, argv[10], &e) < 0) {
        return die("gas price", &e);
    }
    keystore *ks = NULL;
    ks_key *k = NULL;
    buf raw;
    buf_init(&raw);
    if (keystore_open(&ks, argv[1], "ks_sign_tx", &e) < 0 ||
        keystore_unlock(ks, &from, pass, &k, &e) < 0 || keystore_sign_tx(k, &tx, &raw, &e) < 0)
        return die("signing", &e);
    sodium_free(pass);
    char *hex = hex_encode_new(raw.data, raw.len);
    puts(hex);
    free(hex);
    buf_free(&raw);
    tx_free(&tx);
    keystore_lock(&k);
    keystore_free(&ks);
    return 0;
}
