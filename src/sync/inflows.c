/* inflows.c: money arriving at the desk's own accounts (the operators' keys), synced per
 * chain from confirmed blocks only so compliance can screen the senders: ERC-20 Transfer
 * logs whose recipient (topic 2) is a desk account, found with one eth_getLogs per range
 * filtered on that topic, and native-coin transfers, found in the blocks' full
 * transaction lists (eth_getBlockByNumber with transactions) and kept when their receipt
 * says they succeeded. The chain thread calls it once caught up, a bounded number of blocks
 * per call; during a catch-up a confirmed range's inflows are read with the range
 * (sync_inflows_fetch, on the pipeline's helper thread) and stored in its commit
 * (sync_inflows_put_range). Its reorg handling marks the inflows of rolled-back blocks
 * (never deletes them: they are evidence). With the chain's book on a server (store_book.h)
 * the inflows are the book's: a catch-up range's go in its commit there, the scan once
 * caught up writes through the book (sync_inflows_scan_book), and the book's rewind marks
 * them; the credit repayments recognised from them are posted in desk.db afterwards, read
 * through the book's reader (sync_inflows_credit_book), the ledger staying desk.db's. */
#include "sync/inflows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/log.h"
#include "credit/service.h"

#define INFLOW_BLOCKS_PER_CALL 500 /* blocks looked at per hook call (logs and native) */
#define NATIVE_BATCH 50            /* full blocks per JSON-RPC batch */

/* keccak256("Transfer(address,address,uint256)") */
static const char TRANSFER_TOPIC[] =
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

static json_t *hex_u64(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, v);
    return json_string(s);
}

static json_t *topic_of(const addr *a)
{
    char s[67] = "0x000000000000000000000000";
    hex_encode(s + 26, sizeof s - 26, a->b, ADDR_LEN, false);
    return json_string(s);
}

static bool is_desk(const store_operator *ops, size_t n, const addr *a)
{
    for (size_t i = 0; i < n; i++)
        if (addr_equal(&ops[i].address, a))
            return true;
    return false;
}

typedef struct inflow_vec {
    store_inflow *v;
    size_t n, cap;
} inflow_vec;

static int vec_push(inflow_vec *iv, const store_inflow *f, err *e)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? iv->cap * 2 : 16;
        store_inflow *p = realloc(iv->v, cap * sizeof *p);
        if (!p)
            return err_set(e, ERR_NOMEM, "out of memory collecting inflows");
        iv->v = p;
        iv->cap = cap;
    }
    iv->v[iv->n++] = *f;
    return 0;
}

/* ERC-20 Transfer logs to the desk's accounts in [from, to]; the logs carry no time, so
 * each log's block header is asked for (a handful: only transfers to the desk). */
