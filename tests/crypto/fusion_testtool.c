/* fusion_testtool.c: a test-only command line over the crypto and base primitives, so
 * tests/crypto/crosscheck.py can compare them with Foundry's cast without going
 * through the fusion binary. `fusion-testtool CMD ARGS...` runs one command;
 * `fusion-testtool -` reads one command per line from stdin (one process for many).
 * Output: one line, the result, or "error: <message>" (exit status 1 in single mode).
 * Hex arguments take an optional 0x; "0x" alone is empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/bytes.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "crypto/eip191.h"
#include "crypto/keccak.h"
#include "crypto/secp.h"

#define MAX_ARGS 4

static int hex_arg(buf *b, const char *s, err *e)
{
    return hex_decode_buf(b, s, strlen(s), HEX_ALLOW_PREFIX, e);
}

static int print_hex(const uint8_t *p, size_t n)
{
    char *s = hex_encode_new(p, n);
    if (!s)
        return -1;
    printf("%s\n", s);
    free(s);
    return 0;
}

static int decimals_arg(unsigned *out, const char *s, err *e)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 255)
        return err_set(e, ERR_USAGE, "bad decimals \"%s\"", s);
    *out = (unsigned)v;
    return 0;
}

/* Runs one command; prints its result line. */
static int run(int argc, char **argv, err *e)
{
    if (argc < 1)
        return err_set(e, ERR_USAGE, "no command");
    const char *cmd = argv[0];
    buf a = {0}, b = {0};
    int rc = -1;
#define NEED(n)                                                                                    \
    do {                                                                                           \
        if (argc != (n) + 1) {                                                                     \
            err_set(e, ERR_USAGE, "%s takes %d argument(s)", cmd, (n));                            \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

    if (strcmp(cmd, "keccak") == 0) {
        NEED(1);
        if (hex_arg(&a, argv[1], e) < 0)
            goto out;
        uint8_t h[32];
        keccak256(h, a.data, a.len);
        rc = print_hex(h, 32);
    } else if (strcmp(cmd, "checksum") == 0) {
        NEED(1);
        addr ad;
        char s[ADDR_STR_MAX];
        if (addr_parse(&ad, argv[1], e) < 0)
            goto out;
        addr_to_checksum(s, &ad);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "address") == 0) {
        NEED(1);
        uint8_t sk[32];
        addr ad;
        char s[ADDR_STR_MAX];
        if (hex_decode_exact(sk, 32, argv[1], HEX_ALLOW_PREFIX, e) < 0)
            goto out;
        if (addr_from_seckey(&ad, sk) < 0) {
            err_set(e, ERR_CRYPTO, "invalid secret key");
            goto out;
        }
        addr_to_checksum(s, &ad);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "sign-hash") == 0) {
        /* r || s || v with v = 27 + recid, as `cast wallet sign --no-hash` prints. */
        NEED(2);
        uint8_t sk[32], h[32], sig[65];
        int recid;
        if (hex_decode_exact(sk, 32, argv[1], HEX_ALLOW_PREFIX, e) < 0 ||
            hex_decode_exact(h, 32, argv[2], HEX_ALLOW_PREFIX, e) < 0)
            goto out;
        if (secp_sign(sig, &recid, h, sk) < 0) {
            err_set(e, ERR_CRYPTO, "signing failed (invalid key?)");
            goto out;
        }
        sig[64] = (uint8_t)(27 + recid);
        rc = print_hex(sig, 65);
    } else if (strcmp(cmd, "sign-msg") == 0) {
        NEED(2);
        uint8_t sk[32], sig[65];
        if (hex_decode_exact(sk, 32, argv[1], HEX_ALLOW_PREFIX, e) < 0 ||
            hex_arg(&a, argv[2], e) < 0)
            goto out;
        if (eip191_sign(sig, a.data, a.len, sk) < 0) {
            err_set(e, ERR_CRYPTO, "signing failed (invalid key?)");
            goto out;
        }
        rc = print_hex(sig, 65);
    } else if (strcmp(cmd, "recover-msg") == 0) {
        NEED(2);
        addr ad;
        char s[ADDR_STR_MAX];
        if (hex_arg(&a, argv[1], e) < 0 || hex_arg(&b, argv[2], e) < 0)
            goto out;
        if (a.len != 65 || eip191_recover(&ad, a.data, b.data, b.len) < 0) {
            err_set(e, ERR_CRYPTO, "malformed signature");
            goto out;
        }
        addr_to_checksum(s, &ad);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "to-dec") == 0) {
        NEED(1);
        u256 v;
        char s[U256_DEC_MAX];
        if (u256_from_quantity(&v, argv[1], e) < 0)
            goto out;
        u256_to_dec(s, &v);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "to-hex") == 0) {
        NEED(1);
        u256 v;
        char s[U256_HEX_MAX];
        if (u256_from_dec(&v, argv[1], e) < 0)
            goto out;
        u256_to_quantity(s, &v);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "format-units") == 0) {
        NEED(2);
        u256 v;
        unsigned d;
        char s[AMOUNT_STR_MAX];
        if (u256_from_dec(&v, argv[1], e) < 0 || decimals_arg(&d, argv[2], e) < 0)
            goto out;
        if (d > AMOUNT_MAX_DECIMALS) {
            err_set(e, ERR_INVALID, "at most %d decimals", AMOUNT_MAX_DECIMALS);
            goto out;
        }
        amount_format(s, &v, d);
        printf("%s\n", s);
        rc = 0;
    } else if (strcmp(cmd, "parse-units") == 0) {
        NEED(2);
        u256 v;
        unsigned d;
        char s[U256_DEC_MAX];
        if (decimals_arg(&d, argv[2], e) < 0 || amount_parse(&v, argv[1], d, e) < 0)
            goto out;
        u256_to_dec(s, &v);
        printf("%s\n", s);
        rc = 0;
    } else {
        err_set(e, ERR_USAGE, "unknown command \"%s\"", cmd);
    }
#undef NEED
out:
    buf_free(&a);
    buf_free(&b);
    return rc;
}

static int run_stdin(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        for (char *t = strtok(line, " \t\r\n"); t && argc <= MAX_ARGS; t = strtok(NULL, " \t\r\n"))
            argv[argc++] = t;
        err e;
        err_clear(&e);
        if (run(argc, argv, &e) < 0)
            printf("error: %s\n", e.msg);
        fflush(stdout);
    }
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "-") == 0)
        return run_stdin();
    err e;
    err_clear(&e);
    if (run(argc - 1, argv + 1, &e) < 0) {
        printf("error: %s\n", e.msg);
        return e.code == ERR_USAGE ? 2 : 1;
    }
    return 0;
}
