/* abi_priv.h: what the abi_*.c files share and nobody else may use. */
#ifndef FUSION_ETH_ABI_PRIV_H
#define FUSION_ETH_ABI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "eth/abi.h"

/* A fresh type node (no children, not yet finished); NULL on out of memory. */
abi_type *abi_type_alloc(abi_kind kind);
/* Appends a field (ownership taken, also on failure) with an optional name. */
int abi_tuple_add(abi_type *tuple, abi_type *field, const char *name, size_t name_len, err *e);
/* Computes dynamic and head_size, enforcing ABI_MAX_STATIC_SIZE and the rules on
 * empty tuples (allowed only when top is set: a parameter list). */
int abi_type_finish(abi_type *t, bool top, err *e);
/* Parses a parenthesised parameter list at s[*pos] into a tuple type. With
 * indexed non-NULL, "indexed" markers are accepted and returned (malloc'd, one
 * flag per parameter, NULL for an empty list). depth counts enclosing nesting. */
int abi_params_parse(abi_type **out, bool **indexed, const char *s, size_t *pos, unsigned depth,
                     err *e);
/* Wraps *t in the array suffixes ("[2][]") found at s[*pos]. */
int abi_type_parse_suffixes(abi_type **t, const char *s, size_t *pos, unsigned depth, err *e);

/* The 32-byte head word of a value type (uint, int, address, bool, bytesN) after
 * range-checking v against t. */
int abi_value_word(uint8_t w[32], const abi_type *t, const abi_value *v, err *e);
/* Decodes one word as value type t with the strict padding and range checks. */
int abi_word_decode(abi_value **out, const abi_type *t, const uint8_t w[32], err *e);
/* Whether t is a value type (encoded in one word, held directly in a topic). */
bool abi_is_value_type(const abi_type *t);

/* Fills signature, selector and topic0 from name and inputs (and an empty
 * outputs tuple when there is none). */
int abi_fn_finish(abi_fn *f, err *e);

/* Input echoed in a message: at most 60 characters of s (up to n bytes or its NUL),
 * control and non-ASCII bytes as '?', so that outside text can neither break the
 * one-line rule nor reach a terminal as escape sequences. Returns out. */
#define ABI_SHOW_MAX 64
const char *abi_show(char out[ABI_SHOW_MAX], const char *s, size_t n);
/* Whether s is a Solidity identifier ([A-Za-z_$][A-Za-z0-9_$]*). */
bool abi_is_identifier(const char *s);

/* Appends s to a buf. */
int abi_buf_puts(buf *b, const char *s, err *e);

#endif