static int scan_logs(rpc_client *rpc, uint64_t chain_id, const store_operator *ops, size_t nops,
                     uint64_t from, uint64_t to, inflow_vec *out, err *e)
{
    json_t *recips = json_array();
    for (size_t i = 0; recips && i < nops; i++)
        json_array_append_new(recips, topic_of(&ops[i].address));
    json_t *params = json_pack("[{s:o,s:o,s:[s,n,o]}]", "fromBlock", hex_u64(from), "toBlock",
                               hex_u64(to), "topics", TRANSFER_TOPIC, recips);
    if (!params)
        return err_set(e, ERR_NOMEM, "out of memory asking for inflows");
    json_t *res = NULL;
    int called = rpc_call(rpc, "eth_getLogs", params, &res, e); /* params: borrowed */
    json_decref(params);
    if (called < 0)
        return err_prefix(e, "inflows: eth_getLogs %" PRIu64 "..%" PRIu64, from, to);
    int rc = 0;
    if (!json_is_array(res)) {
        rc = err_set(e, ERR_RPC, "inflows: eth_getLogs did not answer a list");
        goto out;
    }
    rpc_block hdr = {0};
    bool have_hdr = false;
    for (size_t i = 0; i < json_array_size(res) && rc == 0; i++) {
        json_t *lg = json_array_get(res, i);
        json_t *topics = json_object_get(lg, "topics");
        store_inflow f = {.chain_id = chain_id, .seen_at = (int64_t)time(NULL)};
        uint8_t t1[32], t2[32], amount[32];
        const char *dhex = json_string_value(json_object_get(lg, "data"));
        err pe;
        /* an ERC-721 Transfer has 4 topics and no data: not money, skipped */
        if (!json_is_array(topics) || json_array_size(topics) != 3 || !dhex ||
            hex_decode_exact(amount, 32, dhex, HEX_REQUIRE_PREFIX, NULL) < 0 ||
            rpc_parse_hash(json_array_get(topics, 1), t1, "topic 1", &pe) < 0 ||
            rpc_parse_hash(json_array_get(topics, 2), t2, "topic 2", &pe) < 0 ||
            rpc_parse_u64(json_object_get(lg, "blockNumber"), &f.block_number, "blockNumber",
                          &pe) < 0 ||
            rpc_parse_hash(json_object_get(lg, "blockHash"), f.block_hash, "blockHash", &pe) < 0 ||
            rpc_parse_hash(json_object_get(lg, "transactionHash"), f.tx_hash, "transactionHash",
                           &pe) < 0 ||
            rpc_parse_u64(json_object_get(lg, "logIndex"), &f.log_index, "logIndex", &pe) < 0 ||
            rpc_parse_addr(json_object_get(lg, "address"), &f.token, "address", &pe) < 0)
            continue;
        if (json_is_true(json_object_get(lg, "removed")))
            continue;
        u256_from_be(&f.amount, amount);
        memcpy(f.sender.b, t1 + 12, ADDR_LEN);
        memcpy(f.recipient.b, t2 + 12, ADDR_LEN);
        if (!is_desk(ops, nops, &f.recipient) || u256_is_zero(&f.amount))
            continue;
        if (!have_hdr || hdr.number != f.block_number) {
            bool found = false;
            if (rpc_eth_get_block(rpc, f.block_number, NULL, &hdr, &found, e) < 0) {
                rc = -1;
                break;
            }
            if (!found || memcmp(hdr.hash, f.block_hash, 32) != 0) {
                rc = err_set(e, ERR_RPC, "inflows: block %" PRIu64 " changed while it was read",
                             f.block_number);
                break;
            }
            have_hdr = true;
        }
        f.block_time = (int64_t)hdr.timestamp;
        rc = vec_push(out, &f, e);
    }
out:
    json_decref(res);
    return rc;
}

/* Native-coin transfers to the desk's accounts in one block (its transfer candidates, read
 * from its full transaction list), kept when their receipt says they succeeded (asked for
 * only for a transfer to the desk: a handful). */
static int native_of_block(rpc_client *rpc, uint64_t chain_id, const store_operator *ops,
                           size_t nops, const rpc_native_blocks *nb, size_t k, inflow_vec *out,
                           uint8_t (*link)[32], err *e)
{
    const rpc_native_block *blk = &nb->blocks[k];
    uint64_t b = blk->hdr.number;
    if (!blk->ok || (link && !blk->parent_ok))
        return err_set(e, ERR_RPC, "inflows: block %" PRIu64 " came back without its "
                                   "transactions", b);
    if (link) {
        memcpy(link[0], blk->hdr.hash, 32);
        memcpy(link[1], blk->hdr.parent_hash, 32);
    }
    for (size_t j = 0; j < blk->n; j++) {
        const rpc_native_tx *x = &nb->txs[blk->first + j];
        if (!is_desk(ops, nops, &x->to) || u256_is_zero(&x->value))
            continue;
        store_inflow f = {.chain_id = chain_id, .block_number = b,
                          .block_time = (int64_t)blk->hdr.timestamp,
                          .seen_at = (int64_t)time(NULL), .log_index = (1ull << 32) | x->index,
                          .sender = x->from, .recipient = x->to, .amount = x->value};
        memcpy(f.block_hash, blk->hdr.hash, 32);
        memcpy(f.tx_hash, x->hash, 32);
        rpc_receipt r;
        bool have = false;
        if (rpc_eth_get_transaction_receipt(rpc, f.tx_hash, &r, &have, e) < 0)
            return -1;
        if (have && r.success && vec_push(out, &f, e) < 0)
            return -1;
    }
    return 0;
}

/* Native-coin transfers to the desk's accounts in [from, to]: each block's transactions,
 * asked for NATIVE_BATCH blocks per JSON-RPC batch (one round trip instead of one per
 * block), read as the answer arrives (rpc_eth_native_blocks). hashes (NULL: not wanted):
 * each block's hash, and its parent's, by block. */
