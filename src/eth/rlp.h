/* rlp.h: Recursive Length Prefix, the byte format of Ethereum transactions.
 * The encoder appends to a buf; the decoder is strict (exactly one canonical
 * encoding is accepted per value) and hands out zero-copy views into the input. */
#ifndef FUSION_ETH_RLP_H
#define FUSION_ETH_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"

/* Lists nested deeper than this are rejected by the decoder. */
#define RLP_MAX_DEPTH 64

/* ---- encoding ---- */

/* A byte string (a single byte below 0x80 is its own encoding). */
int rlp_put_bytes(buf *out, const uint8_t *p, size_t n, err *e) __attribute__((warn_unused_result));
/* Integers: minimal big-endian bytes, zero is the empty string (0x80). */
int rlp_put_u64(buf *out, uint64_t v, err *e) __attribute__((warn_unused_result));
int rlp_put_u256(buf *out, const u256 *v, err *e) __attribute__((warn_unused_result));
/* Appends bytes that are already RLP (an item encoded elsewhere). */
int rlp_put_raw(buf *out, const uint8_t *p, size_t n, err *e) __attribute__((warn_unused_result));
/* A list: rlp_list_begin notes where the list starts (*mark), items are appended,
 * rlp_list_end puts the header in front of them. Lists nest. */
void rlp_list_begin(const buf *out, size_t *mark);
int rlp_list_end(buf *out, size_t mark, err *e) __attribute__((warn_unused_result));

/* ---- decoding ---- */

typedef enum { RLP_BYTES, RLP_LIST } rlp_kind;

/* A decoded item: views into the caller's input, valid as long as it is. */
typedef struct rlp_item {
    rlp_kind kind;
    const uint8_t *payload; /* string contents or the list's concatenated items */
    size_t len;
    const uint8_t *raw; /* the whole encoding, header included */
    size_t raw_len;
} rlp_item;

/* Decodes the one item that spans exactly data[0..len): trailing bytes, truncation
 * and every non-canonical form (anywhere in the tree) are errors, as is nesting
 * deeper than RLP_MAX_DEPTH. */
int rlp_decode(rlp_item *out, const uint8_t *data, size_t len, err *e)
    __attribute__((warn_unused_result));
/* Decodes the (fully validated) item at the start of data; *used is its length. */
int rlp_decode_prefix(rlp_item *out, size_t *used, const uint8_t *data, size_t len, err *e)
    __attribute__((warn_unused_result));

/* Iterates over the items of a list. */
typedef struct rlp_iter {
    const uint8_t *p;
    size_t left;
} rlp_iter;

int rlp_iter_init(rlp_iter *it, const rlp_item *list, err *e) __attribute__((warn_unused_result));
/* 1 with *item set, 0 at the end of the list, -1 on a malformed item. */
int rlp_iter_next(rlp_iter *it, rlp_item *item, err *e) __attribute__((warn_unused_result));
/* Number of items in a list (-1 with e set on malformed input). */
int rlp_list_count(size_t *n, const rlp_item *list, err *e) __attribute__((warn_unused_result));

/* Integers: a byte string without leading zero bytes (zero is empty). */
int rlp_item_u64(uint64_t *out, const rlp_item *item, err *e) __attribute__((warn_unused_result));
int rlp_item_u256(u256 *out, const rlp_item *item, err *e) __attribute__((warn_unused_result));

#endif
