/* abi.h: the Solidity contract ABI: type strings, a value tree, strict encoding
 * and decoding (head/tail with offsets), function selectors, event topics and log
 * decoding, revert data in plain words, and interfaces loaded from JSON ABIs
 * (solc / Foundry artifacts). Decoders treat their input as hostile: offsets,
 * lengths, padding and ranges are all checked; nothing is read out of bounds. */
#ifndef FUSION_ETH_ABI_H
#define FUSION_ETH_ABI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

#define ABI_MAX_DEPTH 32                /* nesting of tuples and arrays in a type */
#define ABI_MAX_STATIC_SIZE (16u << 20) /* largest head of one type, bytes */

typedef enum {
    ABI_UINT, /* uintN, N = 8..256 step 8 */
    ABI_INT,  /* intN, two's complement */
    ABI_ADDRESS,
    ABI_BOOL,
    ABI_FIXED_BYTES, /* bytesN, N = 1..32 */
    ABI_BYTES,
    ABI_STRING,
    ABI_ARRAY,      /* T[k] */
    ABI_DYN_ARRAY,  /* T[] */
    ABI_TUPLE,      /* (T1,...,Tn) */
    ABI_TOPIC_HASH, /* values only: an indexed event field of a dynamic or compound
                     * type; the log holds only keccak of it, so it can be compared
                     * (abi_topic_of) but never decoded */
} abi_kind;

/* ---- types ---- */

/* A parsed type. Owns elem, fields and names. */
typedef struct abi_type {
    abi_kind kind;
    unsigned size;         /* uintN/intN: N bits; bytesN: N bytes */
    size_t length;         /* T[k]: k */
    struct abi_type *elem; /* arrays */
    size_t n_fields;       /* tuples */
    struct abi_type **fields;
    char **names;     /* tuple component names (entries may be NULL) */
    bool dynamic;     /* per the spec: bytes, string, T[], and what holds them */
    size_t head_size; /* bytes in the head of an enclosing tuple */
} abi_type;

/* Parses "uint256", "(address,uint256[])[2]", "tuple(uint a, string b)"... "uint"
 * and "int" mean uint256/int256. Components may carry names. */
int abi_type_parse(abi_type **out, const char *s, err *e) __attribute__((warn_unused_result));
void abi_type_free(abi_type **p);
/* Canonical form ("(uint256,string)[]"), malloc'd; NULL on out of memory. */
char *abi_type_str(const abi_type *t);

/* ---- values ---- */

/* A value tree. Owns data and items. Integers: num holds uintN as is and intN as
 * 256-bit two's complement; bool is num 0/1. String values keep a NUL after
 * data.len. Arrays and tuples hold items. */
typedef struct abi_value {
    abi_kind kind;
    unsigned size; /* width of intN/uintN in bits, N of bytesN */
    u256 num;
    addr address;
    uint8_t word[32]; /* bytesN (left-aligned); the topic of ABI_TOPIC_HASH */
    buf data;         /* bytes, string */
    size_t n_items;
    size_t cap_items;
    struct abi_value **items;
} abi_value;

/* Constructors return NULL on out of memory. */
abi_value *abi_value_new(abi_kind kind);
void abi_value_free(abi_value **p);
abi_value *abi_value_new_uint(unsigned bits, const u256 *v);
abi_value *abi_value_new_uint64(unsigned bits, uint64_t v);
/* twos: the value as 256-bit two's complement */
abi_value *abi_value_new_int(unsigned bits, const u256 *twos);
abi_value *abi_value_new_int64(unsigned bits, int64_t v);
abi_value *abi_value_new_address(const addr *a);
abi_value *abi_value_new_bool(bool b);
/* n in 1..32, else NULL */
abi_value *abi_value_new_fixed_bytes(const uint8_t *p, size_t n);
abi_value *abi_value_new_bytes(const void *p, size_t n);
abi_value *abi_value_new_string(const char *s);
/* Appends item to an array or tuple, taking ownership of it even on failure;
 * item NULL (a failed constructor) is reported as out of memory. */
int abi_value_push(abi_value *list, abi_value *item, err *e) __attribute__((warn_unused_result));
/* True for a negative intN. */
bool abi_value_is_negative(const abi_value *v);

/* Parses a value written as cast writes arguments: 123, -5, 0xff, true, 0xABC...
 * (addresses, EIP-55 checked), 0x1234 (bytes), text (strings; "quoted" inside
 * arrays and tuples), [a, b] (arrays), (a, b) (tuples). Ranges are checked. */
int abi_value_parse(abi_value **out, const abi_type *t, const char *text, err *e)
    __attribute__((warn_unused_result));
/* Appends a one-line rendering (decimal integers, checksummed addresses, 0x hex,
 * quoted strings, [..] and (..)) to out, NUL-terminated after out->len. */
int abi_value_format(buf *out, const abi_value *v, err *e) __attribute__((warn_unused_result));
/* JSON rendering: integers as decimal strings, bytes as 0x hex, arrays and tuples
 * as arrays. NULL on out of memory. */
json_t *abi_value_to_json(const abi_value *v);

/* ---- encoding ---- */

/* Appends enc(v) for type t (a parameter list is a tuple type). Checks that v
 * fits t: kinds, integer ranges per width, bytesN sizes, fixed array lengths. */