static int scan_native(rpc_client *rpc, uint64_t chain_id, const store_operator *ops, size_t nops,
                       uint64_t from, uint64_t to, inflow_vec *out, uint8_t (*hashes)[2][32],
                       err *e)
{
    for (uint64_t b0 = from; b0 <= to; b0 += NATIVE_BATCH) {
        size_t n = to - b0 + 1 < NATIVE_BATCH ? (size_t)(to - b0 + 1) : NATIVE_BATCH;
        rpc_native_blocks nb;
        if (rpc_eth_native_blocks(rpc, b0, n, &nb, e) < 0)
            return err_prefix(e, "inflows: blocks %" PRIu64 "..%" PRIu64, b0, b0 + n - 1);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = native_of_block(rpc, chain_id, ops, nops, &nb, i, out,
                                 hashes ? hashes[b0 + i - from] : NULL, e);
        rpc_native_blocks_free(&nb);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Inside the transaction that stored inflows (or marked reorged ones): the credit
 * facilities' repayments recognised from them, exactly once (credit_repay_recognise). */
static int credit_hook(store *db, uint64_t chain_id, err *e)
{
    size_t posted = 0, removed = 0;
    if (credit_repay_recognise(db, chain_id, &posted, &removed, e) < 0)
        return err_prefix(e, "credit repayments");
    if (posted || removed)
        LOG_I("inflows", "chain %" PRIu64 ": %zu repayments recognised, %zu undone (reorg)",
              chain_id, posted, removed);
    return 0;
}

int sync_inflows_credit_book(store *rdb, uint64_t chain_id, err *e)
{
    if (store_begin(rdb, e) < 0)
        return -1;
    if (credit_hook(rdb, chain_id, e) < 0 || store_commit(rdb, e) < 0) {
        store_rollback(rdb);
        return -1;
    }
    return 0;
}

int sync_inflows_scan(store *db, rpc_client *rpc, const store_chain *chain, size_t *found,
                      err *e)
{
    *found = 0;
    store_checkpoint cp;
    if (store_checkpoint_get(db, chain->chain_id, &cp, e) < 0)
        return -1;
    if (!cp.synced)
        return 0;
    /* confirmed blocks only */
    uint64_t last = cp.final_block < cp.synced_block ? cp.final_block : cp.synced_block;
    uint64_t next = 0;
    bool have = false;
    if (store_inflow_cursor(db, chain->chain_id, &next, &have, e) < 0)
        return -1;
    if (!have)
        next = chain->start_block;
    if (next > last)
        return 0;
    uint64_t to = last - next + 1 > INFLOW_BLOCKS_PER_CALL ? next + INFLOW_BLOCKS_PER_CALL - 1
                                                             : last;
    store_operator *ops = NULL;
    size_t nops = 0;
    inflow_vec iv = {0};
    int rc = -1;
    if (store_operator_list(db, &ops, &nops, e) < 0)
        goto out;
    /* read everything first; then one short write transaction with the cursor */
    if (nops && (scan_logs(rpc, chain->chain_id, ops, nops, next, to, &iv, e) < 0 ||
                 scan_native(rpc, chain->chain_id, ops, nops, next, to, &iv, NULL, e) < 0))
        goto out;
    if (store_begin(db, e) < 0)
        goto out;
    for (size_t i = 0; i < iv.n; i++) {
        bool ins = false;
        if (store_inflow_put(db, &iv.v[i], &ins, e) < 0)
            goto fail;
        *found += ins;
    }
    if (credit_hook(db, chain->chain_id, e) < 0 ||
        store_inflow_cursor_set(db, chain->chain_id, to + 1, e) < 0 || store_commit(db, e) < 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    store_rollback(db);
out:
    free(iv.v);
    free(ops);
    return rc;
}

int sync_inflows_fetch(rpc_client *rpc, uint64_t chain_id, const store_operator *ops, size_t nops,
                       uint64_t from, uint64_t to, const uint8_t *to_hash, store_inflow **out,
                       size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    inflow_vec iv = {0};
    uint8_t(*hashes)[2][32] = calloc((size_t)(to - from + 1), sizeof *hashes);
    if (!hashes)
        return err_set(e, ERR_NOMEM, "out of memory reading inflows");
    int rc = -1;
    if (scan_native(rpc, chain_id, ops, nops, from, to, &iv, hashes, e) < 0 ||
        scan_logs(rpc, chain_id, ops, nops, from, to, &iv, e) < 0)
        goto out;
    /* One chain: the blocks link, end at to_hash, and every transfer names its block. */
    size_t nb = (size_t)(to - from + 1);
    bool linked = memcmp(hashes[nb - 1][0], to_hash, 32) == 0;
    for (size_t i = 1; i < nb && linked; i++)
        linked = memcmp(hashes[i][1], hashes[i - 1][0], 32) == 0;
    for (size_t i = 0; i < iv.n && linked; i++)
        linked = iv.v[i].block_number >= from && iv.v[i].block_number <= to &&
                 memcmp(iv.v[i].block_hash, hashes[iv.v[i].block_number - from][0], 32) == 0;
    if (!linked) {
        err_set(e, ERR_RPC, "inflows: blocks %" PRIu64 "..%" PRIu64 " changed while they were read",
                from, to);
        goto out;
    }
    *out = iv.v;
    *n = iv.n;
    iv.v = NULL;
    rc = 0;
out:
    free(iv.v);
    free(hashes);
    return rc;
}

int sync_inflows_put_range(store *db, const store_chain *chain, uint64_t from, uint64_t to,
                           const store_inflow *v, size_t n, size_t *found, err *e)
{
    *found = 0;
    uint64_t next = 0;
    bool have = false;
    if (store_inflow_cursor(db, chain->chain_id, &next, &have, e) < 0)
        return -1;
    if ((have ? next : chain->start_block) != from)
        return 0; /* not next in line: the scan after the catch-up reads them */
    for (size_t i = 0; i < n; i++) {
        bool ins = false;
        if (store_inflow_put(db, &v[i], &ins, e) < 0)
            return -1;
        *found += ins;
    }
    if (credit_hook(db, chain->chain_id, e) < 0)
        return -1;
    return store_inflow_cursor_set(db, chain->chain_id, to + 1, e);
}

int sync_inflows_reorg(store *db, uint64_t chain_id, uint64_t first_gone, err *e)
{
    size_t marked = 0;
    if (store_inflow_reorg(db, chain_id, first_gone, &marked, e) < 0 ||
        (marked && credit_hook(db, chain_id, e) < 0))
        return -1;
    if (marked)
        LOG_W("inflows", "chain %" PRIu64 ": reorg: %zu inflows from block %" PRIu64
                         " on marked as reorged (kept as evidence)",
              chain_id, marked, first_gone);
    return 0;
}

int sync_inflows_scan_book(const store_book *book, void *conn, const store_checkpoint *cp,
                           store *db, rpc_client *rpc, const store_chain *chain, size_t *found,
                           err *e)
{
    *found = 0;
    if (!cp->synced)
        return 0;
    uint64_t last = cp->final_block < cp->synced_block ? cp->final_block : cp->synced_block;
    uint64_t next = 0;
    bool have = false;
    if (book->inflow_cursor(conn, chain->chain_id, &next, &have, e) < 0)
        return -1;
    if (!have)
        next = chain->start_block;
    if (next > last)
        return 0;
    uint64_t to =
        last - next + 1 > INFLOW_BLOCKS_PER_CALL ? next + INFLOW_BLOCKS_PER_CALL - 1 : last;
    store_operator *ops = NULL;
    size_t nops = 0;
    inflow_vec iv = {0};
    int rc = -1;
    if (store_operator_list(db, &ops, &nops, e) < 0)
        goto out;
    if (nops && (scan_logs(rpc, chain->chain_id, ops, nops, next, to, &iv, e) < 0 ||
                 scan_native(rpc, chain->chain_id, ops, nops, next, to, &iv, NULL, e) < 0))
        goto out;
    rc = book->inflows_put(conn, chain->chain_id, cp, chain->start_block, next, to, iv.v, iv.n,
                           found, e);
out:
    free(iv.v);
    free(ops);
    return rc;
}

bool sync_inflows_step_book(const store_book *book, void *conn, const store_checkpoint *cp,
                            store *db, rpc_client *rpc, const store_chain *chain)
{
    err e;
    err_clear(&e);
    size_t found = 0;
    if (sync_inflows_scan_book(book, conn, cp, db, rpc, chain, &found, &e) < 0)
        LOG_W("inflows", "%s: %s (retried at the next commit)", chain->name, e.msg);
    else if (found)
        LOG_I("inflows", "%s: %zu transfers into the desk's accounts, in the book", chain->name,
              found);
    return found > 0;
}

bool sync_inflows_step(store *db, rpc_client *rpc, const store_chain *chain)
{
    err e;
    err_clear(&e);
    size_t found = 0;
    if (sync_inflows_scan(db, rpc, chain, &found, &e) < 0)
        LOG_W("inflows", "%s: %s (retried at the next commit)", chain->name, e.msg);
    else if (found)
        LOG_I("inflows", "%s: %zu transfers into the desk's accounts", chain->name, found);
    return found > 0;
}
