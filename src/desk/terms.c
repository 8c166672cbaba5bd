/* terms.c: the terms hash of a version-2 escrow, computed by the desk from the terms it
 * shows (docs/contracts.md "Terms hash"): keccak256 of the standard ABI encoding of
 * (chainid, escrow, payer, payee, token, amount, approvers[], threshold, deadline,
 * arbiter of the creation, disputeWindow). The desk compares it with the contract's
 * termsHash() and with EscrowCreated before it signs approve(hash). Pure. */
#include <string.h>

#include "crypto/keccak.h"
#include "desk/desk.h"
#include "eth/abi.h"

static const char TERMS_TYPE[] = "(uint256,address,address,address,address,uint256,address[],"
                                 "uint256,uint64,address,uint64)";

int desk_terms_hash(uint8_t out[32], const desk_terms *t, err *e)
{
    abi_type *ty = NULL;
    abi_value *v = abi_value_new(ABI_TUPLE), *list = abi_value_new(ABI_DYN_ARRAY);
    buf enc;
    buf_init(&enc);
    int rc = v && list ? abi_type_parse(&ty, TERMS_TYPE, e) : err_set(e, ERR_NOMEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < t->n_approvers; i++)
        rc = abi_value_push(list, abi_value_new_address(&t->approvers[i]), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_uint64(256, t->chain_id), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_address(&t->escrow), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_address(&t->payer), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_address(&t->payee), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_address(&t->token), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_uint(256, &t->amount), e);
    if (rc == 0) {
        rc = abi_value_push(v, list, e);
        list = NULL;
    }
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_uint64(256, t->threshold), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_uint64(64, t->deadline), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_address(&t->arbiter), e);
    if (rc == 0)
        rc = abi_value_push(v, abi_value_new_uint64(64, t->dispute_window), e);
    if (rc == 0)
        rc = abi_encode(&enc, ty, v, e);
    if (rc == 0)
        keccak256(out, enc.data, enc.len);
    buf_free(&enc);
    abi_value_free(&list);
    abi_value_free(&v);
    abi_type_free(&ty);
    return rc;
}