int abi_encode(buf *out, const abi_type *t, const abi_value *v, err *e)
    __attribute__((warn_unused_result));
/* Strict decoding of data as type t into a new value tree. */
int abi_decode(abi_value **out, const abi_type *t, const uint8_t *data, size_t len, err *e)
    __attribute__((warn_unused_result));

/* ---- functions, events, errors ---- */

typedef enum { ABI_FN_FUNCTION, ABI_FN_EVENT, ABI_FN_ERROR, ABI_FN_CONSTRUCTOR } abi_fn_kind;

/* A function, event, custom error or constructor. */
typedef struct abi_fn {
    abi_fn_kind kind;
    char *name;
    abi_type *inputs;    /* a tuple; parameter names in inputs->names */
    abi_type *outputs;   /* a tuple (functions; empty otherwise) */
    bool *indexed;       /* events: one flag per input (NULL when no inputs) */
    bool anonymous;      /* events declared anonymous have no topic0 */
    char *signature;     /* canonical "transfer(address,uint256)" */
    uint8_t selector[4]; /* functions, errors: keccak(signature)[0..4] */
    uint8_t topic0[32];  /* events: keccak(signature) */
} abi_fn;

/* Parses a declaration: "transfer(address,uint)", "balanceOf(address)(uint256)"
 * (outputs), "Transfer(address indexed from, address indexed to, uint256 value)";
 * an optional leading "function"/"event"/"error" keyword and parameter names are
 * allowed, "indexed" only for events, "anonymous" after an event's list. */
int abi_fn_parse(abi_fn **out, abi_fn_kind kind, const char *decl, err *e)
    __attribute__((warn_unused_result));
void abi_fn_free(abi_fn **p);

/* Selector and topic straight from a signature (normalised to canonical types). */
int abi_selector(uint8_t out[4], const char *sig, err *e) __attribute__((warn_unused_result));
int abi_event_topic(uint8_t out[32], const char *sig, err *e) __attribute__((warn_unused_result));

/* Calldata: selector || enc(args); args is a tuple value matching fn->inputs. */
int abi_calldata(buf *out, const abi_fn *fn, const abi_value *args, err *e)
    __attribute__((warn_unused_result));
/* Decodes calldata for fn (the selector must match) into a tuple value. */
int abi_calldata_decode(abi_value **args, const abi_fn *fn, const uint8_t *data, size_t len, err *e)
    __attribute__((warn_unused_result));

/* Decodes a log of event ev: topics is n_topics x 32 bytes (topic0 first unless
 * anonymous), data the log data. The result is a tuple with one item per input in
 * declaration order; indexed inputs of dynamic or compound types are ABI_TOPIC_HASH. */
int abi_event_decode(abi_value **out, const abi_fn *ev, const uint8_t *topics, size_t n_topics,
                     const uint8_t *data, size_t len, err *e) __attribute__((warn_unused_result));
/* The topic an indexed input of type t holding v produces: the word itself for
 * value types, keccak of the in-place encoding otherwise (compare with a decoded
 * ABI_TOPIC_HASH to filter on strings, bytes, arrays, structs). */
int abi_topic_of(uint8_t out[32], const abi_type *t, const abi_value *v, err *e)
    __attribute__((warn_unused_result));

/* ---- JSON ABIs ---- */

/* The functions, events, errors and constructor of one contract. */
typedef struct abi_json abi_json;

/* Parses a JSON ABI array, or an object with an "abi" member (a Foundry artifact). */
int abi_json_parse(abi_json **out, const char *text, size_t len, err *e)
    __attribute__((warn_unused_result));
int abi_json_load(abi_json **out, const char *path, err *e) __attribute__((warn_unused_result));
void abi_json_free(abi_json **p);
size_t abi_json_count(const abi_json *j);
const abi_fn *abi_json_at(const abi_json *j, size_t i);
/* Look-ups by name ("transfer": the first of that name) or by canonical signature
 * ("transfer(address,uint256)"); NULL when absent. */
const abi_fn *abi_json_function(const abi_json *j, const char *name_or_sig);
/* The calldata of fn (name or signature) of j with args, a textual tuple ("(0x.., 5)";
 * NULL: none). ERR_NOT_FOUND when j has no such function. */
int abi_json_calldata(buf *out, const abi_json *j, const char *fn, const char *args, err *e)
    __attribute__((warn_unused_result));
const abi_fn *abi_json_event(const abi_json *j, const char *name_or_sig);
const abi_fn *abi_json_error(const abi_json *j, const char *name_or_sig);
const abi_fn *abi_json_constructor(const abi_json *j);
const abi_fn *abi_json_event_by_topic(const abi_json *j, const uint8_t topic0[32]);
const abi_fn *abi_json_error_by_selector(const abi_json *j, const uint8_t sel[4]);

/* ---- revert data ---- */

/* Turns revert data into one line of plain words: Error(string) gives its message,
 * Panic(uint256) names the panic code, a custom error known to errors (may be NULL)
 * is shown with its arguments, anything else as an unknown selector. *msg is
 * malloc'd. Fails only on out of memory. */
int abi_revert_decode(char **msg, const uint8_t *data, size_t len, const abi_json *errors, err *e)
    __attribute__((warn_unused_result));

#endif
