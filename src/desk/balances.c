/* balances.c: the key balances reader (see balances.h). One RPC client per chain over its
 * endpoints by priority; a read that fails marks its balance and names the error, the
 * others still count. */
#include "desk/balances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "eth/abi.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"

static int push(desk_balances *b, size_t *cap, const desk_balance *x, err *e)
{
    if (b->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        desk_balance *p = realloc(b->items, nc * sizeof *p);
        if (!p)
            return err_set(e, ERR_NOMEM, "out of memory reading balances");
        b->items = p;
        *cap = nc;
    }
    b->items[b->n++] = *x;
    return 0;
}

static void note(desk_balance_chain *c, const char *what, const char *msg)
{
    if (!c->error[0])
        snprintf(c->error, sizeof c->error, "%.32s: %.200s", what, msg);
}

static int read_chain(store *s, const store_chain *ch, const addr *accounts, size_t na,
                      const atomic_int *cancel, desk_balances *b, size_t *cap,
                      desk_balance_chain *cs, err *e)
{
    store_endpoint *eps = NULL;
    store_token *tok = NULL;
    size_t n_eps = 0, n_tok = 0;
    rpc_client *rpc = NULL;
    int rc = -1;
    if (store_endpoint_list(s, ch->chain_id, &eps, &n_eps, e) < 0 ||
        store_token_list(s, ch->chain_id, &tok, &n_tok, e) < 0)
        goto out;
    rc = 0;
    if (n_eps == 0) {
        snprintf(cs->error, sizeof cs->error, "no RPC endpoint configured");
        goto out;
    }
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 2;
    ro.timeout_ms = 10000;
    err re;
    err_clear(&re);
    if (rpc_chain_client(&rpc, s, ch->chain_id, &ro, &re) < 0) {
        snprintf(cs->error, sizeof cs->error, "%.250s", re.msg);
        goto out;
    }
    if (cancel)
        rpc_client_set_cancel(rpc, cancel);
    uint8_t sel[4];
    if (abi_selector(sel, "balanceOf(address)", e) < 0) {
        rc = -1;
        goto out;
    }
    for (size_t a = 0; a < na && !(cancel && atomic_load(cancel)); a++) {
        desk_balance x;
        memset(&x, 0, sizeof x);
        x.chain_id = ch->chain_id;
        x.account = accounts[a];
        x.native = true;
        snprintf(x.asset, sizeof x.asset, "%s", ch->native_symbol);
        x.decimals = ch->native_decimals;
        err_clear(&re);
        x.ok = rpc_eth_get_balance(rpc, &accounts[a], NULL, &x.amount, &re) == 0;
        if (x.ok)
            cs->reachable = true;
        else
            note(cs, "eth_getBalance", re.msg);
        if (push(b, cap, &x, e) < 0) {
            rc = -1;
            goto out;
        }
        for (size_t t = 0; t < n_tok; t++) {
            desk_balance y;
            memset(&y, 0, sizeof y);
            y.chain_id = ch->chain_id;
            y.account = accounts[a];
            y.token = tok[t].address;
            snprintf(y.asset, sizeof y.asset, "%s", tok[t].symbol);
            y.decimals = tok[t].decimals;
            uint8_t data[36] = {0};
            memcpy(data, sel, 4);
            memcpy(data + 16, accounts[a].b, 20);
            buf out;
            buf_init(&out);
            err_clear(&re);
            if (rpc_eth_call(rpc, &tok[t].address, data, sizeof data, NULL, &out, &re) == 0 &&
                out.len >= 32) {
                u256_from_be(&y.amount, out.data);
                y.ok = true;
                cs->reachable = true;
            } else {
                note(cs, tok[t].symbol, re.msg[0] ? re.msg : "balanceOf returned no word");
            }
            buf_free(&out);
            if (push(b, cap, &y, e) < 0) {
                rc = -1;
                goto out;
            }
        }
    }
out:
    rpc_client_free(&rpc);
    free(eps);
    free(tok);
    return rc;
}

int desk_balances_fetch(store *s, const addr *accounts, size_t n_accounts,
                        const atomic_int *cancel, desk_balances *out, err *e)
{
    memset(out, 0, sizeof *out);
    store_chain *cs = NULL;
    size_t n = 0, cap = 0;
    if (store_chain_list(s, &cs, &n, e) < 0)
        return -1;
    out->chains = calloc(n ? n : 1, sizeof *out->chains);
    if (!out->chains) {
        free(cs);
        return err_set(e, ERR_NOMEM, "out of memory reading balances");
    }
    for (size_t i = 0; i < n; i++) {
        desk_balance_chain *c = &out->chains[out->n_chains++];
        c->chain_id = cs[i].chain_id;
        snprintf(c->name, sizeof c->name, "%s", cs[i].name);
        if (read_chain(s, &cs[i], accounts, n_accounts, cancel, out, &cap, c, e) < 0) {
            free(cs);
            desk_balances_free(out);
            return -1;
        }
    }
    free(cs);
    return 0;
}

void desk_balances_free(desk_balances *b)
{
    free(b->items);
    free(b->chains);
    memset(b, 0, sizeof *b);
}
