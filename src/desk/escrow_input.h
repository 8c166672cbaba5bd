/* escrow_input.h: checks of what an operator types to create an escrow (the workstation's
 * new-escrow form checks each field as it is left), answering from the desk database only:
 * no network, so they are quick enough for a UI thread. The desk (desk_escrow_create)
 * still checks everything again when it builds the transaction. */
#ifndef FUSION_DESK_ESCROW_INPUT_H
#define FUSION_DESK_ESCROW_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"
#include "store/store.h"

/* A party: a 0x address (EIP-55 checked when mixed case), the name of a configured
 * operator (its key address), or a name of the desk's address book (an entity's linked
 * address; refused when the name answers to two addresses). */
int desk_party_parse(store *s, const char *text, addr *out, err *e)
    __attribute__((warn_unused_result));
/* A deadline: 7d, 12h, 30m, 90s from now; a unix time; or YYYY-MM-DDTHH:MM:SSZ. The syntax
 * only (the CLI leaves the range to the desk's own check). */
int desk_deadline_read(const char *text, uint64_t now, uint64_t *out, err *e)
    __attribute__((warn_unused_result));
/* As desk_deadline_read, and it must be after now. */
int desk_deadline_parse(const char *text, uint64_t now, uint64_t *out, err *e)
    __attribute__((warn_unused_result));
/* The asset of an escrow on chain_id: the native symbol, a configured token symbol, or an
 * address. *known is false for an address the desk has no decimals for (the token is asked
 * when the escrow is built); *decimals is then 0. */
int desk_asset_lookup(store *s, uint64_t chain_id, const char *text, addr *token,
                      unsigned *decimals, bool *known, err *e) __attribute__((warn_unused_result));

#endif
