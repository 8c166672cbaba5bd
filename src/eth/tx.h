/* tx.h: Ethereum transactions, legacy with EIP-155 replay protection and EIP-1559
 * (type 2): build, sign, hash, raw encoding, and decoding a raw signed transaction
 * back into its fields with sender recovery, so that what is shown before signing
 * is proven to be what was signed. Chain ids are 64-bit everywhere. */
#ifndef FUSION_ETH_TX_H
#define FUSION_ETH_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

typedef enum { TX_LEGACY = 0, TX_EIP1559 = 2 } tx_type;

/* A transaction. `data` is owned (tx_free releases it). Access lists are always
 * empty in what we build; a decoded transaction with a non-empty one is rejected. */
typedef struct eth_tx {
    tx_type type;
    uint64_t chain_id;
    uint64_t nonce;
    u256 gas_price;       /* legacy only */
    u256 max_priority_fee; /* type 2 only */
    u256 max_fee;          /* type 2 only */
    uint64_t gas_limit;
    bool has_to;           /* false: contract creation */
    addr to;
    u256 value;
    buf data;
    /* signature, set by tx_sign / tx_decode_raw */
    bool is_signed;
    uint8_t y_parity;      /* 0/1; legacy v = 35 + 2*chain_id + y_parity */
    u256 r, s;
} eth_tx;

void tx_init(eth_tx *tx);
void tx_free(eth_tx *tx);

/* Appends the bytes that are hashed for signing: the EIP-155 list for legacy,
 * 0x02 || rlp(fields) for type 2. */
int tx_signing_payload(buf *out, const eth_tx *tx, err *e) __attribute__((warn_unused_result));
/* The digest that is signed (EIP-155 for legacy, keccak(0x02 || rlp(...)) for type 2). */
int tx_signing_hash(uint8_t out[32], const eth_tx *tx, err *e) __attribute__((warn_unused_result));
/* Signs with sk, filling the signature fields. */
int tx_sign(eth_tx *tx, const uint8_t sk[32], err *e) __attribute__((warn_unused_result));
/* Appends the raw signed encoding (what eth_sendRawTransaction takes) to out. */
int tx_encode_raw(buf *out, const eth_tx *tx, err *e) __attribute__((warn_unused_result));
/* keccak256 of the raw encoding: the transaction hash. */
int tx_hash(uint8_t out[32], const eth_tx *tx, err *e) __attribute__((warn_unused_result));
/* Strict decoding of raw signed bytes; pre-EIP-155 legacy (v = 27/28) is rejected,
 * as are high-S signatures, unknown types, non-empty access lists, non-canonical
 * RLP and trailing bytes. tx is overwritten (not freed first); on failure it is
 * left empty. */
int tx_decode_raw(eth_tx *tx, const uint8_t *raw, size_t len, err *e)
    __attribute__((warn_unused_result));
/* tx_decode_raw, and the transaction must be for chain_id (legacy: its v). */
int tx_decode_raw_for_chain(eth_tx *tx, const uint8_t *raw, size_t len, uint64_t chain_id, err *e)
    __attribute__((warn_unused_result));
/* Recovers the sender of a signed transaction. */
int tx_recover_sender(addr *from, const eth_tx *tx, err *e) __attribute__((warn_unused_result));

#endif
