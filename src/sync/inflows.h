/* inflows.h: transfers into the desk's own accounts (ERC-20 Transfer logs and native
 * coin), synced per chain from confirmed blocks for compliance to screen (inflows.c). */
#ifndef FUSION_SYNC_INFLOWS_H
#define FUSION_SYNC_INFLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "store/store_book.h"

/* Scans the next confirmed blocks (at most 500) after the chain's inflow cursor for
 * transfers to the operators' addresses, stores them and moves the cursor, in one
 * transaction after the reads; *found counts the new rows. */
int sync_inflows_scan(store *db, rpc_client *rpc, const store_chain *chain, size_t *found,
                      err *e) __attribute__((warn_unused_result));
/* A pipelined catch-up's share of the scan: the transfers into the operators' addresses
 * `ops` in confirmed blocks [from, to], read (RPC only, any thread) into *out (free()),
 * checked to come from one chain whose block `to` has hash to_hash; an error when the
 * blocks changed while they were read. */
int sync_inflows_fetch(rpc_client *rpc, uint64_t chain_id, const store_operator *ops, size_t nops,
                       uint64_t from, uint64_t to, const uint8_t *to_hash, store_inflow **out,
                       size_t *n, err *e) __attribute__((warn_unused_result));
/* Inside the caller's transaction (the range's commit): stores what sync_inflows_fetch read
 * and moves the cursor past `to`, when the cursor stands at `from`; else does nothing (the
 * scan once caught up reads those blocks). *found counts the new rows. */
int sync_inflows_put_range(store *db, const store_chain *chain, uint64_t from, uint64_t to,
                           const store_inflow *v, size_t n, size_t *found, err *e)
    __attribute__((warn_unused_result));
/* Inside the reorg's transaction: inflows of blocks from first_gone on are marked
 * reorged (kept as evidence) and the cursor moves back to first_gone. */
int sync_inflows_reorg(store *db, uint64_t chain_id, uint64_t first_gone, err *e)
    __attribute__((warn_unused_result));
/* sync_inflows_scan with its errors logged, called by the chain thread once caught up;
 * true when it stored new inflows (then the after-commit hook screens them). */
bool sync_inflows_step(store *db, rpc_client *rpc, const store_chain *chain);
/* The scan with the chain's book on a server (book over conn): the book's cursor, the
 * desk's accounts from db (desk.db), blocks up to the confirmed part of cp (the book's
 * checkpoint as the chain thread last wrote it, checked again by inflows_put), stored in
 * one transaction of the book. The credit repayments are posted from the book's inflows
 * afterwards, in desk.db (sync_inflows_credit_book). */
int sync_inflows_scan_book(const store_book *book, void *conn, const store_checkpoint *cp,
                           store *db, rpc_client *rpc, const store_chain *chain, size_t *found,
                           err *e) __attribute__((warn_unused_result));
/* The credit repayments of chain_id recognised from the book's inflows, in one desk.db
 * transaction of rdb (desk.db with the book's reads attached: store_set_reader):
 * credit_repay_recognise there, the rows naming the book's database and inflow (posted
 * once each, undone when the book marks the inflow reorged). The chain thread calls it
 * after the book's commits that stored inflows or rewound some, once caught up. */
int sync_inflows_credit_book(store *rdb, uint64_t chain_id, err *e)
    __attribute__((warn_unused_result));
/* sync_inflows_scan_book with its errors logged; true when it stored new inflows. */
bool sync_inflows_step_book(const store_book *book, void *conn, const store_checkpoint *cp,
                            store *db, rpc_client *rpc, const store_chain *chain);

#endif
