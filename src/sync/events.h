/* events.h: the contract events sync understands, and a strict decoder for them.
 * The signatures mirror contracts/src (EscrowFactory, Escrow, EscrowFactoryV2, EscrowV2,
 * HashedTimelock, MockPriceFeed, CollateralVault; see docs/contracts.md). Both factory versions' EscrowCreated
 * are decoded (their topics differ); an escrow's version is the one of its EscrowCreated. Which events are accepted depends on who
 * emitted the log: EscrowCreated only from a configured factory, escrow events only
 * from an escrow that factory created, and so on, so that a foreign contract emitting
 * look-alike events changes nothing. Pure: no I/O; unit-tested without a chain. */
#ifndef FUSION_SYNC_EVENTS_H
#define FUSION_SYNC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "store/store.h"

/* X(id, name, signature, emitter kind) */
#define SYNC_EVENTS(X)                                                                             \
    X(ESCROW_CREATED, "EscrowCreated",                                                             \
      "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64)",   \
      STORE_CONTRACT_FACTORY)                                                                      \
    X(ESCROW_CREATED_V2, "EscrowCreated",                                                          \
      "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64,"    \
      "uint64,bytes32)",                                                                           \
      STORE_CONTRACT_FACTORY)                                                                      \
    X(FUNDED, "Funded", "Funded(address,uint256)", STORE_CONTRACT_ESCROW)                          \
    X(APPROVED, "Approved", "Approved(address,uint256)", STORE_CONTRACT_ESCROW)                    \
    X(RELEASED, "Released", "Released(address,uint256)", STORE_CONTRACT_ESCROW)                    \
    X(REFUNDED, "Refunded", "Refunded(address,uint256,address)", STORE_CONTRACT_ESCROW)            \
    X(DISPUTED, "Disputed", "Disputed(address,string)", STORE_CONTRACT_ESCROW)                     \
    X(RESOLVED, "Resolved", "Resolved(bool,address,uint256)", STORE_CONTRACT_ESCROW)               \
    X(ARBITER_CHANGED, "ArbiterChanged", "ArbiterChanged(address,address)", STORE_CONTRACT_ESCROW) \
    X(SWEPT, "Swept", "Swept(address,address,uint256)", STORE_CONTRACT_ESCROW)                     \
    X(HTLC_LOCKED, "Locked", "Locked(bytes32,address,address,address,uint256,bytes32,uint64)",     \
      STORE_CONTRACT_HTLC)                                                                         \
    X(HTLC_CLAIMED, "Claimed", "Claimed(bytes32,bytes32)", STORE_CONTRACT_HTLC)                    \
    X(HTLC_REFUNDED, "Refunded", "Refunded(bytes32)", STORE_CONTRACT_HTLC)                         \
    X(FEED_ANSWER, "AnswerUpdated", "AnswerUpdated(int256,uint256,uint256)", STORE_CONTRACT_FEED)  \
    X(FEED_ROUND, "NewRound", "NewRound(uint256,address,uint256)", STORE_CONTRACT_FEED)          \
    X(VAULT_DEPOSITED, "Deposited", "Deposited(address,address,uint256,uint256)",                  \
      STORE_CONTRACT_VAULT)                                                                        \
    X(VAULT_WITHDRAWAL_REQUESTED, "WithdrawalRequested",                                           \
      "WithdrawalRequested(uint256,address,address,uint256)", STORE_CONTRACT_VAULT)                \
    X(VAULT_SEIZURE_PROPOSED, "SeizureProposed",                                                   \
      "SeizureProposed(uint256,address,address,uint256,address,address)", STORE_CONTRACT_VAULT)    \
    X(VAULT_REQUEST_APPROVED, "RequestApproved", "RequestApproved(uint256,address,uint256)",       \
      STORE_CONTRACT_VAULT)                                                                        \
    X(VAULT_REQUEST_CANCELLED, "RequestCancelled", "RequestCancelled(uint256)",                    \
      STORE_CONTRACT_VAULT)                                                                        \
    X(VAULT_WITHDRAWN, "Withdrawn", "Withdrawn(uint256,address,address,uint256,uint256)",          \
      STORE_CONTRACT_VAULT)                                                                        \
    X(VAULT_SEIZED, "Seized", "Seized(uint256,address,address,uint256,address,uint256)",           \
      STORE_CONTRACT_VAULT)

typedef enum {
    EV_NONE = 0,
#define SYNC_EV_ENUM_(id, name, sig, kind) EV_##id,
    SYNC_EVENTS(SYNC_EV_ENUM_)
#undef SYNC_EV_ENUM_
        EV_COUNT
} sync_event_kind;

#define SYNC_MAX_FIELDS 11

typedef enum {
    ABI_ADDRESS,
    ABI_UINT,
    ABI_INT256,
    ABI_BOOL,
    ABI_BYTES32,
    ABI_STRING,
    ABI_ADDRESS_ARRAY
} abi_kind;

/* One decoded field. Strings and arrays point into the log's data. */
typedef struct abi_field {
    const char *name;
    abi_kind kind;
    addr a;             /* ABI_ADDRESS */
    u256 u;             /* ABI_UINT, ABI_INT256 (two's complement), ABI_BOOL */
    uint8_t b32[32];    /* ABI_BYTES32 */
    const uint8_t *ptr; /* ABI_STRING bytes; ABI_ADDRESS_ARRAY 32-byte words */
    size_t len;         /* bytes, or array elements */
} abi_field;

typedef struct sync_decoded {
    sync_event_kind kind;
    const char *name;
    size_t n_fields;
    abi_field f[SYNC_MAX_FIELDS];
} sync_decoded;

/* True for either version's EscrowCreated. */
static inline bool sync_is_escrow_created(sync_event_kind k)
{
    return k == EV_ESCROW_CREATED || k == EV_ESCROW_CREATED_V2;
}

/* topic0 of an event (keccak256 of its signature), computed once. */
const uint8_t *sync_event_topic(sync_event_kind k);
const char *sync_event_name(sync_event_kind k);
/* The topic0 values of the events an emitter kind may send; *n receives the count. */
size_t sync_event_topics_for(store_contract_kind emitter, const uint8_t (**topics)[32]);

/* Decodes a log emitted by a contract of kind `emitter`. Returns 0 with d->kind
 * EV_NONE when topic0 is not one of that kind's events, 0 with the fields when it
 * decodes, and -1 (e says what) when it is one of ours but malformed. */
int sync_event_decode(store_contract_kind emitter, const uint8_t topics[][32], unsigned n_topics,
                      const uint8_t *data, size_t len, sync_decoded *d, err *e)
    __attribute__((warn_unused_result));

/* Field by name, or NULL. */
const abi_field *sync_field(const sync_decoded *d, const char *name);
/* Approver i of an ABI_ADDRESS_ARRAY field (checked when decoded). */
void sync_field_array_addr(const abi_field *f, size_t i, addr *out);

/* The decoded fields as a JSON object (malloc'ed text; NULL on out of memory).
 * Addresses lowercase hex, integers as decimal strings (exact), bytes32 as hex,
 * strings as text when valid UTF-8, else as "0x..." hex under name + "_hex". */
char *sync_event_json(const sync_decoded *d);
/* A stored event's fields as that JSON text: sync_event_json_of (sync/event_json.h). */

#endif
