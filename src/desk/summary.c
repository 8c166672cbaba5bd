/* summary.c: the pre-sign summary, rendered from the signed raw bytes and nothing else
 * (plus names for what they contain): the transaction is decoded strictly for the
 * chain, its sender recovered from the signature, its calldata decoded with the ABIs.
 * Also revert data in plain words. Pure: no I/O. */
#include "desk/desk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "eth/tx.h"

static int say(buf *t, err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int say(buf *t, err *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set(e, ERR_INTERNAL, "formatting the summary");
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (buf_append(t, line, len, e) < 0 || buf_push(t, '\0', e) < 0)
        return -1;
    t->len--; /* keep the text NUL-terminated without counting the NUL */
    return 0;
}

static void units(char out[AMOUNT_STR_MAX], const u256 *v, unsigned decimals)
{
    amount_format(out, v, decimals);
}

/* "12.34" USD (cents, truncated) of amount base units at price_e8 per whole unit. */
static bool usd_of(char *out, size_t cap, const u256 *amount, const desk_asset *a)
{
    if (!a || !a->has_usd)
        return false;
    u256 v, ten = u256_from_u64(10), q, rem, scale = u256_from_u64(1);
    if (u256_mul(&v, amount, &a->usd_price_e8) < 0)
        return false;
    for (unsigned i = 0; i < a->decimals + 6; i++) /* to cents: e8 -> e2 */
        if (u256_mul(&scale, &scale, &ten) < 0)
            return false;
    if (u256_divmod(&q, &rem, &v, &scale) < 0)
        return false;
    char s[AMOUNT_STR_MAX];
    amount_format(s, &q, 2);
    snprintf(out, cap, "%s", s);
    return true;
}

int desk_summary_render(json_t **out, buf *text, const uint8_t *raw, size_t len,
                        const desk_summary_ctx *c, err *e)
{
    *out = NULL;
    eth_tx tx;
    tx_init(&tx);
    abi_value *args = NULL;
    json_t *o = NULL;
    buf argtxt;
    buf_init(&argtxt);
    int rc = -1;
    addr from;
    uint8_t hash[32];
    if (tx_decode_raw_for_chain(&tx, raw, len, c->chain_id, e) < 0 ||
        tx_recover_sender(&from, &tx, e) < 0 || tx_hash(hash, &tx, e) < 0)
        goto done;
    const abi_fn *fn = NULL;
    if (tx.data.len >= 4) {
        for (size_t i = 0; i < c->n_abis && !fn; i++) {
            for (size_t k = 0; k < abi_json_count(c->abis[i]); k++) {
                const abi_fn *f = abi_json_at(c->abis[i], k);
                if (f->kind == ABI_FN_FUNCTION && memcmp(f->selector, tx.data.data, 4) == 0) {
                    fn = f;
                    break;
                }
            }
        }
        if (fn && abi_calldata_decode(&args, fn, tx.data.data, tx.data.len, e) < 0)
            goto done;
    }
    char s_from[ADDR_STR_MAX], s_to[ADDR_STR_MAX], s_hash[67];
    addr_to_checksum(s_from, &from);
    if (tx.has_to)
        addr_to_checksum(s_to, &tx.to);
    else
        snprintf(s_to, sizeof s_to, "(contract creation)");
    hex_encode(s_hash, sizeof s_hash, hash, 32, true);
    o = json_object();
    if (!o)
        goto nomem;
    json_object_set_new(o, "chain", json_string(c->chain_name ? c->chain_name : ""));
    json_object_set_new(o, "chain_id", json_integer((json_int_t)tx.chain_id));
    json_object_set_new(o, "type", json_string(tx.type == TX_EIP1559 ? "eip1559" : "legacy"));
    json_object_set_new(o, "from", json_string(s_from));
    json_object_set_new(o, "to", json_string(s_to));
    json_object_set_new(o, "nonce", json_integer((json_int_t)tx.nonce));
    json_object_set_new(o, "hash", json_string(s_hash));
    if (say(text, e, "chain        %s (id %llu), %s transaction\n",
            c->chain_name ? c->chain_name : "?", (unsigned long long)tx.chain_id,
            tx.type == TX_EIP1559 ? "EIP-1559" : "legacy") < 0 ||
        say(text, e, "from         %s (recovered from the signature)\n", s_from) < 0 ||
        say(text, e, "to           %s\n", s_to) < 0)
        goto done;
    if (fn) {
        if (say(text, e, "function     %s\n", fn->signature) < 0)
            goto done;
        json_object_set_new(o, "function", json_string(fn->signature));
        json_t *ja = json_object();
        for (size_t i = 0; i < args->n_items; i++) {
            const char *nm =
                fn->inputs->names && fn->inputs->names[i] ? fn->inputs->names[i] : "arg";
            buf_reset(&argtxt);
            bool secret = c->secret_arg && strcmp(nm, c->secret_arg) == 0;
            if (secret ? buf_append(&argtxt, "(secret, not shown)", 20, e) < 0
                       : abi_value_format(&argtxt, args->items[i], e) < 0)
                goto done;
            char when[40] = "";
            uint64_t ts = 0;
            if (strcmp(nm, "deadline") == 0 && args->items[i]->kind == ABI_UINT &&
                u256_to_u64(&args->items[i]->num, &ts) && ts < (1ull << 40)) {
                time_t t = (time_t)ts;
                struct tm tm;
                if (gmtime_r(&t, &tm))
                    strftime(when, sizeof when, " (%Y-%m-%dT%H:%M:%SZ)", &tm);
            }
            if (say(text, e, "  %-10s %s%s\n", nm, (const char *)argtxt.data, when) < 0)
                goto done;
            json_object_set_new(ja, nm,
                                secret ? json_string("(secret)") : abi_value_to_json(args->items[i]));
        }
        json_object_set_new(o, "arguments", ja);
    } else if (tx.data.len) {
        if (say(text, e, "data         %zu bytes, function not in the desk's ABIs\n", tx.data.len) <
            0)
            goto done;
    }
    char v[AMOUNT_STR_MAX], v2[AMOUNT_STR_MAX], usd[96];
    units(v, &tx.value, c->native_decimals);
    json_object_set_new(o, "value", json_string(v));
    if (say(text, e, "value        %s %s\n", v, c->native_symbol) < 0)
        goto done;
    /* The token amount: from the calldata when it carries one, else the context. */
    bool has_amt = false;
    u256 amt = u256_from_u64(0);
    const char *amt_label = "amount";
    if (fn && args && strcmp(fn->name, "createEscrow") == 0 && args->n_items >= 3) {
        amt = args->items[2]->num;
        has_amt = true;
        amt_label = "amount";
    } else if (fn && args && strcmp(fn->name, "approve") == 0 && args->n_items == 2) {
        amt = args->items[1]->num;
        has_amt = true;
        amt_label = "allowance";
    } else if (c->has_context_amount) {
        amt = c->context_amount;
        has_amt = true;
        amt_label = "amount";
    }
    if (has_amt && c->asset) {
        units(v, &amt, c->asset->decimals);
        bool has_usd = usd_of(usd, sizeof usd, &amt, c->asset);
        if (say(text, e, "%-12s %s %s (USD %s)\n", amt_label, v, c->asset->symbol,
                has_usd ? usd : "n/a") < 0)
            goto done;
        json_object_set_new(o, "token_amount", json_string(v));
        json_object_set_new(o, "token_symbol", json_string(c->asset->symbol));
        json_object_set_new(o, "usd", has_usd ? json_string(usd) : json_null());
    }
    /* Fees and the most it can cost: gas_limit * max fee + value. */
    const u256 *per_gas = tx.type == TX_EIP1559 ? &tx.max_fee : &tx.gas_price;
    u256 gl = u256_from_u64(tx.gas_limit), maxcost, total;
    if (u256_mul(&maxcost, &gl, per_gas) < 0 || u256_add(&total, &maxcost, &tx.value) < 0) {
        err_set(e, ERR_OVERFLOW, "the transaction's maximum cost overflows 256 bits");
        goto done;
    }
    units(v, per_gas, 9);
    json_object_set_new(o, "gas_limit", json_integer((json_int_t)tx.gas_limit));
    json_object_set_new(o, "max_fee_gwei", json_string(v));
    if (say(text, e, "gas limit    %llu\n", (unsigned long long)tx.gas_limit) < 0)
        goto done;
    if (tx.type == TX_EIP1559) {
        units(v2, &tx.max_priority_fee, 9);
        json_object_set_new(o, "max_priority_fee_gwei", json_string(v2));
        if (say(text, e, "max fee      %s gwei per gas (priority %s gwei)\n", v, v2) < 0)
            goto done;
    } else if (say(text, e, "gas price    %s gwei\n", v) < 0) {
        goto done;
    }
    units(v, &total, c->native_decimals);
    units(v2, &maxcost, c->native_decimals);
    json_object_set_new(o, "max_total_cost", json_string(v));
    if (say(text, e, "max cost     %s %s (fees at most %s + value)\n", v, c->native_symbol, v2) <
            0 ||
        say(text, e, "nonce        %llu\n", (unsigned long long)tx.nonce) < 0 ||
        say(text, e, "tx hash      %s\n", s_hash) < 0)
        goto done;
    if (c->note && say(text, e, "note         %s\n", c->note) < 0)
        goto done;
    if (c->payer) {
        json_object_set_new(o, "payer", json_string(c->payer));
        if (say(text, e, "payer        %s\n", c->payer) < 0)
            goto done;
    }
    if (c->payee) {
        json_object_set_new(o, "payee", json_string(c->payee));
        if (say(text, e, "payee        %s\n", c->payee) < 0)
            goto done;
    }
    *out = o;
    o = NULL;
    rc = 0;
    goto done;
nomem:
    err_set(e, ERR_NOMEM, "out of memory");
done:
    json_decref(o);
    abi_value_free(&args);
    buf_free(&argtxt);
    tx_free(&tx);
    return rc;
}

int desk_revert_words(char **msg, const uint8_t *data, size_t len, const abi_json *const *abis,
                      size_t n_abis, err *e)
{
    const abi_json *use = n_abis ? abis[0] : NULL;
    if (len >= 4)
        for (size_t i = 0; i < n_abis; i++)
            if (abi_json_error_by_selector(abis[i], data)) {
                use = abis[i];
                break;
            }
    return abi_revert_decode(msg, data, len, use, e);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool desk_revert_from_message(buf *out, const char *m)
{
    /* The longest run of 0x-prefixed hex with at least a selector. */
    const char *best = NULL;
    size_t best_n = 0;
    for (const char *p = m; p && *p; p++) {
        if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
            continue;
        size_t n = 0;
        while (hexval(p[2 + n]) >= 0)
            n++;
        if (n >= 8 && n % 2 == 0 && n > best_n) {
            best = p + 2;
            best_n = n;
        }
    }
    if (!best)
        return false;
    err e;
    for (size_t i = 0; i < best_n; i += 2)
        if (buf_push(out, (uint8_t)(hexval(best[i]) * 16 + hexval(best[i + 1])), &e) < 0)
            return false;
    return true;
}
