/* bridge_legs.h: the desk's bridge transfers as sync sees them. The chain thread watches
 * each chain's CCTP-style MessageTransmitter and TokenMessenger (the desk's bridge_cctp
 * row), stores their logs as events, and in the same transaction records a transfer's
 * legs: the source's MessageSent (the burn mined: its message), the destination's
 * MessageReceived (delivered). A reorg that takes a leg's block away takes the leg back.
 * Sync never signs: the attestation and the mint are `bridge resume`'s (docs/bridges.md).
 * With the chain's book on a server the legs are the book's rows (sync_bridge_leg_of), and
 * their readers make a transfer of them (sync_bridge_legs_apply). */
#ifndef FUSION_SYNC_BRIDGE_LEGS_H
#define FUSION_SYNC_BRIDGE_LEGS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "store/store_book.h"

/* The bridge contracts of one chain sync watches (n 0: none recorded). */
typedef struct sync_bridge_watch {
    uint64_t chain_id;
    uint32_t domain;
    addr v[2]; /* the transmitter, the messenger */
    size_t n;
} sync_bridge_watch;

int sync_bridge_watch_load(store *db, uint64_t chain_id, sync_bridge_watch *w,
                           err *e) __attribute__((warn_unused_result));
bool sync_bridge_watches(const sync_bridge_watch *w, const addr *a);

/* Inside the caller's transaction: stores lg (ev: the log as an event, its name and decoded
 * fields filled here) and records the transfer leg it is; *inserted as store_event_put. */
int sync_bridge_log(store *db, const sync_bridge_watch *w, store_event *ev, const rpc_log *lg,
                    bool *inserted, err *e) __attribute__((warn_unused_result));

/* With the chain's book on a server (store_book.h): names ev (lg as an event) as
 * sync_bridge_log does and, when lg is a leg (a MessageSent or MessageReceived of the
 * watched transmitter, well formed), fills *leg and sets *is_leg; the book's range commit
 * records it with the event. No transfer of desk.db is read or written. */
void sync_bridge_leg_of(const sync_bridge_watch *w, const rpc_log *lg, store_event *ev,
                        store_bridge_leg *leg, bool *is_leg);

/* The legs l (a book's, its reader's: store_book_bridge_legs) recorded in b as the sync
 * records them in desk.db (a sent leg of b's burn: burned, its message; a received leg of
 * that message on b's destination: delivered); true when b changed. Pure: b is the
 * caller's copy, nothing is stored. */
bool sync_bridge_legs_apply(store_bridge *b, const store_bridge_leg *l, size_t n);

/* On a desk whose book is on a server (db's reads attached: store_reader), b as the legs of
 * the book make it (store_book_bridge_legs, then sync_bridge_legs_apply), what `bridge
 * list` and the UI's Bridges screen show; b unchanged on a desk.db book or for a protocol
 * the sync records no legs of. -1 when the server's read fails (b unchanged). */
int sync_bridge_book_view(store *db, store_bridge *b, err *e) __attribute__((warn_unused_result));

/* The transfer a book's sent leg l makes when desk.db has none of its burn (another
 * workstation's, or a burn this desk never recorded): a CCTP transfer in state sent, burn
 * transaction l's, its domains, burn token, recipient, amount and sender (the message
 * body's messageSender) read from l's message, its destination the chain whose bridge
 * contracts (cctp[0..n)) have the message's destination domain, burning cctp's USDC there
 * (token_dst), id 0; then l recorded in it as sync_bridge_legs_apply records it (burned,
 * its message). false (out unspecified): l is no well-formed burn message of a source
 * chain in cctp, or its destination domain is none of theirs. Pure. */
bool sync_bridge_of_leg(const store_bridge_leg *l, const store_bridge_cctp *cctp, size_t n,
                        store_bridge *out);

/* The desk's bridge transfers as its book makes them: what `bridge list`, the UI's Bridges
 * screen and the risk report's value in flight (risk_service_opts.bridges) read. desk.db's
 * transfers, each as sync_bridge_book_view makes it; on a desk whose book is on a server
 * (store_reader), besides them the server's burns by senders (the desk's accounts:
 * keystore_addresses) that no transfer of desk.db has (by source chain and burn
 * transaction), each as sync_bridge_of_leg makes it with the server's deliveries of it
 * recorded (delivered or in flight), id 0 and a note saying another workstation burned it
 * (seen on the server): not this desk's to resume. *out malloc'ed. -1 when the server
 * cannot be read (its message begins STORE_BOOK_AWAY when it cannot be reached). */
int sync_bridge_book_list(store *db, const addr *senders, size_t n_senders, store_bridge **out,
                          size_t *n, err *e) __attribute__((warn_unused_result));

/* Inside the caller's transaction: the legs of chain_id in blocks >= first_gone go back
 * (a delivered transfer to attested, a burned one to sent with its burn in flight). */
int sync_bridge_reorg(store *db, uint64_t chain_id, uint64_t first_gone,
                      err *e) __attribute__((warn_unused_result));

#endif
